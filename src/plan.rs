//! The output plan: every file the site will contain, with its bytes or its source, decided
//! before anything is written. Two sources that want the same path are an error naming both.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use tera::Context;

use crate::catalog::{App, Build, Catalog};
use crate::diag::{Diagnostic, display_path};
use crate::feeds;
use crate::manifest::{Manifest, ManifestIcons};
use crate::render::views::{AppCard, BuildCard, BuildView, SiteView};
use crate::render::{StaticFile, Theme};

#[derive(Debug, Clone)]
pub enum Content {
    Bytes(Vec<u8>),
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

    pub fn len(&self) -> usize {
        self.files.len()
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }
}

/// A file on its way into the plan: output path, content, and what asked for it.
type Entry = (String, Content, String);

/// A page to render: where it goes, with which template and data.
struct PageJob {
    path: String,
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

/// Plans the whole site: pages, manifests, IPAs, icons, theme files and host files.
pub fn plan(
    catalog: &Catalog,
    theme: &Theme,
    root: &Path,
    options: PlanOptions,
) -> Result<OutputPlan, Vec<Diagnostic>> {
    let mut problems = Vec::new();
    let mut files: Vec<Entry> = Vec::new();

    let site_description = catalog.description_html.as_deref();
    let site = SiteView::new(catalog, site_description, !options.public);
    let mut jobs = vec![catalog_page(catalog, &site), not_found_page(catalog, &site)];
    files.push((
        "feed.xml".into(),
        Content::Bytes(feeds::site_atom(catalog)),
        "the site feed".into(),
    ));
    for app in &catalog.apps {
        jobs.extend(app_pages(app, &site));
        // What build pages show of their app, made once for all of them.
        let card = AppCard::new(app, None);
        for (name, bytes) in [
            ("releases.json", feeds::releases_json(app)),
            ("latest.json", feeds::latest_json(app)),
        ] {
            match bytes {
                Ok(bytes) => files.push((
                    format!("{}/{name}", app.slug),
                    Content::Bytes(bytes),
                    format!("the feeds of app {}", app.bundle_id),
                )),
                Err(e) => problems.push(Diagnostic::error(
                    None,
                    format!("cannot write {}/{name}: {e}", app.slug),
                )),
            }
        }
        files.push((
            format!("{}/feed.xml", app.slug),
            Content::Bytes(feeds::app_atom(app)),
            format!("the feeds of app {}", app.bundle_id),
        ));
        if let Some(latest) = app.latest() {
            jobs.push(build_page(
                app,
                &card,
                latest,
                &site,
                options.show_devices,
                Latest::App,
            ));
        }
        for latest in app.latest_per_channel() {
            jobs.push(build_page(
                app,
                &card,
                latest,
                &site,
                options.show_devices,
                Latest::Channel,
            ));
        }
        for build in &app.builds {
            jobs.push(build_page(
                app,
                &card,
                build,
                &site,
                options.show_devices,
                Latest::No,
            ));
            for (name, bytes) in [
                ("icon-57.png", &build.icons.small),
                ("icon-512.png", &build.icons.large),
            ] {
                files.push((
                    format!("{}/{name}", build.dir(app)),
                    Content::Bytes(bytes.clone()),
                    display_path(&build.source.ipa),
                ));
            }
            match manifest(app, build, &catalog.base_url) {
                Ok(bytes) => files.push((
                    format!("{}/manifest.plist", build.dir(app)),
                    Content::Bytes(bytes),
                    display_path(&build.source.ipa),
                )),
                Err(d) => problems.push(d),
            }
            if !options.external_ipas {
                files.push((
                    format!("{}/{}", build.dir(app), build.ipa_file_name),
                    Content::Copy(canonical(&root.join(&build.source.ipa))),
                    display_path(&build.source.ipa),
                ));
            }
        }
    }

    let rendered: Vec<Result<Entry, (Diagnostic, String)>> = jobs
        .into_par_iter()
        .map(|job| match theme.render(job.template, &job.context) {
            Ok(html) => Ok((job.path, Content::Bytes(html.into_bytes()), job.origin)),
            Err(d) => Err((d, job.path)),
        })
        .collect();
    // One broken template fails every page made with it: report it once, with the pages.
    let mut failed: Vec<(Diagnostic, Vec<String>)> = Vec::new();
    for result in rendered {
        match result {
            Ok(file) => files.push(file),
            Err((d, page)) => match failed.iter_mut().find(|(seen, _)| *seen == d) {
                Some((_, pages)) => pages.push(page),
                None => failed.push((d, vec![page])),
            },
        }
    }
    for (mut d, pages) in failed {
        let others = match pages.len() {
            1 => String::new(),
            n => format!(" and {} other page{}", n - 1, if n == 2 { "" } else { "s" }),
        };
        d.message = format!("while rendering `{}`{others}: {}", pages[0], d.message);
        problems.push(d);
    }

    for (path, file) in &theme.static_files {
        let content = match file {
            StaticFile::Builtin(bytes) => Content::Bytes(bytes.to_vec()),
            StaticFile::Site(rel) => Content::Copy(canonical(&root.join(rel))),
        };
        files.push((path.clone(), content, format!("theme file {path}")));
    }
    files.push((
        crate::write::MARKER.to_string(),
        Content::Bytes(crate::write::MARKER_TEXT.to_vec()),
        "the output marker".into(),
    ));
    for (path, bytes) in crate::hosting::files(options.public) {
        files.push((
            path.to_string(),
            Content::Bytes(bytes),
            "host configuration".into(),
        ));
    }

    let mut plan = OutputPlan::default();
    for (path, content, origin) in files {
        if let Err(d) = plan.add(path, content, origin) {
            problems.push(d);
        }
    }
    if problems.is_empty() {
        Ok(plan)
    } else {
        Err(problems)
    }
}

/// The file a path names, through any symlinks, so a hard link never copies a link.
fn canonical(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

fn page_context(site: &SiteView<'_>, root: &str) -> Context {
    // `root` climbs from a page to the output root: relative on every page but 404.html.
    let mut context = Context::new();
    context.insert("site", site);
    context.insert("root", root);
    context
}

fn catalog_page(catalog: &Catalog, site: &SiteView<'_>) -> PageJob {
    let mut context = page_context(site, "");
    let apps: Vec<AppCard<'_>> = catalog
        .apps
        .iter()
        .map(|a| AppCard::new(a, a.description_html.as_deref()))
        .collect();
    context.insert("apps", &apps);
    PageJob {
        path: "index.html".into(),
        template: "catalog.html",
        context,
        origin: "the catalog page".into(),
    }
}

/// `404.html` at the output root, which hosts serve for a missing path at any depth: its links
/// use the base URL's path, not paths relative to one folder.
fn not_found_page(catalog: &Catalog, site: &SiteView<'_>) -> PageJob {
    let context = page_context(site, catalog.base_url.path());
    PageJob {
        path: "404.html".into(),
        template: "404.html",
        context,
        origin: "the not-found page".into(),
    }
}

/// Builds listed on one app page; later builds go to `<app>/page/<n>/`.
pub const BUILDS_PER_PAGE: usize = 50;

/// The app's pages: the first at `<app>/`, the rest at `<app>/page/<n>/`.
fn app_pages(app: &App, site: &SiteView<'_>) -> Vec<PageJob> {
    let chunks: Vec<&[Build]> = app.builds.chunks(BUILDS_PER_PAGE).collect();
    let total = chunks.len();
    let page_path = |n: usize| {
        if n == 1 {
            format!("{}/", app.slug)
        } else {
            format!("{}/page/{n}/", app.slug)
        }
    };
    chunks
        .into_iter()
        .enumerate()
        .map(|(i, builds)| {
            let n = i + 1;
            let root = if n == 1 { "../" } else { "../../../" };
            let mut context = page_context(site, root);
            context.insert("app", &AppCard::new(app, app.description_html.as_deref()));
            let builds: Vec<BuildCard<'_>> =
                builds.iter().map(|b| BuildCard::new(app, b)).collect();
            context.insert("builds", &builds);
            context.insert(
                "pagination",
                &Pagination {
                    current: n,
                    total,
                    previous: (n > 1).then(|| page_path(n - 1)),
                    next: (n < total).then(|| page_path(n + 1)),
                },
            );
            PageJob {
                path: format!("{}index.html", page_path(n)),
                template: "app.html",
                context,
                origin: format!("the page of app {}", app.bundle_id),
            }
        })
        .collect()
}

#[derive(serde::Serialize)]
struct Pagination {
    current: usize,
    total: usize,
    /// Paths relative to the output root.
    previous: Option<String>,
    next: Option<String>,
}

/// Which page of a build to render: its own, or the app's `latest/` or `latest/<channel>/`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Latest {
    No,
    App,
    Channel,
}

fn build_page(
    app: &App,
    card: &AppCard<'_>,
    build: &Build,
    site: &SiteView<'_>,
    show_devices: bool,
    latest: Latest,
) -> PageJob {
    let (dir, root, page_url) = match latest {
        Latest::No => (build.dir(app), "../../", build.page_url.clone()),
        Latest::App => (
            format!("{}/latest", app.slug),
            "../../",
            crate::urls::join_dir(&app.page_url, &["latest"]),
        ),
        Latest::Channel => {
            let channel = build.channel_slug();
            (
                format!("{}/latest/{channel}", app.slug),
                "../../../",
                crate::urls::join_dir(&app.page_url, &["latest", &channel]),
            )
        }
    };
    let mut context = page_context(site, root);
    context.insert("app", card);
    context.insert("build", &BuildView::new(app, build, show_devices));
    context.insert("page_url", page_url.as_str());
    context.insert("qr_svg", &qr_svg(page_url.as_str()));
    context.insert("latest", &(latest != Latest::No));
    PageJob {
        path: format!("{dir}/index.html"),
        template: "build.html",
        context,
        origin: match latest {
            Latest::No => display_path(&build.source.ipa),
            _ => format!("the latest page of app {}", app.bundle_id),
        },
    }
}

/// A QR code of `url` as inline SVG, dark modules on white so phones read it in dark mode too.
fn qr_svg(url: &str) -> String {
    use qrcode::render::svg;
    match qrcode::QrCode::with_error_correction_level(url, qrcode::EcLevel::M) {
        Ok(code) => {
            let svg = code
                .render::<svg::Color<'_>>()
                .min_dimensions(200, 200)
                .dark_color(svg::Color("#000000"))
                .light_color(svg::Color("#ffffff"))
                .quiet_zone(true)
                .build();
            match svg.find("<svg") {
                Some(start) => svg[start..].to_string(),
                None => svg,
            }
        }
        Err(_) => String::new(),
    }
}

fn manifest(app: &App, build: &Build, base_url: &url::Url) -> Result<Vec<u8>, Diagnostic> {
    let icon =
        |name: &str| crate::urls::join_file(base_url, &[&app.slug, &build.slug, name]).to_string();
    let icons = ManifestIcons {
        display_image: icon("icon-57.png"),
        full_size_image: icon("icon-512.png"),
    };
    let team = build
        .ipa
        .profile
        .profile()
        .and_then(|p| p.team_name.as_deref());
    Manifest::new(
        build.ipa_url.as_str(),
        &build.bundle_id,
        &build.version,
        &build.title,
        team,
        Some(&icons),
    )
    .to_xml()
    .map_err(|e| {
        Diagnostic::error(
            build.source.ipa.clone(),
            format!("cannot write its manifest: {e}"),
        )
    })
}
