//! Feeds: `releases.json` and `latest.json` per app, the API apps poll to offer updates, and
//! Atom feeds per app and for the site, for people and their feed readers.

use std::collections::BTreeMap;

use atom_syndication::{Content, Entry, Feed, FixedDateTime, Link, Person, Text};
use serde::Serialize;

use crate::catalog::{App, Build, Catalog};

/// The app a JSON feed describes.
#[derive(Debug, Serialize)]
pub struct AppInfo<'a> {
    pub name: &'a str,
    pub bundle_id: &'a str,
    pub page_url: &'a str,
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
    pub page_url: &'a str,
    pub manifest_url: &'a str,
    /// The itms-services link that installs this build.
    pub install_url: &'a str,
    pub ipa_url: &'a str,
    /// IPA size in bytes.
    pub size: u64,
    pub sha256: &'a str,
    pub minimum_os_version: Option<&'a str>,
    /// False when the profile expired or the build is not for iOS.
    pub installable: bool,
}

impl<'a> BuildEntry<'a> {
    pub fn new(build: &'a Build) -> Self {
        BuildEntry {
            version: &build.version,
            build: build.build_number.as_deref(),
            title: &build.title,
            date: build.published().map(rfc3339),
            channel: &build.channel,
            notes_html: build.notes_html.as_deref(),
            notes_text: build.notes_text.as_deref(),
            page_url: build.page_url.as_str(),
            manifest_url: build.manifest_url.as_str(),
            install_url: &build.install_link,
            ipa_url: build.ipa_url.as_str(),
            size: build.ipa.size,
            sha256: &build.ipa.sha256,
            minimum_os_version: build.ipa.plist.minimum_os.as_deref(),
            installable: build.installable(),
        }
    }
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

fn app_info(app: &App) -> AppInfo<'_> {
    AppInfo {
        name: &app.name,
        bundle_id: &app.bundle_id,
        page_url: app.page_url.as_str(),
    }
}

pub fn releases_json(app: &App) -> Result<Vec<u8>, serde_json::Error> {
    let releases = Releases {
        app: app_info(app),
        builds: app.builds.iter().map(BuildEntry::new).collect(),
    };
    json(&releases)
}

pub fn latest_json(app: &App) -> Result<Vec<u8>, serde_json::Error> {
    let latest = Latest {
        app: app_info(app),
        latest: app.latest().map(BuildEntry::new),
        channels: app
            .latest_per_channel()
            .into_iter()
            .map(|b| (b.channel.as_str(), BuildEntry::new(b)))
            .collect(),
    };
    json(&latest)
}

fn json(value: &impl Serialize) -> Result<Vec<u8>, serde_json::Error> {
    let mut bytes = serde_json::to_vec_pretty(value)?;
    bytes.push(b'\n');
    Ok(bytes)
}

fn rfc3339(at: time::OffsetDateTime) -> String {
    at.to_offset(time::UtcOffset::UTC)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

fn atom_time(at: Option<time::OffsetDateTime>) -> FixedDateTime {
    let text = at.map_or_else(|| "1970-01-01T00:00:00Z".to_string(), rfc3339);
    FixedDateTime::parse_from_rfc3339(&text)
        .unwrap_or_else(|_| atom_syndication::FixedDateTime::default())
}

fn link(href: &str, rel: &str, mime: Option<&str>) -> Link {
    let mut link = Link::default();
    link.set_href(href);
    link.set_rel(rel);
    link.set_mime_type(mime.map(str::to_string));
    link
}

fn entry(app: &App, build: &Build) -> Entry {
    let mut entry = Entry::default();
    let number = match &build.build_number {
        Some(b) if *b != build.version => format!(" ({b})"),
        _ => String::new(),
    };
    entry.set_title(Text::plain(format!(
        "{} {}{number} [{}]",
        build.title, build.version, build.channel
    )));
    entry.set_id(build.page_url.as_str());
    entry.set_updated(atom_time(build.published()));
    entry.set_links(vec![link(
        build.page_url.as_str(),
        "alternate",
        Some("text/html"),
    )]);
    let mut author = Person::default();
    author.set_name(app.name.clone());
    entry.set_authors(vec![author]);
    if let Some(html) = build.notes_html.clone() {
        let mut content = Content::default();
        content.set_content_type("html".to_string());
        content.set_value(html);
        entry.set_content(content);
    }
    entry
}

fn feed(title: &str, id: &str, self_url: &str, page_url: &str, entries: Vec<Entry>) -> Vec<u8> {
    let mut feed = Feed::default();
    feed.set_title(Text::plain(title));
    feed.set_id(id);
    let updated = entries.iter().map(|e| *e.updated()).max();
    feed.set_updated(updated.unwrap_or_else(|| atom_time(None)));
    feed.set_links(vec![
        link(self_url, "self", Some("application/atom+xml")),
        link(page_url, "alternate", Some("text/html")),
    ]);
    let mut author = Person::default();
    author.set_name(title);
    feed.set_authors(vec![author]);
    feed.set_entries(entries);
    let mut bytes = feed.write_to(Vec::new()).unwrap_or_default();
    bytes.push(b'\n');
    bytes
}

/// The Atom feed of one app: every build, newest first.
pub fn app_atom(app: &App) -> Vec<u8> {
    let self_url = crate::urls::join_file(&app.page_url, &["feed.xml"]);
    let entries = app.builds.iter().map(|b| entry(app, b)).collect();
    feed(
        &app.name,
        self_url.as_str(),
        self_url.as_str(),
        app.page_url.as_str(),
        entries,
    )
}

/// The site's Atom feed: every build of every app, newest first.
pub fn site_atom(catalog: &Catalog) -> Vec<u8> {
    let self_url = crate::urls::join_file(&catalog.base_url, &["feed.xml"]);
    let mut builds: Vec<(&App, &Build)> = catalog
        .apps
        .iter()
        .flat_map(|a| a.builds.iter().map(move |b| (a, b)))
        .collect();
    builds.sort_by(|(_, a), (_, b)| {
        b.published()
            .cmp(&a.published())
            .then_with(|| a.page_url.as_str().cmp(b.page_url.as_str()))
    });
    let entries = builds.into_iter().map(|(a, b)| entry(a, b)).collect();
    feed(
        &catalog.title,
        self_url.as_str(),
        self_url.as_str(),
        catalog.base_url.as_str(),
        entries,
    )
}
