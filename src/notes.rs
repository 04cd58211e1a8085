//! Release notes: the YAML file beside an IPA. Unknown keys and malformed values are errors
//! with line and column, like YAML syntax errors.

use std::path::Path;

use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Date, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

use crate::diag::{Diagnostic, yaml_key_location};

/// The most keys of one notes file that are each reported as unreadable; more are counted.
const MAX_KEY_PROBLEMS: usize = 20;

/// The default release channel.
pub const DEFAULT_CHANNEL: &str = "stable";

/// The largest notes file relsite reads, in bytes. Release notes take a few kilobytes; a file
/// of a megabyte is not notes, and one of gigabytes must not be read into memory.
pub const MAX_NOTES_BYTES: u64 = 1 << 20;

/// The longest channel name, in bytes: it names the folder of the channel's latest build.
pub const MAX_CHANNEL_BYTES: usize = 100;

/// The longest `title`, in bytes: it titles the build's pages, feed entries and manifest.
pub const MAX_TITLE_BYTES: usize = 1024;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "snake_case")]
pub struct Notes {
    /// Markdown release notes.
    pub notes: Option<String>,
    /// When the build was released: `YYYY-MM-DD` or RFC 3339. Checked by `parse` into
    /// [`Notes::date`].
    #[serde(rename = "date")]
    date_text: Option<String>,
    /// Track name such as `stable` or `beta`.
    pub channel: Option<String>,
    /// Not published unless the build asks for drafts.
    pub draft: bool,
    /// Overrides the app's display name for this build.
    pub title: Option<String>,
    /// Marketing version, for an IPA whose Info.plist has none.
    pub version: Option<String>,
    /// `date`, checked.
    #[serde(skip)]
    pub date: Option<ReleaseDate>,
}

impl Notes {
    /// Parses a notes file's text; an empty file is notes with nothing set. Returns the first
    /// problem; [`Notes::parse_all`] returns every one.
    pub fn parse(text: &str, file: &Path) -> Result<Notes, Diagnostic> {
        Notes::parse_all(text, file).map_err(|mut all| all.swap_remove(0))
    }

    /// Parses a notes file's text, returning every problem of the file (at least one) when it
    /// cannot be used: each key that cannot be read, and each value that cannot be published.
    pub fn parse_all(text: &str, file: &Path) -> Result<Notes, Vec<Diagnostic>> {
        if text.trim().is_empty() {
            return Ok(Notes::default());
        }
        let checked = |notes: Notes| {
            notes.checked(|key: &str, message: String| {
                Diagnostic::error(file.to_path_buf(), message).at(yaml_key_location(text, &[key]))
            })
        };
        match crate::yaml::from_str::<Notes>(text) {
            Ok(notes) => checked(notes),
            Err(first) => {
                let first = Diagnostic::error(file.to_path_buf(), first.message).at(first.location);
                let Ok(serde_yaml::Value::Mapping(keys)) =
                    crate::yaml::from_str::<serde_yaml::Value>(text)
                else {
                    return Err(vec![first]);
                };
                // Each key on its own: those that read are checked together, each that does
                // not is a problem. The first is as serde found it, with its exact place. The
                // keys are indexed once, and a file of thousands of bad keys says the first few.
                let index = crate::diag::YamlKeys::index(text);
                let mut problems = Vec::new();
                let mut unreadable = 0;
                let mut readable = serde_yaml::Mapping::new();
                for (key, value) in keys {
                    let mut one = serde_yaml::Mapping::new();
                    one.insert(key.clone(), value.clone());
                    match serde_yaml::from_value::<Notes>(serde_yaml::Value::Mapping(one)) {
                        Ok(_) => {
                            readable.insert(key, value);
                        }
                        Err(_) if problems.is_empty() => {
                            unreadable += 1;
                            problems.push(first.clone());
                        }
                        Err(_) if problems.len() >= MAX_KEY_PROBLEMS => unreadable += 1,
                        Err(e) => {
                            unreadable += 1;
                            let name = key.as_str().unwrap_or_default();
                            let (message, _) = crate::diag::yaml_problem(&e);
                            problems.push(
                                Diagnostic::error(file.to_path_buf(), message)
                                    .at(index.locate(&[name])),
                            );
                        }
                    }
                }
                if unreadable > problems.len() {
                    problems.push(Diagnostic::error(
                        file.to_path_buf(),
                        format!(
                            "{} cannot be read either",
                            crate::text::plural(unreadable - problems.len(), "more key")
                        ),
                    ));
                }
                if problems.is_empty() {
                    problems.push(first);
                }
                let rest = serde_yaml::from_value::<Notes>(serde_yaml::Value::Mapping(readable));
                if let Ok(Err(more)) = rest.map(checked) {
                    problems.extend(more);
                }
                Err(problems)
            }
        }
    }

    /// Notes as a published catalog carries them, checked as a notes file is; `file` names
    /// where they come from in errors. Returns the first problem.
    pub fn from_published(notes: Notes, file: &Path) -> Result<Notes, Diagnostic> {
        notes
            .checked(|key: &str, message: String| {
                Diagnostic::error(file.to_path_buf(), format!("notes `{key}`: {message}"))
            })
            .map_err(|mut all| all.swap_remove(0))
    }

    /// What serde cannot check: the date, and names and lengths relsite publishes. Returns
    /// every problem.
    fn checked(
        mut self,
        problem: impl Fn(&str, String) -> Diagnostic,
    ) -> Result<Notes, Vec<Diagnostic>> {
        let mut problems = Vec::new();
        let notes = &mut self;
        if let Some(raw) = &notes.date_text {
            match ReleaseDate::parse(raw) {
                Ok(date) => notes.date = Some(date),
                Err(why) => problems.push(problem("date", why)),
            }
        }
        if let Some(channel) = &mut notes.channel {
            *channel = channel.trim().to_string();
            if channel.is_empty() {
                problems.push(problem("channel", "`channel` must not be empty".into()));
            }
        }
        for (key, value, most) in [
            ("channel", &notes.channel, MAX_CHANNEL_BYTES),
            ("title", &notes.title, MAX_TITLE_BYTES),
        ] {
            if let Some(value) = value.as_ref().filter(|v| v.len() > most) {
                problems.push(problem(
                    key,
                    format!(
                        "`{key}` is {} bytes long, more than the {most} relsite publishes",
                        value.len()
                    ),
                ));
            }
        }
        if let Some(markdown) = &notes.notes
            && let Err(why) = crate::markdown::check_length("`notes`", markdown)
        {
            problems.push(problem("notes", why));
        }
        if notes.version.as_ref().is_some_and(|v| v.trim().is_empty()) {
            problems.push(problem("version", "`version` must not be empty".into()));
        }
        if problems.is_empty() {
            Ok(self)
        } else {
            Err(problems)
        }
    }

    /// Reads the notes at `root/file`: a regular file inside the site of at most
    /// [`MAX_NOTES_BYTES`]. Returns every problem of the file.
    pub fn from_file(root: &Path, file: &Path) -> Result<Notes, Vec<Diagnostic>> {
        let text = crate::fs::in_site(root, file)
            .and_then(|path| {
                crate::fs::read_capped_to_string(&path, MAX_NOTES_BYTES, "a notes file")
            })
            .map_err(|e| vec![Diagnostic::error(file.to_path_buf(), e.to_string())])?;
        Notes::parse_all(&text, file)
    }

    pub fn channel(&self) -> &str {
        self.channel.as_deref().unwrap_or(DEFAULT_CHANNEL)
    }
}

/// A release date: `YYYY-MM-DD` (taken as midnight UTC) or an RFC 3339 timestamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct ReleaseDate(pub OffsetDateTime);

impl ReleaseDate {
    /// Parses a date, which must fall within the years 0000 to 9999 in UTC, where feeds and
    /// sorting put it: `9999-12-31T23:59:59-23:59` is a valid RFC 3339 text but a time in the
    /// year 10000.
    pub fn parse(input: &str) -> Result<Self, String> {
        let input = input.trim();
        let at = match OffsetDateTime::parse(input, &Rfc3339) {
            Ok(at) => at,
            Err(_) => Date::parse(input, format_description!("[year]-[month]-[day]"))
                .map(|d| PrimitiveDateTime::new(d, Time::MIDNIGHT).assume_utc())
                .map_err(|_| {
                    format!("`{input}` is not a date: write YYYY-MM-DD or an RFC 3339 time such as 2024-05-01T12:00:00Z")
                })?,
        };
        let in_range = at
            .checked_to_offset(UtcOffset::UTC)
            .is_some_and(|utc| (0..=9999).contains(&utc.year()));
        if !in_range {
            return Err(format!(
                "`{input}` is out of range: a date must fall within the years 0000 to 9999 in UTC"
            ));
        }
        Ok(ReleaseDate(at))
    }

    /// `YYYY-MM-DD`, in the timestamp's own offset.
    pub fn day(&self) -> String {
        crate::text::ymd(self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Notes, String> {
        Notes::parse(text, Path::new("releases/a/A.yaml")).map_err(|d| d.to_string())
    }

    #[test]
    fn can_read_every_key() {
        let n = parse(
            "notes: |\n  **New**\ndate: 2024-05-01\nchannel: beta\ndraft: true\ntitle: Field β\nversion: 1.10\n",
        )
        .unwrap();
        assert_eq!(n.notes.as_deref(), Some("**New**\n"));
        assert_eq!(n.date.unwrap().day(), "2024-05-01");
        assert_eq!(n.channel(), "beta");
        assert!(n.draft);
        assert_eq!(n.title.as_deref(), Some("Field β"));
        assert_eq!(
            n.version.as_deref(),
            Some("1.10"),
            "a version is kept as written"
        );
    }

    #[test]
    fn empty_file_is_empty_notes() {
        assert_eq!(parse("\n# nothing\n").unwrap(), Notes::default());
        assert_eq!(parse("").unwrap().channel(), DEFAULT_CHANNEL);
    }

    #[test]
    fn unknown_key_names_file_line_and_column() {
        let err = parse("notes: hi\nchanel: beta\n").unwrap_err();
        assert!(
            err.starts_with(
                "releases/a/A.yaml:2:1: error: unknown field `chanel`, expected one of"
            ),
            "{err}"
        );
    }

    #[test]
    fn every_problem_of_a_file_is_reported() {
        let text =
            "notes: hi\nchanel: beta\ndate: last tuesday\ndraft: maybe\ntitle: ''\nversion: ' '\n";
        let all = Notes::parse_all(text, Path::new("releases/a/A.yaml")).unwrap_err();
        let all: Vec<String> = all.iter().map(ToString::to_string).collect();
        assert_eq!(all.len(), 4, "{all:#?}");
        assert!(
            all[0].starts_with("releases/a/A.yaml:2:1: error: unknown field `chanel`"),
            "{all:#?}"
        );
        assert!(
            all[1].starts_with("releases/a/A.yaml:4:8: error: ") && all[1].contains("bool"),
            "{all:#?}"
        );
        assert!(
            all[2].starts_with("releases/a/A.yaml:3:7: error: `last tuesday` is not a date"),
            "{all:#?}"
        );
        assert!(
            all[3].starts_with("releases/a/A.yaml:6:10: error: `version` must not be empty"),
            "{all:#?}"
        );
    }

    #[test]
    fn thousands_of_bad_keys_are_counted_not_each_reported() {
        let text: String = (0..50_000).map(|i| format!("k{i}: 1\n")).collect();
        let started = std::time::Instant::now();
        let all = Notes::parse_all(&text, Path::new("releases/a/A.yaml")).unwrap_err();
        assert_eq!(all.len(), MAX_KEY_PROBLEMS + 1);
        assert!(
            all[MAX_KEY_PROBLEMS].message == "49980 more keys cannot be read either",
            "{}",
            all[MAX_KEY_PROBLEMS]
        );
        assert!(started.elapsed() < std::time::Duration::from_secs(20));
    }

    #[test]
    fn syntax_error_names_line_and_column() {
        let err = parse("notes: [unclosed\n").unwrap_err();
        assert!(err.starts_with("releases/a/A.yaml:"), "{err}");
        assert!(err.contains(":2:") || err.contains(":1:"), "{err}");
    }

    #[test]
    fn bad_date_is_an_error_with_position() {
        let err = parse("notes: hi\ndate: last tuesday\n").unwrap_err();
        assert!(
            err.starts_with("releases/a/A.yaml:2:7: error: `last tuesday` is not a date"),
            "{err}"
        );
    }

    #[test]
    fn a_date_out_of_range_in_utc_is_an_error_with_position() {
        for date in [
            "9999-12-31T23:59:59-23:59",
            "0000-01-01T00:00:00+00:01",
            "-0001-01-01",
        ] {
            let err = parse(&format!("notes: hi\ndate: {date}\n")).unwrap_err();
            assert_eq!(
                err,
                format!(
                    "releases/a/A.yaml:2:7: error: `{date}` is out of range: a date must fall within the years 0000 to 9999 in UTC"
                )
            );
        }
        for date in [
            "9999-12-31T23:59:59Z",
            "9999-12-31T23:59:59+23:59",
            "0000-01-01",
        ] {
            assert!(parse(&format!("date: {date}\n")).is_ok(), "{date}");
        }
    }

    #[test]
    fn notes_longer_than_markdown_may_be_are_an_error_with_position() {
        let max = crate::markdown::MAX_MARKDOWN_BYTES;
        assert!(parse(&format!("notes: {}\n", "a".repeat(max))).is_ok());
        let err = parse(&format!(
            "date: 2024-05-01\nnotes: {}\n",
            "a".repeat(max + 1)
        ))
        .unwrap_err();
        assert_eq!(
            err,
            format!(
                "releases/a/A.yaml:2:8: error: `notes` is {} bytes of Markdown, more than the {max} relsite renders",
                max + 1
            )
        );
    }

    #[test]
    fn aliases_expanding_past_the_limit_are_an_error() {
        let big = "a".repeat(1 << 20);
        let text = format!("notes: &n {big}\ntitle: *n\nchannel: *n\nversion: *n\ndate: *n\n");
        let err = parse(&text).unwrap_err();
        assert!(err.starts_with("releases/a/A.yaml:"), "{err}");
        assert!(
            err.contains(
                "with its aliases expanded, the document holds more than 4194304 bytes of text"
            ),
            "{err}"
        );
    }

    #[test]
    fn accepts_rfc3339_dates() {
        let n = parse("date: 2024-05-01T23:30:00+02:00\n").unwrap();
        assert_eq!(n.date.unwrap().day(), "2024-05-01");
        assert_eq!(
            crate::text::rfc3339(n.date.unwrap().0).unwrap(),
            "2024-05-01T21:30:00Z"
        );
    }

    #[test]
    fn empty_channel_is_an_error_with_position() {
        let err = parse("notes: hi\nchannel: '  '\n").unwrap_err();
        assert!(
            err.starts_with("releases/a/A.yaml:2:10: error: `channel` must not be empty"),
            "{err}"
        );
    }

    #[test]
    fn channel_and_title_longer_than_published_are_errors_with_position() {
        let err = parse(&format!("notes: hi\nchannel: {}\n", "c".repeat(101))).unwrap_err();
        assert!(
            err.starts_with(
                "releases/a/A.yaml:2:10: error: `channel` is 101 bytes long, more than the 100 relsite publishes"
            ),
            "{err}"
        );
        let err = parse(&format!("title: {}\n", "t".repeat(1025))).unwrap_err();
        assert!(
            err.starts_with(
                "releases/a/A.yaml:1:8: error: `title` is 1025 bytes long, more than the 1024 relsite publishes"
            ),
            "{err}"
        );
        assert!(parse(&format!("channel: {}\n", "c".repeat(100))).is_ok());
    }

    #[test]
    fn notes_that_are_not_a_mapping_are_an_error() {
        assert!(parse("just a string\n").is_err());
        assert!(parse("draft: maybe\n").unwrap_err().contains(":1:"));
    }
}
