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
