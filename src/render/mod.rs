//! Templates: the built-in theme is embedded in the binary, and a site's `themes/<name>/`
//! overrides it file by file. Templates receive the small view structs of [`views`], never the
//! domain types, and an undefined variable is an error naming the template. Every value a
//! template prints is HTML-escaped and made [`crate::text::publishable`], so no control
//! character or noncharacter from a user's file reaches a page.
//!
//! A site theme's files are read like every other input: regular files inside the site folder
//! (symlinks followed, never out of it), each within its cap, and all of them read once, here,
//! so what is published is what was checked.

pub mod qr;
pub mod views;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

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

/// The most relsite reads of one template of a site theme.
pub const MAX_TEMPLATE_BYTES: u64 = 1 << 20;

/// The most relsite reads of one static file of a site theme: each is copied into the output.
pub const MAX_STATIC_BYTES: u64 = 16 << 20;

/// The most a site theme's templates and static files hold together, all held in memory.
pub const MAX_THEME_BYTES: u64 = 64 << 20;

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
    /// A file of the site theme, by its path relative to the site root, with the bytes read
    /// from it: the bytes published are the bytes checked.
    Site {
        file: PathBuf,
        bytes: Arc<[u8]>,
    },
}

impl StaticFile {
    /// Where the file comes from, for messages: `the built-in theme`, or the site theme's file.
    pub fn origin(&self) -> String {
        match self {
            StaticFile::Builtin(_) => BUILTIN_ORIGIN.to_string(),
            StaticFile::Site { file, .. } => display_path(file),
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
            if let Err(e) = crate::fs::in_site(root, &theme_dir) {
                problems.push(Diagnostic::error(theme_dir, e.to_string()));
                return Err(problems);
            }
            let mut reader = ThemeReader::new(root, &theme_dir);
            for (rel, file) in reader.files_below("templates", &mut problems) {
                if reader.full {
                    break;
                }
                let text = reader
                    .read(&file, MAX_TEMPLATE_BYTES, "a template")
                    .and_then(|bytes| {
                        String::from_utf8(bytes).map_err(|e| format!("is not UTF-8 text: {e}"))
                    });
                match text {
                    Ok(text) => {
                        sources.insert(rel, (display_path(&file), text));
                    }
                    Err(why) => problems.push(Diagnostic::error(file, why)),
                }
            }
            for (rel, file) in reader.files_below("static", &mut problems) {
                if reader.full {
                    break;
                }
                match reader.read(&file, MAX_STATIC_BYTES, "a static file of a theme") {
                    Ok(bytes) => {
                        let bytes = bytes.into();
                        static_files.insert(rel, StaticFile::Site { file, bytes });
                    }
                    Err(why) => problems.push(Diagnostic::error(file, why)),
                }
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

    /// [`Theme::render`] into `out`, as the page is made.
    pub fn render_to(
        &self,
        template: &str,
        context: &Context,
        out: &mut dyn std::io::Write,
    ) -> Result<(), Diagnostic> {
        self.tera
            .render_to(template, context, out)
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

/// Reads a site theme's files: each a regular file inside the site, within its own cap and,
/// with the files read before it, within [`MAX_THEME_BYTES`].
struct ThemeReader<'a> {
    root: &'a Path,
    theme_dir: &'a Path,
    /// What the theme's files may still hold.
    left: u64,
    /// Set once the files read pass [`MAX_THEME_BYTES`]: nothing more is to be read.
    full: bool,
}

impl<'a> ThemeReader<'a> {
    fn new(root: &'a Path, theme_dir: &'a Path) -> ThemeReader<'a> {
        ThemeReader {
            root,
            theme_dir,
            left: MAX_THEME_BYTES,
            full: false,
        }
    }

    /// Files below the theme's folder `sub`, as (path below it with `/`, path relative to the
    /// site root), sorted. The folder must lead to a folder inside the site; below it, links to
    /// folders are not followed (as in the releases folder), and every other entry is listed,
    /// to be read or refused by [`ThemeReader::read`].
    fn files_below(&self, sub: &str, problems: &mut Vec<Diagnostic>) -> Vec<(String, PathBuf)> {
        let dir = self.theme_dir.join(sub);
        let mut files = Vec::new();
        if std::fs::symlink_metadata(self.root.join(&dir)).is_err() {
            return files;
        }
        let real = match crate::fs::in_site(self.root, &dir) {
            Ok(real) => real,
            Err(e) => {
                problems.push(Diagnostic::error(dir, e.to_string()));
                return files;
            }
        };
        if !real.is_dir() {
            problems.push(Diagnostic::error(
                dir,
                format!("is not a folder: a theme's {sub} go in a folder {sub}/"),
            ));
            return files;
        }
        for entry in WalkDir::new(self.root.join(&dir)).sort_by_file_name() {
            let entry = match entry {
                Ok(entry) => entry,
                Err(err) => {
                    problems.push(Diagnostic::error(dir.clone(), err.to_string()));
                    continue;
                }
            };
            let linked_folder = || {
                entry.path_is_symlink() && std::fs::metadata(entry.path()).is_ok_and(|m| m.is_dir())
            };
            if entry.file_type().is_dir() || linked_folder() {
                continue;
            }
            let (Ok(rel), Ok(from_root)) = (
                entry.path().strip_prefix(self.root.join(&dir)),
                entry.path().strip_prefix(self.root),
            ) else {
                continue;
            };
            files.push((display_path(rel), from_root.to_path_buf()));
        }
        files
    }

    /// The bytes of `file` (relative to the site root), or why it is not read.
    fn read(&mut self, file: &Path, cap: u64, what: &'static str) -> Result<Vec<u8>, String> {
        let bytes = crate::fs::in_site(self.root, file)
            .and_then(|path| crate::fs::read_capped(&path, cap, what))
            .map_err(|e| e.to_string())?;
        match self.left.checked_sub(bytes.len() as u64) {
            Some(left) => {
                self.left = left;
                Ok(bytes)
            }
            None => {
                self.full = true;
                Err(format!(
                    "with it, the theme's files hold more than {MAX_THEME_BYTES} bytes, the most relsite reads of a theme ({})",
                    display_path(self.theme_dir)
                ))
            }
        }
    }
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
            Some(StaticFile::Site { file, bytes })
                if file == Path::new("themes/brand/static/assets/logo.svg") && &bytes[..] == b"<svg/>"
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
