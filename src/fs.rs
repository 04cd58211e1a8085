//! Filesystem calls that name their path in every error, so no caller has to remember to.

use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

#[derive(Debug, thiserror::Error)]
#[error("failed to {action} `{}`: {source}", path.display())]
pub struct FsError {
    pub action: &'static str,
    pub path: PathBuf,
    #[source]
    pub source: io::Error,
}

fn wrap<'p>(action: &'static str, path: &'p Path) -> impl FnOnce(io::Error) -> FsError + 'p {
    move |source| FsError {
        action,
        path: path.to_path_buf(),
        source,
    }
}

pub fn read(path: &Path) -> Result<Vec<u8>, FsError> {
    std::fs::read(path).map_err(wrap("read", path))
}

pub fn read_to_string(path: &Path) -> Result<String, FsError> {
    std::fs::read_to_string(path).map_err(wrap("read", path))
}

pub fn write(path: &Path, bytes: &[u8]) -> Result<(), FsError> {
    std::fs::write(path, bytes).map_err(wrap("write", path))
}

pub fn create_dir_all(path: &Path) -> Result<(), FsError> {
    std::fs::create_dir_all(path).map_err(wrap("create", path))
}

pub fn remove_dir_all(path: &Path) -> Result<(), FsError> {
    std::fs::remove_dir_all(path).map_err(wrap("remove", path))
}

pub fn rename(from: &Path, to: &Path) -> Result<(), FsError> {
    std::fs::rename(from, to).map_err(wrap("move", from))
}

/// Writes `bytes` to `root/rel`, making the folders between, and never through a symbolic
/// link: a folder or file below `root` that is a link is an error naming it, so a link planted
/// in a site cannot lead a write outside it. The file is written beside its place and renamed.
pub fn write_below(root: &Path, rel: &Path, bytes: &[u8]) -> Result<(), FsError> {
    let refuse = |path: &Path, why: &str| FsError {
        action: "write",
        path: path.to_path_buf(),
        source: io::Error::other(why.to_string()),
    };
    std::fs::create_dir_all(root).map_err(wrap("create", root))?;
    let parts: Vec<_> = rel.components().collect();
    let mut at = root.to_path_buf();
    for (i, part) in parts.iter().enumerate() {
        let std::path::Component::Normal(name) = part else {
            return Err(refuse(&root.join(rel), "not a path below the site"));
        };
        at.push(name);
        let last = i + 1 == parts.len();
        match std::fs::symlink_metadata(&at) {
            Ok(meta) if meta.file_type().is_symlink() => {
                return Err(refuse(
                    &at,
                    "is a symbolic link: relsite does not write through links",
                ));
            }
            Ok(meta) if !last && !meta.is_dir() => return Err(refuse(&at, "is not a folder")),
            Ok(meta) if last && !meta.is_file() => return Err(refuse(&at, "is not a file")),
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                if !last {
                    std::fs::create_dir(&at).map_err(wrap("create", &at))?;
                }
            }
            Err(e) => return Err(wrap("read", &at)(e)),
        }
    }
    write_replacing(&at, bytes).map_err(wrap("write", &at))
}

/// Writes `path` whole: beside its place first, then renamed over it, so a reader never sees
/// half of it. The partial file is removed when anything fails.
pub fn write_replacing(path: &Path, bytes: &[u8]) -> io::Result<()> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static PARTIALS: AtomicUsize = AtomicUsize::new(0);
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let partial = path.with_file_name(format!(
        ".{name}.{}.{}",
        std::process::id(),
        PARTIALS.fetch_add(1, Ordering::Relaxed)
    ));
    let written = std::fs::write(&partial, bytes).and_then(|()| std::fs::rename(&partial, path));
    if written.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    written
}

/// Copies `from` to `to` as a file of its own (the system may share blocks, never the file).
pub fn copy(from: &Path, to: &Path) -> Result<(), FsError> {
    std::fs::copy(from, to)
        .map(drop)
        .map_err(wrap("copy", from))
}

/// Hard-links `from` to `to`, or copies when a link is not possible (another filesystem).
pub fn link_or_copy(from: &Path, to: &Path) -> Result<(), FsError> {
    if std::fs::hard_link(from, to).is_ok() {
        return Ok(());
    }
    std::fs::copy(from, to)
        .map(drop)
        .map_err(wrap("copy", from))
}

/// An exclusive lock on a file, held while this value lives (the system drops it when the
/// process ends, however it ends). The file names its holder, for whoever waits.
#[derive(Debug)]
pub struct Lock {
    _file: std::fs::File,
}

impl Lock {
    /// Locks the file at `path`, made if missing, waiting while another process holds it; `held`
    /// is told who does (as the file says) before the wait.
    pub fn wait(path: &Path, held: impl FnOnce(&str)) -> Result<Lock, FsError> {
        let file = Lock::open(path)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                held(&Lock::holder(&file));
                file.lock().map_err(wrap("lock", path))?;
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(wrap("lock", path)(e)),
        }
        Lock::claim(file, path)
    }

    /// Locks the file at `path`, made if missing, or returns who holds it.
    pub fn try_take(path: &Path) -> Result<Result<Lock, String>, FsError> {
        let file = Lock::open(path)?;
        match file.try_lock() {
            Ok(()) => Lock::claim(file, path).map(Ok),
            Err(std::fs::TryLockError::WouldBlock) => Ok(Err(Lock::holder(&file))),
            Err(std::fs::TryLockError::Error(e)) => Err(wrap("lock", path)(e)),
        }
    }

    /// Opens the lock file, never through a symbolic link.
    fn open(path: &Path) -> Result<std::fs::File, FsError> {
        let mut options = std::fs::OpenOptions::new();
        options.create(true).truncate(false).read(true).write(true);
        #[cfg(target_os = "linux")]
        std::os::unix::fs::OpenOptionsExt::custom_flags(
            &mut options,
            rustix::fs::OFlags::NOFOLLOW.bits() as i32,
        );
        options.open(path).map_err(wrap("open", path))
    }

    /// Who holds the lock, as its file says.
    fn holder(file: &std::fs::File) -> String {
        use std::io::Read;
        let mut text = String::new();
        let _ = file.take(200).read_to_string(&mut text);
        let text: String = text.trim().chars().filter(|c| !c.is_control()).collect();
        if text.is_empty() {
            "another relsite run".to_string()
        } else {
            text
        }
    }

    /// Writes who holds the lock into its file.
    fn claim(mut file: std::fs::File, path: &Path) -> Result<Lock, FsError> {
        use std::io::{Seek, Write};
        file.set_len(0)
            .and_then(|()| file.rewind())
            .and_then(|()| {
                writeln!(
                    file,
                    "relsite {} (pid {})",
                    env!("CARGO_PKG_VERSION"),
                    std::process::id()
                )
            })
            .map_err(wrap("write", path))?;
        Ok(Lock { _file: file })
    }
}

/// What says a file is still the one seen before: a change to any part means it may differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stamp {
    pub size: u64,
    /// Modification time, nanoseconds since 1970 (negative before).
    pub modified_ns: i128,
    /// 0 where the system has no inodes.
    pub inode: u64,
}

impl Stamp {
    /// The stamp of the file at `path` as it is now, if it can be seen.
    pub fn of(path: &Path) -> Option<Stamp> {
        Stamp::of_metadata(&std::fs::metadata(path).ok()?)
    }

    /// The stamp that `meta` describes.
    pub fn of_metadata(meta: &std::fs::Metadata) -> Option<Stamp> {
        let modified = meta.modified().ok()?;
        let modified_ns = match modified.duration_since(std::time::UNIX_EPOCH) {
            Ok(after) => i128::try_from(after.as_nanos()).ok()?,
            Err(before) => -i128::try_from(before.duration().as_nanos()).ok()?,
        };
        #[cfg(unix)]
        let inode = std::os::unix::fs::MetadataExt::ino(meta);
        #[cfg(not(unix))]
        let inode = 0;
        Some(Stamp {
            size: meta.len(),
            modified_ns,
            inode,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_replacing_leaves_the_new_bytes_and_no_partial_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("facts.json");
        write_replacing(&file, b"old").unwrap();
        write_replacing(&file, b"new").unwrap();
        assert_eq!(std::fs::read(&file).unwrap(), b"new");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        let missing = dir.path().join("no/such/folder/x");
        assert!(write_replacing(&missing, b"x").is_err());
    }
}
