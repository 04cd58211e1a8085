//! The output plan: every file the site will contain, with its bytes or its source, decided
//! before anything is written. Two sources that want the same path are an error naming both.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;
use tera::Context;

use crate::catalog::{App, Build, Catalog};
use crate::diag::{Diagnostic, display_path};
use crate::feeds;
use crate::layout::{AppFeed, Layout, MANIFEST_DISPLAY_ICON, PAGE_ICON, Place};
use crate::manifest::{Manifest, ManifestIcons};
use crate::render::views::{AppCard, BuildCard, BuildView, SiteView};
use crate::render::{StaticFile, Theme};
use crate::text::plural;

#[derive(Debug, Clone)]
pub enum Content {
    /// Bytes made by the build, shared with whatever else holds them (icons are).
    Bytes(Arc<[u8]>),
    /// A file to hard-link or copy, by absolute path.
    Copy(PathBuf),
}

#[derive(Debug, Clone)]
pub struct PlannedFile {
    pub content: Content,
    /// What asked for this file, for collision messages: a source file or a page's purpose.
    pub origin: String,
}

/// Every output file, by path below the output root (with `/`), sorted.
#[derive(Debug, Default)]
pub struct OutputPlan {
    pub files: BTreeMap<String, PlannedFile>,
}

impl OutputPlan {
    /// Adds a file; a path planned twice is an error naming both origins.
    pub fn add(
        &mut self,
        path: String,
        content: Content,
        origin: String,
    ) -> Result<(), Diagnostic> {
        if let Some(existing) = self.files.get(&path) {
            return Err(Diagnostic::error(
                None,
                format!(
                    "two files map to the same output path `{path}`: {} and {}; give one of them another slug",
                    existing.origin, origin
                ),
            ));
        }
        self.files.insert(path, PlannedFile { content, origin });
        Ok(())
    }

    /// A file whose path is also a folder of another file cannot be written: each such pair is
    /// an error naming both origins.
    pub fn folder_clashes(&self) -> Vec<Diagnostic> {
        let mut problems = Vec::new();
        for (path, file) in &self.files {
            let mut folder = path.as_str();
            while let Some((parent, _)) = folder.rsplit_once('/') {
                if let Some(clash) = self.files.get(parent) {
                    problems.push(Diagnostic::error(
                        None,
                        format!(
                            "`{parent}` is planned as a file for {} and as a folder holding `{path}` for {}; give one of them another slug",
                            clash.origin, file.origin
                        ),
                    ));
                    break;
                }
                folder = parent;
            }
        }
        problems
    }

    pub fn len(&self) -> usize {
        self.files.len()
    }
}

/// A page to render: where it goes, with which template and data.
struct PageJob {
    place: Place,
    template: &'static str,
    context: Context,
    origin: String,
}

/// Site-wide choices that shape the output.
#[derive(Debug, Clone, Copy, Default)]
pub struct PlanOptions {
    /// Publish provisioned device UDIDs on build pages.
    pub show_devices: bool,
    /// Let search engines index the site.
    pub public: bool,
    /// IPAs are hosted elsewhere (`ipa_base_url`): keep them out of the output.
    pub external_ipas: bool,
}

/// What the plan is being filled with: files so far, pages still to render, problems.
struct Planner<'a> {
    catalog: &'a Catalog,
    layout: &'a Layout,
    site: SiteView<'a>,
    root: &'a Path,
    options: PlanOptions,
    plan: OutputPlan,
    pages: Vec<PageJob>,
    problems: Vec<Diagnostic>,
}

/// Plans the whole site: pages, manifests, IPAs, icons, theme files and host files.
pub fn plan(
    catalog: &Catalog,
    theme: &Theme,
    root: &Path,
    options: PlanOptions,
) -> Result<OutputPlan, Vec<Diagnostic>> {
    let mut planner = Planner {
        catalog,
        layout: &catalog.layout,
        site: SiteView::new(catalog, !options.public),
        root,
        options,
        plan: OutputPlan::default(),
        pages: Vec::new(),
        problems: Vec::new(),
    };
    planner.site_pages();
    for app in &catalog.apps {
        planner.app(app);
        for build in &app.builds {
            planner.build(app, build);
        }
    }
    planner.render(theme);
    planner.theme_files(theme);
    planner.host_files();
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

impl<'a> Planner<'a> {
    /// Adds a file; a path planned twice is a problem naming both origins.
    fn add(&mut self, file: String, content: Content, origin: impl Into<String>) {
        if let Err(d) = self.plan.add(file, content, origin.into()) {
            self.problems.push(d);
        }
    }

    /// Adds generated bytes, or reports why they could not be made.
    fn add_made<E: std::fmt::Display>(
        &mut self,
        place: &Place,
        made: Result<Vec<u8>, E>,
        origin: String,
        blame: Option<&Path>,
    ) {
        match made {
            Ok(bytes) => self.add(place.file.clone(), Content::Bytes(bytes.into()), origin),
            Err(e) => self.problems.push(Diagnostic::error(
                blame.map(Path::to_path_buf),
                format!("cannot write {}: {e}", place.file),
            )),
        }
    }

    fn page(&mut self, place: Place, template: &'static str, origin: String) -> &mut Context {
        // `root` climbs from a page to the output root: relative on every page but 404.html.
        let mut context = Context::new();
        context.insert("site", &self.site);
        context.insert("root", &place.root());
        self.pages.push(PageJob {
            place,
            template,
            context,
            origin,
        });
        &mut self.pages.last_mut().expect("just pushed").context
    }

    /// The catalog page, the not-found page and the site feed.
    fn site_pages(&mut self) {
        let (catalog, layout) = (self.catalog, self.layout);
        let apps: Vec<AppCard<'_>> = catalog
            .apps
            .iter()
            .map(|a| AppCard::new(layout, a, a.description_html.as_deref()))
            .collect();
        self.page(
            layout.catalog_page(),
            "catalog.html",
            "the catalog page".into(),
        )
        .insert("apps", &apps);
        // Hosts serve 404.html for a missing path at any depth: its links start from the base
        // URL's path, not from one folder.
        self.page(
            layout.not_found_page(),
            "404.html",
            "the not-found page".into(),
        )
        .insert("root", layout.base_url().path());
        let feed = layout.site_feed();
        self.add_made(
            &feed,
            feeds::site_atom(catalog),
            "the site feed".into(),
            None,
        );
    }

    /// An app's pages, feeds and `latest/` pages.
    fn app(&mut self, app: &'a App) {
        let layout = self.layout;
        let origin = || format!("the feeds of app {}", app.bundle_id);
        self.app_pages(app);
        for (feed, made) in [
            (AppFeed::Releases, feeds::releases_json(layout, app)),
            (AppFeed::Latest, feeds::latest_json(layout, app)),
            (AppFeed::Atom, feeds::app_atom(layout, app)),
        ] {
            self.add_made(&layout.app_feed(app, feed), made, origin(), None);
        }
        let origin = format!("the latest page of app {}", app.bundle_id);
        if let Some(latest) = app.latest() {
            self.build_page(app, latest, layout.latest_page(app, None), origin.clone());
        }
        for latest in app.latest_per_channel() {
            let place = layout.latest_page(app, Some(&latest.channel_slug()));
            self.build_page(app, latest, place, origin.clone());
        }
    }

    /// The app's build list, [`BUILDS_PER_PAGE`] builds a page.
    fn app_pages(&mut self, app: &'a App) {
        let layout = self.layout;
        let chunks: Vec<&[Build]> = app.builds.chunks(BUILDS_PER_PAGE).collect();
        let total = chunks.len();
        for (i, builds) in chunks.into_iter().enumerate() {
            let n = i + 1;
            let pagination = Pagination {
                current: n,
                total,
                previous: (n > 1).then(|| layout.app_page(app, n - 1).href),
                next: (n < total).then(|| layout.app_page(app, n + 1).href),
            };
            let builds: Vec<BuildCard<'_>> = builds
                .iter()
                .map(|b| BuildCard::new(layout, app, b))
                .collect();
            let context = self.page(
                layout.app_page(app, n),
                "app.html",
                format!("the page of app {}", app.bundle_id),
            );
            context.insert(
                "app",
                &AppCard::new(layout, app, app.description_html.as_deref()),
            );
            context.insert("builds", &builds);
            context.insert("pagination", &pagination);
        }
    }

    /// A build's page, manifest, icons and IPA.
    fn build(&mut self, app: &'a App, build: &'a Build) {
        let layout = self.layout;
        let origin = display_path(&build.source.ipa);
        self.build_page(app, build, layout.build_page(app, build), origin.clone());
        for (px, png) in build.icons.pngs() {
            let place = layout.icon(app, build, px);
            self.add(place.file, Content::Bytes(Arc::clone(png)), origin.clone());
        }
        let place = layout.manifest(app, build);
        let made = manifest(layout, app, build);
        self.add_made(&place, made, origin.clone(), Some(&build.source.ipa));
        if !self.options.external_ipas {
            let source = canonical(&self.root.join(&build.source.ipa));
            self.add(layout.ipa(app, build).file, Content::Copy(source), origin);
        }
    }

    /// A page showing `build`: its own, or one of its app's `latest/` pages at `place`.
    fn build_page(&mut self, app: &'a App, build: &'a Build, place: Place, origin: String) {
        let layout = self.layout;
        let latest = place != layout.build_page(app, build);
        let qr = qr_svg(place.url.as_str());
        let view = BuildView::new(layout, app, build, self.options.show_devices);
        let card = AppCard::new(layout, app, None);
        let page_url = place.url.to_string();
        let qr = match qr {
            Ok(svg) => svg,
            Err(e) => {
                self.problems.push(Diagnostic::error(
                    None,
                    format!("cannot draw the QR code of {page_url}: {e}"),
                ));
                return;
            }
        };
        let context = self.page(place, "build.html", origin);
        context.insert("app", &card);
        context.insert("build", &view);
        context.insert("page_url", &page_url);
        context.insert("qr_svg", &qr);
        context.insert("latest", &latest);
    }

    /// Renders every page in parallel. One broken template fails every page made with it: it is
    /// reported once, with the pages.
    fn render(&mut self, theme: &Theme) {
        let pages = std::mem::take(&mut self.pages);
        let rendered: Vec<(PageJob, Result<String, Diagnostic>)> = pages
            .into_par_iter()
            .map(|job| {
                let html = theme.render(job.template, &job.context);
                (job, html)
            })
            .collect();
        let mut failed: Vec<(Diagnostic, Vec<String>)> = Vec::new();
        for (job, html) in rendered {
            let page = job.place.file;
            match html {
                Ok(html) => self.add(page, Content::Bytes(html.into_bytes().into()), job.origin),
                Err(d) => match failed.iter_mut().find(|(seen, _)| *seen == d) {
                    Some((_, pages)) => pages.push(page),
                    None => failed.push((d, vec![page])),
                },
            }
        }
        for (mut d, pages) in failed {
            let others = match pages.len() {
                1 => String::new(),
                n => format!(" and {}", plural(n - 1, "other page")),
            };
            d.message = format!("while rendering `{}`{others}: {}", pages[0], d.message);
            self.problems.push(d);
        }
    }

    /// The theme's static files.
    fn theme_files(&mut self, theme: &Theme) {
        for (path, file) in &theme.static_files {
            let content = match file {
                StaticFile::Builtin(bytes) => Content::Bytes((*bytes).into()),
                StaticFile::Site(rel) => Content::Copy(canonical(&self.root.join(rel))),
            };
            self.add(path.clone(), content, format!("theme file {path}"));
        }
    }

    /// The output marker and the hosts' configuration files.
    fn host_files(&mut self) {
        self.add(
            crate::write::MARKER.to_string(),
            Content::Bytes(crate::write::MARKER_TEXT.into()),
            "the output marker",
        );
        for (path, bytes) in crate::hosting::files(self.options.public) {
            self.add(
                path.to_string(),
                Content::Bytes(bytes.into()),
                "host configuration",
            );
        }
    }
}

/// The file a path names, through any symlinks, so a hard link never copies a link.
fn canonical(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

/// Builds listed on one app page; later builds go to `<app>/page/<n>/`.
pub const BUILDS_PER_PAGE: usize = 50;

#[derive(serde::Serialize)]
struct Pagination {
    current: usize,
    total: usize,
    /// Paths relative to the output root.
    previous: Option<String>,
    next: Option<String>,
}

/// A QR code of `url` as inline SVG, dark modules on white so phones read it in dark mode too.
fn qr_svg(url: &str) -> Result<String, qrcode::types::QrError> {
    use qrcode::render::svg;
    let svg = qrcode::QrCode::with_error_correction_level(url, qrcode::EcLevel::M)?
        .render::<svg::Color<'_>>()
        .min_dimensions(200, 200)
        .dark_color(svg::Color("#000000"))
        .light_color(svg::Color("#ffffff"))
        .quiet_zone(true)
        .build();
    // The renderer starts with an XML declaration, which has no place inside HTML.
    Ok(match svg.find("<svg") {
        Some(start) => svg[start..].to_string(),
        None => svg,
    })
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
    use crate::diag::Severity;
    use crate::layout::ICON_SIZES;

    const ID: &str = "com.e.field";

    /// The site root the plan copies IPAs from; nothing is read there.
    const ROOT: &str = "/nonexistent/site";

    fn planned(catalog: &Catalog, options: PlanOptions) -> OutputPlan {
        let theme = Theme::load(Path::new(ROOT), None).expect("the built-in theme loads");
        plan(catalog, &theme, Path::new(ROOT), options)
            .unwrap_or_else(|problems| panic!("{problems:?}"))
    }

    fn bytes<'p>(plan: &'p OutputPlan, file: &str) -> &'p [u8] {
        match plan.files.get(file).map(|f| &f.content) {
            Some(Content::Bytes(bytes)) => bytes,
            other => panic!("{file}: {other:?}"),
        }
    }

    fn text<'p>(plan: &'p OutputPlan, file: &str) -> &'p str {
        std::str::from_utf8(bytes(plan, file)).expect("UTF-8")
    }

    /// Whether the page at `place` links to `build`'s own page.
    fn links_to(
        plan: &OutputPlan,
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
    fn each_build_gets_its_page_manifest_icons_and_ipa() {
        let (catalog, _) = modelled(vec![release(ID, "1.0", "7"), release(ID, "2.0", "8")]);
        let plan = planned(&catalog, PlanOptions::default());
        let (layout, app) = (&catalog.layout, &catalog.apps[0]);
        for build in &app.builds {
            assert!(text(&plan, &layout.build_page(app, build).file).contains("<html"));
            let manifest = text(&plan, &layout.manifest(app, build).file);
            assert!(
                manifest.contains(layout.ipa(app, build).url.as_str()),
                "{manifest}"
            );
            for &px in ICON_SIZES {
                let png = bytes(&plan, &layout.icon(app, build, px).file);
                assert_eq!(png, &**build.icons.png(px).unwrap());
            }
            let ipa = &plan.files[&layout.ipa(app, build).file];
            assert!(
                matches!(&ipa.content, Content::Copy(from) if *from == Path::new(ROOT).join(&build.source.ipa)),
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
            .filter(|f| f.contains("/latest/"))
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
            (layout.latest_page(app, None), newest),
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
    fn a_path_planned_twice_is_an_error_naming_both_origins() {
        let mut plan = OutputPlan::default();
        let one = || Content::Bytes(b"one".as_slice().into());
        plan.add("a/index.html".into(), one(), "releases/a.ipa".into())
            .unwrap();
        let err = plan
            .add("a/index.html".into(), one(), "the catalog page".into())
            .unwrap_err();
        assert_eq!(err.severity, Severity::Error);
        assert!(
            err.message.starts_with(
                "two files map to the same output path `a/index.html`: releases/a.ipa and the catalog page;"
            ),
            "{err}"
        );
        assert_eq!(plan.len(), 1);
        assert_eq!(plan.files["a/index.html"].origin, "releases/a.ipa");
    }

    #[test]
    fn a_build_whose_path_is_taken_fails_the_plan() {
        // A build named `latest` wants the app's `latest/` page.
        let (catalog, _) = modelled(vec![release(ID, "latest", "latest")]);
        let theme = Theme::load(Path::new(ROOT), None).expect("the built-in theme loads");
        let problems = plan(&catalog, &theme, Path::new(ROOT), PlanOptions::default())
            .expect_err("two pages at com.e.field/latest/");
        let messages: Vec<String> = problems.iter().map(ToString::to_string).collect();
        assert!(
            messages
                .iter()
                .any(|m| m.contains("`com.e.field/latest/index.html`")
                    && m.contains("releases/com.e.field-latest-latest.ipa")
                    && m.contains("the latest page of app com.e.field")),
            "{messages:?}"
        );
    }

    #[test]
    fn a_build_folder_at_the_path_of_an_app_file_fails_the_plan() {
        // A build named `feed.xml` wants the folder `com.e.field/feed.xml/`, where the app's
        // Atom feed is a file.
        let (catalog, problems) = modelled(vec![release(ID, "feed.xml", "feed.xml")]);
        assert_eq!(problems, []);
        let theme = Theme::load(Path::new(ROOT), None).expect("the built-in theme loads");
        let planned = plan(&catalog, &theme, Path::new(ROOT), PlanOptions::default());
        let problems = planned.expect_err("a file and a folder at one path");
        assert!(
            problems.iter().any(|d| d
                .message
                .starts_with("`com.e.field/feed.xml` is planned as a file for the feeds of app")),
            "{problems:?}"
        );
    }
}
