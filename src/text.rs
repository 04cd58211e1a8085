//! How counts and dates read, in messages, pages and feeds alike; and the two filters every
//! string from a user's file passes on its way out: [`publishable`] before it goes into a page,
//! feed or manifest, [`terminal`] before it is printed.

use std::borrow::Cow;

use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, UtcOffset};

/// `1 build`, `2 builds`.
pub(crate) fn plural(n: usize, word: &str) -> String {
    format!("{n} {word}{}", if n == 1 { "" } else { "s" })
}

/// Bytes as lowercase hex, as digests are written.
pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// The SHA-256 of `parts` one after another, as hex.
pub(crate) fn sha256_hex<'a>(parts: impl IntoIterator<Item = &'a [u8]>) -> String {
    hex(&sha256(parts))
}

/// The SHA-256 of `parts` one after another.
pub(crate) fn sha256<'a>(parts: impl IntoIterator<Item = &'a [u8]>) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part);
    }
    hasher.finalize().into()
}

/// `YYYY-MM-DD` of a time, in its own offset.
pub(crate) fn ymd(at: OffsetDateTime) -> String {
    let d = at.date();
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

/// `YYYY-MM-DD` of a time, in UTC (in its own offset where UTC is out of range).
pub(crate) fn utc_ymd(at: OffsetDateTime) -> String {
    ymd(at.checked_to_offset(UtcOffset::UTC).unwrap_or(at))
}

/// RFC 3339 in UTC, as feeds carry times. A time that RFC 3339 cannot write (a year past 9999
/// or before 0) is an error naming it, never an empty string.
pub(crate) fn rfc3339(at: OffsetDateTime) -> Result<String, String> {
    at.checked_to_offset(UtcOffset::UTC)
        .ok_or_else(|| "is out of range in UTC".to_string())
        .and_then(|utc| utc.format(&Rfc3339).map_err(|e| e.to_string()))
        .map_err(|why| format!("time {at} cannot be written as RFC 3339: {why}"))
}

/// The character published in place of one that XML 1.0 or HTML cannot carry.
pub(crate) const REPLACEMENT: char = '\u{FFFD}';

/// Whether a page, feed or manifest may carry `c` as text: not a control character other than
/// tab, newline and carriage return (XML 1.0 forbids C0 controls, HTML every control), and not
/// a noncharacter (XML 1.0 forbids U+FFFE and U+FFFF, HTML every one of them).
pub(crate) fn is_publishable(c: char) -> bool {
    let noncharacter = matches!(c, '\u{FDD0}'..='\u{FDEF}') || (c as u32) & 0xFFFE == 0xFFFE;
    (!c.is_control() || matches!(c, '\t' | '\n' | '\r')) && !noncharacter
}

/// `text` with every character a page, feed or manifest cannot carry replaced by U+FFFD, the
/// Unicode replacement character: the text stays well-formed and visibly marks what was lost.
/// Borrowed when nothing needed replacing.
pub(crate) fn publishable(text: &str) -> Cow<'_, str> {
    if text.chars().all(is_publishable) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(
        text.chars()
            .map(|c| if is_publishable(c) { c } else { REPLACEMENT })
            .collect(),
    )
}

/// [`publishable`], owned.
pub(crate) fn publishable_string(text: String) -> String {
    match publishable(&text) {
        Cow::Borrowed(_) => text,
        Cow::Owned(clean) => clean,
    }
}

/// Whether a terminal could act on `c` instead of showing it: a control character (escape
/// sequences, newlines, backspace, C1 controls), a line or paragraph separator, or a
/// bidirectional override that reorders what follows.
fn is_terminal_control(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{2028}' | '\u{2029}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// `text` as it may be printed to a terminal: every character a terminal would act on is
/// written as a visible escape instead (`\n`, `\t`, `\r`, else `\u{1b}`), so a name from a file
/// can neither colour, move nor forge the lines around it. Borrowed when nothing was escaped.
pub(crate) fn terminal(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_terminal_control) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if is_terminal_control(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn counts_read_in_the_singular_for_one() {
        assert_eq!(plural(0, "build"), "0 builds");
        assert_eq!(plural(1, "build"), "1 build");
        assert_eq!(plural(2, "build"), "2 builds");
    }

    #[test]
    fn days_read_in_their_offset_or_in_utc() {
        let at = datetime!(2024-05-01 23:30 -02:00);
        assert_eq!(ymd(at), "2024-05-01");
        assert_eq!(utc_ymd(at), "2024-05-02");
    }

    #[test]
    fn rfc3339_is_utc_and_fails_loudly_out_of_range() {
        assert_eq!(
            rfc3339(datetime!(2024-05-01 12:00 +02:00)).unwrap(),
            "2024-05-01T10:00:00Z"
        );
        assert!(rfc3339(datetime!(-0001-01-01 0:00 UTC)).is_err());
    }

    #[test]
    fn publishable_text_replaces_what_xml_and_html_cannot_carry() {
        assert_eq!(publishable("Field β\t1\n2\r"), "Field β\t1\n2\r");
        assert!(matches!(publishable("Field"), Cow::Borrowed(_)));
        assert_eq!(
            publishable("a\u{0}b\u{1}c\u{b}\u{c}d\u{1b}e\u{7f}\u{85}f"),
            "a\u{FFFD}b\u{FFFD}c\u{FFFD}\u{FFFD}d\u{FFFD}e\u{FFFD}\u{FFFD}f"
        );
        for nonchar in [
            '\u{FFFE}',
            '\u{FFFF}',
            '\u{FDD0}',
            '\u{1FFFE}',
            '\u{10FFFF}',
        ] {
            assert_eq!(
                publishable(&format!("x{nonchar}")),
                "x\u{FFFD}",
                "{nonchar:?}"
            );
        }
        for kept in [
            '\u{FFFD}',
            '\u{FEFF}',
            '\u{E000}',
            '\u{10000}',
            '\u{FDF0}',
            '\u{A0}',
        ] {
            assert!(is_publishable(kept), "{kept:?}");
        }
    }

    #[test]
    fn terminal_text_escapes_controls_visibly() {
        assert_eq!(terminal("com.e.field"), "com.e.field");
        assert!(matches!(terminal("Field β"), Cow::Borrowed(_)));
        assert_eq!(
            terminal("a\u{1b}[31mred\nerror: fake\t\r\u{0}\u{7f}\u{9b}"),
            "a\\u{1b}[31mred\\nerror: fake\\t\\r\\u{0}\\u{7f}\\u{9b}"
        );
        assert_eq!(
            terminal("\u{202e}txt.exe\u{2028}"),
            "\\u{202e}txt.exe\\u{2028}"
        );
    }
}
