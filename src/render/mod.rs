//! Templates: the built-in theme is embedded in the binary, and a site's `themes/<name>/`
//! overrides it file by file. Templates receive the small view structs of [`views`], never the
//! domain types, and an undefined variable is an error naming the template. Every value a
//! template prints is HTML-escaped and made [`crate::text::publishable`], so no control
//! character or noncharacter from a user's file reaches a page.

pub mod views;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use tera::{Context, Tera};
use walkdir::WalkDir;

use crate::diag::{Diagnostic, Location, display_path};

/// The built-in templates, by name.
pub const BUILTIN_TEMPLATES: &[(&str, &str)] = &[
    (
        "404.html",
        include_str!("../../themes/default/templates/404.html"),
    ),
    (
        "base.html",
        include_str!("../../themes/default/templates/base.html"),
    ),
    (
        "catalog.html",
        include_str!("../../themes/default/templates/catalog.html"),
    ),
    (
        "app.html",
        include_str!("../../themes/default/templates/app.html"),
    ),
    (
        "build.html",
        include_str!("../../themes/default/templates/build.html"),
    ),
    (
        "partials/build-row.html",
        include_str!("../../themes/default/templates/partials/build-row.html"),
    ),
];

/// The built-in static files, by path below the output root.
pub const BUILTIN_STATIC: &[(&str, &[u8])] = &[
    (
        "assets/favicon.svg",
        include_bytes!("../../themes/default/static/assets/favicon.svg"),
    ),
    (
        "assets/relsite.css",
        include_bytes!("../../themes/default/static/assets/relsite.css"),
    ),
];

pub struct Theme {
    tera: Tera,
    /// Changes whenever a template does: what pages are made with, for their fingerprints.
    pub fingerprint: String,
    /// Where each template came from, for error messages.
    origins: BTreeMap<String, String>,
    /// Static files by output path: built-in ones, replaced or joined by the site theme's.
    pub static_files: BTreeMap<String, StaticFile>,
}

#[derive(Debug, Clone)]
pub enum StaticFile {
    Builtin(&'static [u8]),
    /// A file of the site theme, relative to the site root.
    Site(PathBuf),
}

impl StaticFile {
    /// Where the file comes from, for messages: `the built-in theme`, or the site theme's file.
    pub fn origin(&self) -> String {
        match self {
            StaticFile::Builtin(_) => BUILTIN_ORIGIN.to_string(),
            StaticFile::Site(rel) => display_path(rel),
        }
    }
}

/// The origin of the built-in theme's files, for messages.
pub const BUILTIN_ORIGIN: &str = "the built-in theme";

impl Theme {
    /// Loads the built-in theme, overridden by `themes/<name>/` below `root` when a name is given.
    pub fn load(root: &Path, name: Option<&str>) -> Result<Theme, Vec<Diagnostic>> {
        let mut problems = Vec::new();
        let mut sources: BTreeMap<String, (String, String)> = BUILTIN_TEMPLATES
            .iter()
            .map(|(n, text)| {
                (
                    n.to_string(),
                    (format!("built-in theme: {n}"), text.to_string()),
                )
            })
            .collect();
        let mut static_files: BTreeMap<String, StaticFile> = BUILTIN_STATIC
            .iter()
            .map(|(p, bytes)| (p.to_string(), StaticFile::Builtin(bytes)))
            .collect();

        if let Some(name) = name {
            let theme_dir = Path::new("themes").join(name);
            if !root.join(&theme_dir).is_dir() {
                problems.push(Diagnostic::error(
                    PathBuf::from(crate::config::CONFIG_FILE),
                    format!(
                        "theme `{name}` not found: expected a folder {}",
                        display_path(&theme_dir)
                    ),
                ));
                return Err(problems);
            }
            for (rel, file) in files_below(root, &theme_dir.join("templates"), &mut problems) {
                match crate::fs::read_to_string(&root.join(&file)) {
                    Ok(text) => {
                        sources.insert(rel, (display_path(&file), text));
                    }
                    Err(e) => problems.push(Diagnostic::error(file, e.to_string())),
                }
            }
            for (rel, file) in files_below(root, &theme_dir.join("static"), &mut problems) {
                static_files.insert(rel, StaticFile::Site(file));
            }
        }

        let mut tera = Tera::new();
        tera.set_escape_fn(escape_publishable_html);
        let origins: BTreeMap<String, String> = sources
            .iter()
            .map(|(n, (origin, _))| (n.clone(), origin.clone()))
            .collect();
        if let Err(err) = tera.add_raw_templates(
            sources
                .iter()
                .map(|(n, (_, text))| (n.as_str(), text.as_str())),
        ) {
            problems.push(template_problem(&origins, &err));
        }
        let fingerprint = {
            use sha2::{Digest, Sha256};
            let mut hasher = Sha256::new();
            for (name, (_, text)) in &sources {
                for part in [name.as_bytes(), b"\0", text.as_bytes(), b"\0"] {
                    hasher.update(part);
                }
            }
            crate::text::hex(&hasher.finalize())
        };
        if problems.is_empty() {
            Ok(Theme {
                tera,
                fingerprint,
                origins,
                static_files,
            })
        } else {
            Err(problems)
        }
    }

    /// Every static file's path below the output root, with where it comes from.
    pub fn static_origins(&self) -> impl Iterator<Item = (&str, String)> {
        self.static_files
            .iter()
            .map(|(path, file)| (path.as_str(), file.origin()))
    }

    /// Renders `template`; an error names the template file, line and column.
    pub fn render(&self, template: &str, context: &Context) -> Result<String, Diagnostic> {
        self.tera
            .render(template, context)
            .map_err(|err| template_problem(&self.origins, &err))
    }
}

/// Tera's HTML escaping of `input` made [`crate::text::publishable`] first: what pages print.
fn escape_publishable_html(input: &str, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    tera::escape_html(&crate::text::publishable(input), out)
}

/// A template error, attributed to the template file and position its report points at
/// (` --> build.html:4:13`), with the report's source excerpt kept below the message.
fn template_problem(origins: &BTreeMap<String, String>, err: &tera::Error) -> Diagnostic {
    let mut message = err.to_string();
    let mut source = err as &dyn std::error::Error;
    while let Some(next) = source.source() {
        message.push_str(": ");
        message.push_str(&next.to_string());
        source = next;
    }
    let pointer = message
        .lines()
        .find_map(|l| l.trim_start().strip_prefix("--> "))
        .map(str::to_string);
    let (name, location) = match pointer.as_deref().and_then(parse_pointer) {
        Some((name, line, column)) => (Some(name), Some(Location { line, column })),
        None => (None, None),
    };
    let message = message
        .trim_start_matches("error: ")
        .replacen("\nerror: ", "\n", 1)
        .trim_end()
        .to_string();
    let origin = name
        .and_then(|n| origins.get(n))
        .or_else(|| {
            origins
                .iter()
                .find(|(n, _)| message.contains(n.as_str()))
                .map(|(_, o)| o)
        })
        .cloned();
    // The first line says what is wrong; the report's excerpt of the template goes below it.
    let (message, detail) = match message.split_once('\n') {
        Some((first, rest)) => (first.to_string(), Some(rest.to_string())),
        None => (message, None),
    };
    let problem = match origin {
        Some(origin) if !origin.starts_with("built-in") => {
            Diagnostic::error(PathBuf::from(origin), message).at(location)
        }
        Some(origin) => Diagnostic::error(None, format!("{origin}: {message}")),
        None => Diagnostic::error(None, message),
    };
    problem.with_detail(detail)
}

/// `build.html:4:13` → (`build.html`, 4, 13).
fn parse_pointer(pointer: &str) -> Option<(&str, usize, usize)> {
    let mut parts = pointer.trim().rsplitn(3, ':');
    let column = parts.next()?.parse().ok()?;
    let line = parts.next()?.parse().ok()?;
    Some((parts.next()?, line, column))
}

/// Files below `root/dir`, as (path below dir with `/`, path relative to root), sorted.
fn files_below(root: &Path, dir: &Path, problems: &mut Vec<Diagnostic>) -> Vec<(String, PathBuf)> {
    let mut files = Vec::new();
    if !root.join(dir).is_dir() {
        return files;
    }
    for entry in WalkDir::new(root.join(dir)).sort_by_file_name() {
        match entry {
            Ok(e) if e.file_type().is_file() => {
                let Ok(rel) = e.path().strip_prefix(root.join(dir)) else {
                    continue;
                };
                let Ok(from_root) = e.path().strip_prefix(root) else {
                    continue;
                };
                files.push((display_path(rel), from_root.to_path_buf()));
            }
            Ok(_) => {}
            Err(err) => problems.push(Diagnostic::error(dir.to_path_buf(), err.to_string())),
        }
    }
    files
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site_with_theme(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("temp dir");
        for (path, text) in files {
            let path = dir.path().join(path);
            std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            std::fs::write(path, text).expect("write");
        }
        dir
    }

    fn context() -> Context {
        let mut context = Context::new();
        context.insert(
            "site",
            &serde_json::json!({"title": "T", "feed": "feed.xml", "noindex": true}),
        );
        context.insert("root", "");
        context
    }

    #[test]
    fn builtin_theme_loads_every_template_and_static_file() {
        let theme = Theme::load(Path::new("/nonexistent"), None).expect("built-in theme");
        assert_eq!(theme.static_files.len(), BUILTIN_STATIC.len());
        let html = theme.render("404.html", &context()).expect("renders");
        assert!(html.contains("<h1>Not found</h1>"), "{html}");
    }

    #[test]
    fn printed_values_are_escaped_and_publishable() {
        let site = site_with_theme(&[("themes/brand/templates/404.html", "{{ site.title }}")]);
        let theme = Theme::load(site.path(), Some("brand")).expect("theme");
        let mut context = context();
        context.insert(
            "site",
            &serde_json::json!({"title": "<b>\u{1}\u{1b}\u{fffe}"}),
        );
        assert_eq!(
            theme.render("404.html", &context).unwrap(),
            "&lt;b&gt;\u{fffd}\u{fffd}\u{fffd}"
        );
    }

    #[test]
    fn site_theme_overrides_file_by_file() {
        let site = site_with_theme(&[
            (
                "themes/brand/templates/404.html",
                "gone from {{ site.title }}",
            ),
            ("themes/brand/static/assets/logo.svg", "<svg/>"),
        ]);
        let theme = Theme::load(site.path(), Some("brand")).expect("theme");
        assert_eq!(theme.render("404.html", &context()).unwrap(), "gone from T");
        assert!(theme.render("catalog.html", &Context::new()).is_err());
        assert!(matches!(
            theme.static_files.get("assets/logo.svg"),
            Some(StaticFile::Site(p)) if p == Path::new("themes/brand/static/assets/logo.svg")
        ));
        assert!(matches!(
            theme.static_files.get("assets/relsite.css"),
            Some(StaticFile::Builtin(_))
        ));
    }

    #[test]
    fn a_missing_theme_is_an_error_naming_the_config() {
        let site = site_with_theme(&[]);
        let problems = Theme::load(site.path(), Some("nope")).err().expect("error");
        assert_eq!(problems.len(), 1);
        assert_eq!(
            problems[0].to_string(),
            "relsite.yaml: error: theme `nope` not found: expected a folder themes/nope"
        );
    }

    #[test]
    fn template_errors_name_the_file_line_and_column() {
        let site = site_with_theme(&[(
            "themes/brand/templates/404.html",
            "line one\n{{ site.title | nosuchfilter }}",
        )]);
        let problems = match Theme::load(site.path(), Some("brand")) {
            Err(problems) => problems,
            Ok(theme) => vec![theme.render("404.html", &context()).unwrap_err()],
        };
        let d = &problems[0];
        assert_eq!(
            d.file.as_deref(),
            Some(Path::new("themes/brand/templates/404.html")),
            "{d}"
        );
        assert_eq!(d.location.map(|l| l.line), Some(2), "{d}");
    }

    #[test]
    fn undefined_variables_are_errors() {
        let site = site_with_theme(&[("themes/brand/templates/404.html", "{{ nothing }}")]);
        let theme = Theme::load(site.path(), Some("brand")).expect("theme");
        let err = theme.render("404.html", &context()).unwrap_err();
        assert_eq!(
            err.file.as_deref(),
            Some(Path::new("themes/brand/templates/404.html"))
        );
    }

    #[test]
    fn pointers_read_name_line_and_column() {
        assert_eq!(
            parse_pointer("build.html:4:13"),
            Some(("build.html", 4, 13))
        );
        assert_eq!(
            parse_pointer(" partials/build-row.html:1:2 "),
            Some(("partials/build-row.html", 1, 2))
        );
        assert_eq!(parse_pointer("build.html"), None);
    }
}
