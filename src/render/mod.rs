//! Templates: the built-in theme is embedded in the binary, and a site's `themes/<name>/`
//! overrides it file by file. Templates receive the small view structs of [`views`], never the
//! domain types, and an undefined variable is an error naming the template.

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
        if problems.is_empty() {
            Ok(Theme {
                tera,
                origins,
                static_files,
            })
        } else {
            Err(problems)
        }
    }

    /// Renders `template`; an error names the template file, line and column.
    pub fn render(&self, template: &str, context: &Context) -> Result<String, Diagnostic> {
        self.tera
            .render(template, context)
            .map_err(|err| template_problem(&self.origins, &err))
    }
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
    match origin {
        Some(origin) if !origin.starts_with("built-in") => {
            Diagnostic::error(PathBuf::from(origin), message).at(location)
        }
        Some(origin) => Diagnostic::error(None, format!("{origin}: {message}")),
        None => Diagnostic::error(None, message),
    }
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
