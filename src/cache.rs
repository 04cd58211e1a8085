//! The incremental cache, `.relsite-cache/` in the site folder: the read facts of every IPA,
//! keyed by its path, size, modification time and inode, and the icons rendered from them. An
//! IPA that has not changed since the last build is never opened again.
//!
//! The cache only ever saves work. A cache made by another relsite version, or one that cannot
//! be read, is discarded with a notice and rebuilt; it is never trusted and never an error. It
//! is written whole beside its place and renamed, so a reader never sees half of it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use serde::{Deserialize, Serialize};

use crate::fs::Stamp;
use crate::icons::IconStore;
use crate::ipa::{BundleIcon, IpaError, IpaFacts};
use crate::write::OutputRecord;

/// The cache folder, in the site folder.
pub const CACHE_DIR: &str = ".relsite-cache";

/// The facts file in the cache folder.
const FACTS_FILE: &str = "facts.json";

/// The record of the last write to the output, in the cache folder.
const OUTPUT_FILE: &str = "output.json";

/// Held by the run that keeps the cache.
const LOCK_FILE: &str = "lock";

/// Rendered icons in the cache folder, in a folder per build of relsite (`icons-<build>`), since
/// another build may render them otherwise.
const ICONS_DIR: &str = "icons";

fn icons_dir(cache: &Path) -> PathBuf {
    cache.join(format!("{ICONS_DIR}-{}", env!("RELSITE_BUILD")))
}

/// Copies of the IPAs to publish, by SHA-256, in the cache folder: made while an IPA is hashed,
/// so publishing one costs no second read, and never a link to a file someone may overwrite.
const IPAS_DIR: &str = "ipas";

/// Changes whenever what the cache holds changes meaning.
const FORMAT: u32 = 1;

/// Which relsite made a cache file: its version, for people, and its build, so that nothing one
/// build cached is taken for another's.
fn made_by() -> String {
    format!("{} ({})", env!("CARGO_PKG_VERSION"), env!("RELSITE_BUILD"))
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Entry {
    stamp: Stamp,
    /// The stamp of the IPA's copy to publish, when one was kept.
    copy: Option<Stamp>,
    facts: IpaFacts,
}

/// The facts file: who wrote it, and an entry per IPA by its path below the site root.
#[derive(Debug, Serialize, Deserialize)]
struct FactsFile {
    relsite: String,
    format: u32,
    entries: BTreeMap<String, Entry>,
}

/// The cache of one run.
#[derive(Debug)]
pub struct Cache {
    /// Where the cache is written; `None` when caching is off or read-only.
    dir: Option<PathBuf>,
    entries: BTreeMap<String, Entry>,
    icons: IconStore,
    /// Whether copies of IPAs to publish are kept (not when IPAs are hosted elsewhere).
    keep_copies: bool,
    /// What went wrong keeping the cache, said once the read stage is done.
    notices: std::sync::Mutex<Vec<String>>,
    /// Held while this run keeps the cache.
    _lock: Option<crate::fs::Lock>,
}

impl Cache {
    /// No cache: every IPA is read and every icon rendered.
    pub fn off() -> Cache {
        Cache {
            dir: None,
            entries: BTreeMap::new(),
            icons: IconStore::in_memory(),
            keep_copies: false,
            notices: std::sync::Mutex::default(),
            _lock: None,
        }
    }

    /// Opens the cache of the site at `root`, to be kept up to date when `writable`, keeping
    /// copies of the IPAs to publish when `keep_copies`. Returns it with what was said of a
    /// cache that was discarded.
    pub fn open(root: &Path, writable: bool, keep_copies: bool) -> (Cache, Vec<String>) {
        let dir = root.join(CACHE_DIR);
        let mut notices = Vec::new();
        // The cache is written, so never through a link a site can carry into a checkout.
        if let Some(link) = [dir.clone(), dir.join(IPAS_DIR), icons_dir(&dir)]
            .into_iter()
            .find(|path| path.is_symlink())
        {
            notices.push(format!(
                "{} is a symbolic link: this run neither reads nor keeps a cache",
                crate::diag::display_path(&link)
            ));
            return (Cache::off(), notices);
        }
        // One run at a time keeps the cache: another run meanwhile only reads it, so neither
        // prunes what the other is writing.
        let lock = if writable {
            match take_lock(&dir) {
                Ok(lock) => Some(lock),
                Err(why) => {
                    notices.push(format!(
                        "{why}: this run reads the cache and keeps nothing in it"
                    ));
                    None
                }
            }
        } else {
            None
        };
        let writable = lock.is_some();
        let (entries, notice) = match load(&dir.join(FACTS_FILE)) {
            Ok(entries) => (entries, None),
            Err(why) => (
                BTreeMap::new(),
                why.map(|why| {
                    format!(
                        "discarded {}: {why}; {}",
                        crate::diag::display_path(&dir.join(FACTS_FILE)),
                        if writable {
                            "it is rebuilt by this run"
                        } else {
                            "every IPA is read"
                        }
                    )
                }),
            ),
        };
        notices.extend(notice);
        if writable {
            remove_other_builds_icons(&dir);
        }
        let icons = IconStore::in_folder(icons_dir(&dir), writable);
        (
            Cache {
                dir: writable.then_some(dir),
                entries,
                icons,
                keep_copies,
                notices: std::sync::Mutex::default(),
                _lock: lock,
            },
            notices,
        )
    }

    /// Forgets icons this run did not use (after the model has chosen every icon).
    pub fn prune_icons(&self) {
        if self.dir.is_some() {
            self.icons.prune();
        }
    }

    /// The record of the last write to `output`, if it can be read and was made by this build.
    /// Only that record is read whole.
    pub fn output_record(&self, output: &Path) -> Option<OutputRecord> {
        let dir = self.dir.as_ref()?;
        let output = std::fs::canonicalize(output).ok()?;
        let mut lines = output_lines(&dir.join(OUTPUT_FILE))?;
        lines.find_map(|line| {
            let of = serde_json::from_str::<RecordOf>(&line).ok()?;
            (of.output == output)
                .then(|| serde_json::from_str(&line).ok())
                .flatten()
        })
    }

    /// Keeps the record of this write, beside those of other output folders that still exist
    /// (a preview's and a build's do not take each other's place); returns why it could not.
    /// The record it replaces is not read again.
    pub fn save_output_record(&self, record: &OutputRecord) -> Result<(), String> {
        let Some(dir) = &self.dir else { return Ok(()) };
        let file = dir.join(OUTPUT_FILE);
        let others: Vec<String> = output_lines(&file)
            .into_iter()
            .flatten()
            .filter(|line| {
                serde_json::from_str::<RecordOf>(line)
                    .is_ok_and(|of| of.output != record.output && of.output.is_dir())
            })
            .collect();
        let header = OutputHeader {
            relsite: made_by(),
            format: FORMAT,
        };
        write_whole(dir, OUTPUT_FILE, |out| {
            serde_json::to_writer(&mut *out, &header)?;
            out.write_all(b"\n")?;
            for line in &others {
                out.write_all(line.as_bytes())?;
                out.write_all(b"\n")?;
            }
            serde_json::to_writer(&mut *out, record)?;
            out.write_all(b"\n")
        })
    }

    /// Where icons are rendered and kept.
    pub fn icons(&self) -> &IconStore {
        &self.icons
    }

    /// Where the copy of the IPA with `sha256` is kept, when the cache keeps copies.
    pub fn ipa_copy(&self, sha256: &str) -> Option<PathBuf> {
        let dir = self.dir.as_ref().filter(|_| self.keep_copies)?;
        Some(dir.join(IPAS_DIR).join(format!("{sha256}.ipa")))
    }

    /// What went wrong keeping the cache, for notes after the read stage.
    pub fn take_notices(&self) -> Vec<String> {
        std::mem::take(&mut *self.notices.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// Reads the IPA at `path`, keeping a copy to publish when the cache keeps copies: the
    /// copy is written as the file is hashed, beside its place, and renamed to its SHA-256.
    /// A copy that cannot be kept (a full disk) is a note, and the IPA is read without one.
    pub fn read_ipa(&self, path: &Path) -> Result<IpaFacts, IpaError> {
        match self.read_keeping_copy(path) {
            Err(IpaError::Copy(e)) => {
                self.notices
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(format!(
                        "cannot keep a copy of {} in the cache ({e}): it is copied from releases/",
                        crate::diag::display_path(path)
                    ));
                crate::ipa::read(path, &self.icons)
            }
            read => read,
        }
    }

    fn read_keeping_copy(&self, path: &Path) -> Result<IpaFacts, IpaError> {
        let Some(dir) = self.dir.as_ref().filter(|_| self.keep_copies) else {
            return crate::ipa::read(path, &self.icons);
        };
        let dir = dir.join(IPAS_DIR);
        std::fs::create_dir_all(&dir).map_err(IpaError::Copy)?;
        static PARTS: AtomicUsize = AtomicUsize::new(0);
        let partial = dir.join(format!(
            ".{}-{}.part",
            std::process::id(),
            PARTS.fetch_add(1, Ordering::Relaxed)
        ));
        let read = crate::fs::open_regular(path)
            .map_err(IpaError::Open)
            .and_then(|source| read_into_copy(source, &partial, &self.icons))
            .and_then(|facts| {
                let kept = dir.join(format!("{}.ipa", facts.sha256));
                std::fs::rename(&partial, &kept).map_err(IpaError::Copy)?;
                Ok(facts)
            });
        if read.is_err() {
            let _ = std::fs::remove_file(&partial);
        }
        read
    }

    /// The facts of the IPA at `rel` (below the site root) if it has not changed since they
    /// were read, and its icon and copy are still as they were.
    pub fn lookup(&self, rel: &str, stamp: Stamp) -> Option<IpaFacts> {
        let entry = self.entries.get(rel)?;
        if entry.stamp != stamp {
            return None;
        }
        if let Some(copy) = self.ipa_copy(&entry.facts.sha256)
            && (entry.copy.is_none() || Stamp::of(&copy) != entry.copy)
        {
            return None;
        }
        if let BundleIcon::Found { key, .. } = &entry.facts.icon
            && self.icons.get(key).is_none()
        {
            return None;
        }
        Some(entry.facts.clone())
    }

    /// Keeps `read` (path below the site root, stamp, facts of every IPA read in this run) as
    /// the cache, when it differs from what was there. Returns why it could not be written.
    /// The entries read from the cache are let go: lookups are over once this is called.
    pub fn save(&mut self, read: Vec<(String, Stamp, IpaFacts)>) -> Result<(), String> {
        let old = std::mem::take(&mut self.entries);
        let Some(dir) = &self.dir else { return Ok(()) };
        let entries: BTreeMap<String, Entry> = read
            .into_iter()
            .map(|(rel, stamp, facts)| {
                let copy = self.ipa_copy(&facts.sha256).and_then(|c| Stamp::of(&c));
                (rel, Entry { stamp, copy, facts })
            })
            .collect();
        self.prune_ipas(&entries);
        let unchanged = entries.len() == old.len()
            && entries.iter().all(|(rel, e)| {
                old.get(rel).is_some_and(|old| {
                    old.stamp == e.stamp && old.copy == e.copy && old.facts == e.facts
                })
            });
        drop(old);
        if unchanged {
            return Ok(());
        }
        let file = FactsFile {
            relsite: made_by(),
            format: FORMAT,
            entries,
        };
        write_whole(dir, FACTS_FILE, |out| {
            serde_json::to_writer(out, &file).map_err(std::io::Error::from)
        })
    }
}

impl Cache {
    /// Removes kept copies no IPA read in this run has, and partial ones of stopped runs.
    fn prune_ipas(&self, entries: &BTreeMap<String, Entry>) {
        let Some(dir) = &self.dir else { return };
        let Ok(files) = std::fs::read_dir(dir.join(IPAS_DIR)) else {
            return;
        };
        let used: std::collections::HashSet<String> = entries
            .values()
            .filter(|_| self.keep_copies)
            .map(|e| format!("{}.ipa", e.facts.sha256))
            .collect();
        for file in files.flatten() {
            let name = file.file_name().to_string_lossy().into_owned();
            let ours_in_flight = name.starts_with(&format!(".{}-", std::process::id()));
            if !used.contains(&name) && !ours_in_flight {
                // Best effort: what stays is pruned again next time.
                let _ = std::fs::remove_file(file.path());
            }
        }
    }
}

/// The first line of the output record file; each further line is the record of one output
/// folder, so that one can be read, or passed over, without the others.
#[derive(Debug, Serialize, Deserialize)]
struct OutputHeader {
    relsite: String,
    format: u32,
}

/// Which output folder a line of the output record file is of.
#[derive(Deserialize)]
struct RecordOf {
    output: PathBuf,
}

/// The record lines of the output record file at `file`, if it can be read and was made by this
/// build of relsite.
fn output_lines(file: &Path) -> Option<impl Iterator<Item = String> + use<>> {
    use std::io::BufRead;
    let mut lines = std::io::BufReader::new(crate::fs::open_regular(file).ok()?).lines();
    let header: OutputHeader = serde_json::from_str(&lines.next()?.ok()?).ok()?;
    (header.relsite == made_by() && header.format == FORMAT).then(|| lines.map_while(Result::ok))
}

/// Icons rendered by other builds of relsite: they are not used, and go.
/// Reads the facts of `source` and leaves a copy of its bytes at `copy`, reading it once.
///
/// Where the filesystem can clone (btrfs, XFS), the copy shares the release's blocks and the
/// facts come from the release as it is, usually from memory; the release's stamp, unchanged
/// from before the read to after the clone and not fresh, shows both saw the same bytes.
/// Otherwise, or when it changed, the bytes are copied as they are hashed.
fn read_into_copy(
    source: std::fs::File,
    copy: &Path,
    icons: &IconStore,
) -> Result<IpaFacts, IpaError> {
    let mut out = crate::fs::create_new(copy).map_err(IpaError::Copy)?;
    #[cfg(target_os = "linux")]
    if let Some(facts) = read_and_clone(&source, &out, icons)? {
        return Ok(facts);
    }
    empty(&out).map_err(IpaError::Copy)?;
    crate::ipa::read_file(source, icons, Some(&mut out))
}

/// Makes `file` empty, with the next write at its start.
fn empty(mut file: &std::fs::File) -> std::io::Result<()> {
    use std::io::Seek;
    file.set_len(0)?;
    file.rewind()
}

/// The facts of `source` with `out` made a clone of it, if the filesystem clones and the file
/// did not change meanwhile; `None` leaves `out` empty.
///
/// The clone is taken before the read: a settled file whose stamp and change time are the same
/// before the clone and after the read was not written in between, so the clone holds the bytes
/// read. (A writer can set the modification time back, never the change time.)
#[cfg(target_os = "linux")]
fn read_and_clone(
    source: &std::fs::File,
    out: &std::fs::File,
    icons: &IconStore,
) -> Result<Option<IpaFacts>, IpaError> {
    // A file written within this window may still be written within one tick of its
    // modification time, which a later write would then not change.
    const SETTLED: std::time::Duration = std::time::Duration::from_secs(2);
    let stamp = |file: &std::fs::File| {
        use std::os::unix::fs::MetadataExt;
        let meta = file.metadata().ok()?;
        Some((Stamp::of_metadata(&meta)?, meta.ctime(), meta.ctime_nsec()))
    };
    let Some(before) = stamp(source) else {
        return Ok(None);
    };
    let now_ns = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as i128);
    if before.0.modified_ns > now_ns - SETTLED.as_nanos() as i128 {
        return Ok(None);
    }
    // Cloning first costs nothing where it fails. Elsewhere, once the file has read as an IPA,
    // the kernel copies it without passing it through this process, and the hash finds it in
    // memory; where the kernel cannot, it is copied as it is hashed.
    let cloned = rustix::fs::ioctl_ficlone(out, source).is_ok();
    let mut writer = out;
    let facts =
        crate::ipa::read_file_then(source.try_clone().map_err(IpaError::Open)?, icons, |file| {
            if cloned || copy_in_kernel(file, out, before.0.size) {
                return Ok(None);
            }
            empty(out).map_err(IpaError::Copy)?;
            Ok(Some(&mut writer as &mut dyn std::io::Write))
        })?;
    if stamp(source) == Some(before) {
        return Ok(Some(facts));
    }
    empty(out).map_err(IpaError::Copy)?;
    Ok(None)
}

/// Copies the first `size` bytes of `source` to `out` with `copy_file_range`; false where the
/// kernel or filesystem cannot, or the file ended early.
#[cfg(target_os = "linux")]
fn copy_in_kernel(source: &std::fs::File, out: &std::fs::File, size: u64) -> bool {
    let (mut from, mut to) = (0u64, 0u64);
    while from < size {
        let left = usize::try_from(size - from)
            .unwrap_or(usize::MAX)
            .min(1 << 30);
        match rustix::fs::copy_file_range(source, Some(&mut from), out, Some(&mut to), left) {
            Ok(0) | Err(_) => return false,
            Ok(_) => {}
        }
    }
    true
}

fn remove_other_builds_icons(dir: &Path) {
    let ours = icons_dir(dir);
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with(ICONS_DIR) && path != ours {
            // Best effort: what stays is removed next time.
            let _ = std::fs::remove_dir_all(&path);
        }
    }
}

/// The cache's lock, taken: the folder is made if needed.
fn take_lock(dir: &Path) -> Result<crate::fs::Lock, String> {
    let path = dir.join(LOCK_FILE);
    let shown = crate::diag::display_path(&path);
    std::fs::create_dir_all(dir)
        .map_err(|e| format!("cannot make {} ({e})", crate::diag::display_path(dir)))?;
    match crate::fs::Lock::try_take(&path) {
        Ok(Ok(lock)) => Ok(lock),
        Ok(Err(holder)) => Err(format!("{holder} holds {shown}")),
        Err(e) => Err(e.to_string()),
    }
}

/// Writes `name` in `dir` whole with what `write` writes, making `dir` if needed.
fn write_whole(
    dir: &Path,
    name: &str,
    write: impl FnOnce(&mut dyn std::io::Write) -> std::io::Result<()>,
) -> Result<(), String> {
    let target = dir.join(name);
    std::fs::create_dir_all(dir)
        .and_then(|()| crate::fs::write_replacing_with(&target, write))
        .map_err(|e| format!("cannot write {}: {e}", crate::diag::display_path(&target)))
}

/// The entries of the facts file; `Err(None)` when there is none yet, `Err(Some(why))` when it
/// cannot be trusted.
fn load(file: &Path) -> Result<BTreeMap<String, Entry>, Option<String>> {
    let bytes = match crate::fs::read_regular(file) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(None),
        Err(e) => return Err(Some(format!("cannot read it ({e})"))),
    };
    let stale = |relsite: &str, format: u32| {
        Some(format!(
            "it was made by relsite {relsite} (format {format}), this is {} (format {FORMAT})",
            made_by()
        ))
    };
    match serde_json::from_slice::<FactsFile>(&bytes) {
        Ok(file) if file.relsite == made_by() && file.format == FORMAT => Ok(file.entries),
        Ok(file) => Err(stale(&file.relsite, file.format)),
        Err(e) => {
            // Another version's entries may not read as this one's: say which version it was.
            #[derive(Deserialize)]
            struct Header {
                relsite: String,
                format: u32,
            }
            match serde_json::from_slice::<Header>(&bytes) {
                Ok(h) if h.relsite != made_by() || h.format != FORMAT => {
                    Err(stale(&h.relsite, h.format))
                }
                _ => Err(Some(format!("it cannot be read ({e})"))),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    #[test]
    fn an_emptied_copy_is_written_again_from_its_start() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("copy");
        let mut out = crate::fs::create_new(&path).unwrap();
        out.write_all(b"first attempt").unwrap();
        super::empty(&out).unwrap();
        out.write_all(b"bytes").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"bytes");
    }
}
