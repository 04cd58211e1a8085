//! `relsite add`: put an IPA and its notes where `build` finds them, in one step from CI.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::catalog::{ModelOptions, ReadRelease};
use crate::catalog::{app_slug, version_slug};
use crate::cli::AddArgs;
use crate::cmd::Failure;
use crate::config::Config;
use crate::diag::Severity;
use crate::diag::{Diagnostic, display_path};
use crate::icons::IconStore;
use crate::ipa::IpaArchive;
use crate::layout::ReservedNames;
use crate::notes::{Notes, ReleaseDate};
use crate::scan::ReleaseSource;
use crate::spill::Spilled;
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
    let (ipa, notes, what) = add(args, ui).map_err(Failure::unwritten)?;
    ui.status(format!(
        "added {what} as {} with notes {}",
        display_path(&ipa),
        display_path(&notes)
    ));
    Ok(())
}

/// Copies the IPA into `releases/<app>/<version>/` and writes its notes beside it. Returns the
/// two paths (relative to the site root) and a description of the build.
fn add(args: &AddArgs, ui: &Ui) -> Result<(PathBuf, PathBuf, String), Vec<Diagnostic>> {
    let root = &args.root;
    let config = Config::from_root(root)?;
    crate::pipeline::restore_interrupted(&root.join(&config.output_dir), ui);
    // The flags first, so one run reports their problems together with the IPA's.
    let mut problems = Vec::new();
    let notes_text = match (&args.notes, &args.notes_file) {
        (Some(text), _) => Some(text.clone()),
        (None, Some(file)) => {
            crate::fs::read_capped_to_string(file, crate::notes::MAX_NOTES_BYTES, "a notes file")
                .map_err(|e| problems.push(Diagnostic::error(file.clone(), e.to_string())))
                .ok()
        }
        (None, None) => None,
    };
    if let Some(text) = &notes_text
        && let Err(why) = crate::markdown::check_length("the notes text", text)
    {
        let file = args.notes_file.clone().filter(|_| args.notes.is_none());
        problems.push(Diagnostic::error(file, why));
    }
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
    // Read as `build` reads it, so what `build` would refuse is refused here, before it is in
    // the catalog to fail every later build.
    let icons = IconStore::in_memory();
    let facts = match crate::ipa::read(source, &icons) {
        Ok(facts) => facts,
        Err(e) => {
            problems.push(named(&e));
            return Err(problems);
        }
    };
    let plist = facts.plist.clone();
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
    // The notes as `build` will read them, for the checks of the channel and the like.
    let notes = NotesFile {
        date: date.clone(),
        channel: args.channel.as_deref().map(str::trim),
        draft: args.draft,
        notes: notes_text.clone(),
    };
    let mut notes = match serde_yaml::to_string(&notes).map(|yaml| Notes::parse_all(&yaml, source))
    {
        Ok(Ok(notes)) => notes,
        Ok(Err(found)) => {
            problems.extend(found.into_iter().map(|d| {
                Diagnostic::error(None, format!("the notes it would write: {}", d.message))
            }));
            Notes::default()
        }
        Err(e) => {
            problems.push(Diagnostic::error(
                None,
                format!("the notes it would write: {e}"),
            ));
            Notes::default()
        }
    };
    let release = ReadRelease {
        source: ReleaseSource {
            ipa: source.clone(),
            notes: None,
        },
        facts: Box::new(facts),
        rendered: crate::catalog::render_notes(&crate::spill::Spill::new(), &mut notes),
        notes,
        entry: Spilled::Held("{}".into()),
        published: false,
        published_icons: None,
    };
    let (refused, warnings) = release_problems(root, &config, release, &icons)
        .into_iter()
        .partition::<Vec<_>, _>(|d| d.severity == Severity::Error);
    problems.extend(refused);

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
    let mut said = crate::diag::Diagnostics::default();
    said.extend(warnings);
    ui.report(&said);

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
    let (Some(parent), Some(name)) = (target.parent(), target.file_name()) else {
        return Err(vec![Diagnostic::error(
            dir,
            "is not a folder below the site",
        )]);
    };
    // IPA and notes are put together in a hidden folder beside their place (a scan skips it),
    // which is then renamed into place: a build sees both or neither, never half an IPA, and an
    // add that is stopped leaves only that folder, which the next add of the build clears.
    let hidden = format!(".{}.relsite-add-", name.to_string_lossy());
    let staging = parent.join(format!("{hidden}{}", std::process::id()));
    let staging_rel = staging.strip_prefix(root).unwrap_or(&staging).to_path_buf();
    // Each thing is recorded before it is made, so that a failed step takes back all of them
    // and a retry finds the catalog as it was.
    let mut made = Made::default();
    let placed = (|| {
        made.dirs = parent
            .ancestors()
            .take_while(|d| !d.exists())
            .map(Path::to_path_buf)
            .collect();
        crate::fs::create_dir_all(parent).map_err(io(&dir))?;
        clear_stale(parent, &hidden);
        made.staging = Some(staging.clone());
        crate::fs::create_dir_all(&staging).map_err(io(&staging_rel))?;
        crate::fs::open_regular(source)
            .and_then(|mut from| {
                std::io::copy(
                    &mut from,
                    &mut std::fs::File::create(staging.join(&file_name))?,
                )
            })
            .map_err(|e| {
                vec![Diagnostic::error(
                    source.clone(),
                    format!("cannot copy: {e}"),
                )]
            })?;
        let notes_staged = staging_rel.join(notes_rel.file_name().unwrap_or_default());
        crate::fs::write(&root.join(&notes_staged), yaml.as_bytes()).map_err(io(&notes_rel))?;
        rename_new(&staging, &target).map_err(io(&dir))
    })();
    if let Err(mut problems) = placed {
        problems.extend(made.undo());
        return Err(problems);
    }
    Ok((ipa_rel, notes_rel, what))
}

/// What `build` finds wrong with the release as the only one of the catalog: every check of a
/// release (its version, signing, platform, icon) and of the names it takes (its app's and
/// channel's against relsite's own and the theme's). A draft is checked as if published.
fn release_problems(
    root: &Path,
    config: &Config,
    release: ReadRelease,
    icons: &IconStore,
) -> Vec<Diagnostic> {
    // The theme's own problems are `build`'s to report; here only its names count.
    let theme = crate::render::Theme::load(root, config.theme.as_deref()).ok();
    let reserved = ReservedNames::new(theme.iter().flat_map(crate::render::Theme::static_origins));
    let mut problems = Vec::new();
    let mut configured = crate::diag::Diagnostics::default();
    let configured_icons =
        crate::pipeline::load_configured_icons(root, config, icons, &mut configured);
    problems.extend(configured.sorted().into_iter().cloned());
    // Checking a release needs its paths but not the site's own secret: nothing is written.
    let placeholder = crate::secret::SiteSecret::placeholder();
    let options = ModelOptions {
        base_url: config.base_url.as_url(),
        drafts: true,
        now: crate::pipeline::now(),
        configured_icons: &configured_icons,
        icons,
        reserved: &reserved,
        secret: Some(&placeholder),
    };
    let (catalog, modelled) = crate::catalog::model(config, vec![release], &options);
    problems.extend(modelled);
    // A channel written like an unlisted one; an unlisted channel without builds is no news.
    let unlisted = crate::catalog::unlisted_channel_problems(config, &catalog);
    problems.extend(
        unlisted
            .into_iter()
            .filter(|d| d.severity == Severity::Error),
    );
    problems
}

/// What a run of `add` has made so far: its staging folder and the folders that did not exist
/// before it (innermost first).
#[derive(Default)]
struct Made {
    staging: Option<PathBuf>,
    dirs: Vec<PathBuf>,
}

impl Made {
    /// Removes the staging folder, then the folders that are left empty (one that something
    /// else has been put in stays); returns an error when the staging folder cannot be removed.
    fn undo(self) -> Vec<Diagnostic> {
        let mut left = Vec::new();
        if let Some(staging) = self.staging {
            match std::fs::remove_dir_all(&staging) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => left.push(Diagnostic::error(
                    staging,
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

/// Removes what stopped adds of this build left in `parent`: folders named `<prefix><pid>`.
fn clear_stale(parent: &Path, prefix: &str) {
    let Ok(entries) = std::fs::read_dir(parent) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let stale = name
            .to_str()
            .and_then(|n| n.strip_prefix(prefix))
            .is_some_and(|pid| pid.parse::<u32>().is_ok_and(|p| p != std::process::id()));
        if stale && entry.file_type().is_ok_and(|t| t.is_dir()) {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// Renames the folder `from` to `to`, which must not exist (on Linux checked by the rename
/// itself, so two adds of one build cannot both succeed).
fn rename_new(from: &Path, to: &Path) -> Result<(), crate::fs::FsError> {
    let failed = |source: std::io::Error| crate::fs::FsError {
        action: "rename",
        path: from.to_path_buf(),
        source,
    };
    #[cfg(target_os = "linux")]
    {
        use rustix::fs::{CWD, RenameFlags, renameat_with};
        match renameat_with(CWD, from, CWD, to, RenameFlags::NOREPLACE) {
            Ok(()) => return Ok(()),
            Err(e) if e == rustix::io::Errno::INVAL || e == rustix::io::Errno::NOSYS => {}
            Err(e) => return Err(failed(e.into())),
        }
    }
    if to.exists() {
        return Err(failed(std::io::ErrorKind::AlreadyExists.into()));
    }
    std::fs::rename(from, to).map_err(failed)
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
        crate::fs::in_site(root, ipa).is_ok_and(|path| {
            IpaArchive::open(&path)
                .and_then(|mut a| a.info_plist())
                .is_ok_and(|p| {
                    p.bundle_id == bundle_id && p.short_version == *version && p.build == *build
                })
        })
    })
}
