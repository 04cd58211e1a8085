//! The only stage that writes. The plan is assembled in a staging folder beside the output and
//! exchanged with the output in one step only when every file is there, so a failed or
//! interrupted build leaves the previous site exactly as it was, and the output folder exists at
//! every instant. Files whose bytes did not change are hard-linked from the previous output,
//! keeping their identity and modification time for `aws s3 sync` and rsync.
//!
//! On Linux the exchange is one `renameat2(RENAME_EXCHANGE)`, which swaps the two folders'
//! names at once: there is no moment between two renames. Two renames (the output to a hidden
//! `.old` sibling, then the staged site to the output) are the fallback for filesystems and
//! systems without the exchange; a run killed between them leaves the output missing, and the
//! next run that takes the output's lock (a build, failing or not, `check`, `add`) puts the
//! previous site back from the `.old` sibling first.
//!
//! After the exchange the staging folder holds the previous site, and the next build brings it
//! up to date in place: only files that changed in the last two builds are linked or written,
//! so a build that adds one release touches a few files whatever the size of the catalog. A
//! build that made the output anew leaves staging holding the site itself, linked, for the same
//! reason.
//!
//! A record of the last write (each file's fingerprint and stamp) says which files are unchanged
//! without making or reading them; when every file is, the output is left alone altogether.
//! It also keeps the input of each part of the site ([`crate::plan::Part`]): a part whose input
//! is the same, and whose files are all still as written, is linked from the output without
//! being planned. The other parts are planned, rendered and written a few at a time, so a
//! catalog's files are never all planned at once.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use indicatif::ProgressBar;
use rayon::prelude::*;

use crate::diag::Diagnostic;
use crate::fs::{self, FsError, Stamp};
use crate::plan::{Claims, Content, OutputPlan, PlannedFile, PlannedFiles, made_problems};
use crate::record::{self, Entry, NewEntry, NewRecord, OutputRecord, PartFiles};

#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error(transparent)]
    Fs(#[from] FsError),
    #[error("`{}` exists and is not a folder", .0.display())]
    NotADir(PathBuf),
    #[error("output folder `{}` has no parent folder", .0.display())]
    NoParent(PathBuf),
    #[error("`{}` is not empty and was not written by relsite (it has no {MARKER}): the output is replaced on every build, so choose an empty or new folder", .0.display())]
    NotOurs(PathBuf),
    #[error("{} file(s) could not be made", .0.len())]
    Made(Vec<Diagnostic>),
}

impl WriteError {
    /// The file or folder the error is about, when it is about one.
    pub fn path(&self) -> Option<&Path> {
        match self {
            WriteError::Fs(e) => Some(&e.path),
            WriteError::NotADir(path) | WriteError::NoParent(path) | WriteError::NotOurs(path) => {
                Some(path)
            }
            WriteError::Made(_) => None,
        }
    }
}

/// How IPAs are published.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ipas {
    /// Each as a copy of its own (a reflink where the filesystem makes one), so overwriting a
    /// release file never changes what is published.
    Copy,
    /// Hard-linked where possible, for a private preview.
    Link,
}

/// Whether the file at `path` of `output` (the folder `previous` is of) is still what the
/// record says, and what `file` would make: same fingerprint, and a stamp that shows nobody
/// touched it.
fn unchanged(previous: &OutputRecord, output: &Path, path: &str, file: &PlannedFile) -> bool {
    previous.get(path).is_some_and(|(print, stamp)| {
        print == record::print(&file.fingerprint)
            && Stamp::of_file(&output.join(path)).ok() == Some(stamp)
    })
}

/// The file that marks a folder as relsite's output, so a build never replaces anything else.
pub const MARKER: &str = ".relsite-output";

/// What the marker says, to whoever opens it.
pub const MARKER_TEXT: &[u8] =
    b"This folder is written by `relsite build` and replaced on every build: edit the site, not this folder.\n";

/// How many files were written anew and how many kept from the previous output.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct WriteStats {
    pub written: usize,
    pub unchanged: usize,
    /// Parts of apps kept as the last write left them, without being planned.
    pub parts_kept: usize,
}

/// Where the staging and retired copies of `output` live: hidden siblings on the same filesystem.
fn sibling(output: &Path, suffix: &str) -> Result<PathBuf, WriteError> {
    let parent = output
        .parent()
        .ok_or_else(|| WriteError::NoParent(output.to_path_buf()))?;
    let name = output
        .file_name()
        .ok_or_else(|| WriteError::NoParent(output.to_path_buf()))?
        .to_string_lossy();
    Ok(parent.join(format!(".{name}.relsite-{suffix}")))
}

/// Writes the plan to `output`, replacing what was there only once all of it is written, and
/// advancing `progress` by one for the catalog's own files and one for each build. A symlinked
/// output folder is written through: the link stays, its target is replaced. `previous` is the
/// record of the last write, when known: a part whose input it recorded, and whose files are
/// all still there as it recorded them, is kept without being planned.
/// Returns what was written and the record of this write, `None` when it wrote nothing and
/// `previous` stands.
pub fn write_site<'r>(
    plan: &OutputPlan,
    output: &Path,
    previous: Option<&'r OutputRecord>,
    ipas: Ipas,
    progress: &ProgressBar,
    waiting: &dyn Fn(String),
) -> Result<(WriteStats, Option<NewRecord<'r>>), WriteError> {
    let given = output;
    let resolved = resolve(given)?;
    let output = resolved.as_path();
    if output.exists() && !output.is_dir() {
        return Err(WriteError::NotADir(output.to_path_buf()));
    }
    // Refused before anything is made beside it, and again once the lock is held.
    refuse_others(output)?;
    let staging = sibling(output, "staging")?;
    let retired = sibling(output, "old")?;
    if let Some(parent) = staging.parent() {
        fs::create_dir_all(parent)?;
    }
    let _lock = lock(&sibling(output, "lock")?, output, waiting)?;
    restore(output, &retired)?;
    if output != given && !output.exists() {
        // A link to nothing that no interrupted build left: not a folder to make.
        return Err(FsError {
            action: "resolve",
            path: given.to_path_buf(),
            source: std::io::ErrorKind::NotFound.into(),
        }
        .into());
    }
    refuse_others(output)?;
    let resolved_output = std::fs::canonicalize(output).unwrap_or_else(|_| output.to_path_buf());
    let previous = previous.filter(|r| r.output == resolved_output);
    let survey = previous.map(|r| Survey::of(output, r, plan));
    if let (Some(previous), Some(survey)) = (previous, &survey)
        && survey.keeps_everything(previous, plan)
        && plan
            .site
            .files
            .par_iter()
            .all(|(path, file)| unchanged(previous, output, path, file))
    {
        progress.inc(progress_len(plan));
        let stats = WriteStats {
            written: 0,
            unchanged: previous.len(),
            parts_kept: plan.parts.len(),
        };
        return Ok((stats, None));
    }
    if retired.exists() {
        fs::remove_dir_all(&retired)?;
    }
    if staging.exists() && !staging.is_dir() || staging.is_symlink() {
        replace(&staging)?;
    }
    fs::create_dir_all(&staging)?;

    let (stats, mut record) = stage(plan, output, &staging, previous.zip(survey), ipas, progress)?;

    pause_point("exchange");
    if output.exists() {
        exchange(&staging, output, &retired)?;
    } else {
        fs::rename(&staging, output)?;
        // Staging holds a site again, as after an exchange, so that the next build brings it
        // up to date instead of linking every file.
        link_back(output, &staging);
    }
    record.output = std::fs::canonicalize(output).unwrap_or_else(|_| output.to_path_buf());
    Ok((stats, Some(record)))
}

/// Makes `staging` (missing) the site at `output` again, of links to its files, as the
/// exchange leaves it after a build that replaced a site. Nothing depends on it: a link or a
/// folder that cannot be made ends it, and the next build makes what staging lacks.
fn link_back(output: &Path, staging: &Path) {
    // Made here, not found: whatever took the name meanwhile is not written through.
    if std::fs::create_dir(staging).is_err() {
        return;
    }
    let _ = walkdir::WalkDir::new(output)
        .min_depth(1)
        .into_iter()
        .par_bridge()
        .try_for_each(|entry| -> Result<(), ()> {
            let entry = entry.map_err(drop)?;
            let rel = entry.path().strip_prefix(output).map_err(drop)?;
            let dest = staging.join(rel);
            let kind = entry.file_type();
            if kind.is_dir() {
                std::fs::create_dir_all(&dest).map_err(drop)
            } else if kind.is_file() {
                make_parent(staging, &dest).map_err(drop)?;
                std::fs::hard_link(entry.path(), &dest).map_err(drop)
            } else {
                Ok(())
            }
        });
}

/// How far a write of `plan` advances its progress: one for the catalog's own files, and one
/// for each build.
pub fn progress_len(plan: &OutputPlan) -> u64 {
    1 + plan
        .parts
        .iter()
        .map(|p| p.build_count() as u64)
        .sum::<u64>()
}

/// The folder `output` names: itself, or through a symlink its target, which may be missing
/// (a build stopped between the two renames of [`exchange`] leaves a link to nothing).
fn resolve(output: &Path) -> Result<PathBuf, FsError> {
    if !output.is_symlink() {
        return Ok(output.to_path_buf());
    }
    let resolve_error = |source| FsError {
        action: "resolve",
        path: output.to_path_buf(),
        source,
    };
    match std::fs::canonicalize(output) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        resolved => return resolved.map_err(resolve_error),
    }
    // Links followed one by one, as the system would, to the missing folder at their end.
    let mut at = output.to_path_buf();
    for _ in 0..40 {
        if !at.is_symlink() {
            return Ok(at);
        }
        let target = std::fs::read_link(&at).map_err(resolve_error)?;
        at = match at.parent() {
            Some(parent) => parent.join(target),
            None => target,
        };
    }
    Err(resolve_error(std::io::Error::other(
        "too many levels of symbolic links",
    )))
}

/// Puts the site `retired` beside `output` back in its place when the output is missing: a build
/// stopped between the two renames of [`exchange`] leaves it so. Only under the output's lock.
/// Returns whether it did.
fn restore(output: &Path, retired: &Path) -> Result<bool, FsError> {
    if std::fs::symlink_metadata(output).is_ok() || !retired.is_dir() {
        return Ok(false);
    }
    fs::rename(retired, output)?;
    Ok(true)
}

/// Puts the previous site back at `output` when a build stopped between the two renames of
/// [`exchange`] left it retired beside it, so that runs which write no site (a build that fails,
/// `check`, `add`) do not leave the output missing. Nothing is written unless the output is
/// missing and the retired site is there, and then only under the output's lock, when it is free:
/// a build that holds it is still running, and puts the site back itself. Returns the folder put
/// back, for a notice.
pub fn restore_interrupted(output: &Path) -> Result<Option<PathBuf>, WriteError> {
    let output = resolve(output)?;
    let retired = sibling(&output, "old")?;
    if std::fs::symlink_metadata(&output).is_ok() || !retired.is_dir() {
        return Ok(None);
    }
    let Ok(_lock) = fs::Lock::try_take(&sibling(&output, "lock")?)? else {
        return Ok(None);
    };
    Ok(restore(&output, &retired)?.then_some(retired))
}

/// The previous output as it is now, against the record of the write that made it.
struct Survey {
    /// Whether each recorded part has every file it had, as it had it.
    intact: Vec<bool>,
    /// Which recorded part each planned part is, when it is the same: same name, same input,
    /// and intact.
    same: Vec<Option<usize>>,
    /// Whether the output holds a file the record does not, or one that changed since.
    strays: bool,
}

impl Survey {
    /// Looks at every file of `output`, whose last write `record` is.
    fn of(output: &Path, record: &OutputRecord, plan: &OutputPlan) -> Survey {
        let parts = record.parts();
        let mut kept = vec![0; parts.len()];
        let mut broken = vec![false; parts.len()];
        let mut strays = false;
        for entry in walkdir::WalkDir::new(output).min_depth(1) {
            let Ok(entry) = entry else {
                strays = true;
                continue;
            };
            if entry.file_type().is_dir() {
                continue;
            }
            let rel = match entry.path().strip_prefix(output) {
                // A name relsite never writes would read as another path.
                Ok(rel) if rel.iter().all(written_name) => crate::diag::display_path(rel),
                _ => {
                    strays = true;
                    continue;
                }
            };
            let Some(recorded) = record.entry(record::key(&rel)) else {
                strays = true;
                continue;
            };
            let as_recorded = entry.file_type().is_file()
                && entry
                    .metadata()
                    .ok()
                    .and_then(|m| Stamp::of_metadata(&m))
                    .is_some_and(|stamp| stamp == recorded.stamp);
            let part = usize::try_from(recorded.part)
                .ok()
                .filter(|&p| p < parts.len());
            match (as_recorded, part) {
                (true, Some(p)) => kept[p] += 1,
                (true, None) => {}
                (false, Some(p)) => {
                    broken[p] = true;
                    strays = true;
                }
                (false, None) => strays = true,
            }
        }
        let intact: Vec<bool> = parts
            .iter()
            .zip(&kept)
            .zip(&broken)
            .map(|((part, &kept), broken)| !broken && kept == part.files)
            .collect();
        let by_name: std::collections::HashMap<&str, usize> = parts
            .iter()
            .enumerate()
            .map(|(i, p)| (p.name.as_str(), i))
            .collect();
        let same: Vec<Option<usize>> = plan
            .parts
            .iter()
            .map(|part| {
                let &i = by_name.get(part.name.as_str())?;
                (intact[i] && parts[i].input == part.input).then_some(i)
            })
            .collect();
        Survey {
            intact,
            same,
            strays,
        }
    }

    /// Whether the output is all that `plan` would write but for the catalog's own files: every
    /// part the same, no part gone, no file added or changed.
    fn keeps_everything(&self, record: &OutputRecord, plan: &OutputPlan) -> bool {
        !self.strays
            && self.intact.iter().all(|&intact| intact)
            && self.same.iter().all(Option::is_some)
            && plan.parts.len() == record.parts().len()
            && plan.site.len() == record.catalog_files()
    }
}

/// Puts the folder `staging` at `output` and the output's folder at `staging`. On Linux this is
/// one `renameat2` with `RENAME_EXCHANGE`: the system swaps the two names at once, so there is
/// no moment between two renames and the output never goes missing. Only where the system has
/// no exchange (a filesystem that answers `EINVAL`, a kernel without `renameat2`, another OS)
/// is it two renames: the output to `retired`, then `staging` to the output. A run stopped
/// between them leaves the output missing until the next run that takes the output's lock
/// (see [`restore_interrupted`]) puts `retired` back.
fn exchange(staging: &Path, output: &Path, retired: &Path) -> Result<(), WriteError> {
    #[cfg(target_os = "linux")]
    if !renames_forced() {
        use rustix::fs::{CWD, RenameFlags, renameat_with};
        match renameat_with(CWD, staging, CWD, output, RenameFlags::EXCHANGE) {
            Ok(()) => return Ok(()),
            // Filesystems without the exchange answer EINVAL; old kernels ENOSYS.
            Err(e) if e == rustix::io::Errno::INVAL || e == rustix::io::Errno::NOSYS => {}
            Err(e) => {
                return Err(FsError {
                    action: "exchange",
                    path: output.to_path_buf(),
                    source: e.into(),
                }
                .into());
            }
        }
    }
    fs::rename(output, retired)?;
    pause_point("between-renames");
    if let Err(err) = fs::rename(staging, output) {
        let _ = std::fs::rename(retired, output);
        return Err(err.into());
    }
    fs::rename(retired, staging)?;
    Ok(())
}

/// Whether the crash tests ask for the swap of two renames, as on a system without the exchange:
/// `RELSITE_TEST_SWAP` set to `renames`.
#[cfg(target_os = "linux")]
fn renames_forced() -> bool {
    std::env::var_os("RELSITE_TEST_SWAP").is_some_and(|s| s == "renames")
}

/// Where the crash tests stop a build to kill it: with `RELSITE_TEST_PAUSE` set to `point`, the
/// build says so on stderr and waits there a minute.
fn pause_point(point: &str) {
    if std::env::var_os("RELSITE_TEST_PAUSE").is_some_and(|p| p == point) {
        eprintln!("paused at {point}");
        std::thread::sleep(std::time::Duration::from_secs(60));
    }
}

/// A folder that holds files and no marker is someone else's: a build never replaces it.
fn refuse_others(output: &Path) -> Result<(), WriteError> {
    if output.is_dir() && !output.join(MARKER).is_file() && !is_empty_dir(output) {
        return Err(WriteError::NotOurs(output.to_path_buf()));
    }
    Ok(())
}

fn is_empty_dir(dir: &Path) -> bool {
    std::fs::read_dir(dir).is_ok_and(|mut entries| entries.next().is_none())
}

/// Holds an exclusive lock on `path` while the returned lock lives, so two builds of one output
/// never share a staging folder: a second build waits for the first, saying so.
fn lock(path: &Path, output: &Path, waiting: &dyn Fn(String)) -> Result<fs::Lock, WriteError> {
    Ok(fs::Lock::wait(path, |holder| {
        waiting(format!(
            "waiting for {holder}, which is writing {}",
            output.display()
        ))
    })?)
}

/// What staging one set of files came to.
#[derive(Default)]
struct StagedSet {
    stats: WriteStats,
    entries: Vec<NewEntry>,
    /// A part's files in the record, once staged: their lines, or those of the last write's
    /// part of that index when it was kept as it was.
    recorded: Option<PartFiles>,
    /// A file of a part kept as it was could not be linked.
    unlinked: bool,
    claims: Claims,
    /// Files that could not be made, with their paths, and problems of planning them.
    unmade: Vec<(Diagnostic, String)>,
    problems: Vec<Diagnostic>,
}

impl StagedSet {
    /// Takes in what staging more files of the set came to.
    fn absorb(&mut self, other: StagedSet) {
        self.stats.written += other.stats.written;
        self.stats.unchanged += other.stats.unchanged;
        self.stats.parts_kept += other.stats.parts_kept;
        self.entries.extend(other.entries);
        self.claims.merge(other.claims);
        self.unmade.extend(other.unmade);
        self.problems.extend(other.problems);
        self.unlinked |= other.unlinked;
    }
}

/// Makes `staging` hold exactly the plan: what the last two builds left there is kept when it
/// is still the output's file, and replaced otherwise; the rest is pruned. A part the same as
/// the last write's (`previous`, as surveyed) is linked from the output without being planned;
/// the others are planned, a few at a time, and written. Returns the record of the write, but
/// for its output folder.
fn stage<'r>(
    plan: &OutputPlan,
    output: &Path,
    staging: &Path,
    previous: Option<(&'r OutputRecord, Survey)>,
    ipas: Ipas,
    progress: &ProgressBar,
) -> Result<(WriteStats, NewRecord<'r>), WriteError> {
    // Nothing is written to staging before whatever is neither a file nor a folder is gone
    // from it, so nothing written there goes through a symlink.
    let linked = match &previous {
        Some((record, survey)) => link_same(output, staging, record, survey, plan.parts.len())?,
        None => {
            remove_links(staging)?;
            (0..plan.parts.len()).map(|_| None).collect()
        }
    };
    if !plan.site.files.contains_key(MARKER) && !staging.join(MARKER).is_file() {
        fs::write(&staging.join(MARKER), MARKER_TEXT)?;
    }
    let record = previous.as_ref().map(|(record, _)| *record);
    let site = stage_files(&plan.site, output, staging, record, ipas)?;
    progress.inc(1);
    let spill = crate::spill::Spill::new();
    let parts: Vec<Result<StagedSet, WriteError>> = plan
        .parts
        .par_iter()
        .zip(linked)
        .map(|(part, linked)| {
            let staged = match linked {
                Some((recorded, mut staged)) => {
                    staged.stats.parts_kept = 1;
                    staged.recorded = Some(PartFiles::Kept(recorded));
                    Ok(staged)
                }
                None => {
                    let (files, problems) = plan.files_of(part);
                    let mut staged = stage_files(&files, output, staging, record, ipas)?;
                    staged.problems = problems;
                    let entries = std::mem::take(&mut staged.entries);
                    staged.recorded = Some(PartFiles::staged(&spill, &entries));
                    Ok(staged)
                }
            };
            progress.inc(part.build_count() as u64);
            staged
        })
        .collect();
    let mut stats = site.stats;
    let mut claims = site.claims;
    let mut unmade = site.unmade;
    let mut problems = site.problems;
    let mut new = NewRecord {
        catalog: site.entries,
        previous: record,
        ..NewRecord::default()
    };
    // The files of the parts kept are the record's: their claims are its entries.
    let mut kept = vec![false; record.map_or(0, |r| r.parts().len())];
    let mut failed = None;
    for (part, staged) in plan.parts.iter().zip(parts) {
        let staged = match staged {
            Ok(staged) => staged,
            Err(e) => {
                failed.get_or_insert(e);
                continue;
            }
        };
        stats.written += staged.stats.written;
        stats.unchanged += staged.stats.unchanged;
        stats.parts_kept += staged.stats.parts_kept;
        claims.merge(staged.claims);
        unmade.extend(staged.unmade);
        problems.extend(staged.problems);
        if let Some(files) = staged.recorded {
            if let PartFiles::Kept(recorded) = files {
                kept[recorded] = true;
            }
            new.parts.push((part.name.clone(), part.input, files));
        }
    }
    let held = |key: u128| {
        record
            .and_then(|r| r.entry(key))
            .and_then(|e| usize::try_from(e.part).ok())
            .is_some_and(|p| kept.get(p).copied().unwrap_or(false))
    };
    // Two files at one path are reported as such, before what staging them failed at.
    if claims.clash_with(held) {
        return Err(WriteError::Made(plan.clash_problems()));
    }
    if let Some(failed) = failed {
        return Err(failed);
    }
    problems.extend(made_problems(unmade));
    if !problems.is_empty() {
        return Err(WriteError::Made(problems));
    }
    prune(
        staging,
        Path::new(""),
        &|key| claims.has(key) || held(key),
        &claims,
    )?;
    Ok((stats, new))
}

/// Whether a staged file was kept, and its stamp.
type StagedFile = (bool, Stamp);

/// Stages `files`, in parallel.
fn stage_files(
    files: &PlannedFiles,
    output: &Path,
    staging: &Path,
    previous: Option<&OutputRecord>,
    ipas: Ipas,
) -> Result<StagedSet, WriteError> {
    // Boxed: a failure is rare and large, and there is a result per file.
    let staged: Vec<Result<StagedFile, Box<Staged>>> = files
        .files
        .par_iter()
        .map(|(path, file)| {
            let kept = stage_file(path, file, output, staging, previous, ipas).map_err(Box::new)?;
            let dest = staging.join(path);
            // A file the record cannot vouch for would be missed by the next build's survey.
            let stamp = Stamp::of_file(&dest).map_err(|source| {
                Box::new(Staged::from(FsError {
                    action: "read",
                    path: dest,
                    source,
                }))
            })?;
            Ok((kept, stamp))
        })
        .collect();
    let mut set = StagedSet::default();
    set.entries.reserve_exact(staged.len());
    for (result, (path, file)) in staged.into_iter().zip(&files.files) {
        set.claims.claim(path);
        match result {
            Ok((kept, stamp)) => {
                if kept {
                    set.stats.unchanged += 1;
                } else {
                    set.stats.written += 1;
                }
                set.entries.push(NewEntry {
                    key: record::key(path),
                    print: record::print(&file.fingerprint),
                    stamp,
                });
            }
            Err(staged) => match *staged {
                Staged::Made(d) => set.unmade.push((d, path.clone())),
                Staged::Write(e) => return Err(e),
            },
        }
    }
    Ok(set)
}

/// Stages the files of the parts the same as the last write's (`survey.same`), each the output's
/// file, linked: found by walks, so their paths are never all held. Staging is walked first,
/// removing whatever is neither a file nor a folder (or, where inodes do not identify files,
/// [`remove_links`] does): a part whose files staging already holds as the output's (the same
/// inodes, as the directory lists them) is staged without another call. Only the parts it
/// lacks files of, such as those the last build changed, are found again by a walk of the
/// output and linked. Returns, for each planned part the same, its index in the record and its
/// staged set.
fn link_same(
    output: &Path,
    staging: &Path,
    record: &OutputRecord,
    survey: &Survey,
    parts: usize,
) -> Result<Vec<Option<(usize, StagedSet)>>, WriteError> {
    let mut planned_as = vec![None; record.parts().len()];
    let mut sets: Vec<Option<(usize, StagedSet)>> = (0..parts).map(|_| None).collect();
    for (i, same) in survey.same.iter().enumerate() {
        if let Some(recorded) = *same {
            planned_as[recorded] = Some(i);
            sets[i] = Some((recorded, StagedSet::default()));
        }
    }
    let identify = inodes_identify(output, staging);
    if sets.iter().all(Option::is_none) || !identify {
        remove_links(staging)?;
    }
    if sets.iter().all(Option::is_none) {
        return Ok(sets);
    }
    // A name relsite never writes would stand for another path's file: it is not counted, and
    // `prune` removes it.
    let in_staging = if !identify {
        BTreeMap::new()
    } else {
        walkdir::WalkDir::new(staging)
            .min_depth(1)
            .into_iter()
            .filter_entry(|entry| entry.depth() == 0 || written_name(entry.file_name()))
            .par_bridge()
            .try_fold(BTreeMap::<usize, StagedSet>::new, |mut found, entry| {
                // A folder it cannot list might hold a link: an error, as in `remove_links`.
                let entry = entry.map_err(|e| FsError {
                    action: "read",
                    path: e.path().unwrap_or(staging).to_path_buf(),
                    source: e.into(),
                })?;
                let kind = entry.file_type();
                if !kind.is_dir() && !kind.is_file() {
                    replace(entry.path())?;
                    return Ok(found);
                }
                if kind.is_dir() {
                    return Ok(found);
                }
                let Ok(rel) = entry.path().strip_prefix(staging) else {
                    return Ok(found);
                };
                let path = crate::diag::display_path(rel);
                #[cfg(unix)]
                let ino = walkdir::DirEntryExt::ino(&entry);
                #[cfg(not(unix))]
                let ino = 0;
                if let Some((i, recorded)) = planned(record, &planned_as, &path)
                    && ino != 0
                    && ino == recorded.stamp.inode
                {
                    let set = found.entry(i).or_default();
                    set.claims.claim_folders_of(&path);
                    set.stats.unchanged += 1;
                }
                Ok::<_, WriteError>(found)
            })
            .try_reduce(BTreeMap::new, merge_found)?
    };
    absorb_found(&mut sets, in_staging);
    // A part staging holds every file of is staged; the others are found in the output
    // instead, from the start.
    for (recorded, planned) in planned_as.iter_mut().enumerate() {
        if let Some(i) = *planned
            && let Some((_, set)) = &mut sets[i]
        {
            if set.stats.unchanged == record.parts()[recorded].files {
                *planned = None;
            } else {
                *set = StagedSet::default();
            }
        }
    }
    if planned_as.iter().any(Option::is_some) {
        let in_output = walkdir::WalkDir::new(output)
            .min_depth(1)
            .into_iter()
            .par_bridge()
            .try_fold(BTreeMap::<usize, StagedSet>::new, |mut found, entry| {
                // The survey saw every file as recorded; one gone since fails its link.
                let Some(entry) = entry.ok().filter(|e| e.file_type().is_file()) else {
                    return Ok(found);
                };
                let Some(rel) = entry
                    .path()
                    .strip_prefix(output)
                    .ok()
                    .filter(|rel| rel.iter().all(written_name))
                else {
                    return Ok(found);
                };
                let path = crate::diag::display_path(rel);
                if let Some((i, recorded)) = planned(record, &planned_as, &path) {
                    let set = found.entry(i).or_default();
                    // Changed since the survey: the part is planned instead.
                    let as_recorded = || {
                        entry
                            .metadata()
                            .ok()
                            .and_then(|m| Stamp::of_metadata(&m))
                            .is_some_and(|stamp| stamp == recorded.stamp)
                    };
                    let staged = link_kept(
                        &path,
                        recorded,
                        as_recorded,
                        identify,
                        (output, staging),
                        set,
                    )?;
                    if !staged {
                        set.unlinked = true;
                    }
                }
                Ok(found)
            })
            .try_reduce(BTreeMap::new, merge_found)?;
        absorb_found(&mut sets, in_output);
    }
    // A part with a file that could not be linked, or gone since the survey, is planned.
    for slot in &mut sets {
        if let Some((recorded, set)) = slot
            && (set.unlinked || set.stats.unchanged != record.parts()[*recorded].files)
        {
            *slot = None;
        }
    }
    Ok(sets)
}

/// Whether `name` could be one relsite writes: UTF-8 without a `\`, which paths read as a
/// folder's, so that two names never stand for one path.
fn written_name(name: &std::ffi::OsStr) -> bool {
    name.to_str().is_some_and(|name| !name.contains('\\'))
}

/// Whether a file of `staging` and one of `output` with one inode number are one file: both
/// folders are on one filesystem, and not an overlay (whose files of different layers may
/// share a number).
fn inodes_identify(output: &Path, staging: &Path) -> bool {
    // The staging tests take the other way too, with `RELSITE_TEST_INODES=off`.
    if std::env::var_os("RELSITE_TEST_INODES").is_some_and(|v| v == "off") {
        return false;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let (Ok(a), Ok(b)) = (std::fs::metadata(output), std::fs::metadata(staging)) else {
            return false;
        };
        if a.dev() != b.dev() {
            return false;
        }
        #[cfg(target_os = "linux")]
        {
            /// `OVERLAYFS_SUPER_MAGIC` of `statfs(2)`.
            const OVERLAY: i128 = 0x794c_7630;
            match rustix::fs::statfs(staging) {
                Ok(fs) if i128::from(fs.f_type) == OVERLAY => return false,
                Ok(_) => {}
                Err(_) => return false,
            }
        }
        true
    }
    #[cfg(not(unix))]
    {
        let _ = (output, staging);
        false
    }
}

/// The planned part (by `planned_as`, indexed by recorded part) of the recorded file at `path`,
/// and its entry, when the file is of a part the same as the last write's.
fn planned<'r>(
    record: &'r OutputRecord,
    planned_as: &[Option<usize>],
    path: &str,
) -> Option<(usize, &'r Entry)> {
    let recorded = record.entry(record::key(path))?;
    let part = usize::try_from(recorded.part).ok()?;
    Some((planned_as.get(part).copied().flatten()?, recorded))
}

/// Takes what a walk found of each planned part into the part's staged set.
fn absorb_found(sets: &mut [Option<(usize, StagedSet)>], found: BTreeMap<usize, StagedSet>) {
    for (i, set) in found {
        if let Some(Some((_, into))) = sets.get_mut(i) {
            into.absorb(set);
        }
    }
}

/// Takes the staged sets of one walk's share into those of another's.
fn merge_found(
    mut all: BTreeMap<usize, StagedSet>,
    found: BTreeMap<usize, StagedSet>,
) -> Result<BTreeMap<usize, StagedSet>, WriteError> {
    for (i, set) in found {
        all.entry(i).or_default().absorb(set);
    }
    Ok(all)
}

/// Stages a file of a part the same as the last write's: the output's file, linked, into `set`.
/// Returns whether it is staged: not when the output's file is no longer `as_recorded`, or a
/// link could not be made (a filesystem may refuse links).
/// A staged file already of the recorded inode is taken as linked only when inodes `identify`
/// files ([`inodes_identify`]).
fn link_kept(
    path: &str,
    recorded: &Entry,
    as_recorded: impl FnOnce() -> bool,
    identify: bool,
    (output, staging): (&Path, &Path),
    set: &mut StagedSet,
) -> Result<bool, WriteError> {
    let old = output.join(path);
    let dest = staging.join(path);
    // The survey saw the output's file as recorded, so its inode is the recorded one. A staged
    // file of that inode is the recorded file, whatever happened to the output's since.
    let linked = identify
        && Stamp::of_file(&dest)
            .is_ok_and(|stamp| stamp.inode != 0 && stamp.inode == recorded.stamp.inode);
    if !linked {
        if !as_recorded() {
            return Ok(false);
        }
        make_parent(staging, &dest)?;
        replace(&dest)?;
        if std::fs::hard_link(&old, &dest).is_err() {
            return Ok(false);
        }
    }
    set.claims.claim_folders_of(path);
    set.stats.unchanged += 1;
    Ok(true)
}

/// Makes the folder `file` (in `staging`) goes in, replacing whatever is in the way: staging
/// holds an earlier site, where a folder may have been a file.
fn make_parent(staging: &Path, file: &Path) -> Result<(), FsError> {
    let Some(parent) = file.parent() else {
        return Ok(());
    };
    if parent.is_dir() || std::fs::create_dir_all(parent).is_ok() {
        return Ok(());
    }
    // Parts are staged in parallel: only what is not a folder is removed, and a folder another
    // task made meanwhile is taken as made.
    let mut folder = staging.to_path_buf();
    if let Ok(rel) = parent.strip_prefix(staging) {
        for component in rel.components() {
            folder.push(component);
            let is_dir = |path: &Path| std::fs::symlink_metadata(path).is_ok_and(|m| m.is_dir());
            if is_dir(&folder) {
                continue;
            }
            match std::fs::remove_file(&folder) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound && !is_dir(&folder) => {
                    return Err(FsError {
                        action: "remove",
                        path: folder,
                        source: e,
                    });
                }
                _ => {}
            }
            match std::fs::create_dir(&folder) {
                Err(e) if !is_dir(&folder) => {
                    return Err(FsError {
                        action: "create",
                        path: folder,
                        source: e,
                    });
                }
                _ => {}
            }
        }
    }
    fs::create_dir_all(parent)
}

/// Removes from the staging folder `dir` whatever is neither a file nor a folder, such as a
/// symlink, so that nothing written to staging can go through one.
fn remove_links(dir: &Path) -> Result<(), WriteError> {
    let read_error = |path: &Path, source| FsError {
        action: "read",
        path: path.to_path_buf(),
        source,
    };
    for entry in std::fs::read_dir(dir).map_err(|e| read_error(dir, e))? {
        let entry = entry.map_err(|e| read_error(dir, e))?;
        let path = entry.path();
        let kind = entry.file_type().map_err(|e| read_error(&path, e))?;
        if kind.is_dir() {
            remove_links(&path)?;
        } else if !kind.is_file() {
            replace(&path)?;
        }
    }
    Ok(())
}

/// Removes from `dir` (the folder `rel` of the staging folder) whatever the plan does not hold:
/// files not `planned` (by key), and folders no planned file is in (by `claims`).
fn prune(
    staging: &Path,
    rel: &Path,
    planned: &dyn Fn(u128) -> bool,
    claims: &Claims,
) -> Result<(), WriteError> {
    let dir = staging.join(rel);
    let entries = std::fs::read_dir(&dir).map_err(|source| FsError {
        action: "read",
        path: dir.clone(),
        source,
    })?;
    for entry in entries {
        let entry = entry.map_err(|source| FsError {
            action: "read",
            path: dir.clone(),
            source,
        })?;
        let rel = rel.join(entry.file_name());
        let path = entry.path();
        let kind = entry.file_type().map_err(|source| FsError {
            action: "read",
            path: path.clone(),
            source,
        })?;
        let key = record::key(&crate::diag::display_path(&rel));
        if !written_name(&entry.file_name()) {
            replace(&path)?;
        } else if kind.is_dir() {
            if claims.has_folder(key) {
                prune(staging, &rel, planned, claims)?;
            } else {
                fs::remove_dir_all(&path)?;
            }
        } else if !kind.is_file() || !(planned(key) || rel.as_os_str() == MARKER) {
            replace(&path)?;
        }
    }
    Ok(())
}

/// Why a file was not staged.
enum Staged {
    Made(Diagnostic),
    Write(WriteError),
}

impl From<FsError> for Staged {
    fn from(e: FsError) -> Self {
        Staged::Write(e.into())
    }
}

/// Puts one file in the staging folder: the previous output's file when unchanged (often
/// there already, from the build before), else made or copied. Returns whether it was kept.
///
/// A staged file may be a link of a published one, so it is never written in place: it is
/// removed first and written anew.
fn stage_file(
    path: &str,
    file: &PlannedFile,
    output: &Path,
    staging: &Path,
    previous: Option<&OutputRecord>,
    ipas: Ipas,
) -> Result<bool, Staged> {
    let dest = staging.join(path);
    let old = output.join(path);
    make_parent(staging, &dest)?;
    let keep_old =
        || same_inode(&old, &dest) || (clear(&dest) && std::fs::hard_link(&old, &dest).is_ok());
    if previous.is_some_and(|r| unchanged(r, output, path, file)) && keep_old() {
        return Ok(true);
    }
    match &file.content {
        Content::Bytes(bytes) => {
            if same_bytes(&old, bytes) && keep_old() {
                return Ok(true);
            }
            replace(&dest)?;
            fs::write(&dest, bytes)?;
        }
        Content::Made(made) if made.streams() => {
            replace(&dest)?;
            write_made(made.as_ref(), &dest)?;
            // A streamed file whose fingerprint is its bytes' digest, and differs from the
            // recorded one, is not read again to compare.
            let differs = made.print_is_bytes()
                && previous
                    .and_then(|r| r.get(path))
                    .is_some_and(|(print, _)| print != record::print(&file.fingerprint));
            // The same bytes as the output's: its file is kept, linked in over the new one in
            // one rename, so a link that cannot be made leaves the new file in place.
            if !differs && same_file(&old, &dest) {
                let link = dest.with_file_name(format!(
                    ".{}.relsite-link",
                    dest.file_name().unwrap_or_default().to_string_lossy()
                ));
                let _ = std::fs::remove_file(&link);
                if std::fs::hard_link(&old, &link).is_ok() {
                    if std::fs::rename(&link, &dest).is_ok() {
                        return Ok(true);
                    }
                    let _ = std::fs::remove_file(&link);
                }
            }
        }
        Content::Made(made) => {
            let bytes = made.make().map_err(Staged::Made)?;
            if same_bytes(&old, &bytes) && keep_old() {
                return Ok(true);
            }
            replace(&dest)?;
            fs::write(&dest, &bytes)?;
        }
        Content::Ipa { source, kept } => {
            // Without a record, a copy is only known to be current by reading both.
            if same_file(&old, source) && keep_old() {
                return Ok(true);
            }
            replace(&dest)?;
            match (ipas, kept) {
                (Ipas::Link, _) | (_, true) => fs::link_or_copy(source, &dest)?,
                (Ipas::Copy, false) => fs::copy(source, &dest)?,
            }
        }
    }
    Ok(false)
}

/// Writes a file that is made as it is written to `dest`, a new file. A failure to write is
/// the folder's problem; any other, the site's.
fn write_made(made: &dyn crate::plan::Make, dest: &Path) -> Result<(), Staged> {
    /// Keeps the first error of writing, which the maker only reports as text.
    struct Out {
        file: std::io::BufWriter<File>,
        failed: Option<std::io::Error>,
    }
    impl std::io::Write for Out {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.file.write(bytes).inspect_err(|e| {
                self.failed
                    .get_or_insert_with(|| std::io::Error::new(e.kind(), e.to_string()));
            })
        }
        fn flush(&mut self) -> std::io::Result<()> {
            self.file.flush()
        }
    }
    let failed = |source| {
        Staged::Write(
            FsError {
                action: "write",
                path: dest.to_path_buf(),
                source,
            }
            .into(),
        )
    };
    let file = fs::create_new(dest).map_err(failed)?;
    let mut out = Out {
        file: std::io::BufWriter::new(file),
        failed: None,
    };
    let made = made.make_to(&mut out);
    if let Some(e) = out.failed.take() {
        return Err(failed(e));
    }
    made.map_err(Staged::Made)?;
    std::io::Write::flush(&mut out).map_err(failed)
}

/// Whether `a` and `b` are one file.
fn same_inode(a: &Path, b: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if let (Ok(ma), Ok(mb)) = (std::fs::symlink_metadata(a), std::fs::symlink_metadata(b)) {
            return ma.is_file() && ma.dev() == mb.dev() && ma.ino() == mb.ino();
        }
    }
    let _ = (a, b);
    false
}

/// Removes the file at `path` if there is one; whether the path is free.
fn clear(path: &Path) -> bool {
    replace(path).is_ok()
}

/// Removes the file at `path` if there is one, or says why it cannot.
fn replace(path: &Path) -> Result<(), FsError> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            // A folder where a file goes, left by an earlier site.
            if std::fs::symlink_metadata(path).is_ok_and(|m| m.is_dir()) {
                return fs::remove_dir_all(path);
            }
            Err(FsError {
                action: "remove",
                path: path.to_path_buf(),
                source: e,
            })
        }
        _ => Ok(()),
    }
}

fn same_bytes(path: &Path, bytes: &[u8]) -> bool {
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.is_file() && meta.len() == bytes.len() as u64 => {
            std::fs::read(path).is_ok_and(|old| old == bytes)
        }
        _ => false,
    }
}

/// Whether two files hold the same bytes: the same inode, or equal sizes and contents.
fn same_file(a: &Path, b: &Path) -> bool {
    let (Ok(ma), Ok(mb)) = (std::fs::symlink_metadata(a), std::fs::metadata(b)) else {
        return false;
    };
    if !ma.is_file() || ma.len() != mb.len() {
        return false;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if ma.dev() == mb.dev() && ma.ino() == mb.ino() {
            return true;
        }
    }
    same_contents(a, b).unwrap_or(false)
}

fn same_contents(a: &Path, b: &Path) -> std::io::Result<bool> {
    let mut ra = BufReader::with_capacity(1 << 16, File::open(a)?);
    let mut rb = BufReader::with_capacity(1 << 16, File::open(b)?);
    let mut ba = vec![0u8; 1 << 16];
    let mut bb = vec![0u8; 1 << 16];
    loop {
        let na = read_full(&mut ra, &mut ba)?;
        let nb = read_full(&mut rb, &mut bb)?;
        if na != nb || ba[..na] != bb[..nb] {
            return Ok(false);
        }
        if na == 0 {
            return Ok(true);
        }
    }
}

fn read_full(reader: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..])? {
            0 => break,
            n => filled += n,
        }
    }
    Ok(filled)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    /// Writes `plan` to `out` with no record of a previous write.
    fn write(plan: &OutputPlan, out: &Path) -> Result<WriteStats, WriteError> {
        write_site(plan, out, None, Ipas::Copy, &ProgressBar::hidden(), &|_| {})
            .map(|(stats, _)| stats)
    }

    fn plan_of(files: &[(&str, &str)]) -> OutputPlan {
        let mut plan = PlannedFiles::default();
        for (path, text) in files {
            plan.add(
                path.to_string(),
                Content::Bytes(text.as_bytes().into()),
                crate::plan::Origin::site(path).into(),
                crate::text::sha256([text.as_bytes()]),
            )
            .unwrap();
        }
        OutputPlan::of_files(plan)
    }

    /// A file written as it is made, in pieces; `None` fails after the first piece.
    #[derive(Debug)]
    struct Streamed(Option<&'static str>);

    impl crate::plan::Make for Streamed {
        fn make(&self) -> Result<Vec<u8>, Diagnostic> {
            let mut bytes = Vec::new();
            self.make_to(&mut bytes)?;
            Ok(bytes)
        }

        fn streams(&self) -> bool {
            true
        }

        fn make_to(&self, out: &mut dyn std::io::Write) -> Result<(), Diagnostic> {
            out.write_all(b"first,").unwrap();
            let rest = self
                .0
                .ok_or_else(|| Diagnostic::error(None, "the template broke"))?;
            out.write_all(rest.as_bytes()).unwrap();
            Ok(())
        }
    }

    fn streamed_plan(rest: Option<&'static str>) -> OutputPlan {
        let mut plan = plan_of(&[("a.html", "A")]);
        let made = std::sync::Arc::new(Streamed(rest));
        plan.site
            .add(
                "feed.xml".to_string(),
                Content::Made(made),
                crate::plan::Origin::site("the feed").into(),
                crate::text::sha256([rest.unwrap_or("").as_bytes()]),
            )
            .unwrap();
        plan
    }

    #[test]
    fn a_streamed_file_is_written_whole_and_kept_when_its_bytes_are_the_same() {
        use std::os::unix::fs::MetadataExt;
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("public");
        write(&streamed_plan(Some("second")), &out).unwrap();
        let feed = out.join("feed.xml");
        assert_eq!(std::fs::read_to_string(&feed).unwrap(), "first,second");
        let inode = std::fs::metadata(&feed).unwrap().ino();
        let stats = write(&streamed_plan(Some("second")), &out).unwrap();
        assert_eq!(stats.written, 0, "{stats:?}");
        assert_eq!(std::fs::metadata(&feed).unwrap().ino(), inode);
        write(&streamed_plan(Some("other")), &out).unwrap();
        assert_eq!(std::fs::read_to_string(&feed).unwrap(), "first,other");
    }

    #[test]
    fn a_streamed_file_that_fails_leaves_the_output_as_it_was() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("public");
        write(&streamed_plan(Some("second")), &out).unwrap();
        let Err(WriteError::Made(problems)) = write(&streamed_plan(None), &out) else {
            panic!("a failed file was written");
        };
        assert_eq!(problems.len(), 1);
        assert!(
            problems[0].message.contains("feed.xml") && problems[0].message.contains("broke"),
            "{}",
            problems[0]
        );
        assert_eq!(
            std::fs::read_to_string(out.join("feed.xml")).unwrap(),
            "first,second"
        );
    }

    #[test]
    fn replaces_output_and_drops_stale_files() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("public");
        write(&plan_of(&[("a.html", "A"), ("old/x.html", "X")]), &out).unwrap();
        write(&plan_of(&[("a.html", "A2"), ("b/c.html", "C")]), &out).unwrap();
        assert_eq!(std::fs::read_to_string(out.join("a.html")).unwrap(), "A2");
        assert_eq!(std::fs::read_to_string(out.join("b/c.html")).unwrap(), "C");
        assert!(!out.join("old").exists());
        let mut siblings: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        siblings.sort();
        assert_eq!(
            siblings,
            [".public.relsite-lock", ".public.relsite-staging", "public"],
            "no retired folder left behind"
        );
        let staging = dir.path().join(".public.relsite-staging");
        assert_eq!(
            std::fs::read_to_string(staging.join("a.html")).unwrap(),
            "A",
            "staging holds the previous site"
        );
    }

    #[test]
    fn staging_is_brought_up_to_date_not_rebuilt() {
        use std::os::unix::fs::MetadataExt;
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("public");
        let staging = dir.path().join(".public.relsite-staging");
        let ino = |p: &Path| std::fs::metadata(p).unwrap().ino();
        write(&plan_of(&[("a.html", "A"), ("b.html", "B")]), &out).unwrap();
        let a = ino(&out.join("a.html"));
        // A first build leaves staging as an exchange would: the site's files, linked.
        assert_eq!(ino(&staging.join("a.html")), a);
        assert_eq!(ino(&staging.join("b.html")), ino(&out.join("b.html")));
        assert_eq!(tree(&staging), tree(&out));
        write(&plan_of(&[("a.html", "A"), ("b.html", "B2")]), &out).unwrap();
        write(
            &plan_of(&[("a.html", "A"), ("b.html", "B2"), ("c/d.html", "D")]),
            &out,
        )
        .unwrap();
        assert_eq!(ino(&out.join("a.html")), a, "one file through every build");
        assert_eq!(ino(&staging.join("a.html")), a);
        assert_eq!(ino(&out.join("b.html")), ino(&staging.join("b.html")));
        assert!(!staging.join("c").exists());

        // Whatever else is in the staging folder goes; a file at a planned path that is not the
        // output's is replaced.
        std::fs::write(staging.join("junk.html"), "junk").unwrap();
        std::fs::create_dir_all(staging.join("c/d.html")).unwrap();
        std::os::unix::fs::symlink("/etc/passwd", staging.join("link")).unwrap();
        std::fs::remove_file(staging.join("b.html")).unwrap();
        std::fs::write(staging.join("b.html"), "stale").unwrap();
        write(
            &plan_of(&[("a.html", "A"), ("b.html", "B2"), ("c/d.html", "D2")]),
            &out,
        )
        .unwrap();
        assert_eq!(
            tree(&out),
            [
                (MARKER.to_string(), MARKER_TEXT.to_vec()),
                ("a.html".to_string(), b"A".to_vec()),
                ("b.html".to_string(), b"B2".to_vec()),
                ("c/d.html".to_string(), b"D2".to_vec()),
            ]
            .into_iter()
            .collect()
        );
        assert!(!out.join("link").exists());
    }

    #[test]
    fn a_staged_link_of_a_published_file_is_never_written_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("public");
        let staging = dir.path().join(".public.relsite-staging");
        write(&plan_of(&[("a.html", "A")]), &out).unwrap();
        write(&plan_of(&[("a.html", "A"), ("b.html", "B")]), &out).unwrap();
        // staging/a.html and public/a.html are one file now.
        write(&plan_of(&[("a.html", "A2"), ("b.html", "B")]), &out).unwrap();
        assert_eq!(std::fs::read_to_string(out.join("a.html")).unwrap(), "A2");
        assert_eq!(
            std::fs::read_to_string(staging.join("a.html")).unwrap(),
            "A",
            "the site before keeps its file"
        );
    }

    /// Every file below `dir`, by path, with its bytes.
    fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
        walkdir::WalkDir::new(dir)
            .into_iter()
            .map(Result::unwrap)
            .filter(|e| !e.file_type().is_dir())
            .map(|e| {
                let rel = e.path().strip_prefix(dir).unwrap();
                (
                    crate::diag::display_path(rel),
                    std::fs::read(e.path()).unwrap(),
                )
            })
            .collect()
    }

    #[test]
    fn folders_are_made_where_files_were_by_tasks_at_once() {
        for _ in 0..50 {
            let dir = tempfile::tempdir().unwrap();
            let staging = dir.path();
            std::fs::write(staging.join("a"), "an earlier site's file").unwrap();
            let write = |name: &str| {
                let file = staging.join("a/b").join(name);
                make_parent(staging, &file).unwrap();
                std::fs::write(&file, name).unwrap();
            };
            rayon::join(|| write("x"), || write("y"));
            assert_eq!(std::fs::read_to_string(staging.join("a/b/x")).unwrap(), "x");
            assert_eq!(std::fs::read_to_string(staging.join("a/b/y")).unwrap(), "y");
        }
    }

    #[test]
    fn a_symlink_put_at_an_output_file_is_replaced_by_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("public");
        let plan = plan_of(&[("a.html", "A"), ("b.html", "B")]);
        let (_, record) = write_site(
            &plan,
            &out,
            None,
            Ipas::Copy,
            &ProgressBar::hidden(),
            &|_| {},
        )
        .unwrap();
        let record = record.unwrap();
        let mut text = Vec::new();
        record.write_lines(&mut text).unwrap();
        let previous = OutputRecord::read_lines(record.output.clone(), None, &text[..]).unwrap();
        // The link leads to the very file the record vouches for.
        std::fs::rename(out.join("a.html"), dir.path().join("kept.html")).unwrap();
        std::os::unix::fs::symlink(dir.path().join("kept.html"), out.join("a.html")).unwrap();
        write_site(
            &plan,
            &out,
            Some(&previous),
            Ipas::Copy,
            &ProgressBar::hidden(),
            &|_| {},
        )
        .unwrap();
        let meta = std::fs::symlink_metadata(out.join("a.html")).unwrap();
        assert!(meta.is_file(), "a file, not a link");
        assert_eq!(std::fs::read_to_string(out.join("a.html")).unwrap(), "A");
    }

    #[test]
    fn unchanged_files_keep_their_identity() {
        use std::os::unix::fs::MetadataExt;
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("public");
        write(&plan_of(&[("same.html", "S"), ("changed.html", "1")]), &out).unwrap();
        let same_before = std::fs::metadata(out.join("same.html")).unwrap().ino();
        let changed_before = std::fs::metadata(out.join("changed.html")).unwrap().ino();
        let stats = write(&plan_of(&[("same.html", "S"), ("changed.html", "2")]), &out).unwrap();
        assert_eq!(
            stats,
            WriteStats {
                written: 1,
                unchanged: 1,
                parts_kept: 0
            }
        );
        assert_eq!(
            std::fs::metadata(out.join("same.html")).unwrap().ino(),
            same_before
        );
        assert_ne!(
            std::fs::metadata(out.join("changed.html")).unwrap().ino(),
            changed_before
        );
    }

    #[test]
    fn clears_leftovers_of_an_interrupted_build() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("public");
        std::fs::create_dir_all(dir.path().join(".public.relsite-staging/junk")).unwrap();
        write(&plan_of(&[("a.html", "A")]), &out).unwrap();
        assert!(out.join("a.html").exists());
        // Staging holds the site, linked, and none of what was left there.
        let staging = dir.path().join(".public.relsite-staging");
        assert_eq!(tree(&staging), tree(&out));
        assert!(!staging.join("junk").exists());
    }

    #[test]
    fn refuses_to_replace_a_folder_it_did_not_write() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("Documents");
        std::fs::create_dir_all(&out).unwrap();
        std::fs::write(out.join("thesis.txt"), "years of work").unwrap();
        assert!(matches!(
            write(&plan_of(&[("a.html", "A")]), &out),
            Err(WriteError::NotOurs(_))
        ));
        assert_eq!(
            std::fs::read_to_string(out.join("thesis.txt")).unwrap(),
            "years of work"
        );
        let empty = dir.path().join("empty");
        std::fs::create_dir_all(&empty).unwrap();
        write(&plan_of(&[("a.html", "A")]), &empty).unwrap();
        write(&plan_of(&[("a.html", "B")]), &empty).unwrap();
        assert_eq!(std::fs::read_to_string(empty.join("a.html")).unwrap(), "B");
    }

    #[test]
    fn writes_through_a_symlinked_output() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("www");
        let link = dir.path().join("public");
        std::os::unix::fs::symlink(&target, &link).unwrap_or(());
        std::fs::create_dir_all(&target).unwrap();
        write(&plan_of(&[("a.html", "A")]), &link).unwrap();
        assert!(link.is_symlink(), "the link stays");
        assert_eq!(std::fs::read_to_string(target.join("a.html")).unwrap(), "A");
    }

    #[test]
    fn restores_a_site_retired_by_an_interrupted_swap() {
        use std::os::unix::fs::MetadataExt;
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("public");
        write(&plan_of(&[("a.html", "A")]), &out).unwrap();
        let inode = std::fs::metadata(out.join("a.html")).unwrap().ino();
        std::fs::rename(&out, dir.path().join(".public.relsite-old")).unwrap();
        let stats = write(&plan_of(&[("a.html", "A")]), &out).unwrap();
        assert_eq!(
            stats.unchanged, 1,
            "the retired site was put back and reused"
        );
        assert_eq!(std::fs::metadata(out.join("a.html")).unwrap().ino(), inode);
    }

    #[test]
    fn a_run_that_writes_nothing_puts_a_retired_site_back_only_when_the_output_is_missing() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("public");
        let retired = dir.path().join(".public.relsite-old");
        write(&plan_of(&[("a.html", "A")]), &out).unwrap();
        let site = tree(&out);
        std::fs::create_dir(&retired).unwrap();
        assert_eq!(
            restore_interrupted(&out).unwrap(),
            None,
            "the output is there"
        );
        assert!(retired.is_dir());
        std::fs::remove_dir(&retired).unwrap();
        std::fs::rename(&out, &retired).unwrap();
        let held = fs::Lock::try_take(&dir.path().join(".public.relsite-lock"))
            .unwrap()
            .unwrap();
        assert_eq!(
            restore_interrupted(&out).unwrap(),
            None,
            "a build holds the lock"
        );
        drop(held);
        assert_eq!(restore_interrupted(&out).unwrap(), Some(retired.clone()));
        assert!(!retired.exists());
        assert_eq!(tree(&out), site);
    }

    #[test]
    fn a_retired_site_is_put_back_behind_a_symlinked_output() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("www");
        let link = dir.path().join("public");
        std::fs::create_dir_all(&target).unwrap();
        std::os::unix::fs::symlink("www", &link).unwrap();
        write(&plan_of(&[("a.html", "A")]), &link).unwrap();
        std::fs::rename(&target, dir.path().join(".www.relsite-old")).unwrap();
        assert_eq!(
            restore_interrupted(&link).unwrap(),
            Some(dir.path().join(".www.relsite-old"))
        );
        assert!(link.is_symlink(), "the link stays");
        assert_eq!(std::fs::read_to_string(target.join("a.html")).unwrap(), "A");
        std::fs::rename(&target, dir.path().join(".www.relsite-old")).unwrap();
        write(&plan_of(&[("a.html", "B")]), &link).unwrap();
        assert_eq!(std::fs::read_to_string(target.join("a.html")).unwrap(), "B");
    }

    #[test]
    fn a_symlinked_output_to_nothing_is_not_made() {
        let dir = tempfile::tempdir().unwrap();
        let link = dir.path().join("public");
        std::os::unix::fs::symlink("www", &link).unwrap();
        assert!(matches!(
            write(&plan_of(&[("a.html", "A")]), &link),
            Err(WriteError::Fs(FsError {
                action: "resolve",
                ..
            }))
        ));
        assert!(!dir.path().join("www").exists());
    }

    #[test]
    fn refuses_an_output_that_is_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("public");
        std::fs::write(&out, "x").unwrap();
        assert!(matches!(
            write(&plan_of(&[]), &out),
            Err(WriteError::NotADir(_))
        ));
    }
}
