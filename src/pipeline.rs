//! The stages in order: scan → read → model → plan. `check` stops here; `build` hands the plan
//! to [`crate::write`]. Problems of every stage are collected so a run reports all of them.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use rayon::prelude::*;

use time::OffsetDateTime;

use crate::cache::{CACHE_DIR, Cache, ReadIpa};
use crate::catalog::{self, Catalog, ModelOptions, ReadRelease, RenderedNotes, render_notes};
use crate::config::{Config, HttpsUrl};
use crate::diag::{Diagnostic, Diagnostics};
use crate::fs::Stamp;
use crate::icons::{IconStore, key_of};
use crate::ipa::IconSet;
use crate::ipa::icon::ICON_CAP;
use crate::ipa::{IpaFacts, SharedProfiles};
use crate::layout::ReservedNames;
use crate::notes::Notes;
use crate::plan::{self, OutputPlan};
use crate::published::PublishedBuild;
use crate::render::Theme;
use crate::scan::{self, ReleaseSource};
use crate::spill::Spilled;
use crate::ui::{Ui, plural};

/// What a run was asked to do.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The site folder.
    pub root: PathBuf,
    /// Output folder, overriding the config's (relative to the current folder).
    pub output: Option<PathBuf>,
    /// Base URL overriding the config's, e.g. for a preview.
    pub base_url: Option<String>,
    /// Publish drafts too.
    pub drafts: bool,
    /// How the run uses the incremental cache.
    pub cache: CacheUse,
    /// A private preview (`serve`): IPAs may be hard-linked instead of copied.
    pub preview: bool,
    /// The builds of a published catalog to keep beside those at hand.
    pub published: Vec<PublishedBuild>,
    /// Warnings fail the run (`--strict`).
    pub strict: bool,
}

/// How a run uses `.relsite-cache/`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum CacheUse {
    /// Reads it and keeps what this run read.
    #[default]
    ReadWrite,
    /// Reads it, writes nothing (`check`).
    ReadOnly,
    /// Neither (`--no-cache`).
    Off,
}

/// A site ready to write.
pub struct Prepared {
    pub config: Config,
    pub catalog: Arc<Catalog>,
    /// The incremental cache, for the write's record.
    pub cache: Cache,
    pub plan: OutputPlan,
    pub output_dir: PathBuf,
    /// Warnings of the run (errors stop it).
    pub diagnostics: Diagnostics,
}

/// Runs every stage but the write. On failure, returns every problem found.
pub fn prepare(options: &Options, ui: &Ui) -> Result<Prepared, Diagnostics> {
    let started = Instant::now();
    let root = &options.root;
    let mut diagnostics = Diagnostics::default();
    let config = Config::from_root(root).map_err(|ds| {
        let mut all = Diagnostics::default();
        all.extend(ds);
        all
    })?;
    let secret = crate::secret::SiteSecret::of_site(&config, root).map_err(Diagnostics::from)?;
    if secret.is_none() && config.secret_file.is_some() {
        diagnostics.push(Diagnostic::warning(
            PathBuf::from(crate::config::CONFIG_FILE),
            "`secret_file` is set, but the site needs no secret (it is not `private: true` and has no unlisted channel): the file is not read",
        ));
    }
    let base_url = match &options.base_url {
        Some(raw) => HttpsUrl::parse_preview(raw).map_err(|why| {
            Diagnostics::from(Diagnostic::error(None, format!("--base-url: {why}")))
        })?,
        None => config.base_url.clone(),
    };
    if base_url
        .as_url()
        .host_str()
        .is_some_and(|h| h.ends_with(".invalid"))
    {
        diagnostics.push(Diagnostic::warning(
            PathBuf::from(crate::config::CONFIG_FILE),
            format!(
                "base_url {base_url} is a placeholder: set it to the https URL where the output will be served"
            ),
        ));
    }
    if !base_url.is_https() {
        diagnostics.push(Diagnostic::warning(
            None,
            format!("base URL {base_url} is not https: pages preview, but installs will not work"),
        ));
    }
    let output_dir = match &options.output {
        Some(dir) => dir.clone(),
        None => root.join(&config.output_dir),
    };
    if let Err(d) = check_output_dir(root, &config, &output_dir, options.output.is_some()) {
        diagnostics.push(d);
        return Err(diagnostics);
    }
    restore_interrupted(&output_dir, ui);

    let (sources, problems) = scan::scan(root, &config.releases_dir);
    diagnostics.extend(problems);
    if sources.is_empty() && !diagnostics.has_errors() {
        diagnostics.push(Diagnostic::warning(
            config.releases_dir.clone(),
            "no .ipa found: the catalog will be empty",
        ));
    }

    ui.detail(format!(
        "scanned {}: {} in {:.2}s",
        crate::diag::display_path(&config.releases_dir),
        plural(sources.len(), "release"),
        started.elapsed().as_secs_f64()
    ));
    let (mut cache, notices) = match options.cache {
        CacheUse::Off => (Cache::off(), Vec::new()),
        CacheUse::ReadWrite => Cache::open(root, true, config.ipa_base_url.is_none()),
        CacheUse::ReadOnly => Cache::open(root, false, false),
    };
    for notice in notices {
        ui.notice(notice);
    }
    let bar = ui.progress(sources.len() as u64, "Reading");
    let profiles = SharedProfiles::default();
    let spill = crate::spill::Spill::new();
    let read: Vec<Read> = sources
        .into_par_iter()
        .map(|source| {
            crate::ui::progress_message(&bar, &crate::diag::display_path(&source.ipa));
            let mut read = read_release(root, source, &cache);
            if let (Ok(facts), Ok(notes)) = (&mut read.ipa, &mut read.notes) {
                profiles.share(&mut facts.profile);
                let entry =
                    crate::published::entry(&read.source.ipa, facts, notes, config.show_devices);
                read.kept = Some((spill.keep(entry), render_notes(&spill, notes)));
            }
            bar.inc(1);
            read
        })
        .collect();
    bar.finish_and_clear();
    drop(profiles);
    let reread = read.iter().filter(|r| !r.from_cache).count();
    ui.detail(format!(
        "read {} ({} unchanged, from the cache) in {:.2}s",
        plural(read.len(), "IPA"),
        read.len() - reread,
        started.elapsed().as_secs_f64()
    ));
    for notice in cache.take_notices() {
        ui.notice(notice);
    }
    let saved = {
        let rels: Vec<String> = read
            .iter()
            .map(|r| crate::diag::display_path(&r.source.ipa))
            .collect();
        let to_cache: Vec<ReadIpa> = read
            .iter()
            .zip(&rels)
            .filter_map(|(r, rel)| {
                Some(ReadIpa {
                    rel,
                    stamp: r.stamp?,
                    facts: r.ipa.as_ref().ok()?,
                    from_cache: r.from_cache,
                })
            })
            .collect();
        cache.save(&to_cache)
    };
    if let Err(why) = saved {
        ui.notice(format!("{why}: the next build reads every IPA again"));
    }
    // Collected in place: a read release is large, and a catalog has thousands.
    let mut releases: Vec<ReadRelease> = read
        .into_iter()
        .filter_map(|read| match (read.ipa, read.notes, read.kept) {
            (Ok(facts), Ok(notes), Some((entry, rendered))) => Some(ReadRelease {
                entry,
                rendered,
                source: read.source,
                facts,
                notes,
                published: false,
                published_icons: None,
            }),
            (ipa, notes, _) => {
                diagnostics.extend(ipa.err());
                diagnostics.extend(notes.err().into_iter().flatten());
                None
            }
        })
        .collect();
    releases.reserve_exact(options.published.len());
    for build in &options.published {
        let mut notes = build.notes.clone();
        releases.push(ReadRelease {
            entry: spill.keep(crate::published::entry(
                &build.release,
                &build.facts,
                &build.notes,
                config.show_devices,
            )),
            rendered: render_notes(&spill, &mut notes),
            source: ReleaseSource {
                ipa: build.release.clone(),
                notes: None,
            },
            facts: Box::new(build.facts.clone()),
            notes,
            published: true,
            published_icons: (!build.icons.is_empty())
                .then(|| Arc::new(IconSet::from_pngs(build.icons.clone()))),
        });
    }

    let configured_icons = load_configured_icons(root, &config, cache.icons(), &mut diagnostics);
    // The theme before the model: its static files' names are not free for apps to take.
    let theme = Theme::load(root, config.theme.as_deref());
    let theme = match theme {
        Ok(theme) => Some(theme),
        Err(problems) => {
            diagnostics.extend(problems);
            None
        }
    };
    let reserved = ReservedNames::new(theme.iter().flat_map(Theme::static_origins));
    let model_options = ModelOptions {
        base_url: base_url.as_url(),
        drafts: options.drafts,
        now: now(),
        configured_icons: &configured_icons,
        icons: cache.icons(),
        reserved: &reserved,
        secret: secret.as_ref(),
    };
    let (catalog, problems) = catalog::model(&config, releases, &model_options);
    let catalog = Arc::new(catalog);
    diagnostics.extend(problems);
    diagnostics.extend(catalog::unlisted_channel_problems(&config, &catalog));
    cache.prune_icons();

    if diagnostics.has_errors() {
        return Err(diagnostics);
    }
    let Some(theme) = theme else {
        return Err(diagnostics);
    };
    let theme = Arc::new(theme);
    let plan_options = plan::PlanOptions {
        show_devices: config.show_devices,
        show_profile: config.show_profile,
        public: config.public,
        external_ipas: config.ipa_base_url.is_some(),
    };
    if !plan_options.external_ipas {
        diagnostics.extend(crate::hosting::size_warnings(&catalog));
    }
    diagnostics.extend(crate::hosting::enterprise_warnings(
        &catalog,
        config.public,
        config.private,
    ));
    let (host, problems) = crate::hosting::HostSettings::of(
        &config,
        &catalog,
        theme.static_origins().map(|(path, _)| path),
        std::env::var(crate::hosting::NETLIFY_BASIC_AUTH_VAR).ok(),
    );
    diagnostics.extend(problems);
    if diagnostics.has_errors() {
        return Err(diagnostics);
    }
    diagnostics.extend(catalog::uninstallable_apps(&catalog));
    diagnostics.extend(catalog::default_channel_warnings(&config, &catalog));
    let plan = plan::plan(
        &catalog,
        &theme,
        root,
        plan_options,
        host,
        cache.ipa_copies(),
    )
    .map_err(|problems| {
        let mut all = diagnostics.clone();
        all.extend(problems);
        all
    })?;
    ui.detail(format!(
        "planned {} of the catalog and {} of its apps in {:.2}s",
        plural(plan.site.len(), "file"),
        plural(plan.parts.len(), "part"),
        started.elapsed().as_secs_f64()
    ));
    Ok(Prepared {
        config,
        catalog,
        cache,
        plan,
        output_dir,
        diagnostics,
    })
}

/// With `--strict`, a run with warnings fails: the warnings, and an error saying so. Warnings
/// about builds published before and not at hand (`published`, such as one whose profile has
/// since expired) do not count: this run cannot change them, and `relsite remove` can.
pub fn strict_failure(
    strict: bool,
    diagnostics: &Diagnostics,
    published: &[PublishedBuild],
) -> Option<Diagnostics> {
    let warnings = diagnostics
        .sorted()
        .into_iter()
        .filter(|d| d.severity == crate::diag::Severity::Warning)
        .filter(|d| {
            d.file
                .as_ref()
                .is_none_or(|file| !published.iter().any(|b| b.release == *file))
        })
        .count();
    if !strict || warnings == 0 {
        return None;
    }
    let mut all = diagnostics.clone();
    all.push(Diagnostic::error(
        None,
        format!("--strict: {} fail the run", plural(warnings, "warning")),
    ));
    Some(all)
}

/// Puts back the previous site when a build stopped between the two renames of the fallback
/// swap left `output` missing, saying so; the run goes on whatever happens.
pub fn restore_interrupted(output: &Path, ui: &Ui) {
    match crate::write::restore_interrupted(output) {
        Ok(Some(retired)) => ui.notice(format!(
            "{} was missing, left so by a build stopped while swapping it in: put back the previous site from {}",
            output.display(),
            retired.display()
        )),
        Ok(None) => {}
        Err(e) => ui.notice(format!(
            "{} is missing, and the previous site could not be put back: {e}",
            output.display()
        )),
    }
}

/// The time profiles are checked against: `SOURCE_DATE_EPOCH` (seconds since 1970) when set, so
/// a build can be reproduced later, else the current time.
pub fn now() -> OffsetDateTime {
    std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse::<i64>().ok())
        .and_then(|secs| OffsetDateTime::from_unix_timestamp(secs).ok())
        .unwrap_or_else(OffsetDateTime::now_utc)
}

/// Reads and converts the `icon` of each app's settings; a missing or broken file is an error.
pub(crate) fn load_configured_icons(
    root: &Path,
    config: &Config,
    store: &IconStore,
    diagnostics: &mut Diagnostics,
) -> BTreeMap<String, Arc<IconSet>> {
    let mut icons = BTreeMap::new();
    for (bundle_id, settings) in &config.apps {
        let Some(icon) = &settings.icon else { continue };
        let loaded = crate::fs::in_site(root, icon)
            .and_then(|path| crate::fs::read_capped(&path, ICON_CAP, "an icon"))
            .map_err(|e| e.to_string())
            .and_then(|bytes| store.get_or_render(&key_of(&bytes), || IconSet::from_png(&bytes)));
        match loaded {
            Ok(set) => {
                icons.insert(bundle_id.clone(), set);
            }
            Err(why) => diagnostics.push(Diagnostic::error(
                icon.clone(),
                format!("`apps.{bundle_id}.icon` cannot be used: {why}"),
            )),
        }
    }
    icons
}

/// One release after the read stage.
struct Read {
    source: ReleaseSource,
    /// The IPA's stamp before it was read, when it could be taken.
    stamp: Option<Stamp>,
    ipa: Result<Box<IpaFacts>, Diagnostic>,
    notes: Result<Notes, Vec<Diagnostic>>,
    from_cache: bool,
    /// Its entry of the catalog index and its rendered notes, kept aside once both are read.
    kept: Option<(Spilled, Option<RenderedNotes>)>,
}

/// Reads one release's IPA (or takes its facts from the cache) and notes, reporting problems of
/// both. The IPA must be a regular file inside the site.
fn read_release(root: &Path, source: ReleaseSource, cache: &Cache) -> Read {
    let path = crate::fs::in_site(root, &source.ipa);
    let stamp = path.as_deref().ok().and_then(Stamp::of);
    let cached = stamp.and_then(|s| cache.lookup(&crate::diag::display_path(&source.ipa), s));
    let from_cache = cached.is_some();
    let ipa = match (cached, path) {
        (Some(facts), _) => Ok(facts),
        (None, Ok(path)) => cache
            .read_ipa(&path)
            .map_err(|e| Diagnostic::error(source.ipa.clone(), e.to_string())),
        (None, Err(e)) => Err(Diagnostic::error(source.ipa.clone(), e.to_string())),
    };
    let notes = match &source.notes {
        Some(file) => Notes::from_file(root, file),
        None => Ok(Notes::default()),
    };
    Read {
        source,
        stamp,
        ipa: ipa.map(Box::new),
        notes,
        from_cache,
        kept: None,
    }
}

/// The output is replaced wholesale, so it must not be the site itself, hold any of its inputs,
/// or sit inside a folder of inputs. The error names where the output was chosen: relsite.yaml's
/// `output_dir`, or `--output` when `flag`.
fn check_output_dir(
    root: &Path,
    config: &Config,
    output: &Path,
    flag: bool,
) -> Result<(), Diagnostic> {
    let out = absolute(output);
    let input_dirs = [
        config.releases_dir.clone(),
        PathBuf::from("themes"),
        PathBuf::from("static"),
        PathBuf::from(CACHE_DIR),
    ];
    let input_files = config
        .apps
        .values()
        .filter_map(|a| a.icon.clone())
        .chain([PathBuf::from(crate::config::CONFIG_FILE)]);
    let overlap = |what: &Path| {
        let (file, chosen) = if flag {
            (None, "--output".to_string())
        } else {
            (
                Some(PathBuf::from(crate::config::CONFIG_FILE)),
                format!("`output_dir` `{}`", config.output_dir.display()),
            )
        };
        Diagnostic::error(
            file,
            format!(
                "{chosen}: output folder `{}` overlaps `{}`: the output is replaced on every build, so it must be a folder of its own",
                output.display(),
                what.display()
            ),
        )
    };
    for dir in &input_dirs {
        let abs = absolute(&root.join(dir));
        if abs.starts_with(&out) || out.starts_with(&abs) {
            return Err(overlap(&root.join(dir)));
        }
    }
    for file in input_files {
        if absolute(&root.join(&file)).starts_with(&out) {
            return Err(overlap(&root.join(file)));
        }
    }
    if absolute(root).starts_with(&out) {
        return Err(overlap(root));
    }
    Ok(())
}

/// An absolute path with symlinks resolved as far as the path exists, and `.` and `..` taken
/// away as the system would: each `..` climbs from where the path so far really is.
fn absolute(path: &Path) -> PathBuf {
    let joined = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir().unwrap_or_default().join(path)
    };
    let mut out = PathBuf::new();
    for component in joined.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => {
                out.push(other);
                if let Ok(real) = std::fs::canonicalize(&out) {
                    out = real;
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(extra: &str) -> Config {
        let text = format!("title: T\nbase_url: https://e.com/\n{extra}");
        Config::parse(&text, Path::new("relsite.yaml")).expect("config")
    }

    fn overlap(root: &Path, config: &Config, output: &Path) -> Option<String> {
        check_output_dir(root, config, output, true)
            .err()
            .map(|d| d.message)
    }

    #[test]
    fn output_may_be_a_folder_of_its_own() {
        let site = tempfile::tempdir().unwrap();
        let root = site.path();
        let config = config("");
        assert_eq!(overlap(root, &config, &root.join("public")), None);
        assert_eq!(overlap(root, &config, &root.join("out/site")), None);
        let elsewhere = tempfile::tempdir().unwrap();
        assert_eq!(overlap(root, &config, elsewhere.path()), None);
    }

    #[test]
    fn output_must_not_hold_or_sit_in_an_input() {
        let site = tempfile::tempdir().unwrap();
        let root = site.path();
        std::fs::create_dir_all(root.join("releases/app")).unwrap();
        let config = config("apps:\n  com.a.b:\n    icon: icons/a.png\n");
        for output in [
            root.to_path_buf(),
            root.join("releases"),
            root.join("releases/app/out"),
            root.join("x/../releases/sub"),
            root.join("releases/../themes/./t"),
            root.join("themes"),
            root.join("static/x"),
            root.join("icons"),
            root.parent().unwrap().to_path_buf(),
        ] {
            let why = overlap(root, &config, &output)
                .unwrap_or_else(|| panic!("{} was allowed", output.display()));
            assert!(why.contains("overlaps"), "{why}");
        }
    }

    #[test]
    fn output_through_a_symlink_into_an_input_is_refused() {
        let site = tempfile::tempdir().unwrap();
        let root = site.path();
        std::fs::create_dir_all(root.join("releases")).unwrap();
        std::os::unix::fs::symlink(root.join("releases"), root.join("link")).unwrap();
        let why = overlap(root, &config(""), &root.join("link/out")).expect("refused");
        assert!(why.contains("overlaps"), "{why}");
    }

    #[test]
    fn an_overlap_names_where_the_output_was_chosen() {
        let site = tempfile::tempdir().unwrap();
        let root = site.path();
        std::fs::create_dir_all(root.join("releases")).unwrap();
        std::os::unix::fs::symlink(root.join("releases"), root.join("link")).unwrap();
        let config = config("output_dir: link/out\n");
        let d = check_output_dir(root, &config, &root.join("link/out"), false).unwrap_err();
        assert_eq!(d.file.as_deref(), Some(Path::new("relsite.yaml")));
        assert!(
            d.message
                .starts_with("`output_dir` `link/out`: output folder `"),
            "{d}"
        );
        let d = check_output_dir(root, &config, &root.join("link/out"), true).unwrap_err();
        assert_eq!(d.file, None);
        assert!(d.message.starts_with("--output: output folder `"), "{d}");
    }

    #[test]
    fn dots_in_a_path_not_made_yet_are_resolved() {
        let site = tempfile::tempdir().unwrap();
        let root = site.path().canonicalize().unwrap();
        assert_eq!(absolute(&root.join("a/./b/../c")), root.join("a/c"));
        assert_eq!(absolute(&root.join("new/../public")), root.join("public"));
    }

    #[test]
    fn source_date_epoch_sets_now() {
        // SAFETY: no other test of this binary reads or writes SOURCE_DATE_EPOCH.
        unsafe { std::env::set_var("SOURCE_DATE_EPOCH", "1700000000") };
        let now = now();
        unsafe { std::env::remove_var("SOURCE_DATE_EPOCH") };
        assert_eq!(now.unix_timestamp(), 1_700_000_000);
    }
}
