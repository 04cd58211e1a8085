//! The output plan: every file the site will contain, with its bytes or its source, decided
//! before anything is written. Two sources that want the same path are an error naming both.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use tera::Context;

use crate::catalog::{App, Build, Catalog};
use crate::diag::{Diagnostic, display_path};
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
}

/// Plans the whole site: pages, manifests, IPAs, icons, theme files and host files.
pub fn plan(
    catalog: &Catalog,
    theme: &Theme,
    root: &Path,
    options: PlanOptions,
) -> Result<OutputPlan, Vec<Diagnostic>> {
    let mut problems = Vec::new();
    let mut files: Vec<(String, Content, String)> = Vec::new();

    let site_description = catalog.description_html.as_deref();
    let site = SiteView::new(catalog, site_description);
    let mut jobs = vec![catalog_page(catalog, &site)];
    for app in &catalog.apps {
        jobs.push(app_page(app, &site));
        for build in &app.builds {
            jobs.push(build_page(app, build, &site, options.show_devices));
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
            files.push((
                format!("{}/{}", build.dir(app), build.ipa_file_name),
                Content::Copy(root.join(&build.source.ipa)),
                display_path(&build.source.ipa),
            ));
        }
    }

    let rendered: Vec<Result<(String, Content, String), Diagnostic>> = jobs
        .into_par_iter()
        .map(|job| {
            theme
                .render(job.template, &job.context, &job.path)
                .map(|html| (job.path, Content::Bytes(html.into_bytes()), job.origin))
        })
        .collect();
    for result in rendered {
        match result {
            Ok(file) => files.push(file),
            Err(d) => problems.push(d),
        }
    }

    for (path, file) in &theme.static_files {
        let content = match file {
            StaticFile::Builtin(bytes) => Content::Bytes(bytes.to_vec()),
            StaticFile::Site(rel) => Content::Copy(root.join(rel)),
        };
        files.push((path.clone(), content, format!("theme file {path}")));
    }
    files.push((
        "robots.txt".into(),
        Content::Bytes(b"User-agent: *\nDisallow: /\n".to_vec()),
        "robots.txt".into(),
    ));

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

fn page_context(site: &SiteView<'_>, root: &str) -> Context {
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

fn app_page(app: &App, site: &SiteView<'_>) -> PageJob {
    let mut context = page_context(site, "../");
    context.insert("app", &AppCard::new(app, app.description_html.as_deref()));
    let builds: Vec<BuildCard<'_>> = app.builds.iter().map(|b| BuildCard::new(app, b)).collect();
    context.insert("builds", &builds);
    PageJob {
        path: format!("{}/index.html", app.slug),
        template: "app.html",
        context,
        origin: format!("the page of app {}", app.bundle_id),
    }
}

fn build_page(app: &App, build: &Build, site: &SiteView<'_>, show_devices: bool) -> PageJob {
    let mut context = page_context(site, "../../");
    context.insert("app", &AppCard::new(app, None));
    context.insert("build", &BuildView::new(app, build, show_devices));
    PageJob {
        path: format!("{}/index.html", build.dir(app)),
        template: "build.html",
        context,
        origin: display_path(&build.source.ipa),
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
