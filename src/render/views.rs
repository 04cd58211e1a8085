//! What templates see: small structs made for them from the catalog. Paths between pages are
//! relative (`root` climbs to the output root), so a site works under any base path.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Serialize;

use crate::catalog::{App, Build, Catalog};
use crate::ipa::Distribution;
use crate::layout::{AppFeed, ICON_SIZES, Layout, PAGE_ICON};

#[derive(Debug, Serialize)]
pub struct SiteView<'a> {
    pub title: &'a str,
    pub description_html: Option<&'a str>,
    pub base_url: &'a str,
    /// The Atom feed of every build, relative to the output root.
    pub feed: String,
    /// Ask search engines to stay away.
    pub noindex: bool,
    /// Send no `Referer` from the pages: they link to secret paths.
    pub no_referrer: bool,
}

impl<'a> SiteView<'a> {
    pub fn new(catalog: &'a Catalog, noindex: bool) -> Self {
        SiteView {
            title: &catalog.title,
            description_html: catalog.description_html.as_deref(),
            base_url: catalog.layout.base_url().as_str(),
            feed: catalog.layout.site_feed().href,
            noindex,
            no_referrer: catalog.layout.has_secret(),
        }
    }
}

/// A build as listed on catalog and app pages.
#[derive(Debug, Serialize)]
pub struct BuildCard<'a> {
    pub title: &'a str,
    pub version: &'a str,
    pub build_number: Option<&'a str>,
    pub channel: &'a str,
    /// The channel as a class name and path segment.
    pub channel_slug: String,
    pub date: Option<String>,
    pub draft: bool,
    /// The build page, relative to the output root, ending with `/`.
    pub path: String,
    /// The pages' icon, relative to the output root.
    pub icon: String,
    /// Every published icon by its size in pixels, relative to the output root.
    pub icons: BTreeMap<String, String>,
    pub install_link: String,
    /// The profile has expired: no install button.
    pub expired: bool,
    /// Why the build cannot be installed from Safari, if it cannot.
    pub not_installable: Option<&'a str>,
    /// Whether it can be installed, as of the build.
    pub installable: bool,
    /// RFC 3339: when its profile (or certificate) expires, for pages to judge with the
    /// viewer's clock.
    pub expires: Option<String>,
    /// Its page's QR code (an SVG file beside the page), relative to the output root, on the
    /// rows that offer it in one tap (each channel's newest).
    pub qr: Option<String>,
}

impl<'a> BuildCard<'a> {
    pub fn new(layout: &Layout, app: &'a App, build: &'a Build) -> Self {
        BuildCard {
            title: &build.title,
            version: &build.version,
            build_number: build.build_number.as_deref(),
            channel: &build.channel,
            channel_slug: build.channel_slug(),
            date: build.date.map(|d| d.day()),
            draft: build.draft,
            path: layout.build_page(app, build).href,
            icon: layout.icon(app, build, PAGE_ICON).href,
            icons: ICON_SIZES
                .iter()
                .map(|&px| (px.to_string(), layout.icon(app, build, px).href))
                .collect(),
            install_link: layout.install_link(app, build),
            expired: build.verdict.expired,
            not_installable: build.verdict.not_installable.as_deref(),
            installable: build.installable(),
            expires: build.verdict.expires.and_then(rfc3339),
            qr: None,
        }
    }

    /// The card of a build offered in one tap: an install button, and on a computer a QR code
    /// of its page.
    pub fn one_tap(layout: &Layout, app: &'a App, build: &'a Build) -> Self {
        let mut card = BuildCard::new(layout, app, build);
        if card.installable {
            card.qr = Some(layout.qr(app, build).href);
        }
        card
    }
}

/// A time as RFC 3339, for scripts and feeds.
fn rfc3339(at: time::OffsetDateTime) -> Option<String> {
    at.format(&time::format_description::well_known::Rfc3339)
        .ok()
}

/// An app as listed on the catalog page and headed on its own pages.
#[derive(Debug, Serialize)]
pub struct AppCard<'a> {
    pub name: &'a str,
    pub slug: &'a str,
    pub bundle_id: &'a str,
    /// The app page, relative to the output root.
    pub path: String,
    /// `latest/`, the app's Atom feed and `latest.json`, relative to the output root.
    pub latest_path: String,
    pub feed: String,
    pub latest_json: String,
    /// The newest build's page icon, relative to the output root.
    pub icon: Option<String>,
    pub description_html: Option<&'a str>,
    /// The newest build of each channel, newest first.
    pub channels: Vec<BuildCard<'a>>,
    pub build_count: usize,
}

impl<'a> AppCard<'a> {
    /// The card of the catalog page and of the app's own pages: each channel's newest build
    /// offered in one tap, with a QR code of its page.
    pub fn offering(layout: &Layout, app: &'a App, description_html: Option<&'a str>) -> Self {
        let mut card = AppCard::new(layout, app, description_html);
        card.channels = app
            .latest_per_channel()
            .into_iter()
            .map(|b| BuildCard::one_tap(layout, app, b))
            .collect();
        card
    }

    /// The card as a build page heads with it: no QR codes, which that page never shows.
    pub fn new(layout: &Layout, app: &'a App, description_html: Option<&'a str>) -> Self {
        AppCard {
            slug: &app.slug,
            name: &app.name,
            bundle_id: &app.bundle_id,
            path: layout.app_page(app, 1).href,
            latest_path: layout.latest_page(app, None).href,
            feed: layout.app_feed(app, AppFeed::Atom).href,
            latest_json: layout.app_feed(app, AppFeed::Latest).href,
            icon: app
                .builds
                .first()
                .map(|b| layout.icon(app, b, PAGE_ICON).href),
            description_html,
            channels: app
                .latest_per_channel()
                .into_iter()
                .map(|b| BuildCard::new(layout, app, b))
                .collect(),
            build_count: app.builds.len(),
        }
    }
}

/// Everything the build page shows.
#[derive(Debug, Serialize)]
pub struct BuildView<'a> {
    #[serde(flatten)]
    pub card: BuildCard<'a>,
    pub bundle_id: &'a str,
    pub notes_html: Option<Arc<str>>,
    pub page_url: String,
    pub manifest_url: String,
    pub ipa_url: String,
    pub ipa_file_name: &'a str,
    pub size: String,
    pub size_bytes: u64,
    pub minimum_os: Option<&'a str>,
    /// The system `minimum_os` is of, as Apple names it: `iOS`, `tvOS`, `watchOS`…
    pub os_name: &'static str,
    pub devices: Option<String>,
    pub platforms: Vec<&'a str>,
    pub sha256: &'a str,
    pub profile: Option<ProfileView<'a>>,
    /// The newest build of its channel, when this one is older.
    pub newer: Option<NewerBuild<'a>>,
}

/// The build an older one's page points to.
#[derive(Debug, Serialize)]
pub struct NewerBuild<'a> {
    pub version: &'a str,
    pub build_number: Option<&'a str>,
    /// Its page, relative to the output root.
    pub path: String,
}

/// The provisioning profile's facts, as the build page shows them.
#[derive(Debug, Serialize)]
pub struct ProfileView<'a> {
    /// `development`, `ad-hoc`, `enterprise` or `app-store`.
    pub distribution: &'static str,
    /// The same in words.
    pub distribution_label: &'static str,
    /// Only when the site shows it (`show_profile`).
    pub name: Option<&'a str>,
    pub team: Option<&'a str>,
    /// Only when the site shows it (`show_profile`).
    pub team_id: Option<&'a str>,
    /// `YYYY-MM-DD`.
    pub expires: Option<String>,
    pub expired: bool,
    /// Registered devices; `None` for a profile that provisions all devices.
    pub device_count: Option<usize>,
    /// Device UDIDs, only when the site asks to show them.
    pub devices: Vec<&'a str>,
}

impl<'a> BuildView<'a> {
    /// The build as its page shows it; the profile's name, team ID and devices only where
    /// `options` publish them.
    pub fn new(
        layout: &Layout,
        app: &'a App,
        build: &'a Build,
        options: crate::plan::PlanOptions,
    ) -> std::io::Result<Self> {
        let package = &build.package;
        let profile = build.profile.as_deref().map(|p| ProfileView {
            distribution: p.distribution.as_str(),
            distribution_label: distribution_label(p.distribution),
            name: p.name.as_deref().filter(|_| options.show_profile),
            team: p.team_name.as_deref(),
            team_id: p.team_id.as_deref().filter(|_| options.show_profile),
            expires: build.verdict.expires.map(crate::text::utc_ymd),
            expired: build.verdict.expired,
            device_count: (!p.provisions_all_devices).then_some(p.devices.len()),
            devices: if options.show_devices {
                p.devices.iter().map(String::as_str).collect()
            } else {
                Vec::new()
            },
        });
        Ok(BuildView {
            card: BuildCard::new(layout, app, build),
            bundle_id: &build.bundle_id,
            notes_html: build.notes.as_ref().map(|n| n.html()).transpose()?,
            page_url: layout.build_page(app, build).url.into(),
            manifest_url: layout.manifest(app, build).url.into(),
            ipa_url: layout.ipa(app, build).url.into(),
            ipa_file_name: &build.ipa_file_name,
            size: human_size(package.size),
            size_bytes: package.size,
            minimum_os: package.minimum_os.as_deref(),
            os_name: os_name(&package.platforms),
            devices: device_families(&package.device_families),
            platforms: package.platforms.iter().map(String::as_str).collect(),
            sha256: &package.sha256,
            profile,
            newer: app
                .latest_per_channel()
                .into_iter()
                .find(|b| b.channel_slug() == build.channel_slug())
                .filter(|newest| newest.installable() && newer_than(app, newest, build))
                .map(|newest| NewerBuild {
                    version: &newest.version,
                    build_number: newest.build_number.as_deref(),
                    path: layout.build_page(app, newest).href,
                }),
        })
    }
}

/// Whether `a` is listed before (is newer than) `b` in `app`, newest first.
fn newer_than(app: &App, a: &Build, b: &Build) -> bool {
    matches!((app.index_of(a), app.index_of(b)), (Some(a), Some(b)) if a < b)
}

/// The system a build with these `CFBundleSupportedPlatforms` runs on; iOS when none says.
pub fn os_name(platforms: &[String]) -> &'static str {
    platforms
        .iter()
        .find_map(|p| match p.as_str() {
            "iPhoneOS" | "iPhoneSimulator" => Some("iOS"),
            "AppleTVOS" | "AppleTVSimulator" => Some("tvOS"),
            "WatchOS" | "WatchSimulator" => Some("watchOS"),
            "XROS" | "XRSimulator" => Some("visionOS"),
            "MacOSX" => Some("macOS"),
            _ => None,
        })
        .unwrap_or("iOS")
}

/// A distribution type in words.
pub fn distribution_label(d: Distribution) -> &'static str {
    match d {
        Distribution::Development => "Development",
        Distribution::AdHoc => "Ad hoc",
        Distribution::Enterprise => "Enterprise (in-house)",
        Distribution::AppStore => "App Store",
    }
}

/// Bytes in the units Apple's own tools show (powers of 1000).
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KB", "MB", "GB", "TB"];
    if bytes < 1000 {
        return format!("{bytes} bytes");
    }
    let mut value = bytes as f64 / 1000.0;
    let mut unit = 0;
    while value >= 1000.0 && unit < UNITS.len() - 1 {
        value /= 1000.0;
        unit += 1;
    }
    if value < 10.0 {
        format!("{value:.1} {}", UNITS[unit])
    } else {
        format!("{value:.0} {}", UNITS[unit])
    }
}

/// UIDeviceFamily as words: "iPhone and iPad".
pub fn device_families(families: &[u64]) -> Option<String> {
    let names: Vec<&str> = families
        .iter()
        .filter_map(|f| match f {
            1 => Some("iPhone"),
            2 => Some("iPad"),
            3 => Some("Apple TV"),
            4 => Some("Apple Watch"),
            6 => Some("Mac"),
            7 => Some("Apple Vision Pro"),
            _ => None,
        })
        .collect();
    match names.as_slice() {
        [] => None,
        [one] => Some((*one).to_string()),
        [init @ .., last] => Some(format!("{} and {last}", init.join(", "))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_like_apples() {
        assert_eq!(human_size(512), "512 bytes");
        assert_eq!(human_size(1_500), "1.5 KB");
        assert_eq!(human_size(48_300_000), "48 MB");
        assert_eq!(human_size(2_100_000_000), "2.1 GB");
    }

    #[test]
    fn the_required_system_is_named_by_the_platform() {
        let of = |p: &[&str]| os_name(&p.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert_eq!(of(&["iPhoneOS"]), "iOS");
        assert_eq!(of(&["AppleTVOS"]), "tvOS");
        assert_eq!(of(&["XROS"]), "visionOS");
        assert_eq!(of(&[]), "iOS");
    }

    #[test]
    fn device_families_read_as_words() {
        assert_eq!(device_families(&[1, 2]).as_deref(), Some("iPhone and iPad"));
        assert_eq!(device_families(&[2]).as_deref(), Some("iPad"));
        assert_eq!(device_families(&[]), None);
        assert_eq!(device_families(&[99]), None);
    }
}
