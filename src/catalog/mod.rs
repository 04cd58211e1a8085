//! The model: apps and their builds, ordered newest first, each build made once and complete from
//! the read facts of its release. No I/O happens here. Where files go is the layout's business
//! ([`crate::layout`]); whether a build installs is [`signing`]'s; which icon it shows is
//! [`icons`]'s; what makes a release publishable is [`validate`]'s. Text from the releases and
//! the config that pages, feeds and manifests show is made [`publishable`] here, once, so every
//! output shows the same text.

mod icons;
pub(crate) mod signing;
mod validate;

#[cfg(test)]
pub(crate) mod testing;

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::sync::Arc;

use time::OffsetDateTime;
use url::Url;

use crate::config::Config;
use crate::diag::Diagnostic;
use crate::icons::IconStore;
use crate::ipa::{IconSet, IpaFacts, Profile, ProfileStatus};
use crate::layout::{Layout, ReservedNames};
use crate::markdown;
use crate::notes::{Notes, ReleaseDate};
use crate::scan::ReleaseSource;
use crate::spill::{Spill, Spilled};
use crate::text::{publishable, publishable_string};
use crate::urls;

pub(crate) use signing::Verdict;

/// A release after reading: its files, what the IPA says and what its notes say.
#[derive(Debug, Clone)]
pub(crate) struct ReadRelease {
    pub source: ReleaseSource,
    /// Boxed: the model frees each release's facts as it makes the build, and a catalog's
    /// releases are all read before it starts.
    pub facts: Box<IpaFacts>,
    /// Its notes but their text, which is in `rendered` ([`render_notes`]).
    pub notes: Notes,
    /// The notes' text, rendered as it was read.
    pub rendered: Option<RenderedNotes>,
    /// What the published catalog index says of it ([`crate::published::entry`]), kept aside
    /// until the index is written.
    pub entry: Spilled,
    /// Published before and not at hand: its IPA and icons are already where they are
    /// published, and stay there.
    pub published: bool,
    /// A published build's icons as fetched, to be written again (for a host that takes a
    /// whole folder per deploy).
    pub published_icons: Option<Arc<IconSet>>,
}

#[derive(Debug)]
pub(crate) struct Catalog {
    pub title: String,
    pub description_html: Option<String>,
    /// Where each file of the catalog goes.
    pub layout: Layout,
    /// Apps by name.
    pub apps: Vec<App>,
}

#[derive(Debug)]
pub(crate) struct App {
    pub bundle_id: String,
    pub name: String,
    /// Path segment of the app below the output root.
    pub slug: String,
    pub description_html: Option<String>,
    /// The channel `latest/` presents first.
    pub default_channel: String,
    /// The unlisted channel whose builds these are, on its secret page; `None` for the app's
    /// listed builds.
    pub share: Option<Share>,
    /// Newest first.
    pub builds: Vec<Build>,
    /// The index in `builds` of each channel's build for `latest/<channel>/`, newest first:
    /// found once, for the pages of every build that ask.
    latest_of_channels: Vec<usize>,
}

/// An unlisted channel: its builds are on no page or feed but those below its secret path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Share {
    /// The channel's name, as its first build gives it.
    pub channel: String,
    /// The channel's slug.
    pub slug: String,
    /// Its pages' secret path segment ([`crate::secret::SiteSecret::share_token`]).
    pub token: String,
}

#[derive(Debug)]
pub(crate) struct Build {
    pub source: ReleaseSource,
    /// The app's, held once.
    pub bundle_id: Arc<str>,
    /// Marketing version: CFBundleShortVersionString, else the notes' `version`, else
    /// CFBundleVersion.
    pub version: String,
    /// CFBundleVersion, when the IPA has one.
    pub build_number: Option<String>,
    /// The notes' `title`, else the IPA's display name, else the app's name.
    pub title: String,
    /// Held once for all builds of the channel.
    pub channel: Arc<str>,
    pub draft: bool,
    pub date: Option<ReleaseDate>,
    /// When its Info.plist was written, by the IPA's zip entry.
    pub built_at: Option<OffsetDateTime>,
    /// The notes rendered once, for pages and feeds.
    pub notes: Option<RenderedNotes>,
    /// Path segment of the build below its app.
    pub slug: String,
    /// The secret path segment of a private catalog's build or an unlisted channel's: its
    /// install files (manifest, icons, IPA) go in `i/<token>/` ([`crate::layout::INSTALL_DIR`]).
    pub install_token: Option<String>,
    /// The IPA's file name in the output.
    pub ipa_file_name: String,
    pub package: Package,
    /// The provisioning profile, when readable.
    pub profile: Option<Arc<Profile>>,
    pub verdict: Verdict,
    /// The icons published with the build: its own, the app's configured one, or a placeholder;
    /// none for a build published before (its icons stay where they are).
    pub icons: Arc<IconSet>,
    /// What the published catalog index says of it, kept aside until the index is written.
    pub entry: Spilled,
    /// Published before and not at hand: only its pages and manifest are made again.
    pub published: bool,
}

/// Release notes rendered once, as HTML and as plain text, and kept aside until a page or feed
/// shows them: a few hundred bytes per build that a catalog of thousands need not hold.
#[derive(Clone)]
pub(crate) struct RenderedNotes {
    /// The HTML, then the text.
    both: Spilled,
    /// Where the text starts.
    html_len: usize,
    /// A digest of both, standing for them where the model is compared (a part's input).
    digest: u128,
}

impl RenderedNotes {
    /// Keeps `html` and `text` in `spill`.
    pub fn new(spill: &Arc<Spill>, mut html: String, text: String) -> RenderedNotes {
        let digest = crate::text::sha256([
            &(html.len() as u64).to_le_bytes()[..],
            html.as_bytes(),
            text.as_bytes(),
        ]);
        let html_len = html.len();
        html.push_str(&text);
        RenderedNotes {
            both: spill.keep(html),
            html_len,
            digest: crate::record::print(&digest),
        }
    }

    /// The notes as HTML.
    pub fn html(&self) -> std::io::Result<Arc<str>> {
        self.part(..self.html_len)
    }

    /// The notes as HTML and as plain text, from one read.
    pub fn html_and_text(&self) -> std::io::Result<(Arc<str>, Arc<str>)> {
        let both = self.both.read()?;
        let (html, text) = both
            .split_at_checked(self.html_len)
            .ok_or_else(|| std::io::Error::other("the notes read back are cut short"))?;
        Ok((Arc::from(html), Arc::from(text)))
    }

    fn part(
        &self,
        range: impl std::slice::SliceIndex<str, Output = str>,
    ) -> std::io::Result<Arc<str>> {
        let both = self.both.read()?;
        both.get(range)
            .map(Arc::from)
            .ok_or_else(|| std::io::Error::other("the notes read back are cut short"))
    }
}

impl std::fmt::Debug for RenderedNotes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RenderedNotes({:032x})", self.digest)
    }
}

impl PartialEq for RenderedNotes {
    fn eq(&self, other: &Self) -> bool {
        self.digest == other.digest
    }
}

impl Eq for RenderedNotes {}

/// The IPA file's facts that pages and feeds show. What an app's builds have alike (the
/// minimum OS, device families and platforms) is held once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Package {
    /// Size in bytes.
    pub size: u64,
    /// SHA-256, lowercase hex.
    pub sha256: String,
    pub minimum_os: Option<Arc<str>>,
    /// UIDeviceFamily.
    pub device_families: Arc<[u64]>,
    /// CFBundleSupportedPlatforms.
    pub platforms: Arc<[String]>,
}

impl Catalog {
    /// How many apps the catalog publishes, each once whatever channels its builds are in.
    pub fn app_count(&self) -> usize {
        let mut ids: Vec<&str> = self.apps.iter().map(|a| a.bundle_id.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        ids.len()
    }

    /// How many builds the catalog publishes.
    pub fn build_count(&self) -> usize {
        self.apps.iter().map(|a| a.builds.len()).sum()
    }

    /// Every build with its app, unlisted ones too.
    pub fn builds(&self) -> impl Iterator<Item = (&App, &Build)> {
        self.apps
            .iter()
            .flat_map(|a| a.builds.iter().map(move |b| (a, b)))
    }

    /// The apps on the catalog page and in the site feed: each app's builds in channels that
    /// are not unlisted.
    pub fn listed_apps(&self) -> impl Iterator<Item = &App> {
        self.apps.iter().filter(|a| a.share.is_none())
    }

    /// The unlisted channels, each once, by slug.
    pub fn shares(&self) -> Vec<&Share> {
        let mut shares: Vec<&Share> = self.apps.iter().filter_map(|a| a.share.as_ref()).collect();
        shares.sort_by(|a, b| a.slug.cmp(&b.slug));
        shares.dedup_by(|a, b| a.slug == b.slug);
        shares
    }
}

impl App {
    /// The IPA of the app's first release by path: the file a problem of the app is reported on.
    pub fn first_release(&self) -> Option<&std::path::Path> {
        self.builds.iter().map(|b| b.source.ipa.as_path()).min()
    }

    /// The build `latest/` presents: the newest of the default channel that can be installed,
    /// else the newest of any channel that can, else the newest.
    pub fn latest(&self) -> Option<&Build> {
        let default = urls::slugify(&self.default_channel, "c");
        self.builds
            .iter()
            .find(|b| b.installable() && b.channel_slug() == default)
            .or_else(|| newest_installable(self.builds.iter()))
    }

    /// The channels, each with the build its `latest/<channel>/` presents, newest first.
    /// Channels that differ only in case or punctuation (`Beta`, `beta`) are one channel: they
    /// share a `latest/` path.
    pub fn latest_per_channel(&self) -> Vec<&Build> {
        self.latest_of_channels
            .iter()
            .map(|&i| &self.builds[i])
            .collect()
    }

    /// Where `build` (one of this app's) is in `builds`, newest first.
    pub fn index_of(&self, build: &Build) -> Option<usize> {
        let start = self.builds.as_ptr() as usize;
        let at = build as *const Build as usize;
        let i = at.checked_sub(start)? / std::mem::size_of::<Build>().max(1);
        self.builds
            .get(i)
            .filter(|b| std::ptr::eq(*b, build))
            .map(|_| i)
    }
}

/// For each channel (by slug, in the order of `builds`), the index of its newest installable
/// build, else its newest; newest first.
fn latest_of_channels(builds: &[Build]) -> Vec<usize> {
    let slugs: Vec<String> = builds.iter().map(Build::channel_slug).collect();
    let mut channels: Vec<&str> = Vec::new();
    for slug in &slugs {
        if !channels.contains(&slug.as_str()) {
            channels.push(slug);
        }
    }
    let mut latest: Vec<usize> = channels
        .iter()
        .filter_map(|c| {
            let mut of_channel = (0..builds.len()).filter(|&i| slugs[i] == *c);
            of_channel
                .clone()
                .find(|&i| builds[i].installable())
                .or_else(|| of_channel.next())
        })
        .collect();
    // Builds are newest first, so their position orders the channels.
    latest.sort_unstable();
    latest
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
        !self.verdict.expired && self.verdict.not_installable.is_none()
    }

    /// When the build came out: its notes' date, else when its Info.plist was written.
    pub fn published(&self) -> Option<OffsetDateTime> {
        self.date.map(|d| d.0).or(self.built_at)
    }
}

/// A release whose version is known and whose signing is judged: what the model orders before it
/// makes the build.
struct Identified {
    release: ReadRelease,
    version: String,
    build_number: Option<String>,
    verdict: Verdict,
}

/// Orders releases newest first: marketing version, then build number, then date, then path.
fn newest_first(a: &Identified, b: &Identified) -> Ordering {
    crate::version::compare(&b.version, &a.version)
        .then_with(|| {
            crate::version::compare(
                b.build_number.as_deref().unwrap_or(""),
                a.build_number.as_deref().unwrap_or(""),
            )
        })
        .then_with(|| b.release.notes.date.cmp(&a.release.notes.date))
        .then_with(|| b.release.source.ipa.cmp(&a.release.source.ipa))
}

/// What the model needs besides the releases.
pub(crate) struct ModelOptions<'a> {
    pub base_url: &'a Url,
    /// Publish drafts too.
    pub drafts: bool,
    /// The time profiles are checked against.
    pub now: OffsetDateTime,
    /// Icons from the apps' `icon` settings, by bundle identifier.
    pub configured_icons: &'a BTreeMap<String, Arc<IconSet>>,
    /// Where the icons the releases name were rendered, and placeholders are drawn.
    pub icons: &'a IconStore,
    /// Names no app, build or channel may take: relsite's own and the theme's.
    pub reserved: &'a ReservedNames,
    /// The site secret of a private catalog: its builds' install files go under tokens.
    pub secret: Option<&'a crate::secret::SiteSecret>,
}

/// Builds the catalog from every release read. Drafts are left out unless `drafts`.
pub(crate) fn model(
    config: &Config,
    releases: Vec<ReadRelease>,
    options: &ModelOptions<'_>,
) -> (Catalog, Vec<Diagnostic>) {
    let mut problems = Vec::new();
    let layout = Layout::new(
        options.base_url,
        config.ipa_base_url.as_ref().map(|u| u.as_url()),
        options.secret.map(|s| s.index_token()),
    );
    let mut shared = Shared::default();
    let mut releases = releases;
    releases.retain(|release| options.drafts || !release.notes.draft);
    // Grouped by app without moving the releases (each is large, and a catalog has thousands):
    // an order sorted by app, stably, so each app's releases stay in the order they were read.
    let mut order: Vec<usize> = (0..releases.len()).collect();
    order.sort_by(|&a, &b| {
        releases[a]
            .facts
            .plist
            .bundle_id
            .cmp(&releases[b].facts.plist.bundle_id)
    });
    let mut releases: Vec<Option<ReadRelease>> = releases.into_iter().map(Some).collect();
    let mut apps: Vec<App> = Vec::new();
    let mut order = order.into_iter().peekable();
    while let Some(first) = order.next().and_then(|i| releases[i].take()) {
        let bundle_id = first.facts.plist.bundle_id.clone();
        let mut of_app = vec![first];
        while let Some(i) = order.next_if(|&i| {
            releases[i]
                .as_ref()
                .is_some_and(|r| r.facts.plist.bundle_id == bundle_id)
        }) {
            of_app.extend(releases[i].take());
        }
        apps.extend(model_app(
            config,
            bundle_id,
            of_app,
            options,
            &mut shared,
            &mut problems,
        ));
    }
    apps.sort_by(|a, b| {
        a.name
            .to_lowercase()
            .cmp(&b.name.to_lowercase())
            .then_with(|| a.slug.cmp(&b.slug))
    });
    problems.extend(validate::collisions(&apps, &layout));
    problems.extend(validate::reserved_slugs(
        config,
        &apps,
        &layout,
        options.reserved,
    ));
    let catalog = Catalog {
        title: publishable(&config.title).into_owned(),
        description_html: config.description.as_deref().map(markdown::to_html),
        layout,
        apps,
    };
    (catalog, problems)
}

/// One app from its releases: its listed builds, then one app of each unlisted channel's;
/// none when none of them can be published.
fn model_app(
    config: &Config,
    bundle_id: String,
    releases: Vec<ReadRelease>,
    options: &ModelOptions<'_>,
    shared: &mut Shared,
    problems: &mut Vec<Diagnostic>,
) -> Vec<App> {
    let mut identified: Vec<Identified> = releases
        .into_iter()
        .filter_map(|release| identify(release, options.now, problems))
        .collect();
    // A build published before and at hand again: the release at hand replaces it (its notes
    // may differ), but never with another IPA at the same paths, which hosts cache for good.
    let at_hand: BTreeMap<String, (&str, &std::path::Path)> = identified
        .iter()
        .filter(|i| !i.release.published)
        .map(|i| {
            let slug = version_slug(&i.version, i.build_number.as_deref());
            (
                slug,
                (
                    i.release.facts.sha256.as_str(),
                    i.release.source.ipa.as_path(),
                ),
            )
        })
        .collect();
    let mut replaced_by_another = Vec::new();
    for i in identified.iter().filter(|i| i.release.published) {
        let slug = version_slug(&i.version, i.build_number.as_deref());
        if let Some((sha256, ipa)) = at_hand.get(&slug)
            && *sha256 != i.release.facts.sha256
        {
            replaced_by_another.push(Diagnostic::error(
                ipa.to_path_buf(),
                format!(
                    "is build {slug} of {bundle_id}, published before with another IPA: give this one a new build number (CFBundleVersion), since hosts keep a published IPA for good"
                ),
            ));
        }
    }
    let at_hand: std::collections::HashSet<String> = at_hand.into_keys().collect();
    problems.extend(replaced_by_another);
    identified.retain(|i| {
        !i.release.published
            || !at_hand.contains(&version_slug(&i.version, i.build_number.as_deref()))
    });
    identified.sort_by(newest_first);
    let settings = config.apps.get(&bundle_id);
    let name = settings
        .and_then(|s| s.name.clone())
        .or_else(|| {
            identified
                .first()
                .and_then(|i| i.release.facts.plist.display_name.clone())
        })
        .map(publishable_string)
        .unwrap_or_else(|| bundle_id.clone());
    let slug = app_slug(config, &bundle_id);
    let icons = icons::IconChoice::new(
        options.icons,
        &bundle_id,
        &name,
        options.configured_icons.get(&bundle_id),
    );
    let mut builds: Vec<Build> = identified
        .into_iter()
        .filter_map(|i| make_build(i, &name, &icons, config, options.secret, shared, problems))
        .collect();
    prune(config, &bundle_id, &mut builds, problems);
    // Each unlisted channel's builds are an app of their own, below its secret page.
    let mut shared_builds: Vec<(Share, Vec<Build>)> = Vec::new();
    if let Some(secret) = options.secret.filter(|_| config.has_unlisted()) {
        for build in builds.extract_if(.., |b| config.is_unlisted(&b.channel)) {
            let slug = build.channel_slug();
            match shared_builds
                .iter_mut()
                .find(|(share, _)| share.slug == slug)
            {
                Some((_, of_share)) => of_share.push(build),
                None => {
                    let share = Share {
                        channel: build.channel.to_string(),
                        token: secret.share_token(&slug),
                        slug,
                    };
                    shared_builds.push((share, vec![build]));
                }
            }
        }
    }
    let description_html = settings
        .and_then(|s| s.description.as_deref())
        .map(markdown::to_html);
    let default_channel = publishable(config.default_channel(&bundle_id)).into_owned();
    let groups = std::iter::once((None, builds)).chain(
        shared_builds
            .into_iter()
            .map(|(share, of)| (Some(share), of)),
    );
    groups
        .filter(|(_, builds)| !builds.is_empty())
        .map(|(share, mut builds)| {
            builds.shrink_to_fit();
            App {
                description_html: description_html.clone(),
                default_channel: default_channel.clone(),
                bundle_id: bundle_id.clone(),
                name: name.clone(),
                slug: slug.clone(),
                share,
                latest_of_channels: latest_of_channels(&builds),
                builds,
            }
        })
        .collect()
}

/// Leaves out the builds beyond `keep` of each channel (newest first), but never a channel's
/// newest installable build. A release at hand that is left out is said; a build published
/// before simply goes, and with it its published files on the next deploy.
fn prune(
    config: &Config,
    bundle_id: &str,
    builds: &mut Vec<Build>,
    problems: &mut Vec<Diagnostic>,
) {
    let mut seen: BTreeMap<Arc<str>, usize> = BTreeMap::new();
    let mut installable_kept: std::collections::HashSet<Arc<str>> =
        std::collections::HashSet::new();
    let keep: Vec<bool> = builds
        .iter()
        .map(|build| {
            let count = seen.entry(build.channel.clone()).or_default();
            *count += 1;
            let within = config
                .keep(bundle_id, &build.channel)
                .is_none_or(|keep| *count <= keep);
            let newest_installable =
                build.installable() && installable_kept.insert(build.channel.clone());
            within || newest_installable
        })
        .collect();
    let mut kept = keep.into_iter();
    builds.retain(|build| {
        let keep = kept.next().unwrap_or(true);
        if !keep && !build.published {
            problems.push(Diagnostic::warning(
                build.source.ipa.clone(),
                format!(
                    "is beyond `keep: {}` for channel {} of {bundle_id}: it is not published",
                    config.keep(bundle_id, &build.channel).unwrap_or_default(),
                    build.channel
                ),
            ));
        }
        keep
    });
}

/// A warning for a `default_channel` no build is in, a typo most likely: per app for an app's
/// own setting, once for the site's when no app has a build in it. `latest/` then presents
/// the newest installable build of any channel.
pub(crate) fn default_channel_warnings(config: &Config, catalog: &Catalog) -> Vec<Diagnostic> {
    let has = |app: &App, channel: &str| {
        let slug = urls::slugify(channel, "c");
        app.builds.iter().any(|b| b.channel_slug() == slug)
    };
    let warn = |key: String, channel: &str, whose: String| {
        Diagnostic::warning(
            std::path::PathBuf::from(crate::config::CONFIG_FILE),
            format!(
                "`{key}: {channel}`: no build of {whose} is in that channel; latest/ presents the newest installable build of any channel"
            ),
        )
    };
    let mut problems: Vec<Diagnostic> = catalog
        .listed_apps()
        .filter_map(|app| {
            let own = config
                .apps
                .get(&app.bundle_id)?
                .default_channel
                .as_deref()?;
            (!has(app, own)).then(|| {
                warn(
                    format!("apps.{}.default_channel", app.bundle_id),
                    own,
                    format!("app {}", app.bundle_id),
                )
            })
        })
        .collect();
    if let Some(site) = config.default_channel.as_deref()
        && catalog.listed_apps().next().is_some()
        && !catalog.listed_apps().any(|app| has(app, site))
    {
        problems.push(warn("default_channel".into(), site, "any app".into()));
    }
    problems
}

/// Problems of unlisted channels: a build whose channel is written like an unlisted one but is
/// another channel (`Q.A.` for `qa`) would be published openly, an error; an unlisted channel
/// no build is in is a warning, a typo most likely.
pub(crate) fn unlisted_channel_problems(config: &Config, catalog: &Catalog) -> Vec<Diagnostic> {
    let letters = |name: &str| -> String {
        name.chars()
            .filter(|c| c.is_alphanumeric())
            .flat_map(char::to_lowercase)
            .collect()
    };
    let unlisted: Vec<&String> = config
        .channels
        .iter()
        .filter(|(_, c)| c.unlisted)
        .map(|(name, _)| name)
        .collect();
    let mut problems: Vec<Diagnostic> = catalog
        .listed_apps()
        .flat_map(|app| &app.builds)
        .filter_map(|build| {
            let like = unlisted
                .iter()
                .find(|name| letters(name) == letters(&build.channel))?;
            Some(Diagnostic::error(
                build.source.ipa.clone(),
                format!(
                    "is in channel `{}`, which is not the unlisted channel `{like}` (its path would be `{}`, not `{}`), so it would be published openly: name the channel as relsite.yaml does",
                    build.channel,
                    build.channel_slug(),
                    urls::slugify(like, "c")
                ),
            ))
        })
        .collect();
    let shared: Vec<&str> = catalog.shares().iter().map(|s| s.slug.as_str()).collect();
    if catalog.build_count() > 0 {
        problems.extend(
            unlisted
                .iter()
                .filter(|name| !shared.contains(&urls::slugify(name, "c").as_str()))
                .map(|name| {
                    Diagnostic::warning(
                        std::path::PathBuf::from(crate::config::CONFIG_FILE),
                        format!("channel `{name}` is unlisted, but no build is in it"),
                    )
                }),
        );
    }
    problems
}

/// A warning for each app of which no build can be installed: every build has expired, has no
/// profile, or is not for iOS.
pub(crate) fn uninstallable_apps(catalog: &Catalog) -> Vec<Diagnostic> {
    // An app's listed builds and each unlisted channel's are apps of their own: judged together.
    let mut apps: BTreeMap<&str, Vec<&App>> = BTreeMap::new();
    for app in &catalog.apps {
        apps.entry(&app.bundle_id).or_default().push(app);
    }
    apps.into_iter()
        .filter(|(_, apps)| {
            let mut builds = apps.iter().flat_map(|app| &app.builds);
            !builds.any(Build::installable)
        })
        .map(|(bundle_id, apps)| {
            let first = apps.iter().filter_map(|app| app.first_release()).min();
            Diagnostic::warning(
                first.map(std::path::Path::to_path_buf),
                format!(
                    "no build of app {bundle_id} can be installed: each has expired, has no provisioning profile or is not for iOS; testers will find nothing to install"
                ),
            )
        })
        .collect()
}

/// Names the release's version and judges its signing; a release that cannot be published is
/// reported and left out.
fn identify(
    release: ReadRelease,
    now: OffsetDateTime,
    problems: &mut Vec<Diagnostic>,
) -> Option<Identified> {
    let signing = signing::check(&release.source.ipa, &release.facts, now);
    problems.extend(signing.warnings);
    let named = validate::identify(&release.source, &release.facts.plist, &release.notes);
    match (named, signing.verdict) {
        (Ok((version, build_number)), Ok(verdict)) => Some(Identified {
            release,
            version,
            build_number,
            verdict,
        }),
        (named, verdict) => {
            problems.extend(named.err());
            problems.extend(verdict.err());
            None
        }
    }
}

/// The build, complete: everything pages, feeds and files need of it.
fn make_build(
    identified: Identified,
    app_name: &str,
    icons: &icons::IconChoice<'_>,
    config: &Config,
    secret: Option<&crate::secret::SiteSecret>,
    shared: &mut Shared,
    problems: &mut Vec<Diagnostic>,
) -> Option<Build> {
    let Identified {
        release:
            ReadRelease {
                source,
                facts,
                notes,
                entry,
                published,
                published_icons,
                rendered,
            },
        version,
        build_number,
        verdict,
    } = identified;
    let IpaFacts {
        plist,
        profile,
        icon,
        size,
        sha256,
        built_at,
    } = *facts;
    let icons = if published {
        published_icons.unwrap_or_else(|| Arc::new(IconSet::published()))
    } else {
        icons.choose(&source.ipa, icon, problems)?
    };
    let stem = source
        .ipa
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let slug = version_slug(&version, build_number.as_deref());
    let channel = publishable(notes.channel()).into_owned();
    // A private catalog's builds and an unlisted channel's are never published openly.
    let install_token = match (config.private || config.is_unlisted(&channel), secret) {
        (false, _) => None,
        (true, Some(secret)) => Some(secret.install_token(&plist.bundle_id, &slug)),
        (true, None) => {
            problems.push(Diagnostic::error(
                source.ipa.clone(),
                "belongs at a secret path, and the site has no secret",
            ));
            return None;
        }
    };
    Some(Build {
        install_token,
        bundle_id: shared.text(plist.bundle_id),
        slug,
        version,
        build_number,
        title: notes
            .title
            .clone()
            .or(plist.display_name)
            .map(publishable_string)
            .unwrap_or_else(|| app_name.to_string()),
        channel: shared.text(channel),
        draft: notes.draft,
        date: notes.date,
        built_at,
        notes: rendered,
        ipa_file_name: format!("{}.ipa", urls::slugify(&stem, "app-")),
        package: Package {
            size,
            sha256,
            minimum_os: plist
                .minimum_os
                .map(|os| shared.text(publishable_string(os))),
            device_families: shared.families(plist.device_families),
            platforms: shared.platforms(
                plist
                    .platforms
                    .into_iter()
                    .map(publishable_string)
                    .collect(),
            ),
        },
        profile: match profile {
            ProfileStatus::Found { profile } => Some(shared.profile(profile)),
            ProfileStatus::Missing | ProfileStatus::Unreadable { .. } => None,
        },
        verdict,
        icons,
        source,
        entry,
        published,
    })
}

/// Renders the notes' text, taking it out of `notes`, and keeps it in `spill`: a release's
/// notes are rendered once, as it is read, and a catalog's are never all held as text.
pub(crate) fn render_notes(spill: &Arc<Spill>, notes: &mut Notes) -> Option<RenderedNotes> {
    let markdown = notes.notes.take()?;
    (!markdown.trim().is_empty()).then(|| {
        RenderedNotes::new(
            spill,
            markdown::to_html(&markdown),
            markdown::to_text(&markdown),
        )
    })
}

/// What a catalog's builds have alike, each held once however many builds carry it: their
/// profiles (an app's builds are often signed with one), and texts and lists (bundle id,
/// channel, minimum OS, device families, platforms).
#[derive(Default)]
struct Shared {
    /// Each profile as read, with the same made publishable.
    published: std::collections::HashMap<Arc<Profile>, Arc<Profile>>,
    /// The publishable profiles, each once.
    profiles: std::collections::HashSet<Arc<Profile>>,
    texts: std::collections::HashSet<Arc<str>>,
    families: std::collections::HashSet<Arc<[u64]>>,
    platforms: std::collections::HashSet<Arc<[String]>>,
}

/// The value `set` holds equal to `value`, taking `value` in when it holds none.
fn held_once<T, V>(set: &mut std::collections::HashSet<Arc<T>>, value: V) -> Arc<T>
where
    T: ?Sized + Eq + std::hash::Hash,
    V: std::borrow::Borrow<T> + Into<Arc<T>>,
{
    if let Some(held) = set.get(value.borrow()) {
        return Arc::clone(held);
    }
    let held: Arc<T> = value.into();
    set.insert(Arc::clone(&held));
    held
}

impl Shared {
    fn text(&mut self, text: String) -> Arc<str> {
        held_once(&mut self.texts, text)
    }

    fn families(&mut self, families: Vec<u64>) -> Arc<[u64]> {
        held_once(&mut self.families, families)
    }

    fn platforms(&mut self, platforms: Vec<String>) -> Arc<[String]> {
        held_once(&mut self.platforms, platforms)
    }

    /// `profile` (as read) made publishable, held once however many builds have it.
    fn profile(&mut self, profile: Arc<Profile>) -> Arc<Profile> {
        if let Some(published) = self.published.get(&profile) {
            return Arc::clone(published);
        }
        let shared = held_once(
            &mut self.profiles,
            publishable_profile(Arc::clone(&profile)),
        );
        self.published.insert(profile, Arc::clone(&shared));
        shared
    }
}

/// The profile with the text pages and manifests show made [`publishable`].
fn publishable_profile(profile: Arc<Profile>) -> Profile {
    let mut profile = Arc::unwrap_or_clone(profile);
    for text in [
        &mut profile.name,
        &mut profile.team_name,
        &mut profile.team_id,
    ] {
        *text = text.take().map(publishable_string);
    }
    profile.devices = std::mem::take(&mut profile.devices)
        .into_iter()
        .map(publishable_string)
        .collect();
    profile
}

/// The marketing version and build number a release is published as, as the model names them.
pub(crate) fn identify_version(
    source: &ReleaseSource,
    plist: &crate::ipa::InfoPlist,
    notes: &Notes,
) -> Option<(String, Option<String>)> {
    validate::identify(source, plist, notes).ok()
}

/// A build's path segment: `<version>-<build>`, or the version alone when the build number is
/// missing or the same, so two builds of one version get two stable paths.
pub(crate) fn version_slug(version: &str, build: Option<&str>) -> String {
    match build {
        Some(b) if b != version => urls::slugify(&format!("{version}-{b}"), "v"),
        _ => urls::slugify(version, "v"),
    }
}

/// The path segment of an app: its configured slug, else its bundle identifier.
pub(crate) fn app_slug(config: &Config, bundle_id: &str) -> String {
    config
        .apps
        .get(bundle_id)
        .and_then(|a| a.slug.clone())
        .unwrap_or_else(|| urls::slugify(bundle_id, "app-"))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use time::Duration;

    use super::testing::{NOW, Release, Signed, config, modelled, modelled_with, release};
    use super::*;

    const ID: &str = "com.e.field";

    fn only_app(catalog: &Catalog) -> &App {
        assert_eq!(catalog.apps.len(), 1, "{:?}", catalog.apps);
        &catalog.apps[0]
    }

    /// The builds' path segments, `<version>-<build>`, in order.
    fn slugs<'a>(builds: impl IntoIterator<Item = &'a Build>) -> Vec<&'a str> {
        builds.into_iter().map(|b| b.slug.as_str()).collect()
    }

    fn expired() -> Signed {
        Signed::AdHoc(NOW - Duration::days(1))
    }

    /// The model of `releases` under `extra` config, in a site with the test secret.
    fn modelled_secretly(extra: &str, releases: Vec<Release>) -> (Arc<Catalog>, Vec<Diagnostic>) {
        let secret = super::testing::test_secret();
        super::testing::modelled_secret(&config(extra), false, Some(&secret), releases)
    }

    #[test]
    fn unlisted_channels_are_apps_of_their_own_below_their_share() {
        let secret = super::testing::test_secret();
        let (catalog, problems) = modelled_secretly(
            "channels:\n  QA:\n    unlisted: true\n",
            vec![
                release(ID, "1.0", "1"),
                release(ID, "1.1", "2").notes("channel: qa\n"),
                release(ID, "1.2", "3").notes("channel: QA\n"),
                release("com.e.ledger", "2.0", "7").notes("channel: qa\n"),
            ],
        );
        assert_eq!(problems, []);
        let listed: Vec<&App> = catalog.listed_apps().collect();
        assert_eq!(listed.len(), 1);
        assert_eq!(slugs(&listed[0].builds), ["1.0-1"]);
        assert_eq!(listed[0].latest().map(|b| b.slug.as_str()), Some("1.0-1"));
        assert_eq!(slugs(listed[0].latest_per_channel()), ["1.0-1"]);
        assert_eq!(
            listed[0].builds[0].install_token, None,
            "a listed build's files stay"
        );
        let shares = catalog.shares();
        assert_eq!(shares.len(), 1);
        assert_eq!(shares[0].slug, "qa");
        assert_eq!(shares[0].token, secret.share_token("qa"));
        let unlisted: Vec<&App> = catalog.apps.iter().filter(|a| a.share.is_some()).collect();
        assert_eq!(unlisted.len(), 2);
        let field = unlisted.iter().find(|a| a.bundle_id == ID).unwrap();
        assert_eq!(slugs(&field.builds), ["1.2-3", "1.1-2"]);
        for build in &field.builds {
            assert_eq!(
                build.install_token.as_deref(),
                Some(secret.install_token(ID, &build.slug).as_str())
            );
        }
        assert_eq!(catalog.builds().count(), 4, "every build is in the index");
    }

    #[test]
    fn a_channel_written_like_an_unlisted_one_is_an_error() {
        let config =
            config("channels:\n  qa:\n    unlisted: true\n  QA Team:\n    unlisted: true\n");
        let secret = super::testing::test_secret();
        let (catalog, problems) = super::testing::modelled_secret(
            &config,
            false,
            Some(&secret),
            vec![
                release(ID, "1.0", "1")
                    .ipa("releases/a/Field.ipa")
                    .notes("channel: Q.A.\n"),
                release(ID, "1.1", "2")
                    .ipa("releases/b/Field.ipa")
                    .notes("channel: Qa!\n"),
            ],
        );
        assert_eq!(problems, []);
        let shown: Vec<String> = unlisted_channel_problems(&config, &catalog)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            shown,
            [
                "releases/a/Field.ipa: error: is in channel `Q.A.`, which is not the unlisted channel `qa` (its path would be `q.a.`, not `qa`), so it would be published openly: name the channel as relsite.yaml does",
                "relsite.yaml: warning: channel `QA Team` is unlisted, but no build is in it",
            ]
        );
    }

    #[test]
    fn an_app_in_listed_and_unlisted_channels_is_one_app_to_warnings_and_counts() {
        let extra = "apps:\n  com.e.field:\n    default_channel: stable\nchannels:\n  qa:\n    unlisted: true\n";
        let (catalog, problems) = modelled_secretly(
            extra,
            vec![
                release(ID, "1.0", "1"),
                release(ID, "1.1", "2")
                    .notes("channel: qa\n")
                    .signed(expired()),
            ],
        );
        let shown: Vec<String> = problems.iter().map(ToString::to_string).collect();
        assert_eq!(
            shown,
            [
                "releases/com.e.field-1.1-2.ipa: warning: its profile `ad-hoc profile` expired on 2024-05-31: the build stays listed, marked expired, without an install button"
            ]
        );
        assert_eq!((catalog.apps.len(), catalog.app_count()), (2, 1));
        // Its unlisted builds cannot be installed, its listed one can: no warning either way.
        assert_eq!(uninstallable_apps(&catalog), []);
        assert_eq!(default_channel_warnings(&config(extra), &catalog), []);
    }

    #[test]
    fn one_build_in_a_listed_and_an_unlisted_channel_collides() {
        let (_, problems) = modelled_secretly(
            "channels:\n  qa:\n    unlisted: true\n",
            vec![
                release(ID, "1.0", "1").ipa("releases/a/Field.ipa"),
                release(ID, "1.0", "1")
                    .ipa("releases/b/Field.ipa")
                    .notes("channel: qa\n"),
            ],
        );
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(
            problems[0].to_string(),
            "releases/b/Field.ipa: error: is build 1.0-1 of com.e.field as releases/a/Field.ipa is, in channel `qa` and `stable`: a build is published once, in one channel; remove one or give it a new build number"
        );
    }

    #[test]
    fn newer_marketing_versions_sort_first() {
        let (catalog, _) = modelled(vec![
            release(ID, "1.9", "50"),
            release(ID, "1.10", "1"),
            release(ID, "1.2", "1"),
            release(ID, "2.0", "1"),
        ]);
        assert_eq!(
            slugs(&only_app(&catalog).builds),
            ["2.0-1", "1.10-1", "1.9-50", "1.2-1"]
        );
    }

    #[test]
    fn newer_build_numbers_sort_first_within_a_version() {
        let (catalog, _) = modelled(vec![
            release(ID, "1.0", "9"),
            release(ID, "1.0", "10"),
            release(ID, "1.0", "2"),
        ]);
        assert_eq!(
            slugs(&only_app(&catalog).builds),
            ["1.0-10", "1.0-9", "1.0-2"]
        );
    }

    // `1.0` and `1.0.0` are one version and `7` and `07` one build number, yet their paths differ.

    #[test]
    fn newer_dates_sort_first_when_versions_tie() {
        let (catalog, problems) = modelled(vec![
            release(ID, "1.0.0", "07").notes("date: 2024-05-01\n"),
            release(ID, "1.0", "7").notes("date: 2024-05-02T09:00:00Z\n"),
        ]);
        assert_eq!(problems, []);
        assert_eq!(slugs(&only_app(&catalog).builds), ["1.0-7", "1.0.0-07"]);
    }

    #[test]
    fn later_paths_sort_first_when_versions_and_dates_tie() {
        for (first, second, newest) in [("a", "b", "1.0.0-07"), ("b", "a", "1.0-7")] {
            let (catalog, _) = modelled(vec![
                release(ID, "1.0", "7").ipa(&format!("releases/{first}.ipa")),
                release(ID, "1.0.0", "07").ipa(&format!("releases/{second}.ipa")),
            ]);
            let app = only_app(&catalog);
            assert_eq!(app.builds[0].slug, newest, "{:?}", slugs(&app.builds));
            assert_eq!(app.builds[0].source.ipa, Path::new("releases/b.ipa"));
        }
    }

    #[test]
    fn latest_skips_builds_that_cannot_install() {
        let (catalog, _) = modelled(vec![
            release(ID, "3.0", "1").signed(expired()),
            release(ID, "2.0", "1").platforms(&["AppleTVOS"]),
            release(ID, "1.0", "1"),
            release(ID, "0.9", "1"),
        ]);
        let latest = only_app(&catalog).latest().unwrap();
        assert_eq!(latest.slug, "1.0-1");
        assert!(latest.installable());
    }

    #[test]
    fn latest_is_the_default_channels_newest_installable_build() {
        let releases = || {
            vec![
                release(ID, "3.0", "1").notes("channel: beta\n"),
                release(ID, "2.0", "1").signed(expired()),
                release(ID, "1.5", "1").notes("channel: nightly\n"),
                release(ID, "1.0", "1"),
            ]
        };
        let (catalog, _) = modelled(releases());
        assert_eq!(only_app(&catalog).latest().unwrap().slug, "1.0-1");
        let (catalog, _) = modelled_with(&config("default_channel: nightly\n"), false, releases());
        assert_eq!(only_app(&catalog).latest().unwrap().slug, "1.5-1");
        let both = format!("default_channel: nightly\napps:\n  {ID}:\n    default_channel: beta\n");
        let (catalog, _) = modelled_with(&config(&both), false, releases());
        assert_eq!(only_app(&catalog).latest().unwrap().slug, "3.0-1");
        // A channel with no build to install gives way to the newest installable of any.
        let (catalog, _) = modelled_with(&config("default_channel: rc\n"), false, releases());
        assert_eq!(only_app(&catalog).latest().unwrap().slug, "3.0-1");
    }

    #[test]
    fn a_default_channel_no_build_is_in_is_warned_about() {
        let releases = || {
            vec![
                release(ID, "1.0", "1"),
                release(ID, "2.0", "1").notes("channel: beta\n"),
            ]
        };
        let warned = |extra: &str| {
            let config = config(extra);
            let (catalog, _) = modelled_with(&config, false, releases());
            default_channel_warnings(&config, &catalog)
                .into_iter()
                .map(|d| d.message)
                .collect::<Vec<_>>()
        };
        assert!(warned("").is_empty());
        assert!(
            warned("default_channel: Beta\n").is_empty(),
            "as a path segment"
        );
        let typo = warned("default_channel: stabel\n");
        assert_eq!(typo.len(), 1, "{typo:?}");
        assert!(
            typo[0].starts_with("`default_channel: stabel`: no build of any app"),
            "{typo:?}"
        );
        let own = warned(&format!("apps:\n  {ID}:\n    default_channel: nightly\n"));
        assert!(
            own[0].starts_with(&format!("`apps.{ID}.default_channel: nightly`")),
            "{own:?}"
        );
    }

    #[test]
    fn a_build_knows_its_place_in_its_app() {
        let (catalog, _) = modelled(vec![
            release(ID, "1.0", "1"),
            release(ID, "3.0", "1"),
            release(ID, "2.0", "1"),
        ]);
        let app = only_app(&catalog);
        for (i, build) in app.builds.iter().enumerate() {
            assert_eq!(app.index_of(build), Some(i));
        }
        let (other, _) = modelled(vec![release(ID, "1.0", "1")]);
        assert_eq!(app.index_of(&only_app(&other).builds[0]), None);
    }

    #[test]
    fn latest_falls_back_to_the_newest_when_none_installs() {
        let (catalog, _) = modelled(vec![
            release(ID, "1.0", "1").signed(expired()),
            release(ID, "3.0", "1").signed(expired()),
            release(ID, "2.0", "1").platforms(&["AppleTVOS"]),
        ]);
        assert_eq!(only_app(&catalog).latest().unwrap().slug, "3.0-1");
    }

    #[test]
    fn latest_per_channel_is_one_build_per_channel_newest_first() {
        let (catalog, _) = modelled(vec![
            release(ID, "1.0", "1"),
            release(ID, "2.0", "1").notes("channel: alpha\n"),
            release(ID, "3.0", "1").notes("channel: beta\n"),
            release(ID, "4.0", "1"),
            release(ID, "5.0", "1").notes("channel: beta\n"),
        ]);
        let latest = only_app(&catalog).latest_per_channel();
        assert_eq!(slugs(latest.iter().copied()), ["5.0-1", "4.0-1", "2.0-1"]);
        let channels: Vec<&str> = latest.iter().map(|b| &*b.channel).collect();
        assert_eq!(channels, ["beta", "stable", "alpha"]);
    }

    #[test]
    fn latest_per_channel_skips_builds_that_cannot_install() {
        let (catalog, _) = modelled(vec![
            release(ID, "4.0", "1")
                .notes("channel: beta\n")
                .signed(expired()),
            release(ID, "3.0", "1").signed(expired()),
            release(ID, "2.0", "1").notes("channel: beta\n"),
            release(ID, "1.0", "1").signed(expired()),
        ]);
        let latest = only_app(&catalog).latest_per_channel();
        // Stable has no installable build, so its newest stands; beta's newest has expired.
        assert_eq!(slugs(latest.iter().copied()), ["3.0-1", "2.0-1"]);
    }

    #[test]
    fn channels_differing_only_in_case_or_punctuation_are_one() {
        let (catalog, _) = modelled(vec![
            release(ID, "1.0", "1").notes("channel: BETA!\n"),
            release(ID, "3.0", "1").notes("channel: Beta\n"),
            release(ID, "2.0", "1").notes("channel: beta\n"),
            release(ID, "0.1", "1"),
        ]);
        let latest = only_app(&catalog).latest_per_channel();
        assert_eq!(slugs(latest.iter().copied()), ["3.0-1", "0.1-1"]);
        assert_eq!(&*latest[0].channel, "Beta");
        assert_eq!(latest[0].channel_slug(), "beta");
    }

    #[test]
    fn drafts_are_left_out_unless_asked_for() {
        let releases = || {
            vec![
                release(ID, "2.0", "1").notes("draft: true\n"),
                release(ID, "1.0", "1"),
                release("com.e.sketch", "1.0", "1").notes("draft: true\n"),
            ]
        };
        let (catalog, _) = modelled(releases());
        assert_eq!(slugs(&only_app(&catalog).builds), ["1.0-1"]);

        let (catalog, _) = modelled_with(&config(""), true, releases());
        assert_eq!(catalog.apps.len(), 2);
        let field = &catalog.apps[0];
        assert_eq!(slugs(&field.builds), ["2.0-1", "1.0-1"]);
        assert!(field.builds[0].draft && !field.builds[1].draft);
    }

    #[test]
    fn title_falls_back_from_notes_to_display_name_to_app_name() {
        let config = config("apps:\n  com.e.field:\n    name: Field Pro\n");
        let (catalog, _) = modelled_with(
            &config,
            false,
            vec![
                release(ID, "3.0", "1")
                    .display_name("Field β")
                    .notes("title: Spring release\n"),
                release(ID, "2.0", "1").display_name("Field β"),
                release(ID, "1.0", "1"),
            ],
        );
        let app = only_app(&catalog);
        assert_eq!(app.name, "Field Pro");
        let titles: Vec<&str> = app.builds.iter().map(|b| b.title.as_str()).collect();
        assert_eq!(titles, ["Spring release", "Field β", "Field Pro"]);
    }

    #[test]
    fn app_name_falls_back_from_newest_display_name_to_bundle_id() {
        let (catalog, _) = modelled(vec![
            release(ID, "1.0", "1").display_name("Field One"),
            release(ID, "2.0", "1").display_name("Field Two"),
            release(ID, "0.1", "1"),
        ]);
        let app = only_app(&catalog);
        assert_eq!(app.name, "Field Two");
        assert_eq!(app.builds[2].title, "Field Two");

        let (catalog, _) = modelled(vec![release(ID, "1.0", "1")]);
        assert_eq!(only_app(&catalog).name, ID);
        assert_eq!(only_app(&catalog).builds[0].title, ID);
    }

    #[test]
    fn shown_text_is_made_publishable_once_for_every_output() {
        let text = "title: \"Builds\\e\"\nbase_url: https://e.com/\n";
        let config = Config::parse(text, Path::new("relsite.yaml")).expect("config");
        let (catalog, problems) = modelled_with(
            &config,
            false,
            vec![
                release(ID, "2.0", "1").display_name("Field\u{1b}[31m\u{fffe}"),
                release(ID, "1.0", "1").notes("channel: \"beta\\x01\"\ntitle: \"Spring\\f\"\n"),
            ],
        );
        assert_eq!(problems, []);
        assert_eq!(catalog.title, "Builds\u{fffd}");
        let app = only_app(&catalog);
        assert_eq!(app.name, "Field\u{fffd}[31m\u{fffd}");
        assert_eq!(app.builds[0].title, "Field\u{fffd}[31m\u{fffd}");
        assert_eq!(app.builds[1].title, "Spring\u{fffd}");
        assert_eq!(&*app.builds[1].channel, "beta\u{fffd}");
    }

    #[test]
    fn notes_are_kept_aside_and_told_apart_by_their_digest() {
        let spill = Spill::new();
        let one = RenderedNotes::new(&spill, "<p>one</p>".into(), "one".into());
        let two = RenderedNotes::new(&spill, "<p>two</p>".into(), "two".into());
        assert!(matches!(one.both, Spilled::File { .. }), "{:?}", one.both);
        assert_eq!(&*one.html().unwrap(), "<p>one</p>");
        assert_eq!(&*two.html_and_text().unwrap().1, "two");
        assert_eq!(&*one.html_and_text().unwrap().1, "one");
        // Notes of one length, and the same text split otherwise between HTML and text, differ
        // where the model is compared.
        assert_ne!(one, two);
        assert_ne!(format!("{one:?}"), format!("{two:?}"));
        let moved = RenderedNotes::new(&spill, "<p>one</p>o".into(), "ne".into());
        assert_ne!(format!("{one:?}"), format!("{moved:?}"));
        let again = RenderedNotes::new(&spill, "<p>one</p>".into(), "one".into());
        assert_eq!(format!("{one:?}"), format!("{again:?}"));
    }

    #[test]
    fn profile_text_is_made_publishable() {
        use crate::ipa::Distribution;
        let mut profile = super::testing::profile(Distribution::AdHoc, "TEAM.x".into(), None);
        profile.name = Some("Ad\u{1b}Hoc".into());
        profile.team_name = Some("Acme\u{0}\u{c}".into());
        profile.team_id = Some("TEAM\u{ffff}".into());
        profile.devices = vec!["0000\u{1}".into()];
        let profile = publishable_profile(Arc::new(profile));
        assert_eq!(profile.name.as_deref(), Some("Ad\u{fffd}Hoc"));
        assert_eq!(profile.team_name.as_deref(), Some("Acme\u{fffd}\u{fffd}"));
        assert_eq!(profile.team_id.as_deref(), Some("TEAM\u{fffd}"));
        assert_eq!(profile.devices, ["0000\u{fffd}"]);
    }

    #[test]
    fn keep_publishes_the_newest_builds_of_each_channel_and_always_one_installable() {
        let expired = Signed::AdHoc(NOW - Duration::days(1));
        let releases = vec![
            release(ID, "4.0", "4").signed(expired),
            release(ID, "3.0", "3").signed(expired),
            release(ID, "2.0", "2"),
            release(ID, "1.0", "1"),
            release(ID, "3.5", "35").notes("channel: beta\n"),
            release(ID, "2.5", "25").notes("channel: beta\n"),
            release("com.e.other", "1.0", "1"),
            release("com.e.other", "2.0", "2"),
        ];
        let config = config(
            "keep: 2\nchannels:\n  beta:\n    keep: 1\napps:\n  com.e.other:\n    keep: 5\n",
        );
        let (catalog, problems) = modelled_with(&config, false, releases);
        let versions = |app: usize| -> Vec<&str> {
            catalog.apps[app]
                .builds
                .iter()
                .map(|b| b.version.as_str())
                .collect()
        };
        let field = catalog.apps.iter().position(|a| a.bundle_id == ID).unwrap();
        let other = 1 - field;
        assert_eq!(
            versions(field),
            ["4.0", "3.5", "3.0", "2.0"],
            "{problems:?}"
        );
        assert_eq!(versions(other), ["2.0", "1.0"]);
        let beyond: Vec<String> = problems
            .iter()
            .filter(|p| p.message.contains("beyond `keep"))
            .map(|p| p.to_string())
            .collect();
        assert_eq!(beyond.len(), 2, "{beyond:?}");
        assert!(
            beyond
                .iter()
                .any(|p| p.contains("1.0-1.ipa") && p.contains("`keep: 2` for channel stable"))
        );
        assert!(
            beyond
                .iter()
                .any(|p| p.contains("2.5-25.ipa") && p.contains("`keep: 1` for channel beta"))
        );
    }

    #[test]
    fn keep_of_zero_is_an_error() {
        let text = "title: T\nbase_url: https://e.com/\napps:\n  com.a:\n    keep: 0\n";
        let problems = Config::parse(text, Path::new("relsite.yaml")).unwrap_err();
        assert!(
            problems[0]
                .message
                .contains("`apps.com.a.keep` must be at least 1"),
            "{problems:?}"
        );
    }
}
