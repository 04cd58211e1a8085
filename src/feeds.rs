//! Feeds: `releases.json` and `latest.json` per app, the API apps poll to offer updates, and
//! Atom feeds per app and for the site, for people and their feed readers. The Atom writer
//! escapes markup but passes control characters through, which XML 1.0 cannot carry: every
//! text it is given is made [`publishable`] first.

use std::collections::BTreeMap;
use std::sync::Arc;

use atom_syndication::{Content, Entry, Feed, FixedDateTime, Link, Person, Text, WriteConfig};
use serde::Serialize;

use crate::catalog::{App, Build, Catalog, RenderedNotes};
use crate::layout::{AppFeed, Layout};
use crate::text::{publishable, rfc3339};

/// Why a feed could not be written.
#[derive(Debug, thiserror::Error)]
pub enum FeedError {
    #[error("{0}")]
    Json(#[from] serde_json::Error),
    #[error("{0}")]
    Atom(#[from] atom_syndication::Error),
    #[error("{0}")]
    Io(String),
    #[error("build {version} of {bundle_id}: its notes could not be read back: {why}")]
    Notes {
        bundle_id: String,
        version: String,
        why: String,
    },
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
    pub notes_html: Option<Arc<str>>,
    pub notes_text: Option<Arc<str>>,
    pub page_url: String,
    pub manifest_url: String,
    /// The itms-services link that installs this build.
    pub install_url: String,
    pub ipa_url: String,
    /// IPA size in bytes.
    pub size: u64,
    pub sha256: &'a str,
    pub minimum_os_version: Option<&'a str>,
    /// False when the profile expired, the build has no profile, or it is not for iOS.
    pub installable: bool,
    /// RFC 3339: when the profile (or its certificate) expires and installs start to fail;
    /// `null` when unknown. A client compares it with its own clock: a feed is as old as the
    /// last build.
    pub expires: Option<String>,
}

impl<'a> BuildEntry<'a> {
    pub fn new(layout: &Layout, app: &'a App, build: &'a Build) -> Result<Self, FeedError> {
        let (notes_html, notes_text) = build
            .notes
            .as_ref()
            .map(RenderedNotes::html_and_text)
            .transpose()
            .map_err(|e| notes_error(build, e))?
            .unzip();
        Ok(BuildEntry {
            version: &build.version,
            build: build.build_number.as_deref(),
            title: &build.title,
            date: build.published().map(|at| date_of(build, at)).transpose()?,
            channel: &build.channel,
            notes_html,
            notes_text,
            page_url: layout.build_page(app, build).url.into(),
            manifest_url: layout.manifest(app, build).url.into(),
            install_url: layout.install_link(app, build),
            ipa_url: layout.ipa(app, build).url.into(),
            size: build.package.size,
            sha256: &build.package.sha256,
            minimum_os_version: build.package.minimum_os.as_deref(),
            installable: build.installable(),
            expires: build
                .verdict
                .expires
                .map(|at| date_of(build, at))
                .transpose()?,
        })
    }
}

/// Notes that could not be read back, naming the build.
fn notes_error(build: &Build, e: std::io::Error) -> FeedError {
    FeedError::Notes {
        bundle_id: build.bundle_id.to_string(),
        version: build.version.clone(),
        why: e.to_string(),
    }
}

/// A build's time as RFC 3339, or an error naming the build.
fn date_of(build: &Build, at: time::OffsetDateTime) -> Result<String, FeedError> {
    rfc3339(at).map_err(|why| FeedError::Date {
        bundle_id: build.bundle_id.to_string(),
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
            .map(|b| Ok((&*b.channel, BuildEntry::new(layout, app, b)?)))
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
        bundle_id: build.bundle_id.to_string(),
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

/// Text for the Atom writer: what XML 1.0 cannot carry replaced by U+FFFD.
fn atom_text(text: &str) -> String {
    publishable(text).into_owned()
}

/// A person named `name`.
fn person(name: &str) -> Person {
    let mut person = Person::default();
    person.set_name(atom_text(name));
    person
}

fn entry(layout: &Layout, app: &App, build: &Build) -> Result<Entry, FeedError> {
    let mut entry = Entry::default();
    let number = match &build.build_number {
        Some(b) if *b != build.version => format!(" ({b})"),
        _ => String::new(),
    };
    entry.set_title(Text::plain(atom_text(&format!(
        "{} {}{number} [{}]",
        build.title, build.version, build.channel
    ))));
    let page = layout.build_page(app, build).url;
    entry.set_id(page.as_str());
    entry.set_updated(atom_time(build)?);
    entry.set_links(vec![link(page.as_str(), "alternate", Some("text/html"))]);
    entry.set_authors(vec![person(&app.name)]);
    if let Some(notes) = &build.notes {
        let mut content = Content::default();
        content.set_content_type("html".to_string());
        content.set_value(atom_text(&notes.html().map_err(|e| notes_error(build, e))?));
        entry.set_content(content);
    }
    Ok(entry)
}

/// Writes an Atom feed to `out`, its entries made and written one at a time, so that a feed of
/// a whole catalog is never held as one document. `updated` is the newest entry's time.
fn write_feed(
    out: &mut dyn std::io::Write,
    title: &str,
    self_url: &str,
    page_url: &str,
    updated: Option<FixedDateTime>,
    entries: impl Iterator<Item = Result<Entry, FeedError>>,
) -> Result<(), FeedError> {
    let mut feed = Feed::default();
    feed.set_title(Text::plain(atom_text(title)));
    feed.set_id(self_url);
    feed.set_updated(updated.unwrap_or_default());
    feed.set_links(vec![
        link(self_url, "self", Some("application/atom+xml")),
        link(page_url, "alternate", Some("text/html")),
    ]);
    feed.set_authors(vec![person(title)]);
    // The feed without entries ends in `</feed>`: the entries go before it.
    let empty = feed.write_to(Vec::new())?;
    let close = b"</feed>";
    let head = empty
        .strip_suffix(close)
        .ok_or_else(|| FeedError::Io("the Atom writer did not end a feed in </feed>".into()))?;
    let io = |e: std::io::Error| FeedError::Io(e.to_string());
    out.write_all(head).map_err(io)?;
    let config = WriteConfig {
        write_document_declaration: false,
        indent_size: None,
    };
    let mut bytes = Vec::new();
    for entry in entries {
        bytes.clear();
        entry?.write_with_config(&mut bytes, config)?;
        // Standalone, an entry declares the Atom namespace; inside the feed it has it already.
        let own = ENTRY_WITH_NAMESPACE.as_bytes();
        let body = bytes.strip_prefix(own).map_or(&bytes[..], |rest| rest);
        if body.len() != bytes.len() {
            out.write_all(b"<entry>").map_err(io)?;
        }
        out.write_all(body).map_err(io)?;
    }
    out.write_all(close).map_err(io)?;
    out.write_all(b"\n").map_err(io)
}

/// How an entry written on its own begins.
const ENTRY_WITH_NAMESPACE: &str = "<entry xmlns=\"http://www.w3.org/2005/Atom\">";

/// The Atom feed of one app: every build, newest first.
pub fn app_atom(layout: &Layout, app: &App) -> Result<Vec<u8>, FeedError> {
    let self_url = layout.app_feed(app, AppFeed::Atom).url;
    let updated = newest(app.builds.iter())?;
    let mut bytes = Vec::new();
    write_feed(
        &mut bytes,
        &app.name,
        self_url.as_str(),
        layout.app_page(app, 1).url.as_str(),
        updated,
        app.builds.iter().map(|b| entry(layout, app, b)),
    )?;
    Ok(bytes)
}

/// The time of the newest of `builds`, for a feed's `updated`.
fn newest<'a>(builds: impl Iterator<Item = &'a Build>) -> Result<Option<FixedDateTime>, FeedError> {
    let mut newest = None;
    for build in builds {
        let at = atom_time(build)?;
        newest = newest.max(Some(at));
    }
    Ok(newest)
}

/// The site's Atom feed: every listed build of every app, newest first, written to `out`.
pub fn site_atom(catalog: &Catalog, out: &mut dyn std::io::Write) -> Result<(), FeedError> {
    let layout = &catalog.layout;
    let mut builds: Vec<(&App, &Build, String)> = catalog
        .listed_apps()
        .flat_map(|a| a.builds.iter().map(move |b| (a, b)))
        .map(|(a, b)| (a, b, layout.build_page(a, b).url.into()))
        .collect();
    builds.sort_by(|(_, a, a_url), (_, b, b_url)| {
        b.published()
            .cmp(&a.published())
            .then_with(|| a_url.cmp(b_url))
    });
    let updated = newest(builds.iter().map(|(_, b, _)| *b))?;
    write_feed(
        out,
        &catalog.title,
        layout.site_feed().url.as_str(),
        layout.base_url().as_str(),
        updated,
        builds.into_iter().map(|(a, b, _)| entry(layout, a, b)),
    )
}

#[cfg(test)]
mod tests {
    use percent_encoding::percent_decode_str;
    use serde_json::Value;
    use time::Duration;

    use std::sync::Arc;

    use super::*;

    use crate::catalog::testing::{NOW, Signed, config, modelled, modelled_with, release};

    const ID: &str = "com.e.field";

    fn site_feed(catalog: &Catalog) -> Result<Vec<u8>, FeedError> {
        let mut bytes = Vec::new();
        site_atom(catalog, &mut bytes)?;
        Ok(bytes)
    }

    fn parsed(json: Result<Vec<u8>, FeedError>) -> Value {
        serde_json::from_slice(&json.expect("a feed")).expect("JSON")
    }

    fn atom(feed: Result<Vec<u8>, FeedError>) -> Feed {
        Feed::read_from(&feed.expect("a feed")[..]).expect("an Atom feed")
    }

    fn entry_ids(feed: &Feed) -> Vec<&str> {
        feed.entries().iter().map(|e| e.id()).collect()
    }

    fn expired() -> Signed {
        Signed::AdHoc(NOW - Duration::days(1))
    }

    #[test]
    fn releases_json_lists_every_build_newest_first_with_layout_urls() {
        let config = config("ipa_base_url: https://cdn.e.com/ipas/\n");
        let (catalog, _) = modelled_with(
            &config,
            false,
            vec![
                release(ID, "1.0", "1")
                    .notes("date: 2024-05-01\nchannel: beta\nnotes: Fixed **it**\n"),
                release(ID, "1.10", "3"),
                release(ID, "1.9", "2").signed(expired()),
            ],
        );
        let (layout, app) = (&catalog.layout, &catalog.apps[0]);
        let releases = parsed(releases_json(layout, app));
        assert_eq!(releases["app"]["bundle_id"], ID);
        assert_eq!(
            releases["app"]["page_url"],
            "https://e.com/builds/com.e.field/"
        );
        let entries = releases["builds"].as_array().unwrap();
        let versions: Vec<&str> = entries
            .iter()
            .map(|e| e["version"].as_str().unwrap())
            .collect();
        assert_eq!(versions, ["1.10", "1.9", "1.0"]);
        for (entry, build) in entries.iter().zip(&app.builds) {
            let manifest = layout.manifest(app, build).url;
            assert_eq!(entry["build"], build.build_number.as_deref().unwrap());
            assert_eq!(
                entry["page_url"],
                layout.build_page(app, build).url.as_str()
            );
            assert_eq!(entry["manifest_url"], manifest.as_str());
            let install = entry["install_url"].as_str().unwrap();
            let encoded = install
                .strip_prefix("itms-services://?action=download-manifest&url=")
                .expect("an install link");
            assert_eq!(
                percent_decode_str(encoded).decode_utf8().unwrap(),
                manifest.as_str()
            );
            let ipa = entry["ipa_url"].as_str().unwrap();
            assert_eq!(ipa, layout.ipa(app, build).url.as_str());
            assert!(
                ipa.starts_with(&format!(
                    "https://cdn.e.com/ipas/com.e.field/{}/",
                    build.slug
                )),
                "{ipa}"
            );
            assert_eq!(entry["size"], build.package.size);
            assert_eq!(entry["sha256"], build.package.sha256);
            assert_eq!(entry["minimum_os_version"], "15.0");
        }
        let installable: Vec<&Value> = entries.iter().map(|e| &e["installable"]).collect();
        assert_eq!(installable, [true, false, true]);
        let dated = &entries[2];
        assert_eq!(dated["date"], "2024-05-01T00:00:00Z");
        assert_eq!(dated["channel"], "beta");
        assert_eq!(dated["notes_html"], "<p>Fixed <strong>it</strong></p>\n");
        assert_eq!(dated["notes_text"], "Fixed it");
        assert_eq!(entries[0]["date"], Value::Null);
        assert_eq!(entries[0]["channel"], "stable");
    }

    #[test]
    fn latest_json_offers_the_latest_overall_and_per_channel() {
        let (catalog, _) = modelled(vec![
            release(ID, "3.0", "1")
                .notes("channel: beta\n")
                .signed(expired()),
            release(ID, "2.0", "1").notes("channel: beta\n"),
            release(ID, "1.0", "1"),
        ]);
        let (layout, app) = (&catalog.layout, &catalog.apps[0]);
        let latest = parsed(latest_json(layout, app));
        // The default channel's (stable), though an installable beta is newer.
        assert_eq!(latest["latest"]["version"], "1.0");
        assert_eq!(latest["latest"]["installable"], true);
        let channels = latest["channels"].as_object().unwrap();
        let versions: Vec<(&str, &str)> = channels
            .iter()
            .map(|(c, e)| (c.as_str(), e["version"].as_str().unwrap()))
            .collect();
        assert_eq!(versions, [("beta", "2.0"), ("stable", "1.0")]);
        assert_eq!(
            channels["stable"]["page_url"],
            "https://e.com/builds/com.e.field/1.0-1/"
        );
    }

    #[test]
    fn app_atom_has_one_entry_per_build_newest_first() {
        let (catalog, _) = modelled(vec![
            release(ID, "1.0", "7").notes("date: 2024-05-01\nchannel: beta\nnotes: Fixed **it**\n"),
            release(ID, "2.0", "2.0")
                .display_name("Field")
                .notes("date: 2024-05-03\n"),
        ]);
        let (layout, app) = (&catalog.layout, &catalog.apps[0]);
        let feed = atom(app_atom(layout, app));
        assert_eq!(feed.id(), "https://e.com/builds/com.e.field/feed.xml");
        assert_eq!(
            entry_ids(&feed),
            [
                "https://e.com/builds/com.e.field/2.0/",
                "https://e.com/builds/com.e.field/1.0-7/"
            ]
        );
        let older = &feed.entries()[1];
        assert_eq!(older.title().as_str(), "Field 1.0 (7) [beta]");
        assert_eq!(older.updated().to_rfc3339(), "2024-05-01T00:00:00+00:00");
        assert_eq!(
            older.content().and_then(|c| c.value()),
            Some("<p>Fixed <strong>it</strong></p>\n")
        );
        assert_eq!(feed.entries()[0].title().as_str(), "Field 2.0 [stable]");
        assert_eq!(feed.updated().to_rfc3339(), "2024-05-03T00:00:00+00:00");
    }

    #[test]
    fn site_atom_lists_every_build_of_every_app_newest_first() {
        let (catalog, _) = modelled(vec![
            release(ID, "1.0", "1").notes("date: 2024-05-01\n"),
            release("com.e.tide", "0.9", "1"),
            release(ID, "2.0", "1").notes("date: 2024-05-03\n"),
            release("com.e.tide", "1.0", "1").notes("date: 2024-05-02T12:00:00+02:00\n"),
        ]);
        let feed = atom(site_feed(&catalog));
        assert_eq!(feed.id(), "https://e.com/builds/feed.xml");
        assert_eq!(feed.title().as_str(), "Builds");
        assert_eq!(
            entry_ids(&feed),
            [
                "https://e.com/builds/com.e.field/2.0-1/",
                "https://e.com/builds/com.e.tide/1.0-1/",
                "https://e.com/builds/com.e.field/1.0-1/",
                "https://e.com/builds/com.e.tide/0.9-1/",
            ]
        );
    }

    #[test]
    fn a_date_out_of_rfc3339_range_is_an_error_naming_the_build() {
        // Notes refuse such a date; a feed still guards against one from anywhere else.
        let (catalog, problems) = modelled(vec![
            release(ID, "1.0", "7").built_at(time::macros::datetime!(9999-12-31 23:59:59 -23:59)),
            release(ID, "0.9", "6"),
        ]);
        assert_eq!(problems, []);
        let (layout, app) = (&catalog.layout, &catalog.apps[0]);
        for (feed, made) in [
            ("releases.json", releases_json(layout, app)),
            ("latest.json", latest_json(layout, app)),
            ("app feed", app_atom(layout, app)),
            ("site feed", site_feed(&catalog)),
        ] {
            let err = made.expect_err(feed).to_string();
            assert!(
                err.starts_with("build 1.0 of com.e.field: its date time 9999-12-31"),
                "{feed}: {err}"
            );
            assert!(
                err.contains("cannot be written as RFC 3339"),
                "{feed}: {err}"
            );
        }
    }

    #[test]
    fn atom_text_that_xml_cannot_carry_is_replaced() {
        let (mut catalog, problems) = modelled(vec![release(ID, "1.0", "7")]);
        assert_eq!(problems, []);
        // The model makes its text publishable; the feed must not rely on it.
        let catalog = Arc::get_mut(&mut catalog).expect("one owner");
        catalog.title = "Builds\u{1b}\u{fffe}".into();
        let app = &mut catalog.apps[0];
        app.name = "Field\u{0}".into();
        let build = &mut app.builds[0];
        build.title = "Field\u{c}".into();
        build.channel = "beta\u{1}".into();
        build.notes = Some(crate::catalog::RenderedNotes::new(
            &crate::spill::Spill::new(),
            "<p>\u{1b}[31m</p>".into(),
            String::new(),
        ));
        let (layout, app) = (&catalog.layout, &catalog.apps[0]);
        for bytes in [app_atom(layout, app), site_feed(catalog)] {
            let text = String::from_utf8(bytes.expect("a feed")).unwrap();
            assert!(text.chars().all(crate::text::is_publishable), "{text:?}");
            let feed = atom(Ok(text.into_bytes()));
            let entry = &feed.entries()[0];
            assert_eq!(
                entry.title().as_str(),
                "Field\u{fffd} 1.0 (7) [beta\u{fffd}]"
            );
            assert_eq!(entry.authors()[0].name(), "Field\u{fffd}");
            assert_eq!(
                entry.content().and_then(|c| c.value()),
                Some("<p>\u{fffd}[31m</p>")
            );
        }
        let site = atom(site_feed(catalog));
        assert_eq!(site.title().as_str(), "Builds\u{fffd}\u{fffd}");
    }
}
