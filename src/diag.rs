//! Problems found while building: every stage reports into one list so that a run shows all of
//! them at once, each naming the file (relative to the site root) and, for YAML, line and column.
//!
//! A problem is one line: its file name and message may hold anything a file or a name in a file
//! held, so they are shown with every control character escaped ([`crate::text::terminal`]), and
//! no escape code or line break from a file reaches the terminal. A template error's source
//! excerpt, the one problem text of several lines, is its [`Diagnostic::detail`], shown below it
//! line by line, each escaped the same way.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::text::terminal;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warning,
}

/// Where in a file a problem is; lines and columns count from 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Location {
    pub line: usize,
    pub column: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    /// The file, relative to the site root; `None` for problems of the run itself.
    pub file: Option<PathBuf>,
    pub location: Option<Location>,
    /// One line.
    pub message: String,
    /// Lines shown below the message, such as a template's source around the problem.
    pub detail: Option<String>,
}

impl Diagnostic {
    pub fn error(file: impl Into<Option<PathBuf>>, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            file: file.into(),
            location: None,
            message: message.into(),
            detail: None,
        }
    }

    pub fn warning(file: impl Into<Option<PathBuf>>, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(file, message)
        }
    }

    pub fn at(mut self, location: Option<Location>) -> Self {
        self.location = location;
        self
    }

    /// The same problem with `detail` shown below it.
    pub fn with_detail(mut self, detail: Option<String>) -> Self {
        self.detail = detail.filter(|d| !d.trim().is_empty());
        self
    }

    fn sort_key(&self) -> (Option<&Path>, Option<Location>, Severity, &str) {
        (
            self.file.as_deref(),
            self.location,
            self.severity,
            &self.message,
        )
    }
}

/// A part of a diagnostic that a terminal may colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Style {
    /// `file:line:column:`
    Place,
    /// `error` or `warning`
    Label(Severity),
}

impl Diagnostic {
    /// `file:line:column: label: message`, each styled part passed through `paint`, then the
    /// detail's lines; every control character of the file name, message and detail escaped,
    /// and every secret token cut short ([`crate::layout::redacted`]), as CI logs may be public.
    pub(crate) fn render(&self, paint: impl Fn(&str, Style) -> String) -> String {
        let shown = |text: &str| crate::layout::redacted(&terminal(text));
        let mut out = String::new();
        if let Some(file) = &self.file {
            let mut place = shown(&display_path(file));
            if let Some(loc) = self.location {
                place.push_str(&format!(":{}:{}", loc.line, loc.column));
            }
            place.push(':');
            out.push_str(&paint(&place, Style::Place));
            out.push(' ');
        }
        let label = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        out.push_str(&paint(label, Style::Label(self.severity)));
        out.push_str(": ");
        out.push_str(&shown(&self.message));
        for line in self.detail.iter().flat_map(|d| d.lines()) {
            out.push('\n');
            out.push_str(&shown(line));
        }
        out
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render(|text, _| text.to_string()))
    }
}

/// A path as shown to users: forward slashes on every platform.
pub fn display_path(path: &Path) -> String {
    path.to_string_lossy().replace('\\', "/")
}

/// The problems of one run, in the order they are shown: by file, then position.
#[derive(Debug, Default, Clone)]
pub struct Diagnostics {
    items: Vec<Diagnostic>,
}

impl Diagnostics {
    pub fn push(&mut self, diagnostic: Diagnostic) {
        self.items.push(diagnostic);
    }

    pub fn extend(&mut self, other: impl IntoIterator<Item = Diagnostic>) {
        self.items.extend(other);
    }

    pub fn has_errors(&self) -> bool {
        self.error_count() > 0
    }

    pub fn error_count(&self) -> usize {
        self.count(Severity::Error)
    }

    pub fn warning_count(&self) -> usize {
        self.count(Severity::Warning)
    }

    fn count(&self, severity: Severity) -> usize {
        self.items.iter().filter(|d| d.severity == severity).count()
    }

    /// Every problem, sorted so that output is the same from run to run.
    pub fn sorted(&self) -> Vec<&Diagnostic> {
        let mut items: Vec<&Diagnostic> = self.items.iter().collect();
        items.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
        items.dedup();
        items
    }
}

impl IntoIterator for Diagnostics {
    type Item = Diagnostic;
    type IntoIter = std::vec::IntoIter<Diagnostic>;
    fn into_iter(self) -> Self::IntoIter {
        self.items.into_iter()
    }
}

impl From<Diagnostic> for Diagnostics {
    fn from(d: Diagnostic) -> Self {
        Diagnostics { items: vec![d] }
    }
}

/// Splits a serde_yaml error into its message and position, so the position can lead the line.
pub fn yaml_problem(err: &serde_yaml::Error) -> (String, Option<Location>) {
    let location = err.location().map(|l| Location {
        line: l.line(),
        column: l.column(),
    });
    let mut message = err.to_string();
    if let Some(loc) = location {
        for suffix in [
            format!(" at line {} column {}", loc.line, loc.column),
            format!(" at position {}", err.location().map_or(0, |l| l.index())),
        ] {
            if let Some(pos) = message.find(&suffix) {
                message.replace_range(pos..pos + suffix.len(), "");
            }
        }
    }
    (message, location)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_file_line_column_first() {
        let d = Diagnostic::error(PathBuf::from("releases/a/A.yaml"), "unknown key")
            .at(Some(Location { line: 3, column: 7 }));
        assert_eq!(d.to_string(), "releases/a/A.yaml:3:7: error: unknown key");
    }

    #[test]
    fn secret_tokens_are_cut_short_in_the_file_message_and_detail() {
        let token = "3f9a1c0123456789abcdef0123456789";
        let d = Diagnostic::error(
            PathBuf::from(format!("public/i/{token}/a.ipa")),
            format!("both are `s/{token}/field/1.0/`"),
        )
        .with_detail(Some(format!("at https://e.com/i/{token}/manifest.plist")));
        assert_eq!(
            d.to_string(),
            "public/i/3f9a1c…/a.ipa: error: both are `s/3f9a1c…/field/1.0/`\nat https://e.com/i/3f9a1c…/manifest.plist"
        );
    }

    #[test]
    fn displays_run_problems_without_file() {
        let d = Diagnostic::warning(None, "no IPA found");
        assert_eq!(d.to_string(), "warning: no IPA found");
    }

    #[test]
    fn control_characters_from_files_are_shown_escaped_on_one_line() {
        let d = Diagnostic::error(
            PathBuf::from("releases/\u{1b}[2J/A\nB.ipa"),
            "CFBundleIdentifier `com.a\u{1b}[31m\nerror: forged` is not valid",
        )
        .with_detail(Some("  |\n4 | {{ x \u{7} }}\n  |".into()));
        assert_eq!(
            d.to_string(),
            "releases/\\u{1b}[2J/A\\nB.ipa: error: CFBundleIdentifier `com.a\\u{1b}[31m\\nerror: forged` is not valid\n  |\n4 | {{ x \\u{7} }}\n  |"
        );
    }

    #[test]
    fn sorts_by_file_then_position() {
        let mut all = Diagnostics::default();
        all.push(Diagnostic::error(PathBuf::from("b"), "x"));
        all.push(Diagnostic::error(PathBuf::from("a"), "y"));
        let files: Vec<_> = all.sorted().iter().map(|d| d.file.clone()).collect();
        assert_eq!(
            files,
            vec![Some(PathBuf::from("a")), Some(PathBuf::from("b"))]
        );
    }
}

/// Where the value of a key sits in a YAML document of block mappings, following `path` from the
/// top (e.g. `["apps", "com.acme.field", "slug"]`). Used for problems found after parsing, which
/// serde cannot place. For more than one key of a document, [`YamlKeys`] finds them all in one
/// pass.
pub fn yaml_key_location(text: &str, path: &[&str]) -> Option<Location> {
    YamlKeys::index(text).locate(path)
}

/// The keys of a YAML document of block mappings, each by its path from the top, with where
/// its value sits (or the key itself, when the value is a block below it). Made in one pass
/// over the text, so placing any number of problems costs time linear in the text.
pub struct YamlKeys {
    /// Each key by its parent's number (0 for the top) and its text: the key's number.
    keys: std::collections::HashMap<(usize, String), usize>,
    /// By key number less one: where its value sits.
    locations: Vec<Location>,
}

impl YamlKeys {
    pub fn index(text: &str) -> YamlKeys {
        let mut index = YamlKeys {
            keys: std::collections::HashMap::new(),
            locations: Vec::new(),
        };
        // The keys whose blocks the line is in: their indent and number.
        let mut parents: Vec<(usize, usize)> = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let trimmed = line.trim_start();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            let indent = line.len() - trimmed.len();
            while parents.last().is_some_and(|(at, _)| *at >= indent) {
                parents.pop();
            }
            let Some((key, rest)) = split_key(trimmed) else {
                continue;
            };
            let value_at = line.len() - rest.trim_start().len();
            let column = if rest.trim().is_empty() {
                indent
            } else {
                value_at
            };
            let parent = parents.last().map_or(0, |(_, number)| *number);
            let next = index.locations.len() + 1;
            let number = *index.keys.entry((parent, key.to_string())).or_insert(next);
            if number == next {
                index.locations.push(Location {
                    line: i + 1,
                    column: line_chars(line, column) + 1,
                });
            }
            parents.push((indent, number));
        }
        index
    }

    /// Where the value of the key at `path` sits.
    pub fn locate(&self, path: &[&str]) -> Option<Location> {
        let mut number = 0;
        for key in path {
            number = *self.keys.get(&(number, (*key).to_string()))?;
        }
        number.checked_sub(1).map(|i| self.locations[i])
    }
}

/// A mapping key at the start of `line` (plain, or in double or single quotes) and what follows
/// its colon.
fn split_key(line: &str) -> Option<(&str, &str)> {
    for quote in ['"', '\''] {
        if let Some(quoted) = line.strip_prefix(quote) {
            let (key, rest) = quoted.split_once(quote)?;
            return Some((key, rest.strip_prefix(':')?));
        }
    }
    let colon = line
        .char_indices()
        .find(|&(at, c)| {
            c == ':'
                && line[at + 1..]
                    .chars()
                    .next()
                    .is_none_or(char::is_whitespace)
        })?
        .0;
    Some((line[..colon].trim_end(), &line[colon + 1..]))
}

/// The character column of a byte offset in a line.
fn line_chars(line: &str, byte: usize) -> usize {
    line.get(..byte).map_or(byte, |s| s.chars().count())
}

#[cfg(test)]
mod location_tests {
    use super::*;

    #[test]
    fn locates_top_level_and_nested_values() {
        let text = "title: T\n# note\nbase_url:   http://x\napps:\n  com.a.b:\n    name: A\n    slug: Bad Slug\n";
        assert_eq!(
            yaml_key_location(text, &["base_url"]),
            Some(Location {
                line: 3,
                column: 13
            })
        );
        assert_eq!(
            yaml_key_location(text, &["apps", "com.a.b", "slug"]),
            Some(Location {
                line: 7,
                column: 11
            })
        );
        assert_eq!(yaml_key_location(text, &["apps", "com.x", "slug"]), None);
    }

    #[test]
    fn nested_search_stays_inside_its_block() {
        let text = "apps:\n  a.b:\n    name: A\n  c.d:\n    slug: x\n";
        assert_eq!(yaml_key_location(text, &["apps", "a.b", "slug"]), None);
        assert_eq!(yaml_key_location(text, &["slug"]), None);
        assert_eq!(
            yaml_key_location(text, &["apps", "c.d", "slug"]),
            Some(Location {
                line: 5,
                column: 11
            })
        );
    }

    #[test]
    fn quoted_keys_and_colons_in_values_are_read() {
        let text = "\"a:b\": 1\n'c': 2\nbase_url: https://e.com/\nd:\n  e: 3\n";
        let keys = YamlKeys::index(text);
        assert_eq!(keys.locate(&["a:b"]), Some(Location { line: 1, column: 8 }));
        assert_eq!(keys.locate(&["c"]), Some(Location { line: 2, column: 6 }));
        assert_eq!(
            keys.locate(&["base_url"]),
            Some(Location {
                line: 3,
                column: 11
            })
        );
        assert_eq!(keys.locate(&["d"]), Some(Location { line: 4, column: 1 }));
        assert_eq!(
            keys.locate(&["d", "e"]),
            Some(Location { line: 5, column: 6 })
        );
        assert_eq!(keys.locate(&["https"]), None);
    }

    /// Placing a problem for each of 30,000 apps: a search from the top for each takes time of
    /// the square of the text.
    #[test]
    fn placing_many_keys_takes_linear_time() {
        let apps = 30_000;
        let mut text = String::from("title: T\napps:\n");
        for i in 0..apps {
            text.push_str(&format!("  com.a{i}:\n    slug: A B\n"));
        }
        let started = std::time::Instant::now();
        let keys = YamlKeys::index(&text);
        for i in 0..apps {
            let location = keys.locate(&["apps", &format!("com.a{i}"), "slug"]);
            assert_eq!(location.map(|l| l.line), Some(4 + 2 * i));
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(5),
            "took {:?}",
            started.elapsed()
        );
    }
}
