//! The model: apps and their builds, ordered newest first, with slugs, output paths and URLs
//! decided and collisions checked. No I/O happens here.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use time::OffsetDateTime;
use url::Url;

use crate::config::Config;
use crate::diag::{Diagnostic, display_path};
use crate::ipa::icon::{self, IconSource};
use crate::ipa::{BundleIcon, Distribution, IconSet, IpaInfo, ProfileStatus};
use crate::markdown;
use crate::notes::{Notes, ReleaseDate};
use crate::scan::ReleaseSource;
use crate::urls;

/// A release after reading: its files, what the IPA says and what its notes say.
#[derive(Debug, Clone)]
pub struct ReadRelease {
    pub source: ReleaseSource,
    pub ipa: IpaInfo,
    pub notes: Notes,
}

#[derive(Debug, Clone)]
pub struct Catalog {
    pub title: String,
    pub description_html: Option<String>,
    pub base_url: Url,
    /// Apps by name.
    pub apps: Vec<App>,
}

#[derive(Debug, Clone)]
pub struct App {
    pub bundle_id: String,
    pub name: String,
    /// Path segment of the app below the output root.
    pub slug: String,
    pub description_html: Option<String>,
    pub page_url: Url,
    /// Newest first.
    pub builds: Vec<Build>,
}

#[derive(Debug, Clone)]
pub struct Build {
    pub source: ReleaseSource,
    pub ipa: IpaInfo,
    pub bundle_id: String,
    /// Marketing version: CFBundleShortVersionString, else the notes' `version`, else
    /// CFBundleVersion.
    pub version: String,
    /// CFBundleVersion, when the IPA has one.
    pub build_number: Option<String>,
    /// The notes' `title`, else the IPA's display name, else the app's name.
    pub title: String,
    pub channel: String,
    pub draft: bool,
    pub date: Option<ReleaseDate>,
    pub notes_markdown: Option<String>,
    /// The notes rendered once, for pages and feeds: HTML, and plain text.
    pub notes_html: Option<String>,
    pub notes_text: Option<String>,
    /// Path segment of the build below its app.
    pub slug: String,
    /// The IPA's file name in the output.
    pub ipa_file_name: String,
    pub page_url: Url,
    pub manifest_url: Url,
    pub ipa_url: Url,
    pub install_link: String,
    /// The icons published with the build, and where they came from.
    pub icons: IconSet,
    pub icon_source: IconSource,
    /// How the build is signed, when it has a readable profile.
    pub distribution: Option<Distribution>,
    /// When the profile (or its certificate) expires.
    pub expires: Option<OffsetDateTime>,
    /// The profile has expired: the build stays listed, but cannot be installed.
    pub expired: bool,
    /// Why the build cannot be installed from Safari, if it cannot.
    pub not_installable: Option<String>,
}

impl Catalog {
    /// How many builds the catalog publishes.
    pub fn build_count(&self) -> usize {
        self.apps.iter().map(|a| a.builds.len()).sum()
    }
}

impl App {
    /// The build `latest/` presents: the newest that can be installed, else the newest.
    pub fn latest(&self) -> Option<&Build> {
        newest_installable(self.builds.iter())
    }

    /// The channels, each with the build its `latest/<channel>/` presents, newest first.
    /// Channels that differ only in case or punctuation (`Beta`, `beta`) are one channel: they
    /// share a `latest/` path.
    pub fn latest_per_channel(&self) -> Vec<&Build> {
        let mut channels: Vec<String> = Vec::new();
        for build in &self.builds {
            let slug = build.channel_slug();
            if !channels.contains(&slug) {
                channels.push(slug);
            }
        }
        let mut latest: Vec<&Build> = channels
            .iter()
            .filter_map(|c| {
                newest_installable(self.builds.iter().filter(|b| b.channel_slug() == *c))
            })
            .collect();
        latest.sort_by(|a, b| newest_first(a, b));
        latest
    }
}

/// The first installable build of `builds` (newest first), else the first.
fn newest_installable<'a>(
    mut builds: impl Iterator<Item = &'a Build> + Clone,
) -> Option<&'a Build> {
    builds
        .clone()
        .find(|b| b.installable())
        .or_else(|| builds.next())
}

impl Build {
    /// The channel as a path segment, for `latest/<channel>/`.
    pub fn channel_slug(&self) -> String {
        urls::slugify(&self.channel, "c")
    }

    /// Whether testers can install it now: not expired, and built for iOS.
    pub fn installable(&self) -> bool {
        !self.expired && self.not_installable.is_none()
    }

    /// When the build came out: its notes' date, else when its Info.plist was written.
    pub fn published(&self) -> Option<OffsetDateTime> {
        self.date.map(|d| d.0).or(self.ipa.built_at)
    }

    /// The build's folder below the output root: `<app>/<version>`.
    pub fn dir(&self, app: &App) -> String {
        format!("{}/{}", app.slug, self.slug)
    }
}

/// Orders builds newest first: marketing version, then build number, then date, then path.
pub fn newest_first(a: &Build, b: &Build) -> Ordering {
    crate::version::compare(&b.version, &a.version)
        .then_with(|| {
            crate::version::compare(
                b.build_number.as_deref().unwrap_or(""),
                a.build_number.as_deref().unwrap_or(""),
            )
        })
        .then_with(|| b.date.cmp(&a.date))
        .then_with(|| b.source.ipa.cmp(&a.source.ipa))
}

/// What the model needs besides the releases.
pub struct ModelOptions<'a> {
    pub base_url: &'a Url,
    /// Publish drafts too.
    pub drafts: bool,
    /// The time profiles are checked against.
    pub now: OffsetDateTime,
    /// Icons from the apps' `icon` settings, by bundle identifier.
    pub configured_icons: &'a BTreeMap<String, IconSet>,
}

/// Profiles expiring within this many days are warned about.
pub const EXPIRY_WARNING_DAYS: i64 = 30;

/// Builds the catalog from every release read. Drafts are left out unless `drafts`.
pub fn model(
    config: &Config,
    releases: Vec<ReadRelease>,
    options: &ModelOptions<'_>,
) -> (Catalog, Vec<Diagnostic>) {
    let base_url = options.base_url;
    let drafts = options.drafts;
    let mut problems = Vec::new();
    let ipa_base = config
        .ipa_base_url
        .as_ref()
        .map_or(base_url, |u| u.as_url())
        .clone();

    let mut by_app: BTreeMap<String, Vec<ReadRelease>> = BTreeMap::new();
    for release in releases {
        if release.notes.draft && !drafts {
            continue;
        }
        by_app
            .entry(release.ipa.plist.bundle_id.clone())
            .or_default()
            .push(release);
    }

    let mut apps = Vec::new();
    for (bundle_id, releases) in by_app {
        let settings = config.apps.get(&bundle_id).cloned().unwrap_or_default();
        let slug = app_slug(config, &bundle_id);
        let page_url = urls::join_dir(base_url, &[&slug]);
        let mut builds: Vec<Build> = releases
            .into_iter()
            .filter_map(|r| {
                let signing = check_signing(&r.source.ipa, &r.ipa, options.now);
                problems.extend(signing.warnings);
                match (model_build(r, &slug, base_url, &ipa_base), signing.fatal) {
                    (Ok(mut build), None) => {
                        build.expired = signing.expired;
                        build.not_installable = signing.not_installable;
                        Some(build)
                    }
                    (built, fatal) => {
                        problems.extend(built.err());
                        problems.extend(fatal);
                        None
                    }
                }
            })
            .collect();
        builds.sort_by(newest_first);
        let name = settings
            .name
            .clone()
            .or_else(|| {
                builds
                    .first()
                    .and_then(|b| b.ipa.plist.display_name.clone())
            })
            .unwrap_or_else(|| bundle_id.clone());
        // The placeholder depends only on the app: drawn once, for the first build needing it.
        let mut placeholder = None;
        for build in &mut builds {
            if build.title.is_empty() {
                build.title = name.clone();
            }
            choose_icon(
                build,
                &name,
                options.configured_icons.get(&bundle_id),
                &mut placeholder,
                &mut problems,
            );
        }
        if builds.is_empty() {
            continue;
        }
        apps.push(App {
            bundle_id,
            name,
            slug,
            description_html: settings.description.as_deref().map(markdown::to_html),
            page_url,
            builds,
        });
    }
    apps.sort_by(|a, b| {
        a.name
            .to_lowercase()
            .cmp(&b.name.to_lowercase())
            .then_with(|| a.slug.cmp(&b.slug))
    });
    problems.extend(collisions(&apps));

    let catalog = Catalog {
        title: config.title.clone(),
        description_html: config.description.as_deref().map(markdown::to_html),
        base_url: base_url.clone(),
        apps,
    };
    (catalog, problems)
}

fn model_build(
    release: ReadRelease,
    app_slug: &str,
    base_url: &Url,
    ipa_base: &Url,
) -> Result<Build, Diagnostic> {
    let ReadRelease { source, ipa, notes } = release;
    let plist = &ipa.plist;
    let notes_file = source.notes.clone().unwrap_or_else(|| source.ipa.clone());
    let version = match (&plist.short_version, &notes.version) {
        (Some(short), Some(given)) if short != given => {
            return Err(Diagnostic::error(
                notes_file,
                format!(
                    "`version: {given}` contradicts the IPA's CFBundleShortVersionString `{short}`; `version` is only for an IPA without one: remove it"
                ),
            ));
        }
        (Some(short), _) => short.clone(),
        (None, Some(given)) => given.clone(),
        (None, None) => match &plist.build {
            Some(build) => build.clone(),
            None => {
                let notes_name = source.notes.as_ref().map_or_else(
                    || {
                        let stem = source.ipa.file_stem().unwrap_or_default();
                        format!("{}.yaml", stem.to_string_lossy())
                    },
                    |n| display_path(n),
                );
                return Err(Diagnostic::error(
                    source.ipa.clone(),
                    format!(
                        "has no version: its Info.plist has neither CFBundleShortVersionString nor CFBundleVersion; give one as `version:` in its notes file ({notes_name})"
                    ),
                ));
            }
        },
    };
    if let Some(why) = invalid_bundle_id(&plist.bundle_id) {
        return Err(Diagnostic::error(
            source.ipa.clone(),
            format!("CFBundleIdentifier `{}` {why}", plist.bundle_id),
        ));
    }
    for (what, value) in [
        ("version", Some(&version)),
        ("build number", plist.build.as_ref()),
    ] {
        if let Some(why) = value.and_then(|v| invalid_version(v)) {
            return Err(Diagnostic::error(
                source.ipa.clone(),
                format!("{what} `{}` {why}", value.map_or("", |v| v.as_str())),
            ));
        }
    }
    let build_number = plist.build.clone();
    let slug = version_slug(&version, build_number.as_deref());
    let stem = source
        .ipa
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let ipa_file_name = format!("{}.ipa", urls::slugify(&stem, "app-"));
    let page_url = urls::join_dir(base_url, &[app_slug, &slug]);
    let manifest_url = urls::join_file(base_url, &[app_slug, &slug, "manifest.plist"]);
    let ipa_url = urls::join_file(ipa_base, &[app_slug, &slug, &ipa_file_name]);
    let install_link = urls::install_link(&manifest_url);
    let notes_markdown = notes.notes.clone().filter(|n| !n.trim().is_empty());
    let distribution = ipa.profile.profile().map(|p| p.distribution);
    let expires = ipa.profile.profile().and_then(|p| p.effective_expiry());
    Ok(Build {
        icons: IconSet {
            small: Vec::new(),
            large: Vec::new(),
        },
        icon_source: IconSource::Placeholder,
        distribution,
        expires,
        expired: false,
        not_installable: None,
        bundle_id: plist.bundle_id.clone(),
        version,
        build_number,
        title: notes
            .title
            .clone()
            .or_else(|| plist.display_name.clone())
            .unwrap_or_default(),
        channel: notes.channel().to_string(),
        draft: notes.draft,
        date: notes.date,
        notes_html: notes_markdown.as_deref().map(markdown::to_html),
        notes_text: notes_markdown.as_deref().map(markdown::to_text),
        notes_markdown,
        slug,
        ipa_file_name,
        page_url,
        manifest_url,
        ipa_url,
        install_link,
        source,
        ipa,
    })
}

/// What the checks of a build's signing and platform found.
#[derive(Default)]
struct Signing {
    /// Leaves the release out and fails the run.
    fatal: Option<Diagnostic>,
    warnings: Vec<Diagnostic>,
    expired: bool,
    not_installable: Option<String>,
}

/// Checks the provisioning profile (type, app identifier, expiry) and the platform.
fn check_signing(file: &Path, ipa: &IpaInfo, now: OffsetDateTime) -> Signing {
    let mut signing = Signing::default();
    let warn = |message: String| Diagnostic::warning(file.to_path_buf(), message);
    let bundle_id = &ipa.plist.bundle_id;
    match &ipa.profile {
        ProfileStatus::Missing => signing.warnings.push(warn(
            "has no embedded.mobileprovision: an unsigned or simulator build cannot be installed on a device".into(),
        )),
        ProfileStatus::Unreadable(why) => signing.warnings.push(warn(format!(
            "cannot read its embedded.mobileprovision ({why}): distribution type and expiry are unknown"
        ))),
        ProfileStatus::Found(profile) => {
            let name = profile.name.as_deref().unwrap_or("unnamed");
            if profile.distribution == Distribution::AppStore {
                signing.fatal = Some(Diagnostic::error(
                    file.to_path_buf(),
                    format!(
                        "is signed with the App Store profile `{name}`: such a build can never be installed over the air; export it for ad-hoc, enterprise or development distribution"
                    ),
                ));
                return signing;
            }
            if !profile.matches_bundle_id(bundle_id) {
                signing.fatal = Some(Diagnostic::error(
                    file.to_path_buf(),
                    format!(
                        "its profile `{name}` is for `{}`, not for CFBundleIdentifier `{bundle_id}`: iOS would refuse to install it",
                        profile.bundle_id_pattern().unwrap_or("no application-identifier"),
                    ),
                ));
                return signing;
            }
            if let Some(expires) = profile.effective_expiry() {
                let day = ymd(expires);
                if expires <= now {
                    signing.expired = true;
                    signing.warnings.push(warn(format!(
                        "its profile `{name}` expired on {day}: the build stays listed, marked expired, without an install button"
                    )));
                } else if expires - now <= time::Duration::days(EXPIRY_WARNING_DAYS) {
                    let days = (expires - now).whole_days();
                    signing.warnings.push(warn(format!(
                        "its profile `{name}` expires on {day}, in {days} day{}: installs fail after that",
                        if days == 1 { "" } else { "s" }
                    )));
                }
            }
        }
    }
    let platforms = &ipa.plist.platforms;
    if !platforms.is_empty() && !platforms.iter().any(|p| p == "iPhoneOS") {
        let list = platforms.join(", ");
        signing.warnings.push(warn(format!(
            "is built for {list}, not iOS: it cannot be installed from Safari"
        )));
        signing.not_installable = Some(format!(
            "This build is for {}, not for iPhone or iPad: it cannot be installed from Safari.",
            platform_names(platforms)
        ));
    }
    signing
}

/// Platform identifiers as people say them.
fn platform_names(platforms: &[String]) -> String {
    platforms
        .iter()
        .map(|p| match p.as_str() {
            "AppleTVOS" => "Apple TV",
            "XROS" => "Apple Vision Pro",
            "WatchOS" => "Apple Watch",
            "iPhoneSimulator" => "the iOS Simulator",
            "MacOSX" => "Mac",
            other => other,
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The icon a build publishes: its own, else the app's configured one, else a placeholder.
fn choose_icon(
    build: &mut Build,
    app_name: &str,
    configured: Option<&IconSet>,
    placeholder: &mut Option<Result<IconSet, String>>,
    problems: &mut Vec<Diagnostic>,
) {
    let file = build.source.ipa.clone();
    let fallback_why = match &build.ipa.icon {
        BundleIcon::Found { icons, .. } => {
            build.icons = icons.clone();
            build.icon_source = IconSource::Bundle;
            return;
        }
        BundleIcon::Missing => {
            "has no loose icon PNG (its icon lives only in Assets.car)".to_string()
        }
        BundleIcon::Unreadable(why) => format!("has an icon that cannot be read ({why})"),
    };
    if let Some(icons) = configured {
        build.icons = icons.clone();
        build.icon_source = IconSource::Configured;
        return;
    }
    let drawn = placeholder.get_or_insert_with(|| {
        icon::placeholder(&build.bundle_id, app_name).map_err(|e| e.to_string())
    });
    match drawn {
        Ok(icons) => build.icons = icons.clone(),
        Err(e) => problems.push(Diagnostic::error(
            file.clone(),
            format!("cannot draw a placeholder icon: {e}"),
        )),
    }
    build.icon_source = IconSource::Placeholder;
    problems.push(Diagnostic::warning(
        file,
        format!(
            "{fallback_why}: pages and manifest use a placeholder; set `apps.{}.icon` in relsite.yaml to a PNG",
            build.bundle_id
        ),
    ));
}

/// `YYYY-MM-DD` of a time, in UTC.
pub fn ymd(at: OffsetDateTime) -> String {
    let d = at.to_offset(time::UtcOffset::UTC).date();
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

/// Why a bundle identifier cannot be published, if it cannot: Apple allows letters, digits,
/// `-` and `.` (relsite also lets `_` pass), and iOS refuses a manifest that differs from the
/// app, so a bad identifier cannot be repaired here.
fn invalid_bundle_id(id: &str) -> Option<&'static str> {
    if !id
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
    {
        Some(
            "is not a valid bundle identifier: only letters A–Z and a–z, digits, `-` and `.` are allowed, and iOS will not install it",
        )
    } else if id.starts_with('.') || id.contains("..") {
        Some("is not a valid bundle identifier: its parts must not be empty")
    } else {
        None
    }
}

/// Why a version or build number cannot name a build, if it cannot: it must read as a version
/// (such as 1.4.0 or 2.0-beta3) and be safe in a URL path.
fn invalid_version(version: &str) -> Option<&'static str> {
    if version
        .chars()
        .any(|c| !c.is_ascii_graphic() || matches!(c, '/' | '\\'))
    {
        Some(
            "is not a usable version: use ASCII letters, digits and `.` `-` `_` `+`, without spaces or `/`",
        )
    } else if version.starts_with('.') || version.contains("..") {
        Some("is not a usable version: its parts must not be empty")
    } else {
        None
    }
}

/// A build's path segment: `<version>-<build>`, or the version alone when the build number is
/// missing or the same, so two builds of one version get two stable paths.
pub fn version_slug(version: &str, build: Option<&str>) -> String {
    match build {
        Some(b) if b != version => urls::slugify(&format!("{version}-{b}"), "v"),
        _ => urls::slugify(version, "v"),
    }
}

/// The path segment of an app: its configured slug, else its bundle identifier.
pub fn app_slug(config: &Config, bundle_id: &str) -> String {
    config
        .apps
        .get(bundle_id)
        .and_then(|a| a.slug.clone())
        .unwrap_or_else(|| urls::slugify(bundle_id, "app-"))
}

/// Two apps with one slug, or two builds of an app with one slug, would overwrite each other.
fn collisions(apps: &[App]) -> Vec<Diagnostic> {
    let mut problems = Vec::new();
    let mut app_slugs: BTreeMap<&str, &App> = BTreeMap::new();
    for app in apps {
        if let Some(other) = app_slugs.insert(&app.slug, app) {
            problems.push(Diagnostic::error(
                first_source(app),
                format!(
                    "apps `{}` and `{}` both map to `{}/`; set `apps.<bundle id>.slug` in relsite.yaml to tell them apart (the other is {})",
                    other.bundle_id,
                    app.bundle_id,
                    app.slug,
                    display_path(&first_source(other))
                ),
            ));
        }
        let mut build_slugs: BTreeMap<&str, &Build> = BTreeMap::new();
        for build in &app.builds {
            if let Some(other) = build_slugs.insert(&build.slug, build) {
                problems.push(Diagnostic::error(
                    build.source.ipa.clone(),
                    format!(
                        "maps to the same URL as {}: both are `{}/` (version {} and {}); remove one or give it a new build number",
                        display_path(&other.source.ipa),
                        build.dir(app),
                        describe_version(build),
                        describe_version(other),
                    ),
                ));
            }
        }
    }
    problems
}

/// `1.0 build 7`, for messages.
fn describe_version(build: &Build) -> String {
    match &build.build_number {
        Some(b) => format!("{} build {b}", build.version),
        None => build.version.clone(),
    }
}

fn first_source(app: &App) -> PathBuf {
    app.builds
        .iter()
        .map(|b| b.source.ipa.clone())
        .min()
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundle_ids_must_be_apple_valid() {
        assert_eq!(invalid_bundle_id("com.example.Field-2"), None);
        for bad in [
            "com/example",
            "com.example..x",
            ".com",
            "com example",
            "com.exämple",
            "a\nb",
        ] {
            assert!(invalid_bundle_id(bad).is_some(), "{bad}");
        }
    }

    #[test]
    fn versions_must_be_safe_path_text() {
        for ok in ["1.4.0", "2.0-beta3", "1.0+45", "2024.05.01_1"] {
            assert_eq!(invalid_version(ok), None, "{ok}");
        }
        for bad in ["1.0/2", "../1", "1..0", "1.0 beta", "١.٠", "1\\0", ".1"] {
            assert!(invalid_version(bad).is_some(), "{bad}");
        }
    }
}
