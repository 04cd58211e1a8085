//! Feeds: `releases.json` and `latest.json` per app, the API apps poll to offer updates, and
//! Atom feeds per app and for the site, for people and their feed readers.

use std::collections::BTreeMap;

use atom_syndication::{Content, Entry, Feed, FixedDateTime, Link, Person, Text};
use serde::Serialize;

use crate::catalog::{App, Build, Catalog};
use crate::layout::{AppFeed, Layout};
use crate::text::rfc3339;

/// Why a feed could not be written.
#[derive(Debug, thiserror::Error)]
pub enum FeedError {
    #[error("{0}")]
    Json(#[from] serde_json::Error),
    #[error("{0}")]
    Atom(#[from] atom_syndication::Error),
    #[error("build {version} of {bundle_id}: its date {why}")]
    Date {
        bundle_id: String,
        version: String,
        why: String,
    },
}

/// The app a JSON feed describes.
#[derive(Debug, Serialize)]
pub struct AppInfo<'a> {
    pub name: &'a str,
    pub bundle_id: &'a str,
    pub page_url: String,
}

/// One build in a JSON feed.
#[derive(Debug, Serialize)]
pub struct BuildEntry<'a> {
    /// Marketing version (CFBundleShortVersionString).
    pub version: &'a str,
    /// Build number (CFBundleVersion), if any.
    pub build: Option<&'a str>,
    pub title: &'a str,
    /// RFC 3339: the notes' date, else when the IPA was built; `null` when unknown.
    pub date: Option<String>,
    pub channel: &'a str,
    pub notes_html: Option<&'a str>,
    pub notes_text: Option<&'a str>,
    pub page_url: String,
    pub manifest_url: String,
    /// The itms-services link that installs this build.
    pub install_url: String,
    pub ipa_url: String,
    /// IPA size in bytes.
    pub size: u64,
    pub sha256: &'a str,
    pub minimum_os_version: Option<&'a str>,
    /// False when the profile expired or the build is not for iOS.
    pub installable: bool,
}

impl<'a> BuildEntry<'a> {
    pub fn new(layout: &Layout, app: &'a App, build: &'a Build) -> Result<Self, FeedError> {
        Ok(BuildEntry {
            version: &build.version,
            build: build.build_number.as_deref(),
            title: &build.title,
            date: build.published().map(|at| date_of(build, at)).transpose()?,
            channel: &build.channel,
            notes_html: build.notes.as_ref().map(|n| n.html.as_str()),
            notes_text: build.notes.as_ref().map(|n| n.text.as_str()),
            page_url: layout.build_page(app, build).url.into(),
            manifest_url: layout.manifest(app, build).url.into(),
            install_url: layout.install_link(app, build),
            ipa_url: layout.ipa(app, build).url.into(),
            size: build.package.size,
            sha256: &build.package.sha256,
            minimum_os_version: build.package.minimum_os.as_deref(),
            installable: build.installable(),
        })
    }
}

/// A build's time as RFC 3339, or an error naming the build.
fn date_of(build: &Build, at: time::OffsetDateTime) -> Result<String, FeedError> {
    rfc3339(at).map_err(|why| FeedError::Date {
        bundle_id: build.bundle_id.clone(),
        version: build.version.clone(),
        why,
    })
}

/// `releases.json`: every published build, newest first.
#[derive(Debug, Serialize)]
pub struct Releases<'a> {
    pub app: AppInfo<'a>,
    pub builds: Vec<BuildEntry<'a>>,
}

/// `latest.json`: the build to offer, overall and per channel.
#[derive(Debug, Serialize)]
pub struct Latest<'a> {
    pub app: AppInfo<'a>,
    pub latest: Option<BuildEntry<'a>>,
    pub channels: BTreeMap<&'a str, BuildEntry<'a>>,
}

fn app_info<'a>(layout: &Layout, app: &'a App) -> AppInfo<'a> {
    AppInfo {
        name: &app.name,
        bundle_id: &app.bundle_id,
        page_url: layout.app_page(app, 1).url.into(),
    }
}

pub fn releases_json(layout: &Layout, app: &App) -> Result<Vec<u8>, FeedError> {
    let releases = Releases {
        app: app_info(layout, app),
        builds: app
            .builds
            .iter()
            .map(|b| BuildEntry::new(layout, app, b))
            .collect::<Result<_, _>>()?,
    };
    json(&releases)
}

pub fn latest_json(layout: &Layout, app: &App) -> Result<Vec<u8>, FeedError> {
    let latest = Latest {
        app: app_info(layout, app),
        latest: app
            .latest()
            .map(|b| BuildEntry::new(layout, app, b))
            .transpose()?,
        channels: app
            .latest_per_channel()
            .into_iter()
            .map(|b| Ok((b.channel.as_str(), BuildEntry::new(layout, app, b)?)))
            .collect::<Result<_, FeedError>>()?,
    };
    json(&latest)
}

fn json(value: &impl Serialize) -> Result<Vec<u8>, FeedError> {
    let mut bytes = serde_json::to_vec_pretty(value)?;
    bytes.push(b'\n');
    Ok(bytes)
}

/// A build's time for Atom; a build without one dates from 1970 (the default time), so it sorts
/// last.
fn atom_time(build: &Build) -> Result<FixedDateTime, FeedError> {
    let Some(at) = build.published() else {
        return Ok(FixedDateTime::default());
    };
    let text = date_of(build, at)?;
    FixedDateTime::parse_from_rfc3339(&text).map_err(|e| FeedError::Date {
        bundle_id: build.bundle_id.clone(),
        version: build.version.clone(),
        why: format!("`{text}` is not an Atom time: {e}"),
    })
}

fn link(href: &str, rel: &str, mime: Option<&str>) -> Link {
    let mut link = Link::default();
    link.set_href(href);
    link.set_rel(rel);
    link.set_mime_type(mime.map(str::to_string));
    link
}

fn entry(layout: &Layout, app: &App, build: &Build) -> Result<Entry, FeedError> {
    let mut entry = Entry::default();
    let number = match &build.build_number {
        Some(b) if *b != build.version => format!(" ({b})"),
        _ => String::new(),
    };
    entry.set_title(Text::plain(format!(
        "{} {}{number} [{}]",
        build.title, build.version, build.channel
    )));
    let page = layout.build_page(app, build).url;
    entry.set_id(page.as_str());
    entry.set_updated(atom_time(build)?);
    entry.set_links(vec![link(page.as_str(), "alternate", Some("text/html"))]);
    let mut author = Person::default();
    author.set_name(app.name.clone());
    entry.set_authors(vec![author]);
    if let Some(notes) = &build.notes {
        let mut content = Content::default();
        content.set_content_type("html".to_string());
        content.set_value(notes.html.clone());
        entry.set_content(content);
    }
    Ok(entry)
}

fn feed(
    title: &str,
    self_url: &str,
    page_url: &str,
    entries: Vec<Entry>,
) -> Result<Vec<u8>, FeedError> {
    let mut feed = Feed::default();
    feed.set_title(Text::plain(title));
    feed.set_id(self_url);
    let updated = entries.iter().map(|e| *e.updated()).max();
    feed.set_updated(updated.unwrap_or_default());
    feed.set_links(vec![
        link(self_url, "self", Some("application/atom+xml")),
        link(page_url, "alternate", Some("text/html")),
    ]);
    let mut author = Person::default();
    author.set_name(title);
    feed.set_authors(vec![author]);
    feed.set_entries(entries);
    let mut bytes = feed.write_to(Vec::new())?;
    bytes.push(b'\n');
    Ok(bytes)
}

/// The Atom feed of one app: every build, newest first.
pub fn app_atom(layout: &Layout, app: &App) -> Result<Vec<u8>, FeedError> {
    let self_url = layout.app_feed(app, AppFeed::Atom).url;
    let entries = app
        .builds
        .iter()
        .map(|b| entry(layout, app, b))
        .collect::<Result<_, _>>()?;
    feed(
        &app.name,
        self_url.as_str(),
        layout.app_page(app, 1).url.as_str(),
        entries,
    )
}

/// The site's Atom feed: every build of every app, newest first.
pub fn site_atom(catalog: &Catalog) -> Result<Vec<u8>, FeedError> {
    let layout = &catalog.layout;
    let mut builds: Vec<(&App, &Build, String)> = catalog
        .builds()
        .map(|(a, b)| (a, b, layout.build_page(a, b).url.into()))
        .collect();
    builds.sort_by(|(_, a, a_url), (_, b, b_url)| {
        b.published()
            .cmp(&a.published())
            .then_with(|| a_url.cmp(b_url))
    });
    let entries = builds
        .into_iter()
        .map(|(a, b, _)| entry(layout, a, b))
        .collect::<Result<_, _>>()?;
    feed(
        &catalog.title,
        layout.site_feed().url.as_str(),
        layout.base_url().as_str(),
        entries,
    )
}
