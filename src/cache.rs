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
use crate::record::{self, NewRecord, OutputRecord};

/// The cache folder, in the site folder.
pub const CACHE_DIR: &str = ".relsite-cache";

/// The facts file in the cache folder.
const FACTS_FILE: &str = "facts.json";

/// The SHA-256 of each output file, as the last deploy hashed it.
const HASHES_FILE: &str = "hashes.json";

/// The records of the last write to each output folder, a file each, in the cache folder.
const OUTPUTS_DIR: &str = "outputs";

/// Where earlier formats kept the records of every output folder in one file.
const SINGLE_OUTPUT_FILE: &str = "output.json";

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

/// The name of the kept copy of the IPA with `sha256`, in the folder of kept copies.
pub fn ipa_copy_name(sha256: &str) -> String {
    format!("{sha256}.ipa")
}

/// Changes whenever what the cache holds changes meaning.
const FORMAT: u32 = 2;

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
#[derive(Debug, Deserialize)]
struct FactsFile {
    relsite: String,
    format: u32,
    entries: Entries,
}

/// The entries of a facts file, with equal profiles held once as they are read: an app's builds
/// are mostly signed with one, and a catalog has thousands.
#[derive(Debug)]
struct Entries(BTreeMap<String, Entry>);

impl<'de> Deserialize<'de> for Entries {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Entries;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("entries by path")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Entries, A::Error> {
                let profiles = crate::ipa::SharedProfiles::default();
                let mut entries = BTreeMap::new();
                while let Some((path, mut entry)) = map.next_entry::<String, Entry>()? {
                    profiles.share(&mut entry.facts.profile);
                    entries.insert(path, entry);
                }
                Ok(Entries(entries))
            }
        }
        deserializer.deserialize_map(Visitor)
    }
}

/// [`FactsFile`] to write, from the facts of the run.
#[derive(Serialize)]
struct FactsToWrite<'a> {
    relsite: String,
    format: u32,
    entries: BTreeMap<&'a str, EntryToWrite<'a>>,
}

#[derive(Serialize)]
struct EntryToWrite<'a> {
    stamp: Stamp,
    copy: Option<Stamp>,
    facts: &'a IpaFacts,
}

/// An IPA read in this run, for [`Cache::save`].
pub struct ReadIpa<'a> {
    /// Its path below the site root.
    pub rel: &'a str,
    /// Its stamp before it was read.
    pub stamp: Stamp,
    pub facts: &'a IpaFacts,
    /// Whether the facts came from [`Cache::lookup`].
    pub from_cache: bool,
}

/// The cache of one run.
#[derive(Debug)]
pub struct Cache {
    /// Where the cache is written; `None` when caching is off or read-only.
    dir: Option<PathBuf>,
    /// The entries of the facts file not looked up yet.
    entries: std::sync::Mutex<BTreeMap<String, Entry>>,
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
            entries: std::sync::Mutex::default(),
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
        if let Some(link) = [
            dir.clone(),
            dir.join(IPAS_DIR),
            icons_dir(&dir),
            dir.join(OUTPUTS_DIR),
        ]
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
                entries: std::sync::Mutex::new(entries),
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
    pub fn output_record(&self, output: &Path) -> Option<OutputRecord> {
        let dir = self.dir.as_ref()?;
        let output = std::fs::canonicalize(output).ok()?;
        let file = crate::fs::open_regular(&output_file(dir, &output)).ok()?;
        let mut reader = std::io::BufReader::new(file);
        let (of, files) = record_header(&mut reader)?;
        (of == output).then(|| OutputRecord::read_lines(output, files, reader))?
    }

    /// Keeps the record of this write, in a file of its own beside those of other output
    /// folders that still exist (a preview's and a build's do not take each other's place);
    /// returns why it could not.
    pub fn save_output_record(&self, record: &NewRecord) -> Result<(), String> {
        let Some(dir) = &self.dir else { return Ok(()) };
        let outputs = dir.join(OUTPUTS_DIR);
        let file = output_file(dir, &record.output);
        prune_output_records(&outputs, &file);
        let _ = std::fs::remove_file(dir.join(SINGLE_OUTPUT_FILE));
        let header = record::Header {
            relsite: made_by().into(),
            format: FORMAT,
            output: record.output.clone(),
            files: Some(record.len()),
        };
        let name = file.file_name().unwrap_or_default().to_string_lossy();
        write_whole(&outputs, &name, |out| {
            serde_json::to_writer(&mut *out, &header)?;
            out.write_all(b"\n")?;
            record.write_lines(out)
        })
    }

    /// The SHA-256 of each output file `deploy` hashed, by path below the output, with the
    /// file's stamp then; empty when there are none or they cannot be trusted.
    pub fn output_hashes(&self) -> BTreeMap<String, (Stamp, String)> {
        #[derive(Deserialize)]
        struct Hashes {
            relsite: String,
            format: u32,
            files: BTreeMap<String, (Stamp, String)>,
        }
        let Some(dir) = &self.dir else {
            return BTreeMap::new();
        };
        crate::fs::read_regular(&dir.join(HASHES_FILE))
            .ok()
            .and_then(|bytes| serde_json::from_slice::<Hashes>(&bytes).ok())
            .filter(|h| h.relsite == made_by() && h.format == FORMAT)
            .map(|h| h.files)
            .unwrap_or_default()
    }

    /// Keeps the hashes of the output files for the next deploy; returns why it could not.
    pub fn save_output_hashes(
        &self,
        files: &BTreeMap<String, (Stamp, String)>,
    ) -> Result<(), String> {
        #[derive(Serialize)]
        struct Hashes<'a> {
            relsite: String,
            format: u32,
            files: &'a BTreeMap<String, (Stamp, String)>,
        }
        let Some(dir) = &self.dir else { return Ok(()) };
        let hashes = Hashes {
            relsite: made_by(),
            format: FORMAT,
            files,
        };
        write_whole(dir, HASHES_FILE, |out| {
            serde_json::to_writer(out, &hashes).map_err(std::io::Error::from)
        })
    }

    /// Where icons are rendered and kept.
    pub fn icons(&self) -> &IconStore {
        &self.icons
    }

    /// Where the copy of the IPA with `sha256` is kept, when the cache keeps copies.
    pub fn ipa_copy(&self, sha256: &str) -> Option<PathBuf> {
        Some(self.ipa_copies()?.join(ipa_copy_name(sha256)))
    }

    /// The folder of the IPA copies the cache keeps, when it keeps them.
    pub fn ipa_copies(&self) -> Option<PathBuf> {
        let dir = self.dir.as_ref().filter(|_| self.keep_copies)?;
        Some(dir.join(IPAS_DIR))
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
    /// were read, and its icon and copy are still as they were. Each entry is looked up once:
    /// its facts are handed over, not copied.
    pub fn lookup(&self, rel: &str, stamp: Stamp) -> Option<IpaFacts> {
        let entry = self
            .entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(rel)?;
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
        Some(entry.facts)
    }

    /// Keeps `read` (every IPA read in this run) as the cache, unless it is what was there:
    /// every IPA's facts from the cache, and no entry left that was not looked up. Returns why
    /// it could not be written. Lookups are over once this is called.
    pub fn save(&mut self, read: &[ReadIpa]) -> Result<(), String> {
        let left = std::mem::take(self.entries.get_mut().unwrap_or_else(|e| e.into_inner()));
        let Some(dir) = &self.dir else { return Ok(()) };
        self.prune_ipas(read);
        if left.is_empty() && read.iter().all(|r| r.from_cache) {
            return Ok(());
        }
        drop(left);
        let entries = read
            .iter()
            .map(|r| {
                let copy = self.ipa_copy(&r.facts.sha256).and_then(|c| Stamp::of(&c));
                let entry = EntryToWrite {
                    stamp: r.stamp,
                    copy,
                    facts: r.facts,
                };
                (r.rel, entry)
            })
            .collect();
        let file = FactsToWrite {
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
    fn prune_ipas(&self, read: &[ReadIpa]) {
        let Some(dir) = &self.dir else { return };
        let Ok(files) = std::fs::read_dir(dir.join(IPAS_DIR)) else {
            return;
        };
        let used: std::collections::HashSet<String> = read
            .iter()
            .filter(|_| self.keep_copies)
            .map(|r| format!("{}.ipa", r.facts.sha256))
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

/// Where the record of the writes to `output` (resolved) is kept.
fn output_file(dir: &Path, output: &Path) -> PathBuf {
    let digest = crate::text::sha256_hex([output.as_os_str().as_encoded_bytes()]);
    dir.join(OUTPUTS_DIR)
        .join(format!("{}.json", &digest[..32]))
}

/// The output folder a record file is of and how many files it records (when it says), from
/// its header, if this build of relsite wrote it.
fn record_header(reader: &mut impl std::io::BufRead) -> Option<(PathBuf, Option<usize>)> {
    use std::io::{BufRead, Read};
    let mut line = String::new();
    reader.take(64 * 1024).read_line(&mut line).ok()?;
    let header: record::Header = serde_json::from_str(&line).ok()?;
    (header.relsite == made_by() && header.format == FORMAT)
        .then_some((header.output, header.files))
}

/// Removes the records in `outputs` of output folders that are gone, by another relsite, or
/// unreadable, and partial ones of stopped runs; `keep` is replaced by the caller.
fn prune_output_records(outputs: &Path, keep: &Path) {
    let Ok(entries) = std::fs::read_dir(outputs) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path == keep {
            continue;
        }
        let current = crate::fs::open_regular(&path)
            .ok()
            .map(std::io::BufReader::new)
            .and_then(|mut reader| record_header(&mut reader))
            .is_some_and(|(output, _)| output.is_dir());
        if !current {
            // Best effort: what stays is pruned again next time.
            let _ = std::fs::remove_file(&path);
        }
    }
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
        .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX));
    if before.0.modified_ns > now_ns.saturating_sub(SETTLED.as_nanos() as i64) {
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
///
/// It is parsed as it is read, never held whole: at catalog scale it is megabytes.
fn load(file: &Path) -> Result<BTreeMap<String, Entry>, Option<String>> {
    let open = || crate::fs::open_regular(file).map(std::io::BufReader::new);
    let reader = match open() {
        Ok(reader) => reader,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(None),
        Err(e) => return Err(Some(format!("cannot read it ({e})"))),
    };
    let stale = |relsite: &str, format: u32| {
        Some(format!(
            "it was made by relsite {relsite} (format {format}), this is {} (format {FORMAT})",
            made_by()
        ))
    };
    match serde_json::from_reader::<_, FactsFile>(reader) {
        Ok(file) if file.relsite == made_by() && file.format == FORMAT => Ok(file.entries.0),
        Ok(file) => Err(stale(&file.relsite, file.format)),
        Err(e) => {
            // Another version's entries may not read as this one's: say which version it was.
            #[derive(Deserialize)]
            struct Header {
                relsite: String,
                format: u32,
            }
            let header = open()
                .map_err(serde_json::Error::io)
                .and_then(serde_json::from_reader::<_, Header>);
            match header {
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

    fn record(output: &std::path::Path, print: &[u8; 32]) -> super::NewRecord<'static> {
        let stamp = crate::fs::Stamp {
            size: 1,
            modified_ns: 2,
            inode: 3,
        };
        super::NewRecord {
            output: output.canonicalize().unwrap(),
            catalog: vec![crate::record::NewEntry {
                key: crate::record::key("index.html"),
                print: crate::record::print(print),
                stamp,
            }],
            parts: Vec::new(),
            previous: None,
        }
    }

    #[test]
    fn each_output_folder_keeps_its_own_record_until_it_is_gone() {
        let site = tempfile::tempdir().unwrap();
        let (build, preview) = (site.path().join("public"), site.path().join("preview"));
        std::fs::create_dir_all(&build).unwrap();
        std::fs::create_dir_all(&preview).unwrap();
        let (cache, _) = super::Cache::open(site.path(), true, true);
        cache.save_output_record(&record(&build, &[1; 32])).unwrap();
        cache
            .save_output_record(&record(&preview, &[2; 32]))
            .unwrap();
        let print = |output: &std::path::Path| {
            let record = cache.output_record(output)?;
            record.get("index.html").map(|(print, _)| print)
        };
        assert_eq!(print(&build), Some(crate::record::print(&[1; 32])));
        assert_eq!(print(&preview), Some(crate::record::print(&[2; 32])));
        std::fs::remove_dir(&preview).unwrap();
        cache.save_output_record(&record(&build, &[3; 32])).unwrap();
        assert_eq!(print(&build), Some(crate::record::print(&[3; 32])));
        let records = std::fs::read_dir(site.path().join(".relsite-cache/outputs")).unwrap();
        assert_eq!(records.count(), 1, "the gone folder's record is pruned");
    }

    #[test]
    fn a_damaged_record_is_not_trusted() {
        let site = tempfile::tempdir().unwrap();
        let build = site.path().join("public");
        std::fs::create_dir_all(&build).unwrap();
        let (cache, _) = super::Cache::open(site.path(), true, true);
        cache.save_output_record(&record(&build, &[1; 32])).unwrap();
        assert!(cache.output_record(&build).is_some());
        let file = std::fs::read_dir(site.path().join(".relsite-cache/outputs"))
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .path();
        let text = std::fs::read_to_string(&file).unwrap();
        std::fs::write(&file, &text[..text.len() - 3]).unwrap();
        assert!(cache.output_record(&build).is_none());
        std::fs::write(
            &file,
            text.replace(&format!("\"format\":{}", super::FORMAT), "\"format\":99"),
        )
        .unwrap();
        assert!(cache.output_record(&build).is_none());
    }
}
