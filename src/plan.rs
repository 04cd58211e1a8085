//! The output plan: every file the site will contain, decided before anything is written, each
//! with its content (bytes, a file to copy, or a page or feed made when it is written) and a
//! fingerprint of what it is made from. Two sources that want the same path are an error naming
//! both. Pages are rendered by the write stage as it writes them, so a catalog's pages are never
//! all in memory at once, and a page whose fingerprint and file are unchanged is not rendered.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;
use tera::Context;

use crate::catalog::{App, Build, Catalog};
use crate::diag::{Diagnostic, display_path};
use crate::feeds;
use crate::ipa::IconSet;
use crate::layout::{AppFeed, Layout, MANIFEST_DISPLAY_ICON, PAGE_ICON, Place};
use crate::manifest::{Manifest, ManifestIcons};
use crate::render::views::{AppCard, BuildCard, BuildView, SiteView};
use crate::render::{StaticFile, Theme};
use crate::text::{plural, sha256};

/// A digest of everything a file is made from (SHA-256): two plans whose files have one
/// fingerprint give them the same bytes.
pub type Fingerprint = [u8; 32];

/// A file made when it is written.
pub trait Make: Send + Sync + std::fmt::Debug {
    /// The file's bytes; an error is a problem of the site, such as a broken template.
    fn make(&self) -> Result<Vec<u8>, Diagnostic>;

    /// Whether the file lists the whole catalog, or every app: it is then written to its file
    /// as it is made ([`Make::make_to`]), never held whole.
    fn streams(&self) -> bool {
        false
    }

    /// Whether the file's fingerprint is its bytes' digest, so that a file whose fingerprint
    /// changed is known to have changed without comparing its bytes with the old file's.
    fn print_is_bytes(&self) -> bool {
        false
    }

    /// Writes the file's bytes to `out`; a failure to write is reported as a problem too.
    fn make_to(&self, out: &mut dyn std::io::Write) -> Result<(), Diagnostic> {
        let bytes = self.make()?;
        out.write_all(&bytes)
            .map_err(|e| Diagnostic::error(None, e.to_string()))
    }
}

#[derive(Debug, Clone)]
pub enum Content {
    /// Bytes made by the build, shared with whatever else holds them (icons are).
    Bytes(Arc<[u8]>),
    /// An IPA, by absolute path: published as a copy of its own, never as a link to a file
    /// someone may overwrite. `kept` is relsite's own copy, which may be linked.
    Ipa { source: PathBuf, kept: bool },
    /// A page or feed, made when written.
    Made(Arc<dyn Make>),
}

/// What asked for a file, for collision messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// What it is: a source file, or a purpose such as `the feeds of app com.acme.field`.
    pub what: String,
    /// The site file it comes from, relative to the site root: a release's IPA (for an app's
    /// files, the app's first), a site theme's file; `None` for the catalog's own files.
    pub file: Option<PathBuf>,
}

impl Origin {
    /// A file made from the site file `file`.
    pub fn file(file: &Path) -> Origin {
        Origin {
            what: display_path(file),
            file: Some(file.to_path_buf()),
        }
    }

    /// A file of the catalog, made from no file in particular.
    pub fn site(what: &str) -> Origin {
        Origin {
            what: what.to_string(),
            file: None,
        }
    }

    /// A file of `app`: `what` (such as `the feeds`) of the app, from its first release.
    pub fn app(what: &str, app: &App) -> Origin {
        Origin {
            what: format!("{what} of app {}", app.bundle_id),
            file: app.first_release().map(Path::to_path_buf),
        }
    }
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.file {
            Some(file) if display_path(file) != self.what => {
                write!(f, "{} ({})", self.what, display_path(file))
            }
            _ => f.write_str(&self.what),
        }
    }
}

#[derive(Debug, Clone)]
pub struct PlannedFile {
    pub content: Content,
    /// What asked for this file, for collision messages.
    pub origin: Arc<Origin>,
    /// A digest of everything the file is made from: two plans whose files have one
    /// fingerprint give them the same bytes.
    pub fingerprint: Fingerprint,
}

impl PlannedFile {
    /// The file's bytes, made if they are made when written; `None` for a file that is copied.
    pub fn bytes(&self) -> Option<Result<Arc<[u8]>, Diagnostic>> {
        match &self.content {
            Content::Bytes(bytes) => Some(Ok(Arc::clone(bytes))),
            Content::Made(made) => Some(made.make().map(Arc::from)),
            Content::Ipa { .. } => None,
        }
    }
}

/// Output files, by path below the output root (with `/`), sorted.
#[derive(Debug, Default)]
pub struct PlannedFiles {
    pub files: BTreeMap<String, PlannedFile>,
}

impl PlannedFiles {
    /// Adds a file; a path planned twice is an error naming both origins, reported on the
    /// site file of either.
    pub fn add(
        &mut self,
        path: String,
        content: Content,
        origin: Arc<Origin>,
        fingerprint: Fingerprint,
    ) -> Result<(), Diagnostic> {
        if let Some(existing) = self.files.get(&path) {
            return Err(Diagnostic::error(
                origin.file.clone().or_else(|| existing.origin.file.clone()),
                format!(
                    "two files map to the same output path `{path}`: {} and {}; give one of them another slug",
                    existing.origin, origin
                ),
            ));
        }
        self.files.insert(
            path,
            PlannedFile {
                content,
                origin,
                fingerprint,
            },
        );
        Ok(())
    }

    /// A file whose path is also a folder of other files cannot be written: each such file is
    /// an error naming both origins, reported once with the first file below it and a count of
    /// the others, on the site file of either origin.
    pub fn folder_clashes(&self) -> Vec<Diagnostic> {
        // By the file that is also a folder: the first file below it, and how many more.
        let mut clashes: BTreeMap<&str, (&str, &PlannedFile, usize)> = BTreeMap::new();
        for (path, file) in &self.files {
            let mut folder = path.as_str();
            while let Some((parent, _)) = folder.rsplit_once('/') {
                if self.files.contains_key(parent) {
                    clashes
                        .entry(parent)
                        .and_modify(|(_, _, more)| *more += 1)
                        .or_insert((path, file, 0));
                    break;
                }
                folder = parent;
            }
        }
        clashes
            .into_iter()
            .map(|(parent, (path, file, more))| {
                let clash = &self.files[parent];
                let others = match more {
                    0 => String::new(),
                    n => format!(" and {}", plural(n, "other file")),
                };
                Diagnostic::error(
                    file.origin.file.clone().or_else(|| clash.origin.file.clone()),
                    format!(
                        "`{parent}` is planned as a file for {} and as a folder holding `{path}`{others} for {}; give one of them another slug",
                        clash.origin, file.origin
                    ),
                )
            })
            .collect()
    }

    pub fn len(&self) -> usize {
        self.files.len()
    }

    /// Makes every file that is made when written, in parallel, keeping none: what `check`
    /// does instead of writing. Returns each failure with its file's path.
    pub fn unmade(&self) -> Vec<(Diagnostic, String)> {
        self.files
            .par_iter()
            .filter_map(|(path, file)| {
                match &file.content {
                    Content::Made(made) if made.streams() => {
                        made.make_to(&mut std::io::sink()).err()
                    }
                    _ => file.bytes()?.err(),
                }
                .map(|d| (d, path.clone()))
            })
            .collect()
    }
}

/// Problems of making files, each with its file. One broken template fails every page made
/// with it: it is reported once, with the pages.
pub fn made_problems(failed: Vec<(Diagnostic, String)>) -> Vec<Diagnostic> {
    let mut grouped: Vec<(Diagnostic, Vec<String>)> = Vec::new();
    for (d, page) in failed {
        match grouped.iter_mut().find(|(seen, _)| *seen == d) {
            Some((_, pages)) => pages.push(page),
            None => grouped.push((d, vec![page])),
        }
    }
    grouped
        .into_iter()
        .map(|(mut d, mut pages)| {
            pages.sort();
            let others = match pages.len() {
                1 => String::new(),
                n => format!(" and {}", plural(n - 1, "other page")),
            };
            d.message = format!("while rendering `{}`{others}: {}", pages[0], d.message);
            d
        })
        .collect()
}

/// Site-wide choices that shape the output.
#[derive(Debug, Clone, Copy, Default)]
pub struct PlanOptions {
    /// Publish provisioned device UDIDs on build pages.
    pub show_devices: bool,
    /// Publish the profile's name and the team ID on build pages.
    pub show_profile: bool,
    /// Let search engines index the site.
    pub public: bool,
    /// IPAs are hosted elsewhere (`ipa_base_url`): keep them out of the output.
    pub external_ipas: bool,
}

/// Builds listed on one app page; later builds go to `<app>/page/<n>/`.
pub const BUILDS_PER_PAGE: usize = 50;

/// How many pages an app's build list takes.
pub fn app_page_count(app: &App) -> usize {
    app.builds.len().div_ceil(BUILDS_PER_PAGE)
}

/// What pages and feeds are made from, shared by every file made when written.
struct Renderer {
    catalog: Arc<Catalog>,
    theme: Arc<Theme>,
    options: PlanOptions,
}

/// A page, by what it shows.
#[derive(Debug, Clone)]
enum Page {
    Catalog,
    /// The catalog page of an unlisted channel, by its slug.
    Share(String),
    NotFound,
    /// Page `n` (from 1) of an app's build list.
    App {
        app: usize,
        n: usize,
    },
    /// A build, on its own page or one of its app's `latest/` pages.
    Build {
        app: usize,
        build: usize,
        page: BuildPage,
    },
}

/// Which of a build's pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BuildPage {
    /// Its own, `<app>/<version>/`.
    Own,
    /// The app's `latest/`.
    Latest,
    /// `latest/<channel>/` of the build's channel.
    LatestOfChannel,
}

/// A feed, by what it lists.
#[derive(Debug, Clone, Copy)]
enum FeedOf {
    Site,
    App { app: usize, feed: AppFeed },
}

#[derive(serde::Serialize)]
struct Pagination {
    current: usize,
    total: usize,
    /// Paths relative to the output root.
    previous: Option<String>,
    next: Option<String>,
}

impl std::fmt::Debug for Renderer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Renderer")
            .field("theme", &self.theme.fingerprint)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

/// Where a page's template data goes: the template context, to render the page, or
/// [`Described`], for its fingerprint. Only one of the two is made for a look at a page: the
/// context is as large as the page's data, the digest holds none of it.
trait PageData {
    fn insert(&mut self, key: &'static str, value: &(impl serde::Serialize + ?Sized));
}

impl PageData for Context {
    fn insert(&mut self, key: &'static str, value: &(impl serde::Serialize + ?Sized)) {
        Context::insert(self, key, value);
    }
}

/// A page's template data written out in order, as JSON, into a digest (the template
/// context's own maps have no fixed order).
#[derive(Default)]
struct Described {
    digest: Digest,
    /// Why the data could not be written out, if it could not.
    problem: Option<String>,
}

impl PageData for Described {
    fn insert(&mut self, key: &'static str, value: &(impl serde::Serialize + ?Sized)) {
        sha2::Digest::update(&mut self.digest.0, key.as_bytes());
        if let Err(e) = serde_json::to_writer(&mut self.digest, value) {
            self.problem.get_or_insert(e.to_string());
        }
    }
}

impl Described {
    /// The digest of every value under its name.
    fn digest(self) -> Result<[u8; 32], String> {
        match self.problem {
            Some(why) => Err(why),
            None => Ok(sha2::Digest::finalize(self.digest.0).into()),
        }
    }
}

impl Renderer {
    fn layout(&self) -> &Layout {
        &self.catalog.layout
    }

    /// A digest of what every app's files are made from besides the app: this build of
    /// relsite, the theme, the site's options, what pages say of the site, and the layout.
    fn settings_input(&self) -> Fingerprint {
        let site = serde_json::to_vec(&SiteView::new(&self.catalog, !self.options.public))
            .unwrap_or_default();
        sha256([
            env!("RELSITE_BUILD").as_bytes(),
            self.theme.fingerprint.as_bytes(),
            format!("{:?}", self.options).as_bytes(),
            &site,
            format!("{:?}", self.catalog.layout).as_bytes(),
        ])
    }

    /// The page's file and template; its data goes into `context`.
    fn page(
        &self,
        page: &Page,
        context: &mut impl PageData,
    ) -> Result<(Place, &'static str), Diagnostic> {
        let catalog = &*self.catalog;
        let layout = self.layout();
        // An unlisted channel's pages are never indexed, should a link leak.
        let secret = match page {
            Page::Share(_) => true,
            Page::App { app, .. } | Page::Build { app, .. } => catalog.apps[*app].share.is_some(),
            Page::Catalog | Page::NotFound => false,
        };
        let noindex = !self.options.public || secret;
        context.insert("site", &SiteView::new(catalog, noindex));
        let (place, template) = match page {
            Page::Catalog => {
                let apps: Vec<AppCard<'_>> = catalog
                    .listed_apps()
                    .map(|a| AppCard::offering(layout, a, a.description_html.as_deref()))
                    .collect();
                context.insert("apps", &apps);
                context.insert("share", &None::<&str>);
                (layout.catalog_page(), "catalog.html")
            }
            Page::Share(slug) => {
                let of_share = |a: &&App| a.share.as_ref().is_some_and(|s| s.slug == *slug);
                let apps: Vec<&App> = catalog.apps.iter().filter(of_share).collect();
                let cards: Vec<AppCard<'_>> = apps
                    .iter()
                    .map(|a| AppCard::offering(layout, a, a.description_html.as_deref()))
                    .collect();
                context.insert("apps", &cards);
                let share = apps.first().and_then(|a| a.share.as_ref());
                context.insert("share", &share.map(|s| s.channel.as_str()));
                let place = match share {
                    Some(share) => layout.share_page(&share.token),
                    None => {
                        return Err(Diagnostic::error(
                            None,
                            format!("channel {slug} has no build"),
                        ));
                    }
                };
                (place, "catalog.html")
            }
            Page::NotFound => (layout.not_found_page(), "404.html"),
            Page::App { app, n } => {
                let app = &catalog.apps[*app];
                let total = app_page_count(app);
                let builds: Vec<BuildCard<'_>> = app
                    .builds
                    .chunks(BUILDS_PER_PAGE)
                    .nth(n - 1)
                    .unwrap_or_default()
                    .iter()
                    .map(|b| BuildCard::new(layout, app, b))
                    .collect();
                context.insert(
                    "app",
                    &AppCard::offering(layout, app, app.description_html.as_deref()),
                );
                context.insert("builds", &builds);
                context.insert(
                    "pagination",
                    &Pagination {
                        current: *n,
                        total,
                        previous: (*n > 1).then(|| layout.app_page(app, n - 1).href),
                        next: (*n < total).then(|| layout.app_page(app, n + 1).href),
                    },
                );
                (layout.app_page(app, *n), "app.html")
            }
            Page::Build { app, build, page } => {
                let app = &catalog.apps[*app];
                let build = &app.builds[*build];
                let latest = *page != BuildPage::Own;
                let place = match page {
                    BuildPage::Own => layout.build_page(app, build),
                    BuildPage::Latest => layout.latest_page(app, None),
                    BuildPage::LatestOfChannel => {
                        layout.latest_page(app, Some(&build.channel_slug()))
                    }
                };
                context.insert("app", &AppCard::new(layout, app, None));
                let view = BuildView::new(layout, app, build, self.options).map_err(|e| {
                    Diagnostic::error(
                        build.source.ipa.clone(),
                        format!("its notes could not be read back: {e}"),
                    )
                })?;
                context.insert("build", &view);
                context.insert("page_url", place.url.as_str());
                context.insert("latest", &latest);
                (place, "build.html")
            }
        };
        // `root` climbs from a page to the output root: relative on every page but 404.html,
        // which hosts serve for a missing path at any depth.
        let root = match page {
            Page::NotFound => layout.base_url().path().to_string(),
            _ => place.root(),
        };
        context.insert("root", &root);
        Ok((place, template))
    }

    /// A digest of everything the page is made from: this build of relsite, the theme and the
    /// page's data.
    /// Returns the page's file too, from the same look at its data.
    fn page_fingerprint(&self, page: &Page) -> Result<(Place, Fingerprint), Diagnostic> {
        let mut described = Described::default();
        let (place, template) = self.page(page, &mut described)?;
        let data = described
            .digest()
            .map_err(|e| Diagnostic::error(None, format!("cannot describe a page: {e}")))?;
        let print = sha256([
            env!("RELSITE_BUILD").as_bytes(),
            self.theme.fingerprint.as_bytes(),
            template.as_bytes(),
            &data,
        ]);
        Ok((place, print))
    }

    fn render(&self, page: &Page) -> Result<Vec<u8>, Diagnostic> {
        let mut context = Context::new();
        let (_, template) = self.page(page, &mut context)?;
        Ok(self.theme.render(template, &context)?.into_bytes())
    }

    fn render_to(&self, page: &Page, out: &mut dyn std::io::Write) -> Result<(), Diagnostic> {
        let mut context = Context::new();
        let (_, template) = self.page(page, &mut context)?;
        self.theme.render_to(template, &context, out)
    }

    fn feed(&self, feed: FeedOf) -> Result<Vec<u8>, Diagnostic> {
        let mut bytes = Vec::new();
        self.feed_to(feed, &mut bytes)?;
        Ok(bytes)
    }

    /// Writes the feed to `out`: the site's feed, which lists every listed build, is written as
    /// it is made.
    fn feed_to(&self, feed: FeedOf, out: &mut dyn std::io::Write) -> Result<(), Diagnostic> {
        let layout = self.layout();
        let (made, place) = match feed {
            FeedOf::Site => (feeds::site_atom(&self.catalog, out), layout.site_feed()),
            FeedOf::App { app, feed } => {
                let app = &self.catalog.apps[app];
                let made = match feed {
                    AppFeed::Releases => feeds::releases_json(layout, app),
                    AppFeed::Latest => feeds::latest_json(layout, app),
                    AppFeed::Atom => feeds::app_atom(layout, app),
                };
                let written = made.and_then(|bytes| {
                    out.write_all(&bytes)
                        .map_err(|e| feeds::FeedError::Io(e.to_string()))
                });
                (written, layout.app_feed(app, feed))
            }
        };
        made.map_err(|e| Diagnostic::error(None, format!("cannot write {}: {e}", place.file)))
    }
}

impl Renderer {
    /// Writes the published catalog index: each build's entry with the files kept for it.
    fn index_to(&self, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        let layout = self.layout();
        let external = self.options.external_ipas;
        let builds = self.catalog.builds().map(|(app, build)| {
            let files = layout.kept_files(app, build, external);
            build.entry.read().map(|entry| (entry, files))
        });
        crate::published::write_index(out, builds)
    }
}

/// The published catalog index, made when written.
#[derive(Debug)]
struct MadeIndex {
    renderer: Arc<Renderer>,
}

impl Make for MadeIndex {
    fn make(&self) -> Result<Vec<u8>, Diagnostic> {
        let mut bytes = Vec::new();
        self.make_to(&mut bytes)?;
        Ok(bytes)
    }

    fn streams(&self) -> bool {
        true
    }

    fn print_is_bytes(&self) -> bool {
        true
    }

    fn make_to(&self, out: &mut dyn std::io::Write) -> Result<(), Diagnostic> {
        self.renderer.index_to(out).map_err(|e| {
            Diagnostic::error(
                None,
                format!("cannot write {}: {e}", crate::published::INDEX_FILE),
            )
        })
    }
}

/// A writer that only hashes what it is given (SHA-256).
#[derive(Default)]
struct Digest(sha2::Sha256);

impl std::io::Write for Digest {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        sha2::Digest::update(&mut self.0, bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A page rendered when written.
#[derive(Debug)]
struct MadePage {
    renderer: Arc<Renderer>,
    page: Page,
}

impl Make for MadePage {
    fn make(&self) -> Result<Vec<u8>, Diagnostic> {
        self.renderer.render(&self.page)
    }

    /// The catalog page, which lists every app, and unlisted channels' pages are written as
    /// they are made.
    fn streams(&self) -> bool {
        matches!(self.page, Page::Catalog | Page::Share(_))
    }

    fn make_to(&self, out: &mut dyn std::io::Write) -> Result<(), Diagnostic> {
        self.renderer.render_to(&self.page, out)
    }
}

/// A feed made when written.
#[derive(Debug)]
struct MadeFeed {
    renderer: Arc<Renderer>,
    feed: FeedOf,
}

impl Make for MadeFeed {
    fn make(&self) -> Result<Vec<u8>, Diagnostic> {
        self.renderer.feed(self.feed)
    }

    fn streams(&self) -> bool {
        matches!(self.feed, FeedOf::Site)
    }

    /// Every feed's fingerprint is its bytes' digest ([`Planner::add_feed`]).
    fn print_is_bytes(&self) -> bool {
        true
    }

    fn make_to(&self, out: &mut dyn std::io::Write) -> Result<(), Diagnostic> {
        self.renderer.feed_to(self.feed, out)
    }
}

/// A build's manifest, made when written.
#[derive(Debug)]
struct MadeManifest {
    renderer: Arc<Renderer>,
    app: usize,
    build: usize,
}

impl Make for MadeManifest {
    fn make(&self) -> Result<Vec<u8>, Diagnostic> {
        let catalog = &self.renderer.catalog;
        let app = &catalog.apps[self.app];
        let build = &app.builds[self.build];
        manifest(&catalog.layout, app, build).map_err(|e| {
            Diagnostic::error(
                build.source.ipa.clone(),
                format!(
                    "cannot write {}: {e}",
                    catalog.layout.manifest(app, build).file
                ),
            )
        })
    }
}

/// The QR code of a build's page, drawn when written.
#[derive(Debug)]
struct MadeQr {
    url: String,
}

impl Make for MadeQr {
    fn make(&self) -> Result<Vec<u8>, Diagnostic> {
        crate::render::qr::svg(&self.url, QR_PX)
            .map(String::into_bytes)
            .map_err(|e| {
                Diagnostic::error(
                    None,
                    format!("cannot draw the QR code of {}: {e}", self.url),
                )
            })
    }
}

/// How wide a QR code is drawn unless a page says otherwise, in pixels.
const QR_PX: u32 = 200;

/// An icon PNG kept in a file, read when written.
#[derive(Debug)]
struct MadeIcon {
    icons: Arc<IconSet>,
    px: u32,
    origin: Arc<Origin>,
}

impl Make for MadeIcon {
    fn make(&self) -> Result<Vec<u8>, Diagnostic> {
        let png = self.icons.png(self.px).ok_or_else(|| {
            Diagnostic::error(
                self.origin.file.clone(),
                format!("no {}px icon was made", self.px),
            )
        })?;
        png.bytes()
            .map(|bytes| bytes.to_vec())
            .map_err(|why| Diagnostic::error(self.origin.file.clone(), why))
    }
}

/// Builds of an app planned and written together, at most: a part of the site.
pub const BUILDS_PER_PART: usize = 50;

/// The site's files, planned in parts so that a catalog's files are never all held at once: the
/// catalog's own files (its pages, feeds, index, theme and host files), planned at once, and each
/// app's, in parts of up to [`BUILDS_PER_PART`] builds, planned when written
/// ([`OutputPlan::files_of`]).
#[derive(Debug)]
pub struct OutputPlan {
    /// The catalog's own files.
    pub site: PlannedFiles,
    /// The apps' parts, app by app.
    pub parts: Vec<Part>,
    /// `None` for a site of no parts.
    planner: Option<PartPlanner>,
}

/// Some of an app's files: the first part has the app's pages and feeds, and each its builds'.
#[derive(Debug, Clone)]
pub struct Part {
    /// Names the part in the output record: the bundle identifier (with `@<channel>` for an
    /// unlisted channel's builds) and the part's number.
    pub name: String,
    /// A digest of everything the part's files are made from: the app as modelled (each of its
    /// builds, and so what its pages say of the others), the site's settings, the theme and this
    /// build of relsite. A part with the input of the last write has the files it had.
    pub input: Fingerprint,
    app: usize,
    builds: std::ops::Range<usize>,
    /// Whether the part has the app's own pages and feeds.
    app_files: bool,
}

impl Part {
    /// How many builds the part has, for progress.
    pub fn build_count(&self) -> usize {
        self.builds.len()
    }
}

/// What a part's files are planned with.
#[derive(Debug)]
struct PartPlanner {
    renderer: Arc<Renderer>,
    root: PathBuf,
    /// Where relsite keeps its own copies of IPAs, by SHA-256, when it keeps them.
    kept_copies: Option<PathBuf>,
    /// What the host files say.
    host: crate::hosting::HostSettings,
}

/// What files are being planned into: files so far and problems.
struct Planner<'p> {
    renderer: Arc<Renderer>,
    root: &'p Path,
    kept_copies: Option<&'p Path>,
    plan: PlannedFiles,
    problems: Vec<Diagnostic>,
}

/// Plans the site: its own files now, and its apps' in parts to plan when written.
/// `kept_copies` is where relsite keeps its own copies of IPAs, by SHA-256, when it keeps them.
pub fn plan(
    catalog: &Arc<Catalog>,
    theme: &Arc<Theme>,
    root: &Path,
    options: PlanOptions,
    host: crate::hosting::HostSettings,
    kept_copies: Option<PathBuf>,
) -> Result<OutputPlan, Vec<Diagnostic>> {
    let planner = PartPlanner {
        renderer: Arc::new(Renderer {
            catalog: Arc::clone(catalog),
            theme: Arc::clone(theme),
            options,
        }),
        root: root.to_path_buf(),
        kept_copies,
        host,
    };
    let mut site = planner.planner();
    site.site_files();
    site.theme_files(theme);
    site.host_files(&planner.host);
    let Planner {
        plan: site,
        mut problems,
        ..
    } = site;
    problems.extend(site.folder_clashes());
    if !problems.is_empty() {
        return Err(problems);
    }
    let settings = planner.renderer.settings_input();
    let parts = catalog
        .apps
        .par_iter()
        .enumerate()
        .flat_map_iter(|(a, app)| {
            let input = app_input(&settings, app);
            let count = app.builds.len().div_ceil(BUILDS_PER_PART).max(1);
            (0..count).map(move |n| {
                let start = n * BUILDS_PER_PART;
                let of = match &app.share {
                    Some(share) => format!("{}@{}", app.bundle_id, share.slug),
                    None => app.bundle_id.clone(),
                };
                Part {
                    name: format!("{of}#{n}"),
                    input,
                    app: a,
                    builds: start..app.builds.len().min(start + BUILDS_PER_PART),
                    app_files: n == 0,
                }
            })
        })
        .collect();
    Ok(OutputPlan {
        site,
        parts,
        planner: Some(planner),
    })
}

impl OutputPlan {
    /// A site of `files` alone.
    #[cfg(test)]
    pub fn of_files(files: PlannedFiles) -> OutputPlan {
        OutputPlan {
            site: files,
            parts: Vec::new(),
            planner: None,
        }
    }

    /// Plans the files of `part`, with the problems found planning them.
    pub fn files_of(&self, part: &Part) -> (PlannedFiles, Vec<Diagnostic>) {
        let Some(planner) = &self.planner else {
            return (PlannedFiles::default(), Vec::new());
        };
        let mut planner = planner.planner();
        planner.part(part);
        (planner.plan, planner.problems)
    }

    /// Plans every file of the site at once, each after those it came after before the site
    /// was planned in parts: two files at one path, or a file at another's folder, are problems
    /// naming both. Holds the whole site: for tests, and to report the clashes a write or
    /// check finds by the paths' digests.
    pub fn whole(&self) -> Result<PlannedFiles, Vec<Diagnostic>> {
        let Some(planner) = &self.planner else {
            return Ok(PlannedFiles {
                files: self.site.files.clone(),
            });
        };
        let (theme, host) = (&planner.renderer.theme, &planner.host);
        let mut planner = planner.planner();
        planner.site_files();
        for part in &self.parts {
            planner.part(part);
        }
        planner.theme_files(theme);
        planner.host_files(host);
        let Planner {
            plan, mut problems, ..
        } = planner;
        problems.extend(plan.folder_clashes());
        if problems.is_empty() {
            Ok(plan)
        } else {
            Err(problems)
        }
    }

    /// The problems of a site two of whose files take one path, or one another's folder (as
    /// [`Claims::clash`] found): each named by the whole plan, with every other problem of
    /// planning.
    pub fn clash_problems(&self) -> Vec<Diagnostic> {
        match self.whole() {
            Err(problems) => problems,
            Ok(_) => vec![Diagnostic::error(
                None,
                "two output files take one path, or one another's folder",
            )],
        }
    }

    /// Plans and makes every file, part by part, keeping none: what `check` does instead of
    /// writing. Returns how many files the site has, or every problem.
    pub fn verify(&self) -> Result<usize, Vec<Diagnostic>> {
        let mut claims = Claims::default();
        let mut unmade = self.site.unmade();
        claims.claim_all(&self.site);
        let parts: Vec<Checked> = self
            .parts
            .par_iter()
            .map(|part| {
                let (files, planned) = self.files_of(part);
                let mut claims = Claims::default();
                claims.claim_all(&files);
                (claims, planned, files.unmade())
            })
            .collect();
        let mut problems = Vec::new();
        for (part, planned, made) in parts {
            claims.merge(part);
            problems.extend(planned);
            unmade.extend(made);
        }
        if claims.clash() {
            return Err(self.clash_problems());
        }
        problems.extend(made_problems(unmade));
        if problems.is_empty() {
            Ok(claims.len())
        } else {
            Err(problems)
        }
    }
}

/// What checking a part came to: its files' claims, the problems of planning it, and the files
/// that could not be made.
type Checked = (Claims, Vec<Diagnostic>, Vec<(Diagnostic, String)>);

/// The paths a site's files take, by digest ([`crate::record::key`]), to find two files at one
/// path, or a file at another's folder, without holding the paths.
#[derive(Debug, Default)]
pub struct Claims {
    files: Vec<u128>,
    folders: std::collections::HashSet<u128>,
}

impl Claims {
    /// Takes the path of a file.
    pub fn claim(&mut self, path: &str) {
        self.files.push(crate::record::key(path));
        self.claim_folders_of(path);
    }

    /// Takes the folders of the path of a file, whose own claim is held elsewhere.
    pub fn claim_folders_of(&mut self, path: &str) {
        let mut folder = path;
        while let Some((parent, _)) = folder.rsplit_once('/') {
            if !self.folders.insert(crate::record::key(parent)) {
                break;
            }
            folder = parent;
        }
    }

    /// Takes the paths of `files`.
    pub fn claim_all(&mut self, files: &PlannedFiles) {
        for path in files.files.keys() {
            self.claim(path);
        }
    }

    /// Takes the claims of another set of files.
    pub fn merge(&mut self, other: Claims) {
        self.files.extend(other.files);
        self.folders.extend(other.folders);
    }

    /// Whether two files took one path, or a file took another's folder.
    pub fn clash(&mut self) -> bool {
        self.clash_with(|_| false)
    }

    /// [`Claims::clash`], with the files whose claims `held` holds elsewhere: whether a file
    /// took one of theirs, or one of theirs a folder.
    pub fn clash_with(&mut self, held: impl Fn(u128) -> bool) -> bool {
        self.files.sort_unstable();
        self.files.windows(2).any(|w| w[0] == w[1])
            || self
                .files
                .iter()
                .any(|&f| self.folders.contains(&f) || held(f))
            || self.folders.iter().any(|&f| held(f))
    }

    /// How many files took a path.
    pub fn len(&self) -> usize {
        self.files.len()
    }

    /// Whether a file took `key`, once [`Claims::clash`] has sorted them.
    pub fn has(&self, key: u128) -> bool {
        self.files.binary_search(&key).is_ok()
    }

    /// Whether `key` is a folder of a file.
    pub fn has_folder(&self, key: u128) -> bool {
        self.folders.contains(&key)
    }
}

impl PartPlanner {
    fn planner(&self) -> Planner<'_> {
        Planner {
            renderer: Arc::clone(&self.renderer),
            root: &self.root,
            kept_copies: self.kept_copies.as_deref(),
            plan: PlannedFiles::default(),
            problems: Vec::new(),
        }
    }
}

/// Writes into a SHA-256 what is formatted into it.
struct DigestFmt(sha2::Sha256);

impl std::fmt::Write for DigestFmt {
    fn write_str(&mut self, text: &str) -> std::fmt::Result {
        sha2::Digest::update(&mut self.0, text.as_bytes());
        Ok(())
    }
}

/// The input of an app's parts: the site's settings, then the app as modelled, written out by
/// its `Debug`, which names every field of the model, so that none can be left out.
fn app_input(settings: &Fingerprint, app: &App) -> Fingerprint {
    use std::fmt::Write;
    let mut digest = DigestFmt(sha2::Digest::new_with_prefix(settings));
    // Writing into a digest cannot fail.
    let _ = write!(digest, "{app:?}");
    sha2::Digest::finalize(digest.0).into()
}

impl Planner<'_> {
    fn layout(&self) -> &Layout {
        &self.renderer.catalog.layout
    }

    /// The files of an app's part.
    fn part(&mut self, part: &Part) {
        let renderer = Arc::clone(&self.renderer);
        let app = &renderer.catalog.apps[part.app];
        if part.app_files {
            self.app(part.app, app);
        }
        for b in part.builds.clone() {
            self.build(part.app, app, b, &app.builds[b]);
        }
    }

    /// Adds a file; a path planned twice is a problem naming both origins.
    fn add(
        &mut self,
        file: String,
        content: Content,
        origin: impl Into<Arc<Origin>>,
        print: Fingerprint,
    ) {
        if let Err(d) = self.plan.add(file, content, origin.into(), print) {
            self.problems.push(d);
        }
    }

    /// Adds bytes made now, fingerprinted by their digest.
    fn add_bytes(&mut self, file: String, bytes: Vec<u8>, origin: Origin) {
        let print = sha256([bytes.as_slice()]);
        self.add(file, Content::Bytes(bytes.into()), origin, print);
    }

    /// Adds a page, rendered when written.
    /// A build's pages (its own and the `latest/` ones) have their QR code beside them.
    fn add_page(&mut self, page: Page, origin: impl Into<Arc<Origin>>) {
        let origin = origin.into();
        match self.renderer.page_fingerprint(&page) {
            Ok((place, print)) => {
                let with_qr = matches!(page, Page::Build { .. });
                let made = MadePage {
                    renderer: Arc::clone(&self.renderer),
                    page,
                };
                let problems = self.problems.len();
                let file = place.file.clone();
                self.add(
                    file,
                    Content::Made(Arc::new(made)),
                    Arc::clone(&origin),
                    print,
                );
                // A page whose path is taken is reported once, without its QR code's.
                if with_qr && self.problems.len() == problems {
                    self.add_qr(&place, origin);
                }
            }
            Err(d) => self.problems.push(d),
        }
    }

    /// The QR code of the page at `page`, beside it, drawn when written: from the page's
    /// address alone, so once for the page's life.
    fn add_qr(&mut self, page: &Place, origin: Arc<Origin>) {
        let url = page.url.to_string();
        let print = sha256([env!("RELSITE_BUILD").as_bytes(), b"qr", url.as_bytes()]);
        let made = Content::Made(Arc::new(MadeQr { url }));
        self.add(Layout::qr_beside(page), made, origin, print);
    }

    /// Adds a feed, made when written; it is made once now, into its fingerprint, to report
    /// any problem before writing.
    fn add_feed(&mut self, feed: FeedOf, file: String, origin: impl Into<Arc<Origin>>) {
        let mut digest = Digest::default();
        match self.renderer.feed_to(feed, &mut digest) {
            Ok(()) => {
                let print: Fingerprint = sha2::Digest::finalize(digest.0).into();
                let made = MadeFeed {
                    renderer: Arc::clone(&self.renderer),
                    feed,
                };
                self.add(file, Content::Made(Arc::new(made)), origin, print);
            }
            Err(d) => self.problems.push(d),
        }
    }

    /// The catalog page, the not-found page, the site feed and the published catalog index.
    fn site_files(&mut self) {
        let mut digest = Digest::default();
        match self.renderer.index_to(&mut digest) {
            Ok(()) => {
                let print: Fingerprint = sha2::Digest::finalize(digest.0).into();
                let made = MadeIndex {
                    renderer: Arc::clone(&self.renderer),
                };
                let file = self.layout().index().file;
                let origin = Origin::site("the published catalog index");
                self.add(file, Content::Made(Arc::new(made)), origin, print);
            }
            Err(e) => self.problems.push(Diagnostic::error(
                None,
                format!("cannot write {}: {e}", crate::published::INDEX_FILE),
            )),
        }
        self.add_page(Page::Catalog, Origin::site("the catalog page"));
        let shares: Vec<String> = self
            .renderer
            .catalog
            .shares()
            .into_iter()
            .map(|s| s.slug.clone())
            .collect();
        for slug in shares {
            self.add_page(
                Page::Share(slug),
                Origin::site("an unlisted channel's page"),
            );
        }
        self.add_page(Page::NotFound, Origin::site("the not-found page"));
        let file = self.layout().site_feed().file;
        self.add_feed(FeedOf::Site, file, Origin::site("the site feed"));
    }

    /// An app's pages, feeds and `latest/` pages.
    fn app(&mut self, a: usize, app: &App) {
        for n in 1..=app_page_count(app) {
            self.add_page(Page::App { app: a, n }, Origin::app("the page", app));
        }
        for feed in [AppFeed::Releases, AppFeed::Latest, AppFeed::Atom] {
            let file = self.layout().app_feed(app, feed).file;
            self.add_feed(
                FeedOf::App { app: a, feed },
                file,
                Origin::app("the feeds", app),
            );
        }
        let origin = Arc::new(Origin::app("the latest page", app));
        let index = |build: &Build| app.index_of(build);
        let overall = app.latest().map(|build| (build, BuildPage::Latest));
        let per_channel = app
            .latest_per_channel()
            .into_iter()
            .map(|build| (build, BuildPage::LatestOfChannel));
        for (latest, page) in overall.into_iter().chain(per_channel) {
            if let Some(b) = index(latest) {
                let page = Page::Build {
                    app: a,
                    build: b,
                    page,
                };
                self.add_page(page, origin.clone());
            }
        }
    }

    /// A build's page, manifest, icons and IPA.
    fn build(&mut self, a: usize, app: &App, b: usize, build: &Build) {
        let origin = Arc::new(Origin::file(&build.source.ipa));
        self.add_page(
            Page::Build {
                app: a,
                build: b,
                page: BuildPage::Own,
            },
            origin.clone(),
        );
        for png in build.icons.pngs() {
            let file = self.layout().icon(app, build, png.px()).file;
            let content = match png.held() {
                Some(bytes) => Content::Bytes(Arc::clone(bytes)),
                None => Content::Made(Arc::new(MadeIcon {
                    icons: Arc::clone(&build.icons),
                    px: png.px(),
                    origin: Arc::clone(&origin),
                })),
            };
            self.add(file, content, Arc::clone(&origin), *png.sha256());
        }
        let file = self.layout().manifest(app, build).file;
        match manifest(self.layout(), app, build) {
            Ok(bytes) => {
                // Made again when written, so a catalog's manifests are not all held at once.
                let print = sha256([bytes.as_slice()]);
                let made = MadeManifest {
                    renderer: Arc::clone(&self.renderer),
                    app: a,
                    build: b,
                };
                self.add(file, Content::Made(Arc::new(made)), origin.clone(), print);
            }
            Err(e) => self.problems.push(Diagnostic::error(
                build.source.ipa.clone(),
                format!("cannot write {file}: {e}"),
            )),
        }
        if !self.renderer.options.external_ipas && !build.published {
            let kept = self
                .kept_copies
                .map(|dir| dir.join(crate::cache::ipa_copy_name(&build.package.sha256)));
            let content = match kept.filter(|copy| copy.is_file()) {
                Some(source) => Content::Ipa { source, kept: true },
                None => Content::Ipa {
                    source: canonical(&self.root.join(&build.source.ipa)),
                    kept: false,
                },
            };
            let file = self.layout().ipa(app, build).file;
            let print = sha256([build.package.sha256.as_bytes()]);
            self.add(file, content, origin, print);
        }
    }

    /// The theme's static files.
    fn theme_files(&mut self, theme: &Theme) {
        for (path, file) in &theme.static_files {
            match file {
                StaticFile::Builtin(bytes) => {
                    let origin = Origin::site(&format!("{path} of {}", file.origin()));
                    self.add_bytes(path.clone(), bytes.to_vec(), origin)
                }
                StaticFile::Site { file, bytes } => {
                    let print = sha256([&bytes[..]]);
                    let content = Content::Bytes(Arc::clone(bytes));
                    self.add(path.clone(), content, Origin::file(file), print);
                }
            }
        }
    }

    /// The output marker and the hosts' configuration files.
    fn host_files(&mut self, host: &crate::hosting::HostSettings) {
        self.add_bytes(
            crate::write::MARKER.to_string(),
            crate::write::MARKER_TEXT.to_vec(),
            Origin::site("the output marker"),
        );
        for (path, bytes) in crate::hosting::files(host) {
            self.add_bytes(path.to_string(), bytes, Origin::site("host configuration"));
        }
    }
}

/// The file a path names, through any symlinks, so a copy is never of a link.
fn canonical(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

fn manifest(layout: &Layout, app: &App, build: &Build) -> Result<Vec<u8>, plist::Error> {
    let icons = ManifestIcons {
        display_image: layout.icon(app, build, MANIFEST_DISPLAY_ICON).url.into(),
        full_size_image: layout.icon(app, build, PAGE_ICON).url.into(),
    };
    let team = build.profile.as_ref().and_then(|p| p.team_name.as_deref());
    Manifest::new(
        layout.ipa(app, build).url.as_str(),
        &build.bundle_id,
        &build.version,
        &build.title,
        team,
        Some(&icons),
    )
    .to_xml()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::testing::{config, modelled, modelled_with, release};
    use crate::layout::ICON_SIZES;

    #[test]
    fn claims_clash_with_the_files_held_elsewhere() {
        let key = crate::record::key;
        let claimed = |paths: &[&str]| {
            let mut claims = Claims::default();
            for path in paths {
                claims.claim(path);
            }
            claims
        };
        let held = |key: u128| {
            [
                crate::record::key("a/1/index.html"),
                crate::record::key("b"),
            ]
            .contains(&key)
        };
        assert!(!claimed(&["a/2/index.html", "c/d"]).clash_with(held));
        // A file where a held one is, a folder where a held file is.
        assert!(claimed(&["a/1/index.html"]).clash_with(held));
        assert!(claimed(&["b/index.html"]).clash_with(held));
        assert!(claimed(&["x", "x"]).clash_with(|_| false));
        assert!(claimed(&["x", "x/y"]).clash());
        // Folders claimed for held files are no clash with them.
        let mut claims = claimed(&["a/2/index.html"]);
        claims.claim_folders_of("a/1/index.html");
        assert!(!claims.clash_with(held));
        assert!(claims.has_folder(key("a/1")));
        assert!(!claims.has(key("a/1/index.html")));
    }

    const ID: &str = "com.e.field";

    /// The site root the plan copies IPAs from; nothing is read there.
    const ROOT: &str = "/nonexistent/site";

    fn theme() -> Arc<Theme> {
        Arc::new(Theme::load(Path::new(ROOT), None).expect("the built-in theme loads"))
    }

    fn planned(catalog: &Arc<Catalog>, options: PlanOptions) -> PlannedFiles {
        plan_whole(catalog, options).unwrap_or_else(|problems| panic!("{problems:?}"))
    }

    /// Every file of the site, planned at once.
    fn plan_whole(
        catalog: &Arc<Catalog>,
        options: PlanOptions,
    ) -> Result<PlannedFiles, Vec<Diagnostic>> {
        let host = crate::hosting::HostSettings {
            public: options.public,
            ..Default::default()
        };
        plan(catalog, &theme(), Path::new(ROOT), options, host, None)?.whole()
    }

    fn bytes(plan: &PlannedFiles, file: &str) -> Arc<[u8]> {
        match plan.files.get(file).and_then(PlannedFile::bytes) {
            Some(Ok(bytes)) => bytes,
            other => panic!("{file}: {other:?}"),
        }
    }

    fn text(plan: &PlannedFiles, file: &str) -> String {
        String::from_utf8(bytes(plan, file).to_vec()).expect("UTF-8")
    }

    /// Whether the page at `place` links to `build`'s own page.
    fn links_to(
        plan: &PlannedFiles,
        place: &Place,
        app: &App,
        build: &Build,
        layout: &Layout,
    ) -> bool {
        let href = format!(
            "href=\"{}{}\"",
            place.root(),
            layout.build_page(app, build).href
        );
        text(plan, &place.file).contains(&href)
    }

    #[test]
    fn app_pages_list_builds_per_page_numbered_from_the_second() {
        let count = BUILDS_PER_PAGE * 2 + 1;
        let (catalog, _) = modelled(
            (1..=count)
                .map(|n| release(ID, "1.0", &n.to_string()))
                .collect(),
        );
        let plan = planned(&catalog, PlanOptions::default());
        let (layout, app) = (&catalog.layout, &catalog.apps[0]);
        let pages: Vec<&str> = plan
            .files
            .keys()
            .map(String::as_str)
            .filter(|f| f.starts_with("com.e.field/") && !f.contains("1.0-"))
            .filter(|f| f.ends_with("index.html") && !f.contains("/latest/"))
            .collect();
        assert_eq!(
            pages,
            [
                "com.e.field/index.html",
                "com.e.field/page/2/index.html",
                "com.e.field/page/3/index.html"
            ]
        );
        for (i, build) in app.builds.iter().enumerate() {
            let listed_on: Vec<usize> = (1..=3)
                .filter(|&n| links_to(&plan, &layout.app_page(app, n), app, build, layout))
                .collect();
            assert_eq!(listed_on, [i / BUILDS_PER_PAGE + 1], "{}", build.slug);
        }
        assert_eq!(
            app.builds[count - 1].slug,
            "1.0-1",
            "the oldest is alone on page 3"
        );
    }

    #[test]
    fn each_build_gets_its_page_qr_code_manifest_icons_and_ipa() {
        let (catalog, _) = modelled(vec![release(ID, "1.0", "7"), release(ID, "2.0", "8")]);
        let plan = planned(&catalog, PlanOptions::default());
        let (layout, app) = (&catalog.layout, &catalog.apps[0]);
        for build in &app.builds {
            let page = layout.build_page(app, build);
            assert!(text(&plan, &page.file).contains("<img src=\"qr.svg\""));
            assert_eq!(
                text(&plan, &layout.qr(app, build).file),
                crate::render::qr::svg(page.url.as_str(), QR_PX).unwrap()
            );
            let manifest = text(&plan, &layout.manifest(app, build).file);
            assert!(
                manifest.contains(layout.ipa(app, build).url.as_str()),
                "{manifest}"
            );
            for &px in ICON_SIZES {
                let png = bytes(&plan, &layout.icon(app, build, px).file);
                assert_eq!(png, build.icons.png(px).unwrap().bytes().unwrap());
            }
            let ipa = &plan.files[&layout.ipa(app, build).file];
            assert!(
                matches!(&ipa.content, Content::Ipa { source, kept: false } if *source == Path::new(ROOT).join(&build.source.ipa)),
                "{ipa:?}"
            );
        }
    }

    #[test]
    fn external_ipas_stay_out_of_the_output() {
        let config = config("ipa_base_url: https://cdn.e.com/ipas/\n");
        let (catalog, _) = modelled_with(&config, false, vec![release(ID, "1.0", "7")]);
        let options = PlanOptions {
            external_ipas: true,
            ..PlanOptions::default()
        };
        let plan = planned(&catalog, options);
        let (layout, app) = (&catalog.layout, &catalog.apps[0]);
        let build = &app.builds[0];
        assert!(!plan.files.contains_key(&layout.ipa(app, build).file));
        assert!(!plan.files.keys().any(|f| f.ends_with(".ipa")));
        let manifest = text(&plan, &layout.manifest(app, build).file);
        assert!(
            manifest.contains("https://cdn.e.com/ipas/com.e.field/1.0-7/"),
            "{manifest}"
        );
    }

    #[test]
    fn latest_pages_show_the_latest_overall_and_per_channel() {
        let (catalog, _) = modelled(vec![
            release(ID, "3.0", "1").notes("channel: Beta\n"),
            release(ID, "2.0", "1"),
            release(ID, "1.0", "1").notes("channel: beta\n"),
        ]);
        let plan = planned(&catalog, PlanOptions::default());
        let (layout, app) = (&catalog.layout, &catalog.apps[0]);
        let latest: Vec<&str> = plan
            .files
            .keys()
            .map(String::as_str)
            .filter(|f| f.contains("/latest/") && f.ends_with("index.html"))
            .collect();
        assert_eq!(
            latest,
            [
                "com.e.field/latest/beta/index.html",
                "com.e.field/latest/index.html",
                "com.e.field/latest/stable/index.html",
            ]
        );
        let [newest, stable, _] = &app.builds[..] else {
            panic!("three builds")
        };
        for (place, build) in [
            // `latest/` is the default channel's (stable), though a beta is newer.
            (layout.latest_page(app, None), stable),
            (layout.latest_page(app, Some("beta")), newest),
            (layout.latest_page(app, Some("stable")), stable),
        ] {
            assert!(
                links_to(&plan, &place, app, build, layout),
                "{}",
                place.file
            );
        }
    }

    #[test]
    fn a_path_planned_twice_is_an_error_naming_both_origins_on_the_file_of_either() {
        let mut plan = PlannedFiles::default();
        let one = || Content::Bytes(b"one".as_slice().into());
        let ipa = Origin::file(Path::new("releases/a.ipa"));
        plan.add("a/index.html".into(), one(), ipa.clone().into(), [1; 32])
            .unwrap();
        let err = plan
            .add(
                "a/index.html".into(),
                one(),
                Origin::site("the catalog page").into(),
                [1; 32],
            )
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "releases/a.ipa: error: two files map to the same output path `a/index.html`: releases/a.ipa and the catalog page; give one of them another slug"
        );
        assert_eq!(plan.len(), 1);
        assert_eq!(*plan.files["a/index.html"].origin, ipa);
    }

    #[test]
    fn a_build_whose_path_is_taken_fails_the_plan() {
        // A build named `latest` wants the app's `latest/` page; the model refuses the name,
        // and the plan does not rely on it.
        let (catalog, problems) = modelled(vec![release(ID, "latest", "latest")]);
        assert_eq!(problems.len(), 1, "{problems:?}");
        let problems = plan_whole(&catalog, PlanOptions::default())
            .expect_err("two pages at com.e.field/latest/");
        let messages: Vec<String> = problems.iter().map(ToString::to_string).collect();
        assert_eq!(
            messages,
            [
                "releases/com.e.field-latest-latest.ipa: error: two files map to the same output path `com.e.field/latest/index.html`: the latest page of app com.e.field (releases/com.e.field-latest-latest.ipa) and releases/com.e.field-latest-latest.ipa; give one of them another slug"
            ]
        );
    }

    #[test]
    fn a_build_folder_at_the_path_of_an_app_file_fails_the_plan_once_naming_the_ipa() {
        // A build named `feed.xml` wants the folder `com.e.field/feed.xml/`, where the app's
        // Atom feed is a file; the model refuses the name, and the plan does not rely on it.
        let (catalog, problems) = modelled(vec![release(ID, "feed.xml", "feed.xml")]);
        assert_eq!(problems.len(), 1, "{problems:?}");
        let planned = plan_whole(&catalog, PlanOptions::default());
        let problems = planned.expect_err("a file and a folder at one path");
        let messages: Vec<String> = problems.iter().map(ToString::to_string).collect();
        assert_eq!(
            messages,
            [
                "releases/com.e.field-feed.xml-feed.xml.ipa: error: `com.e.field/feed.xml` is planned as a file for the feeds of app com.e.field (releases/com.e.field-feed.xml-feed.xml.ipa) and as a folder holding `com.e.field/feed.xml/com.e.field-feed.xml-feed.xml.ipa` and 5 other files for releases/com.e.field-feed.xml-feed.xml.ipa; give one of them another slug"
            ]
        );
    }

    #[test]
    fn fingerprints_are_the_same_for_the_same_catalog_and_differ_with_it() {
        let releases = || {
            vec![
                release(ID, "1.0", "7").notes("channel: beta\nnotes: one\n"),
                release(ID, "2.0", "8"),
                release("com.e.other", "1.0", "1"),
            ]
        };
        let prints = |catalog: &Arc<Catalog>| -> BTreeMap<String, Fingerprint> {
            planned(catalog, PlanOptions::default())
                .files
                .into_iter()
                .map(|(path, file)| (path, file.fingerprint))
                .collect()
        };
        let (one, _) = modelled(releases());
        let (two, _) = modelled(releases());
        assert_eq!(prints(&one), prints(&two));
        let mut changed = releases();
        changed[0] = release(ID, "1.0", "7").notes("channel: beta\nnotes: two\n");
        let (three, _) = modelled(changed);
        let (a, b) = (prints(&one), prints(&three));
        let differing: Vec<&String> = a.keys().filter(|p| a[*p] != b[*p]).collect();
        assert!(
            differing.contains(&&"com.e.field/1.0-7/index.html".to_string()),
            "{differing:?}"
        );
        assert!(
            !differing.contains(&&"com.e.other/index.html".to_string()),
            "{differing:?}"
        );
    }

    #[test]
    fn a_published_build_is_planned_without_its_ipa_and_icons() {
        let (catalog, problems) = modelled(vec![
            release(ID, "1.0", "7").published(),
            release(ID, "2.0", "8"),
        ]);
        assert!(
            problems
                .iter()
                .all(|d| d.severity != crate::diag::Severity::Error),
            "{problems:?}"
        );
        let plan = planned(&catalog, PlanOptions::default());
        let (layout, app) = (&catalog.layout, &catalog.apps[0]);
        let old = app.builds.iter().find(|b| b.version == "1.0").unwrap();
        assert!(old.published);
        assert!(plan.files.contains_key(&layout.build_page(app, old).file));
        assert!(plan.files.contains_key(&layout.manifest(app, old).file));
        assert!(!plan.files.contains_key(&layout.ipa(app, old).file));
        for &px in ICON_SIZES {
            assert!(!plan.files.contains_key(&layout.icon(app, old, px).file));
        }
        let index = text(&plan, crate::published::INDEX_FILE);
        assert!(index.contains(&layout.ipa(app, old).file), "{index}");
        assert!(
            index.contains(&layout.icon(app, old, PAGE_ICON).file),
            "{index}"
        );
    }

    #[test]
    fn a_release_at_hand_replaces_the_published_build_of_its_version() {
        let (catalog, problems) = modelled(vec![
            release(ID, "1.0", "7").notes("notes: before\n").published(),
            release(ID, "1.0", "7").notes("notes: after\n"),
        ]);
        assert!(
            problems
                .iter()
                .all(|d| d.severity != crate::diag::Severity::Error),
            "{problems:?}"
        );
        let builds = &catalog.apps[0].builds;
        assert_eq!(builds.len(), 1);
        assert!(!builds[0].published);
        assert!(
            builds[0]
                .notes
                .as_ref()
                .unwrap()
                .html_and_text()
                .unwrap()
                .1
                .contains("after")
        );
    }
}
