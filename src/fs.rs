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

/// Why an input is not read, whatever its bytes.
#[derive(Debug, thiserror::Error)]
pub enum Refused {
    /// A FIFO would wait for a writer forever, a device may never end: relsite reads only
    /// regular files.
    #[error("it is {0}, not a regular file")]
    NotRegular(&'static str),
    /// A symlink that leads out of the site folder, e.g. to `/dev/zero` or to a secret.
    #[error("it leads outside the site folder, to `{}`", .0.display())]
    OutsideSite(PathBuf),
    /// Larger than its reader takes.
    #[error("it is larger than {cap} bytes, the most relsite reads of {what}")]
    TooLarge { cap: u64, what: &'static str },
}

impl From<Refused> for io::Error {
    fn from(refused: Refused) -> io::Error {
        io::Error::new(io::ErrorKind::InvalidInput, refused)
    }
}

/// Opens `path` to read if it is a regular file (symlinks followed), else fails with
/// [`Refused::NotRegular`]. Nothing blocks: the file is opened without waiting for a writer
/// (a FIFO opened to read otherwise waits for one) and judged by the metadata of what was
/// opened, so the file read is the file checked.
pub fn open_regular(path: &Path) -> io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    let file = without_waiting(&mut options).open(path)?;
    let kind = file_kind(&file.metadata()?.file_type());
    match kind {
        None => Ok(file),
        Some(kind) => Err(Refused::NotRegular(kind).into()),
    }
}

/// Makes `options` open without waiting: a FIFO opened to read waits for a writer, one opened to
/// write for a reader; a terminal is not taken as the controlling one.
pub fn without_waiting(options: &mut std::fs::OpenOptions) -> &mut std::fs::OpenOptions {
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(options, libc::O_NONBLOCK | libc::O_NOCTTY);
    options
}

/// Reads the regular file at `path` whole; anything else is refused as by [`open_regular`].
pub fn read_regular(path: &Path) -> io::Result<Vec<u8>> {
    use std::io::Read;
    let mut bytes = Vec::new();
    open_regular(path)?.read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// What a file that is not regular is, in words; `None` for a regular file.
pub fn file_kind(file_type: &std::fs::FileType) -> Option<&'static str> {
    if file_type.is_file() {
        return None;
    }
    if file_type.is_dir() {
        return Some("a folder");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if file_type.is_fifo() {
            return Some("a named pipe (FIFO)");
        }
        if file_type.is_char_device() || file_type.is_block_device() {
            return Some("a device");
        }
        if file_type.is_socket() {
            return Some("a socket");
        }
    }
    Some("a special file")
}

/// Reads the regular file at `path` whole if it holds at most `cap` bytes, else fails with
/// [`Refused::TooLarge`] naming `what` the file is, having read no more than `cap + 1` bytes.
pub fn read_capped(path: &Path, cap: u64, what: &'static str) -> Result<Vec<u8>, FsError> {
    use std::io::Read;
    let read = || -> io::Result<Vec<u8>> {
        let file = open_regular(path)?;
        let too_large = || io::Error::from(Refused::TooLarge { cap, what });
        let len = file.metadata()?.len();
        if len > cap {
            return Err(too_large());
        }
        let mut bytes = Vec::with_capacity(len as usize);
        file.take(cap + 1).read_to_end(&mut bytes)?;
        if bytes.len() as u64 > cap {
            return Err(too_large());
        }
        Ok(bytes)
    };
    read().map_err(wrap("read", path))
}

/// [`read_capped`] as UTF-8 text.
pub fn read_capped_to_string(path: &Path, cap: u64, what: &'static str) -> Result<String, FsError> {
    let bytes = read_capped(path, cap, what)?;
    String::from_utf8(bytes)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
        .map_err(wrap("read", path))
}

/// The path of `root/rel` when it stays inside `root` through any symlinks, else
/// [`Refused::OutsideSite`]. For the site's inputs: a release, its notes or a configured icon
/// that is a symlink to `/dev/zero` or to a secret elsewhere is refused before it is opened.
/// A path through no symlink is `root/rel` itself; one through a symlink is the real path.
pub fn in_site(root: &Path, rel: &Path) -> Result<PathBuf, FsError> {
    let path = root.join(rel);
    if through_no_link(root, rel) {
        return Ok(path);
    }
    let real = std::fs::canonicalize(&path).map_err(wrap("read", &path))?;
    let real_root = std::fs::canonicalize(root).map_err(wrap("read", root))?;
    if real.starts_with(&real_root) {
        Ok(real)
    } else {
        Err(wrap("read", &path)(Refused::OutsideSite(real).into()))
    }
}

/// Whether every component of `rel` below `root` is a name that exists and is not a symlink:
/// then `root/rel` is inside `root`, which a site's thousands of inputs learn without resolving
/// the whole path of each.
fn through_no_link(root: &Path, rel: &Path) -> bool {
    let mut at = root.to_path_buf();
    rel.components().all(|component| match component {
        std::path::Component::Normal(name) => {
            at.push(name);
            std::fs::symlink_metadata(&at).is_ok_and(|m| !m.file_type().is_symlink())
        }
        _ => false,
    })
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
    write_replacing_with(path, |out| out.write_all(bytes))
}

/// [`write_replacing`] with the bytes written by `write`, through a buffer.
pub fn write_replacing_with(
    path: &Path,
    write: impl FnOnce(&mut dyn io::Write) -> io::Result<()>,
) -> io::Result<()> {
    use std::io::Write;
    use std::sync::atomic::{AtomicUsize, Ordering};
    static PARTIALS: AtomicUsize = AtomicUsize::new(0);
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let partial = path.with_file_name(format!(
        ".{name}.{}.{}",
        std::process::id(),
        PARTIALS.fetch_add(1, Ordering::Relaxed)
    ));
    let written = create_new(&partial)
        .and_then(|file| {
            let mut out = io::BufWriter::new(file);
            write(&mut out)?;
            out.flush()
        })
        .and_then(|()| std::fs::rename(&partial, path));
    if written.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    written
}

/// Creates the file `path` for writing, removing first whatever has its name: a link planted
/// there is removed, never written through.
pub fn create_new(path: &Path) -> io::Result<std::fs::File> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    std::fs::File::options()
        .write(true)
        .create_new(true)
        .open(path)
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
    /// Modification time, nanoseconds since 1970 (negative before); a file modified outside
    /// 1677 to 2262 has no stamp.
    pub modified_ns: i64,
    /// 0 where the system has no inodes.
    pub inode: u64,
}

impl Stamp {
    /// The stamp of the file at `path` as it is now, if it can be seen.
    pub fn of(path: &Path) -> Option<Stamp> {
        Stamp::of_metadata(&std::fs::metadata(path).ok()?)
    }

    /// The stamp of the regular file at `path` itself, never of what a link there leads to.
    pub fn of_file(path: &Path) -> io::Result<Stamp> {
        let meta = std::fs::symlink_metadata(path)?;
        if !meta.is_file() {
            return Err(io::Error::other("not a regular file"));
        }
        Stamp::of_metadata(&meta).ok_or_else(|| io::Error::other("no modification time"))
    }

    /// The stamp that `meta` describes.
    pub fn of_metadata(meta: &std::fs::Metadata) -> Option<Stamp> {
        let modified_ns = nanos_since_1970(meta.modified().ok()?)?;
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

/// `at` in nanoseconds since 1970 (negative before), when an `i64` holds it: 1677 to 2262.
fn nanos_since_1970(at: std::time::SystemTime) -> Option<i64> {
    match at.duration_since(std::time::UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_nanos()).ok(),
        Err(before) => i64::try_from(before.duration().as_nanos())
            .ok()
            .map(|ns| -ns),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_time_outside_what_a_stamp_holds_is_no_stamp() {
        use std::time::{Duration, UNIX_EPOCH};
        let year = Duration::from_secs(365 * 86_400);
        assert_eq!(nanos_since_1970(UNIX_EPOCH), Some(0));
        assert_eq!(
            nanos_since_1970(UNIX_EPOCH + Duration::from_nanos(5)),
            Some(5)
        );
        assert_eq!(
            nanos_since_1970(UNIX_EPOCH - Duration::from_nanos(5)),
            Some(-5)
        );
        // Two times past 2262 (or before 1677) would otherwise stamp alike.
        assert_eq!(nanos_since_1970(UNIX_EPOCH + year * 300), None);
        assert_eq!(nanos_since_1970(UNIX_EPOCH - year * 300), None);
        assert!(nanos_since_1970(UNIX_EPOCH + year * 290).is_some());
    }

    #[test]
    fn create_new_removes_a_planted_link_and_never_writes_through_it() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("target");
        std::fs::write(&target, b"theirs").unwrap();
        let path = dir.path().join(".partial");
        std::os::unix::fs::symlink(&target, &path).unwrap();
        std::io::Write::write_all(&mut create_new(&path).unwrap(), b"ours").unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"theirs");
        assert!(!path.is_symlink());
        assert_eq!(std::fs::read(&path).unwrap(), b"ours");
    }

    #[test]
    fn only_regular_files_open_and_a_fifo_does_not_block() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("file");
        std::fs::write(&file, b"bytes").unwrap();
        assert!(open_regular(&file).is_ok());
        let fifo = dir.path().join("fifo");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        let refused = |path: &Path| open_regular(path).unwrap_err().to_string();
        assert_eq!(
            refused(&fifo),
            "it is a named pipe (FIFO), not a regular file"
        );
        assert_eq!(
            refused(Path::new("/dev/zero")),
            "it is a device, not a regular file"
        );
        assert_eq!(refused(dir.path()), "it is a folder, not a regular file");
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&fifo, &link).unwrap();
        assert_eq!(
            refused(&link),
            "it is a named pipe (FIFO), not a regular file"
        );
    }

    #[test]
    fn reading_stops_at_the_cap() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("notes.yaml");
        std::fs::write(&file, b"12345").unwrap();
        assert_eq!(read_capped(&file, 5, "a notes file").unwrap(), b"12345");
        let err = read_capped(&file, 4, "a notes file")
            .unwrap_err()
            .to_string();
        assert!(
            err.ends_with(
                "notes.yaml`: it is larger than 4 bytes, the most relsite reads of a notes file"
            ),
            "{err}"
        );
    }

    #[test]
    fn symlinks_out_of_the_site_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("site");
        std::fs::create_dir_all(root.join("releases")).unwrap();
        std::fs::write(root.join("releases/A.yaml"), b"x").unwrap();
        std::os::unix::fs::symlink("A.yaml", root.join("releases/B.yaml")).unwrap();
        std::os::unix::fs::symlink("/dev/zero", root.join("releases/C.yaml")).unwrap();
        assert_eq!(
            in_site(&root, Path::new("releases/A.yaml")).unwrap(),
            root.join("releases/A.yaml")
        );
        assert_eq!(
            in_site(&root, Path::new("releases/B.yaml")).unwrap(),
            std::fs::canonicalize(root.join("releases/A.yaml")).unwrap()
        );
        let err = in_site(&root, Path::new("releases/C.yaml"))
            .unwrap_err()
            .to_string();
        assert!(
            err.ends_with("C.yaml`: it leads outside the site folder, to `/dev/zero`"),
            "{err}"
        );
        // A symlinked folder on the way is followed, and refused when it leads outside.
        std::os::unix::fs::symlink(dir.path(), root.join("out")).unwrap();
        std::fs::write(dir.path().join("D.yaml"), b"x").unwrap();
        let err = in_site(&root, Path::new("out/D.yaml"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("it leads outside the site folder"), "{err}");
        assert!(in_site(&root, Path::new("../site/releases/A.yaml")).is_ok());
        // A symlinked folder that stays inside gives the real path.
        std::os::unix::fs::symlink("releases", root.join("inside")).unwrap();
        assert_eq!(
            in_site(&root, Path::new("inside/A.yaml")).unwrap(),
            std::fs::canonicalize(root.join("releases/A.yaml")).unwrap()
        );
        assert!(in_site(&root, Path::new("../D.yaml")).is_err());
    }

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
