//! Finds releases: every `*.ipa` below the releases folder, paired with its notes file. Nothing
//! is parsed here, so a scan is cheap and its result is easy to test.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use walkdir::WalkDir;

use crate::diag::{Diagnostic, display_path};

/// One IPA and the notes that go with it; paths are relative to the site root.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ReleaseSource {
    pub ipa: PathBuf,
    pub notes: Option<PathBuf>,
}

#[derive(Default)]
struct Folder {
    ipas: Vec<String>,
    yamls: Vec<String>,
}

/// Walks `root/releases_dir` at any depth. Hidden files and folders, `__MACOSX` and AppleDouble
/// `._*` files are skipped. Returns the releases sorted by path, and the problems found.
pub fn scan(root: &Path, releases_dir: &Path) -> (Vec<ReleaseSource>, Vec<Diagnostic>) {
    let mut problems = Vec::new();
    let base = root.join(releases_dir);
    if !base.is_dir() {
        problems.push(Diagnostic::error(
            releases_dir.to_path_buf(),
            "releases folder not found: put .ipa files with their notes below it",
        ));
        return (Vec::new(), problems);
    }

    let mut folders: BTreeMap<PathBuf, Folder> = BTreeMap::new();
    let walker = WalkDir::new(&base)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| e.depth() == 0 || !is_skipped(e.file_name().to_string_lossy().as_ref()));
    for entry in walker {
        let entry = match entry {
            Ok(entry) => entry,
            Err(err) => {
                let path = err
                    .path()
                    .and_then(|p| p.strip_prefix(root).ok())
                    .map_or_else(|| releases_dir.to_path_buf(), Path::to_path_buf);
                problems.push(Diagnostic::error(path, format!("cannot read: {err}")));
                continue;
            }
        };
        if entry.file_type().is_dir() {
            continue;
        }
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(dir) = entry
            .path()
            .parent()
            .and_then(|p| p.strip_prefix(root).ok())
        else {
            continue;
        };
        let is_ipa = match extension(&name).as_deref() {
            Some("ipa") => true,
            Some("yaml" | "yml") => false,
            _ => continue,
        };
        // What the name promises must be a regular file (through a symlink or not): a FIFO,
        // a device or a dangling link under a release's name is reported, never opened.
        match std::fs::metadata(entry.path()) {
            Ok(meta) if meta.is_file() => {}
            Ok(meta) if meta.is_dir() => continue,
            Ok(meta) => {
                let kind = crate::fs::file_kind(&meta.file_type()).unwrap_or("not a file");
                problems.push(Diagnostic::error(
                    dir.join(&name),
                    format!("is {kind}, not a regular file: releases hold .ipa and notes files"),
                ));
                continue;
            }
            Err(err) => {
                problems.push(Diagnostic::error(
                    dir.join(&name),
                    format!("cannot read: {err}"),
                ));
                continue;
            }
        }
        let folder = folders.entry(dir.to_path_buf()).or_default();
        if is_ipa {
            folder.ipas.push(name);
        } else {
            folder.yamls.push(name);
        }
    }

    let mut releases = Vec::new();
    for (dir, folder) in folders {
        pair_folder(&dir, folder, &mut releases, &mut problems);
    }
    // Held for every release until the site is written: no room to grow.
    for release in &mut releases {
        release.ipa.shrink_to_fit();
        if let Some(notes) = &mut release.notes {
            notes.shrink_to_fit();
        }
    }
    (releases, problems)
}

/// Pairs `X.ipa` with `X.yaml`/`X.yml`, else with `notes.yaml`/`notes.yml` when the folder holds
/// exactly one IPA. Every YAML file left over is reported: it would otherwise be ignored silently.
/// Names are looked up, not compared pairwise, so a folder of thousands of releases pairs in time
/// linear in their number.
fn pair_folder(
    dir: &Path,
    folder: Folder,
    releases: &mut Vec<ReleaseSource>,
    problems: &mut Vec<Diagnostic>,
) {
    // Each notes file's position, by its name in lower case: pairing ignores ASCII case.
    let mut by_name: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, yaml) in folder.yamls.iter().enumerate() {
        by_name
            .entry(yaml.to_ascii_lowercase())
            .or_default()
            .push(i);
    }
    let named = |names: [String; 2]| -> Vec<usize> {
        let mut found: Vec<usize> = names
            .iter()
            .filter_map(|n| by_name.get(n))
            .flatten()
            .copied()
            .collect();
        found.sort_unstable();
        found
    };
    let mut used = vec![false; folder.yamls.len()];
    let single = folder.ipas.len() == 1;
    for ipa in &folder.ipas {
        let stem = ipa[..ipa.len() - ".ipa".len()].to_ascii_lowercase();
        let own = named([format!("{stem}.yaml"), format!("{stem}.yml")]);
        let candidates = if !own.is_empty() {
            own
        } else if single {
            named(["notes.yaml".into(), "notes.yml".into()])
        } else {
            Vec::new()
        };
        for &c in &candidates {
            used[c] = true;
        }
        let names: Vec<&str> = candidates
            .iter()
            .map(|&c| folder.yamls[c].as_str())
            .collect();
        if names.len() > 1 {
            problems.push(Diagnostic::error(
                dir.join(ipa),
                format!("has two notes files, {}: keep one", names.join(" and ")),
            ));
        }
        releases.push(ReleaseSource {
            ipa: dir.join(ipa),
            notes: names.first().map(|n| dir.join(n)),
        });
    }
    for (yaml, _) in folder.yamls.iter().zip(&used).filter(|(_, used)| !**used) {
        let why = if yaml.starts_with("notes.") && folder.ipas.len() > 1 {
            format!(
                "notes file pairs with no IPA: `{yaml}` applies only in a folder with exactly one IPA, and `{}` holds {}; name it after its IPA (X.ipa takes X.yaml)",
                display_path(dir),
                folder.ipas.len()
            )
        } else {
            "notes file pairs with no IPA: X.yaml goes with X.ipa in the same folder, notes.yaml with the only IPA of its folder".to_string()
        };
        problems.push(Diagnostic::error(dir.join(yaml), why));
    }
}

fn is_skipped(name: &str) -> bool {
    name.starts_with('.') || name == "__MACOSX"
}

fn extension(name: &str) -> Option<String> {
    let (stem, ext) = name.rsplit_once('.')?;
    (!stem.is_empty()).then(|| ext.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn site(files: &[&str]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for f in files {
            let path = dir.path().join(f);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, b"x").unwrap();
        }
        dir
    }

    fn run(files: &[&str]) -> (Vec<(String, Option<String>)>, Vec<String>) {
        let dir = site(files);
        let (releases, problems) = scan(dir.path(), Path::new("releases"));
        (
            releases
                .into_iter()
                .map(|r| (display_path(&r.ipa), r.notes.map(|n| display_path(&n))))
                .collect(),
            problems.iter().map(ToString::to_string).collect(),
        )
    }

    #[test]
    fn pairs_same_stem_and_lone_notes_file() {
        let (releases, problems) = run(&[
            "releases/field/1.4/Field.ipa",
            "releases/field/1.4/Field.yaml",
            "releases/maps/2.0/Maps.ipa",
            "releases/maps/2.0/notes.yml",
            "releases/maps/2.1/Maps.ipa",
        ]);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(
            releases,
            vec![
                (
                    "releases/field/1.4/Field.ipa".into(),
                    Some("releases/field/1.4/Field.yaml".into())
                ),
                (
                    "releases/maps/2.0/Maps.ipa".into(),
                    Some("releases/maps/2.0/notes.yml".into())
                ),
                ("releases/maps/2.1/Maps.ipa".into(), None),
            ]
        );
    }

    #[test]
    fn reports_notes_that_pair_with_nothing() {
        let (releases, problems) = run(&[
            "releases/a/A.ipa",
            "releases/a/B.ipa",
            "releases/a/notes.yaml",
            "releases/b/Orphan.yaml",
        ]);
        assert_eq!(releases.len(), 2);
        assert!(releases.iter().all(|r| r.1.is_none()));
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(
            problems[0].starts_with("releases/a/notes.yaml: error: notes file pairs with no IPA")
        );
        assert!(problems[1].starts_with("releases/b/Orphan.yaml: error:"));
    }

    #[test]
    fn skips_hidden_and_macos_metadata() {
        let (releases, problems) = run(&[
            "releases/a/A.ipa",
            "releases/a/._A.ipa",
            "releases/__MACOSX/a/A.ipa",
            "releases/.git/x.ipa",
        ]);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(releases.len(), 1);
    }

    #[test]
    fn reports_two_notes_files_for_one_ipa() {
        let (_, problems) = run(&["releases/a/A.ipa", "releases/a/A.yaml", "releases/a/A.yml"]);
        assert_eq!(problems.len(), 1);
        assert!(problems[0].contains("has two notes files"), "{problems:?}");
    }

    #[test]
    fn missing_releases_folder_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let (_, problems) = scan(dir.path(), Path::new("releases"));
        assert!(
            problems[0]
                .to_string()
                .starts_with("releases: error: releases folder not found")
        );
    }

    #[test]
    fn releases_that_are_not_regular_files_are_reported() {
        let dir = site(&["releases/a/A.ipa", "releases/a/A.yaml"]);
        let releases = dir.path().join("releases");
        let made = std::process::Command::new("mkfifo")
            .arg(releases.join("a/Pipe.ipa"))
            .status()
            .unwrap();
        assert!(made.success());
        std::os::unix::fs::symlink("/dev/null", releases.join("a/Null.yaml")).unwrap();
        std::os::unix::fs::symlink("nowhere", releases.join("a/Gone.ipa")).unwrap();
        std::os::unix::fs::symlink("A.ipa", releases.join("a/Link.ipa")).unwrap();
        std::os::unix::fs::symlink("/dev/null", releases.join("a/other.txt")).unwrap();
        let (found, problems) = scan(dir.path(), Path::new("releases"));
        let found: Vec<String> = found.iter().map(|r| display_path(&r.ipa)).collect();
        assert_eq!(found, ["releases/a/A.ipa", "releases/a/Link.ipa"]);
        let problems: Vec<String> = problems.iter().map(ToString::to_string).collect();
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(problems[0].starts_with("releases/a/Gone.ipa: error: cannot read:"));
        assert_eq!(
            problems[1],
            "releases/a/Null.yaml: error: is a device, not a regular file: releases hold .ipa and notes files"
        );
        assert_eq!(
            problems[2],
            "releases/a/Pipe.ipa: error: is a named pipe (FIFO), not a regular file: releases hold .ipa and notes files"
        );
    }

    /// 20,000 releases with their notes in one folder: comparing every IPA with every notes
    /// file takes time of the square of their number.
    #[test]
    fn a_folder_of_many_releases_pairs_in_linear_time() {
        let ipas = 20_000;
        let mut folder = Folder::default();
        for i in 0..ipas {
            folder.ipas.push(format!("A{i}.ipa"));
            folder.yamls.push(format!("a{i}.YAML"));
        }
        folder.yamls.push("Orphan.yaml".into());
        let (mut releases, mut problems) = (Vec::new(), Vec::new());
        let started = std::time::Instant::now();
        pair_folder(
            Path::new("releases/a"),
            folder,
            &mut releases,
            &mut problems,
        );
        assert!(
            started.elapsed() < std::time::Duration::from_secs(5),
            "took {:?}",
            started.elapsed()
        );
        assert_eq!(releases.len(), ipas);
        assert_eq!(
            releases[7].notes.as_deref(),
            Some(Path::new("releases/a/a7.YAML"))
        );
        assert_eq!(problems.len(), 1);
        assert!(
            problems[0]
                .to_string()
                .starts_with("releases/a/Orphan.yaml: error:")
        );
    }

    #[test]
    fn extensions_are_case_insensitive() {
        let (releases, problems) = run(&[
            "releases/a/A.IPA",
            "releases/a/A.YAML",
            "releases/b/B.ipa",
            "releases/b/Notes.YML",
        ]);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(releases[0].1.as_deref(), Some("releases/a/A.YAML"));
        assert_eq!(releases[1].1.as_deref(), Some("releases/b/Notes.YML"));
    }
}
