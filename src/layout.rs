//! Where every output file goes and the URL it is served at: build folders, manifests, icons,
//! IPAs, pages, `latest/`, feeds and host files. Every other stage asks this module; none builds
//! a path or URL of its own, so moving or adding a file is one change here.
//!
//! Paths are relative to the output root and use `/`. A page is a folder with an `index.html`,
//! linked as the folder (`app/1.0/`).
//!
//! Apps, builds and channels are folders named by slugs that come from releases, beside files
//! and folders relsite names itself; [`ReservedNames`] keeps the two apart.

use std::collections::BTreeMap;

use url::Url;

use crate::catalog::{App, Build};
use crate::urls;

/// The folder of a private catalog's install files, each build's in `i/<token>/`: the only
/// files its host serves without a login.
pub const INSTALL_DIR: &str = "i";

/// The folder of what only a secret link reaches: the catalog index of a site with a secret,
/// `s/<token>/catalog.json`, and unlisted channels' pages, `s/<token>/`.
pub const SHARE_DIR: &str = "s";

/// Icon sizes published with every build, in pixels, each as `icon-<px>.png`.
pub const ICON_SIZES: &[u32] = &[MANIFEST_DISPLAY_ICON, PAGE_ICON];

/// The icon iOS shows while it installs (the manifest's `display-image`).
pub const MANIFEST_DISPLAY_ICON: u32 = 57;

/// The icon of pages and the manifest's `full-size-image`.
pub const PAGE_ICON: u32 = 512;

/// The OTA manifest's file name in a build's folder.
const MANIFEST: &str = "manifest.plist";

/// The file of a build's QR code.
const QR: &str = "qr.svg";

/// Feeds in an app's folder, and the site feed at the root.
const ATOM_FEED: &str = "feed.xml";
const RELEASES_JSON: &str = "releases.json";
const LATEST_JSON: &str = "latest.json";

/// Host configuration at the output root.
pub const HEADERS_FILE: &str = "_headers";
pub const ROBOTS_FILE: &str = "robots.txt";
pub const NOT_FOUND_PAGE: &str = "404.html";

/// A page's file in its folder.
const PAGE_FILE: &str = "index.html";

/// The folder of an app's `latest/` pages, and of its build list's later pages.
const LATEST_DIR: &str = "latest";
const PAGES_DIR: &str = "page";

/// A file of the output: where it is written and where it is served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    /// The file below the output root, such as `app/1.0/index.html`.
    pub file: String,
    /// How pages link to it from the output root: the folder for a page (`app/1.0/`), else the
    /// file.
    pub href: String,
    /// Its absolute URL.
    pub url: Url,
}

impl Place {
    /// The relative path from this file's folder back to the output root (`../../`).
    pub fn root(&self) -> String {
        "../".repeat(self.file.matches('/').count())
    }
}

/// Which app feed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppFeed {
    /// `releases.json`: every build.
    Releases,
    /// `latest.json`: the build to offer, overall and per channel.
    Latest,
    /// The app's Atom feed.
    Atom,
}

/// The site's output layout below its base URL (pages, manifests, icons) and the IPAs' base URL
/// (`ipa_base_url`, else the base URL).
#[derive(Debug, Clone)]
pub struct Layout {
    base: Url,
    ipa_base: Url,
    /// The secret folder of the catalog index, when the site has a secret.
    index_token: Option<String>,
}

impl Layout {
    /// `index_token`: the site secret's token for the catalog index
    /// ([`crate::secret::SiteSecret::index_token`]), when the site has a secret.
    pub fn new(base_url: &Url, ipa_base_url: Option<&Url>, index_token: Option<String>) -> Layout {
        Layout {
            base: base_url.clone(),
            ipa_base: ipa_base_url.unwrap_or(base_url).clone(),
            index_token,
        }
    }

    pub fn base_url(&self) -> &Url {
        &self.base
    }

    /// Whether the site has a secret, so that its pages and index name secret paths.
    pub fn has_secret(&self) -> bool {
        self.index_token.is_some()
    }

    /// A page: the folder of `segments` with its `index.html`.
    fn page(&self, segments: &[&str]) -> Place {
        let href: String = segments.iter().map(|s| format!("{s}/")).collect();
        Place {
            file: format!("{href}{PAGE_FILE}"),
            href,
            url: urls::join_dir(&self.base, segments),
        }
    }

    /// A file at `segments` below `base`.
    fn file(base: &Url, segments: &[&str]) -> Place {
        let file = segments.join("/");
        Place {
            href: file.clone(),
            url: urls::join_file(base, segments),
            file,
        }
    }

    /// The catalog page at the root.
    pub fn catalog_page(&self) -> Place {
        self.page(&[])
    }

    /// The page hosts serve for a missing path, at the root.
    pub fn not_found_page(&self) -> Place {
        Layout::file(&self.base, &[NOT_FOUND_PAGE])
    }

    /// The published catalog index: `catalog.json`, or `s/<token>/catalog.json` in a site with
    /// a secret, whose index lists private and unlisted builds' secret paths.
    pub fn index(&self) -> Place {
        let file = index_file(self.index_token.as_deref());
        Place {
            url: urls::join_file(&self.base, &file.split('/').collect::<Vec<_>>()),
            href: file.clone(),
            file,
        }
    }

    /// The Atom feed of every build.
    pub fn site_feed(&self) -> Place {
        Layout::file(&self.base, &[ATOM_FEED])
    }

    /// The catalog page of an unlisted channel, `s/<token>/` by its share token.
    pub fn share_page(&self, token: &str) -> Place {
        self.page(&[SHARE_DIR, token])
    }

    /// The segments of `rest` below an app's folder: `<app>/`, or `s/<token>/<app>/` for an
    /// unlisted channel's builds.
    fn in_app<'a>(app: &'a App, rest: &[&'a str]) -> Vec<&'a str> {
        let mut segments = match &app.share {
            Some(share) => vec![SHARE_DIR, share.token.as_str(), app.slug.as_str()],
            None => vec![app.slug.as_str()],
        };
        segments.extend_from_slice(rest);
        segments
    }

    /// Page `n` (from 1) of an app's build list: `<app>/`, then `<app>/page/<n>/` (below
    /// `s/<token>/` for an unlisted channel's, as every path of the app's folder).
    pub fn app_page(&self, app: &App, n: usize) -> Place {
        if n <= 1 {
            self.page(&Layout::in_app(app, &[]))
        } else {
            let n = n.to_string();
            self.page(&Layout::in_app(app, &[PAGES_DIR, &n]))
        }
    }

    pub fn app_feed(&self, app: &App, feed: AppFeed) -> Place {
        let name = match feed {
            AppFeed::Releases => RELEASES_JSON,
            AppFeed::Latest => LATEST_JSON,
            AppFeed::Atom => ATOM_FEED,
        };
        Layout::file(&self.base, &Layout::in_app(app, &[name]))
    }

    /// `<app>/latest/`, or `<app>/latest/<channel>/` for a channel's slug.
    pub fn latest_page(&self, app: &App, channel: Option<&str>) -> Place {
        match channel {
            None => self.page(&Layout::in_app(app, &[LATEST_DIR])),
            Some(channel) => self.page(&Layout::in_app(app, &[LATEST_DIR, channel])),
        }
    }

    /// A build's own page, `<app>/<version>/`: its folder also holds its QR code, and its
    /// install files unless they have a secret folder of their own.
    pub fn build_page(&self, app: &App, build: &Build) -> Place {
        self.page(&Layout::in_app(app, &[&build.slug]))
    }

    /// The segments of a build's install file `name`: in `i/<token>/` when the build has an
    /// install token (a private catalog's, or an unlisted channel's), else beside its page.
    fn install_file<'b>(app: &'b App, build: &'b Build, name: &'b str) -> Vec<&'b str> {
        match &build.install_token {
            Some(token) => vec![INSTALL_DIR, token, name],
            None => Layout::in_app(app, &[&build.slug, name]),
        }
    }

    pub fn manifest(&self, app: &App, build: &Build) -> Place {
        Layout::file(&self.base, &Layout::install_file(app, build, MANIFEST))
    }

    /// The QR code of the build's page, beside it ([`Layout::qr_beside`]).
    pub fn qr(&self, app: &App, build: &Build) -> Place {
        Layout::file(&self.base, &Layout::in_app(app, &[&build.slug, QR]))
    }

    /// The file of the QR code of the page at `page`, in the page's folder.
    pub fn qr_beside(page: &Place) -> String {
        let folder = page.file.strip_suffix(PAGE_FILE).unwrap_or(&page.file);
        format!("{folder}{QR}")
    }

    /// The build's icon of `px` pixels, one of [`ICON_SIZES`].
    pub fn icon(&self, app: &App, build: &Build, px: u32) -> Place {
        let name = icon_file(px);
        Layout::file(&self.base, &Layout::install_file(app, build, &name))
    }

    /// The IPA, below `ipa_base_url` when the site has one.
    pub fn ipa(&self, app: &App, build: &Build) -> Place {
        let name = &build.ipa_file_name;
        Layout::file(&self.ipa_base, &Layout::install_file(app, build, name))
    }

    /// The files a published build keeps from deploy to deploy, as the catalog index lists
    /// them: its IPA (unless IPAs are `external`, at `ipa_base_url`), then its icons.
    pub fn kept_files(&self, app: &App, build: &Build, external: bool) -> Vec<String> {
        let ipa = (!external).then(|| self.ipa(app, build).file);
        let icons = ICON_SIZES.iter().map(|&px| self.icon(app, build, px).file);
        ipa.into_iter().chain(icons).collect()
    }

    /// The `itms-services` link that installs the build.
    pub fn install_link(&self, app: &App, build: &Build) -> String {
        urls::install_link(&self.manifest(app, build).url)
    }

    /// `_headers` rules that match every build's file `name`, for hosts that take
    /// `:placeholder` segments.
    pub fn per_build_pattern(name: &str) -> String {
        format!("/:app/:version/{name}")
    }

    /// The per-build files `_headers` gives rules to: the manifest, then every icon.
    pub fn manifest_file() -> &'static str {
        MANIFEST
    }
}

/// The published catalog index's path below the output root, with the site secret's
/// `index_token` when the site has one ([`Layout::index`]).
pub fn index_file(index_token: Option<&str>) -> String {
    let index = crate::published::INDEX_FILE;
    match index_token {
        Some(token) => format!("{SHARE_DIR}/{token}/{index}"),
        None => index.to_string(),
    }
}

/// Whether `segment` is a secret token's path segment: 32 lowercase hex digits.
pub fn is_token(segment: &str) -> bool {
    segment.len() == 32
        && segment
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Whether `path` is where a catalog index is published, with or without a secret.
pub fn is_index_path(path: &str) -> bool {
    let index = crate::published::INDEX_FILE;
    match path.split('/').collect::<Vec<_>>().as_slice() {
        [file] => *file == index,
        [SHARE_DIR, token, file] => is_token(token) && *file == index,
        _ => false,
    }
}

/// `text` (a path, a URL or a message) with every secret token in it cut to its first 6 digits
/// (`i/3f9a1c…/manifest.plist`), for logs and messages that may be public, such as a CI run's.
/// A token is one where relsite puts them: the 32 hex digits after an `i/` or `s/` that begins
/// a path or follows a `/`, a space or punctuation.
pub fn redacted(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    for (at, _) in text.match_indices('/') {
        let folder = at >= 1 && matches!(bytes[at - 1], b'i' | b's');
        let starts = at < 2 || !bytes[at - 2].is_ascii_alphanumeric();
        let token = text.get(at + 1..at + 33).filter(|t| is_token(t));
        let ends = bytes.get(at + 33).is_none_or(|b| !b.is_ascii_hexdigit());
        if let (true, true, Some(token), true) = (folder, starts, token, ends) {
            out.push_str(&text[copied..=at]);
            out.push_str(&token[..6]);
            out.push('…');
            copied = at + 33;
        }
    }
    out.push_str(&text[copied..]);
    out
}

/// `icon-<px>.png`.
pub fn icon_file(px: u32) -> String {
    format!("icon-{px}.png")
}

/// The names no app, build or channel may take as its slug: every name relsite gives a file or
/// folder of its own at the output root, in an app's folder or in a build's folder, and the
/// top-level names of the theme's static files. One list for every kind of slug, so a name is
/// either free everywhere or nowhere. Names are compared without case, as macOS and Windows
/// file systems do.
#[derive(Debug, Clone)]
pub struct ReservedNames {
    /// By lowercased name: what relsite writes there, naming the file or files.
    names: BTreeMap<String, String>,
}

impl ReservedNames {
    /// relsite's own names, and those of `theme_files`: each static file's path below the output
    /// root with where it comes from (such as `themes/brand/static/assets/logo.svg`).
    pub fn new<'a>(theme_files: impl IntoIterator<Item = (&'a str, String)>) -> ReservedNames {
        let mut names = BTreeMap::new();
        let mut own = |name: &str, what: String| {
            names.insert(name.to_ascii_lowercase(), what);
        };
        own(
            PAGE_FILE,
            format!("the pages, each an `{PAGE_FILE}` in its folder"),
        );
        own(
            NOT_FOUND_PAGE,
            format!("the not-found page `{NOT_FOUND_PAGE}`"),
        );
        own(
            ATOM_FEED,
            format!("the Atom feeds `{ATOM_FEED}` and `<app>/{ATOM_FEED}`"),
        );
        for feed in [RELEASES_JSON, LATEST_JSON] {
            own(feed, format!("the app feed `<app>/{feed}`"));
        }
        own(
            LATEST_DIR,
            format!("the latest pages `<app>/{LATEST_DIR}/`"),
        );
        own(PAGES_DIR, format!("the app pages `<app>/{PAGES_DIR}/<n>/`"));
        own(
            MANIFEST,
            format!("the manifests `<app>/<version>/{MANIFEST}`"),
        );
        own(
            QR,
            format!("the QR codes of build pages, `<app>/<version>/{QR}`"),
        );
        for &px in ICON_SIZES {
            let icon = icon_file(px);
            own(&icon, format!("the icons `<app>/<version>/{icon}`"));
        }
        own(
            INSTALL_DIR,
            format!("the install files of private catalogs, `{INSTALL_DIR}/<token>/`"),
        );
        own(
            SHARE_DIR,
            format!(
                "the secret catalog index and unlisted channels' pages, `{SHARE_DIR}/<token>/`"
            ),
        );
        let index = crate::published::INDEX_FILE;
        own(index, format!("the published catalog index `{index}`"));
        for host in [HEADERS_FILE, ROBOTS_FILE] {
            own(host, format!("the host configuration `{host}`"));
        }
        let marker = crate::write::MARKER;
        own(marker, format!("the output marker `{marker}`"));
        for (path, origin) in theme_files {
            let top = path.split('/').next().unwrap_or(path).to_ascii_lowercase();
            names
                .entry(top)
                .or_insert_with(|| format!("the theme's files, such as `{path}` from {origin}"));
        }
        ReservedNames { names }
    }

    /// What relsite writes under `name`, when the name is reserved.
    pub fn owner(&self, name: &str) -> Option<&str> {
        self.names
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Catalog;
    use crate::catalog::testing::{config, modelled_secret, release, test_secret};
    use std::sync::Arc;

    const BASE: &str = "https://e.com/builds/";

    /// One app, slug `field`, with build 1.0 (7) on channel `Beta Testers`.
    fn field(extra_config: &str) -> Arc<Catalog> {
        field_with(extra_config, None)
    }

    /// [`field`] in a site with `secret`.
    fn field_with(extra_config: &str, secret: Option<&crate::secret::SiteSecret>) -> Arc<Catalog> {
        let config = config(&format!(
            "apps:\n  com.e.field:\n    slug: field\n{extra_config}"
        ));
        let (catalog, problems) = modelled_secret(
            &config,
            false,
            secret,
            vec![
                release("com.e.field", "1.0", "7")
                    .ipa("releases/Field 1.0.ipa")
                    .notes("channel: Beta Testers\n"),
            ],
        );
        assert_eq!(problems, []);
        catalog
    }

    #[track_caller]
    fn assert_place(place: Place, file: &str, href: &str, url: &str, root: &str) {
        assert_eq!(place.file, file);
        assert_eq!(place.href, href);
        assert_eq!(place.url.as_str(), url);
        assert_eq!(place.root(), root, "root of {file}");
    }

    /// Each icon of `build` is in the folder `dir`.
    #[track_caller]
    fn assert_icons_in(layout: &Layout, app: &App, build: &Build, dir: &str) {
        for &px in ICON_SIZES {
            let file = format!("{dir}icon-{px}.png");
            let url = format!("{BASE}{file}");
            assert_place(layout.icon(app, build, px), &file, &file, &url, "../../");
        }
    }

    #[test]
    fn root_climbs_one_level_per_folder() {
        let layout = Layout::new(&Url::parse("https://e.com/builds/").unwrap(), None, None);
        assert_eq!(layout.catalog_page().root(), "");
        assert_eq!(layout.catalog_page().file, "index.html");
        assert_eq!(layout.catalog_page().href, "");
        assert_eq!(layout.not_found_page().root(), "");
        assert_eq!(
            layout.site_feed().url.as_str(),
            "https://e.com/builds/feed.xml"
        );
    }

    #[test]
    fn build_files_sit_in_the_build_folder() {
        let catalog = field("");
        let (layout, app) = (&catalog.layout, &catalog.apps[0]);
        let build = &app.builds[0];
        assert_place(
            layout.build_page(app, build),
            "field/1.0-7/index.html",
            "field/1.0-7/",
            "https://e.com/builds/field/1.0-7/",
            "../../",
        );
        assert_place(
            layout.manifest(app, build),
            "field/1.0-7/manifest.plist",
            "field/1.0-7/manifest.plist",
            "https://e.com/builds/field/1.0-7/manifest.plist",
            "../../",
        );
        assert_eq!(ICON_SIZES, [57, 512]);
        assert_icons_in(layout, app, build, "field/1.0-7/");
        assert_place(
            layout.ipa(app, build),
            "field/1.0-7/field-1.0.ipa",
            "field/1.0-7/field-1.0.ipa",
            "https://e.com/builds/field/1.0-7/field-1.0.ipa",
            "../../",
        );
        assert_eq!(
            layout.install_link(app, build),
            "itms-services://?action=download-manifest&url=https%3A%2F%2Fe.com%2Fbuilds%2Ffield%2F1.0-7%2Fmanifest.plist"
        );
    }

    #[test]
    fn private_build_files_sit_under_their_token() {
        let secret = test_secret();
        let catalog = field_with(
            "private: true\nipa_base_url: https://cdn.e.com/ipas\n",
            Some(&secret),
        );
        let (layout, app) = (&catalog.layout, &catalog.apps[0]);
        let build = &app.builds[0];
        let token = secret.install_token("com.e.field", "1.0-7");
        assert_eq!(build.install_token.as_deref(), Some(token.as_str()));
        let dir = format!("i/{token}/");
        let file = format!("{dir}manifest.plist");
        let manifest = layout.manifest(app, build);
        assert_place(manifest, &file, &file, &format!("{BASE}{file}"), "../../");
        assert_icons_in(layout, app, build, &dir);
        let file = format!("{dir}field-1.0.ipa");
        let url = format!("https://cdn.e.com/ipas/{file}");
        assert_place(layout.ipa(app, build), &file, &file, &url, "../../");
        // The page and its QR code stay where they are, behind the host's login.
        assert_eq!(layout.build_page(app, build).file, "field/1.0-7/index.html");
        assert_eq!(layout.qr(app, build).file, "field/1.0-7/qr.svg");
        let index = format!("s/{}/catalog.json", secret.index_token());
        assert_place(
            layout.index(),
            &index,
            &index,
            &format!("{BASE}{index}"),
            "../../",
        );
        assert_eq!(field("").layout.index().file, "catalog.json");
    }

    #[test]
    fn secret_paths_are_told_apart_and_redacted() {
        let token = "0123456789abcdef0123456789abcdef";
        assert!(is_token(token));
        for not in [&token[1..], "0123456789ABCDEF0123456789ABCDEF", "field"] {
            assert!(!is_token(not), "{not}");
        }
        assert!(is_index_path("catalog.json"));
        assert!(is_index_path(&format!("s/{token}/catalog.json")));
        for not in [
            format!("i/{token}/catalog.json"),
            format!("s/{token}/field/catalog.json"),
            "s/field/catalog.json".to_string(),
            "field/catalog.json".to_string(),
        ] {
            assert!(!is_index_path(&not), "{not}");
        }
        assert_eq!(
            redacted(&format!("i/{token}/manifest.plist")),
            "i/012345…/manifest.plist"
        );
        assert_eq!(
            redacted(&format!("s/{token}/field/1.0/index.html")),
            "s/012345…/field/1.0/index.html"
        );
        assert_eq!(redacted("field/1.0/index.html"), "field/1.0/index.html");
        assert_eq!(redacted(&format!("i/{token}")), "i/012345…");
        assert_eq!(
            redacted(&format!(
                "cannot upload `i/{token}/a.ipa`: at https://e.com/s/{token}/x and i/{token}/"
            )),
            "cannot upload `i/012345…/a.ipa`: at https://e.com/s/012345…/x and i/012345…/"
        );
        for kept in [
            format!("wi/{token}/a"),
            format!("i/{token}0/a"),
            format!("x/{token}/a"),
            format!("i/{}/a", &token[1..]),
        ] {
            assert_eq!(redacted(&kept), kept);
        }
    }

    #[test]
    fn ipa_is_served_below_ipa_base_url_when_set() {
        let catalog = field("ipa_base_url: https://cdn.e.com/ipas\n");
        let (layout, app) = (&catalog.layout, &catalog.apps[0]);
        let build = &app.builds[0];
        assert_place(
            layout.ipa(app, build),
            "field/1.0-7/field-1.0.ipa",
            "field/1.0-7/field-1.0.ipa",
            "https://cdn.e.com/ipas/field/1.0-7/field-1.0.ipa",
            "../../",
        );
        assert_eq!(
            layout.manifest(app, build).url.as_str(),
            "https://e.com/builds/field/1.0-7/manifest.plist",
            "only the IPA moves"
        );
    }

    #[test]
    fn app_pages_are_numbered_from_the_second() {
        let catalog = field("");
        let (layout, app) = (&catalog.layout, &catalog.apps[0]);
        for n in [0, 1] {
            assert_place(
                layout.app_page(app, n),
                "field/index.html",
                "field/",
                "https://e.com/builds/field/",
                "../",
            );
        }
        assert_place(
            layout.app_page(app, 2),
            "field/page/2/index.html",
            "field/page/2/",
            "https://e.com/builds/field/page/2/",
            "../../../",
        );
        assert_place(
            layout.app_page(app, 12),
            "field/page/12/index.html",
            "field/page/12/",
            "https://e.com/builds/field/page/12/",
            "../../../",
        );
    }

    #[test]
    fn latest_pages_sit_below_the_app() {
        let catalog = field("");
        let (layout, app) = (&catalog.layout, &catalog.apps[0]);
        let channel = app.builds[0].channel_slug();
        assert_eq!(channel, "beta-testers");
        assert_place(
            layout.latest_page(app, None),
            "field/latest/index.html",
            "field/latest/",
            "https://e.com/builds/field/latest/",
            "../../",
        );
        assert_place(
            layout.latest_page(app, Some(&channel)),
            "field/latest/beta-testers/index.html",
            "field/latest/beta-testers/",
            "https://e.com/builds/field/latest/beta-testers/",
            "../../../",
        );
    }

    #[test]
    fn feeds_sit_in_the_app_folder_and_at_the_root() {
        let catalog = field("");
        let (layout, app) = (&catalog.layout, &catalog.apps[0]);
        for (feed, file) in [
            (AppFeed::Releases, "field/releases.json"),
            (AppFeed::Latest, "field/latest.json"),
            (AppFeed::Atom, "field/feed.xml"),
        ] {
            assert_place(
                layout.app_feed(app, feed),
                file,
                file,
                &format!("{BASE}{file}"),
                "../",
            );
        }
        assert_place(
            layout.site_feed(),
            "feed.xml",
            "feed.xml",
            "https://e.com/builds/feed.xml",
            "",
        );
        assert_place(
            layout.catalog_page(),
            "index.html",
            "",
            "https://e.com/builds/",
            "",
        );
        assert_place(
            layout.not_found_page(),
            "404.html",
            "404.html",
            "https://e.com/builds/404.html",
            "",
        );
    }

    #[test]
    fn every_name_relsite_writes_is_reserved() {
        let catalog = field("");
        let (layout, app) = (&catalog.layout, &catalog.apps[0]);
        let build = &app.builds[0];
        let secret = test_secret();
        let private = field_with("private: true\n", Some(&secret));
        let (private_layout, private_app) = (&private.layout, &private.apps[0]);
        let private_build = &private_app.builds[0];
        let reserved = ReservedNames::new([("assets/relsite.css", "the built-in theme".into())]);
        let mut places = vec![
            layout.catalog_page(),
            layout.not_found_page(),
            layout.site_feed(),
            layout.app_page(app, 1),
            layout.app_page(app, 2),
            layout.latest_page(app, None),
            layout.latest_page(app, Some("beta")),
            layout.build_page(app, build),
            layout.manifest(app, build),
            layout.index(),
            private_layout.manifest(private_app, private_build),
            private_layout.index(),
        ];
        places.extend(ICON_SIZES.iter().map(|&px| layout.icon(app, build, px)));
        places.extend(
            [AppFeed::Releases, AppFeed::Latest, AppFeed::Atom].map(|f| layout.app_feed(app, f)),
        );
        // Every name relsite chose itself, at any depth: all but the slugs and the page number.
        let tokens = [
            private_build.install_token.clone().unwrap(),
            secret.index_token(),
        ];
        let slugs = [app.slug.as_str(), build.slug.as_str(), "beta", "2"];
        let mut names: Vec<&str> = places
            .iter()
            .flat_map(|p| p.file.split('/'))
            .filter(|name| !slugs.contains(name) && !tokens.iter().any(|t| t == name))
            .chain([HEADERS_FILE, ROBOTS_FILE, crate::write::MARKER, "assets"])
            .collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), 17, "{names:?}");
        for name in names {
            assert!(reserved.owner(name).is_some(), "{name} is not reserved");
            assert!(
                reserved.owner(&name.to_uppercase()).is_some(),
                "{name} in capitals"
            );
        }
        assert_eq!(
            reserved.owner("Assets"),
            Some("the theme's files, such as `assets/relsite.css` from the built-in theme")
        );
        for free in [
            "com.e.field",
            "1.0-7",
            "beta",
            "index.htm",
            "feed",
            "latest-2",
        ] {
            assert_eq!(reserved.owner(free), None, "{free}");
        }
    }
}
