//! `relsite add`: put an IPA and its notes where `build` finds them, in one step from CI.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::catalog::{app_slug, version_slug};
use crate::cli::AddArgs;
use crate::cmd::Failure;
use crate::config::Config;
use crate::diag::{Diagnostic, display_path};
use crate::ipa::IpaArchive;
use crate::notes::ReleaseDate;
use crate::ui::Ui;

/// The notes file `add` writes; serde_yaml quotes and escapes what needs it.
#[derive(Serialize)]
struct NotesFile<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    date: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    channel: Option<&'a str>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    draft: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    notes: Option<String>,
}

/// Adds the IPA.
pub fn run(args: &AddArgs, ui: &Ui) -> Result<(), Failure> {
    let (ipa, notes, what) = add(args).map_err(Failure::unwritten)?;
    ui.status(format!(
        "added {what} as {} with notes {}",
        display_path(&ipa),
        display_path(&notes)
    ));
    Ok(())
}

/// Copies the IPA into `releases/<app>/<version>/` and writes its notes beside it. Returns the
/// two paths (relative to the site root) and a description of the build.
fn add(args: &AddArgs) -> Result<(PathBuf, PathBuf, String), Vec<Diagnostic>> {
    let root = &args.root;
    let config = Config::from_root(root)?;
    // The flags first, so one run reports their problems together with the IPA's.
    let mut problems = Vec::new();
    let notes_text = match (&args.notes, &args.notes_file) {
        (Some(text), _) => Some(text.clone()),
        (None, Some(file)) => crate::fs::read_to_string(file)
            .map_err(|e| problems.push(Diagnostic::error(file.clone(), e.to_string())))
            .ok(),
        (None, None) => None,
    };
    let date = match &args.date {
        Some(given) => ReleaseDate::parse(given)
            .map(|_| given.trim().to_string())
            .map_err(|why| problems.push(Diagnostic::error(None, format!("--date: {why}"))))
            .ok(),
        None => Some(ReleaseDate(today()).day()),
    };
    if args.channel.as_deref().is_some_and(|c| c.trim().is_empty()) {
        problems.push(Diagnostic::error(None, "--channel must not be empty"));
    }
    let source = &args.ipa;
    let named = |e: &dyn std::fmt::Display| Diagnostic::error(source.clone(), e.to_string());
    let plist = match IpaArchive::open(source).and_then(|mut a| a.info_plist()) {
        Ok(plist) => plist,
        Err(e) => {
            problems.push(named(&e));
            return Err(problems);
        }
    };
    let version = match plist.short_version.clone().or_else(|| plist.build.clone()) {
        Some(version) => version,
        None => {
            problems.push(Diagnostic::error(
                source.clone(),
                "has no version (neither CFBundleShortVersionString nor CFBundleVersion): put it in releases/ by hand with `version:` in its notes",
            ));
            return Err(problems);
        }
    };
    let what = match &plist.build {
        Some(b) if *b != version => format!("{} {version} ({b})", plist.bundle_id),
        _ => format!("{} {version}", plist.bundle_id),
    };

    if let Some(existing) = find_duplicate(
        root,
        &config,
        &plist.bundle_id,
        &plist.short_version,
        &plist.build,
    ) {
        problems.push(Diagnostic::error(
            source.clone(),
            format!(
                "{what} is already in the catalog as {}: give the new build a new build number",
                display_path(&existing)
            ),
        ));
    }

    let dir = config
        .releases_dir
        .join(app_slug(&config, &plist.bundle_id))
        .join(version_slug(&version, plist.build.as_deref()));
    let file_name = source
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .filter(|n| n.to_ascii_lowercase().ends_with(".ipa"))
        .unwrap_or_else(|| "App.ipa".into());
    let stem = &file_name[..file_name.len() - 4];
    let ipa_rel = dir.join(&file_name);
    let notes_rel = dir.join(format!("{stem}.yaml"));
    if root.join(&dir).exists() && problems.is_empty() {
        problems.push(Diagnostic::error(
            dir.clone(),
            format!("already exists: {what} would go there; remove it or give the build a new build number"),
        ));
    }
    if !problems.is_empty() {
        return Err(problems);
    }

    let yaml = serde_yaml::to_string(&NotesFile {
        date,
        channel: args.channel.as_deref().map(str::trim),
        draft: args.draft,
        notes: notes_text,
    })
    .map_err(|e| vec![Diagnostic::error(notes_rel.clone(), e.to_string())])?;
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |e: crate::fs::FsError| vec![Diagnostic::error(path, e.to_string())]
    };
    let target = root.join(&dir);
    // Copied under a hidden name and renamed, so a build never meets half an IPA.
    let partial_rel = dir.join(format!(".{file_name}.part"));
    let partial = root.join(&partial_rel);
    // Each thing is recorded before it is made, so that a failed step takes back all of them
    // and a retry finds the catalog as it was.
    let mut made = Made::default();
    let placed = (|| {
        made.dirs = target
            .ancestors()
            .take_while(|d| !d.exists())
            .map(Path::to_path_buf)
            .collect();
        crate::fs::create_dir_all(&target).map_err(io(&dir))?;
        made.files.push(partial_rel.clone());
        std::fs::copy(source, &partial).map_err(|e| {
            vec![Diagnostic::error(
                source.clone(),
                format!("cannot copy: {e}"),
            )]
        })?;
        made.files.push(notes_rel.clone());
        crate::fs::write(&root.join(&notes_rel), yaml.as_bytes()).map_err(io(&notes_rel))?;
        crate::fs::rename(&partial, &root.join(&ipa_rel)).map_err(io(&ipa_rel))
    })();
    if let Err(mut problems) = placed {
        problems.extend(made.undo(root));
        return Err(problems);
    }
    Ok((ipa_rel, notes_rel, what))
}

/// What a run of `add` has made so far: files (relative to the site root) and the folders
/// that did not exist before it (innermost first).
#[derive(Default)]
struct Made {
    files: Vec<PathBuf>,
    dirs: Vec<PathBuf>,
}

impl Made {
    /// Removes the files, then the folders that are left empty (one that something else has
    /// been put in stays); returns an error for each file that cannot be removed.
    fn undo(self, root: &Path) -> Vec<Diagnostic> {
        let mut left = Vec::new();
        for file in self.files {
            match std::fs::remove_file(root.join(&file)) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => left.push(Diagnostic::error(
                    file,
                    format!("is left behind, cannot remove it: {e}"),
                )),
                _ => {}
            }
        }
        for dir in self.dirs {
            let _ = std::fs::remove_dir(dir);
        }
        left
    }
}

/// Now, in the local time zone when it is known (a team's "today"), else UTC;
/// `SOURCE_DATE_EPOCH` wins, for reproducible runs.
fn today() -> time::OffsetDateTime {
    if std::env::var_os("SOURCE_DATE_EPOCH").is_some() {
        return crate::pipeline::now();
    }
    time::OffsetDateTime::now_local().unwrap_or_else(|_| crate::pipeline::now())
}

/// A release already in the catalog with the same bundle id, version and build.
fn find_duplicate(
    root: &Path,
    config: &Config,
    bundle_id: &str,
    version: &Option<String>,
    build: &Option<String>,
) -> Option<PathBuf> {
    let (sources, _) = crate::scan::scan(root, &config.releases_dir);
    sources.into_iter().map(|s| s.ipa).find(|ipa| {
        IpaArchive::open(&root.join(ipa))
            .and_then(|mut a| a.info_plist())
            .is_ok_and(|p| {
                p.bundle_id == bundle_id && p.short_version == *version && p.build == *build
            })
    })
}
