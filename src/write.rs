//! The only stage that writes. The plan is assembled in a staging folder beside the output and
//! swapped into place only when every file is there, so a failed or interrupted build leaves the
//! previous site exactly as it was. Files whose bytes did not change are hard-linked from the
//! previous output, keeping their identity and modification time for `aws s3 sync` and rsync.

use std::collections::BTreeSet;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::fs::{self, FsError};
use crate::plan::{Content, OutputPlan};

#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error(transparent)]
    Fs(#[from] FsError),
    #[error("`{}` exists and is not a folder", .0.display())]
    NotADir(PathBuf),
    #[error("output folder `{}` has no parent folder", .0.display())]
    NoParent(PathBuf),
}

/// How many files were written anew and how many kept from the previous output.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct WriteStats {
    pub written: usize,
    pub unchanged: usize,
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

/// Writes the plan to `output`, replacing what was there only once all of it is written.
pub fn write_site(plan: &OutputPlan, output: &Path) -> Result<WriteStats, WriteError> {
    if output.exists() && !output.is_dir() {
        return Err(WriteError::NotADir(output.to_path_buf()));
    }
    let staging = sibling(output, "staging")?;
    let retired = sibling(output, "old")?;
    for leftover in [&staging, &retired] {
        if leftover.exists() {
            fs::remove_dir_all(leftover)?;
        }
    }
    if let Some(parent) = staging.parent() {
        fs::create_dir_all(parent)?;
    }
    fs::create_dir_all(&staging)?;

    let result = stage(plan, output, &staging);
    let stats = match result {
        Ok(stats) => stats,
        Err(err) => {
            let _ = std::fs::remove_dir_all(&staging);
            return Err(err);
        }
    };

    if output.exists() {
        fs::rename(output, &retired)?;
        if let Err(err) = fs::rename(&staging, output) {
            let _ = std::fs::rename(&retired, output);
            return Err(err.into());
        }
        fs::remove_dir_all(&retired)?;
    } else {
        fs::rename(&staging, output)?;
    }
    Ok(stats)
}

fn stage(plan: &OutputPlan, output: &Path, staging: &Path) -> Result<WriteStats, WriteError> {
    let dirs: BTreeSet<PathBuf> = plan
        .files
        .keys()
        .filter_map(|p| Path::new(p).parent().map(Path::to_path_buf))
        .filter(|p| !p.as_os_str().is_empty())
        .collect();
    for dir in dirs {
        fs::create_dir_all(&staging.join(dir))?;
    }
    let kept: Vec<bool> = plan
        .files
        .par_iter()
        .map(|(path, file)| {
            let dest = staging.join(path);
            let previous = output.join(path);
            let unchanged = match &file.content {
                Content::Bytes(bytes) => same_bytes(&previous, bytes),
                Content::Copy(source) => same_file(&previous, source),
            };
            if unchanged && std::fs::hard_link(&previous, &dest).is_ok() {
                return Ok(true);
            }
            match &file.content {
                Content::Bytes(bytes) => fs::write(&dest, bytes)?,
                Content::Copy(source) => fs::link_or_copy(source, &dest)?,
            }
            Ok(false)
        })
        .collect::<Result<_, WriteError>>()?;
    let unchanged = kept.iter().filter(|k| **k).count();
    Ok(WriteStats {
        written: kept.len() - unchanged,
        unchanged,
    })
}

fn same_bytes(path: &Path, bytes: &[u8]) -> bool {
    match std::fs::metadata(path) {
        Ok(meta) if meta.is_file() && meta.len() == bytes.len() as u64 => {
            std::fs::read(path).is_ok_and(|old| old == bytes)
        }
        _ => false,
    }
}

/// Whether two files hold the same bytes: the same inode, or equal sizes and contents.
fn same_file(a: &Path, b: &Path) -> bool {
    let (Ok(ma), Ok(mb)) = (std::fs::metadata(a), std::fs::metadata(b)) else {
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
    use super::*;

    fn plan_of(files: &[(&str, &str)]) -> OutputPlan {
        let mut plan = OutputPlan::default();
        for (path, text) in files {
            plan.add(
                path.to_string(),
                Content::Bytes(text.as_bytes().to_vec()),
                path.to_string(),
            )
            .unwrap();
        }
        plan
    }

    #[test]
    fn replaces_output_and_drops_stale_files() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("public");
        write_site(&plan_of(&[("a.html", "A"), ("old/x.html", "X")]), &out).unwrap();
        write_site(&plan_of(&[("a.html", "A2"), ("b/c.html", "C")]), &out).unwrap();
        assert_eq!(std::fs::read_to_string(out.join("a.html")).unwrap(), "A2");
        assert_eq!(std::fs::read_to_string(out.join("b/c.html")).unwrap(), "C");
        assert!(!out.join("old").exists());
        let siblings: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(
            siblings.len(),
            1,
            "no staging or retired folder left behind"
        );
    }

    #[test]
    fn unchanged_files_keep_their_identity() {
        use std::os::unix::fs::MetadataExt;
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("public");
        write_site(&plan_of(&[("same.html", "S"), ("changed.html", "1")]), &out).unwrap();
        let same_before = std::fs::metadata(out.join("same.html")).unwrap().ino();
        let changed_before = std::fs::metadata(out.join("changed.html")).unwrap().ino();
        let stats =
            write_site(&plan_of(&[("same.html", "S"), ("changed.html", "2")]), &out).unwrap();
        assert_eq!(
            stats,
            WriteStats {
                written: 1,
                unchanged: 1
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
        write_site(&plan_of(&[("a.html", "A")]), &out).unwrap();
        assert!(!dir.path().join(".public.relsite-staging").exists());
        assert!(out.join("a.html").exists());
    }

    #[test]
    fn refuses_an_output_that_is_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("public");
        std::fs::write(&out, "x").unwrap();
        assert!(matches!(
            write_site(&plan_of(&[]), &out),
            Err(WriteError::NotADir(_))
        ));
    }
}
