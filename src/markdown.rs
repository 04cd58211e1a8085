//! Markdown to HTML for release notes and descriptions. Raw HTML in the source is shown as text,
//! never passed through, and links may only use web and mail schemes: notes come from whoever
//! drops a file into `releases/`, and the pages they land on are trusted by testers. The source
//! is made [`crate::text::publishable`] first, so neither HTML nor text carries a control
//! character into a page, feed or JSON.

use pulldown_cmark::{CowStr, Event, HeadingLevel, Options, Parser, Tag, TagEnd, html};

/// The longest Markdown text relsite renders, in bytes. Release notes and descriptions take a
/// few kilobytes; rendering is linear in the text, but each build's notes land on several pages
/// and feeds, so a book's worth is refused where it is read.
pub const MAX_MARKDOWN_BYTES: usize = 256 << 10;

/// Why `markdown` is too long to render, if it is; `what` names it.
pub fn check_length(what: &str, markdown: &str) -> Result<(), String> {
    if markdown.len() > MAX_MARKDOWN_BYTES {
        return Err(format!(
            "{what} is {} bytes of Markdown, more than the {MAX_MARKDOWN_BYTES} relsite renders",
            markdown.len()
        ));
    }
    Ok(())
}

fn options() -> Options {
    Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS
}

/// Renders CommonMark (plus tables, strikethrough and task lists) to safe HTML.
pub fn to_html(markdown: &str) -> String {
    let markdown = crate::text::publishable(markdown);
    let events = Parser::new_ext(&markdown, options()).map(|event| match event {
        Event::Html(raw) | Event::InlineHtml(raw) => Event::Text(raw),
        Event::Start(Tag::Link {
            link_type,
            dest_url,
            title,
            id,
        }) => Event::Start(Tag::Link {
            link_type,
            dest_url: safe_url(dest_url),
            title,
            id,
        }),
        Event::Start(Tag::Image {
            link_type,
            dest_url,
            title,
            id,
        }) => Event::Start(Tag::Image {
            link_type,
            dest_url: safe_url(dest_url),
            title,
            id,
        }),
        // Notes and descriptions sit below the page's own headings (`h1`, then `h2` sections).
        Event::Start(Tag::Heading {
            level,
            id,
            classes,
            attrs,
        }) => Event::Start(Tag::Heading {
            level: below_page_headings(level),
            id,
            classes,
            attrs,
        }),
        Event::End(TagEnd::Heading(level)) => {
            Event::End(TagEnd::Heading(below_page_headings(level)))
        }
        other => other,
    });
    let mut out = String::with_capacity(markdown.len() * 3 / 2);
    html::push_html(&mut out, events);
    out
}

/// A heading of notes two levels down: `#` becomes `h3`, below the page's `h1` and its `h2`
/// sections; `h5` and `h6` stay `h6`.
fn below_page_headings(level: HeadingLevel) -> HeadingLevel {
    match level {
        HeadingLevel::H1 => HeadingLevel::H3,
        HeadingLevel::H2 => HeadingLevel::H4,
        HeadingLevel::H3 => HeadingLevel::H5,
        _ => HeadingLevel::H6,
    }
}

/// The text of the notes without markup, for feeds and plain-text consumers.
pub fn to_text(markdown: &str) -> String {
    let markdown = crate::text::publishable(markdown);
    let mut out = String::with_capacity(markdown.len());
    for event in Parser::new_ext(&markdown, options()) {
        match event {
            Event::Text(t) | Event::Code(t) | Event::Html(t) | Event::InlineHtml(t) => {
                out.push_str(&t)
            }
            Event::SoftBreak | Event::HardBreak => out.push('\n'),
            Event::End(
                TagEnd::Paragraph
                | TagEnd::Heading(_)
                | TagEnd::Item
                | TagEnd::CodeBlock
                | TagEnd::TableRow
                | TagEnd::TableHead,
            ) if !out.ends_with('\n') && !out.is_empty() => out.push('\n'),
            Event::End(TagEnd::TableCell) => out.push(' '),
            Event::TaskListMarker(done) => out.push_str(if done { "[x] " } else { "[ ] " }),
            _ => {}
        }
    }
    out.trim_end().to_string()
}

/// Keeps relative links, fragments, and http(s)/mailto; anything else (javascript:, data:,
/// itms-services:) becomes an inert fragment link.
fn safe_url(url: CowStr<'_>) -> CowStr<'_> {
    let lower = url.trim().to_ascii_lowercase();
    let scheme_end = lower.find([':', '/', '?', '#']);
    let has_scheme = scheme_end.is_some_and(|i| lower.as_bytes()[i] == b':');
    if !has_scheme
        || lower.starts_with("https:")
        || lower.starts_with("http:")
        || lower.starts_with("mailto:")
    {
        url
    } else {
        CowStr::Borrowed("#")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_commonmark_with_tables_strikethrough_and_tasks() {
        let html = to_html("# Fixes\n\n- [x] done\n- ~~old~~\n\n| a | b |\n|---|---|\n| 1 | 2 |\n");
        assert!(
            html.contains("<h3>Fixes</h3>"),
            "below the page's headings: {html}"
        );
        assert!(html.contains("checkbox"));
        assert!(html.contains("<del>old</del>"));
        assert!(html.contains("<table>"));
    }

    #[test]
    fn headings_sit_two_levels_below_their_markdown_level() {
        let html = to_html("# a\n## b\n### c\n#### d\n###### e\n");
        assert_eq!(
            html,
            "<h3>a</h3>\n<h4>b</h4>\n<h5>c</h5>\n<h6>d</h6>\n<h6>e</h6>\n"
        );
    }

    #[test]
    fn raw_html_is_shown_as_text() {
        let html = to_html("<script>alert(1)</script>\n\nHi <b onclick=x>there</b>");
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("<b "), "{html}");
        assert!(html.contains("&lt;script&gt;"), "{html}");
    }

    #[test]
    fn dangerous_link_schemes_are_neutralised() {
        let html = to_html("[a](javascript:alert(1)) [b](JaVaScRiPt:x) ![c](data:text/html,x)");
        assert!(!html.to_lowercase().contains("javascript:"), "{html}");
        assert!(!html.contains("data:"), "{html}");
        let ok = to_html("[a](https://e.com) [b](../x) [c](#top) [d](mailto:a@b.c)");
        assert!(ok.contains("href=\"https://e.com\""));
        assert!(ok.contains("href=\"../x\""));
        assert!(ok.contains("href=\"#top\""));
        assert!(ok.contains("href=\"mailto:a@b.c\""));
    }

    #[test]
    fn text_drops_markup() {
        assert_eq!(
            to_text("**Bold** and `code`\n\n- one\n- two"),
            "Bold and code\none\ntwo"
        );
    }

    #[test]
    fn control_characters_never_reach_html_or_text() {
        let source = "Fixed \u{1b}[31m**it**\u{c}\n\n`\u{1}\u{fffe}`";
        for out in [to_html(source), to_text(source)] {
            assert!(out.chars().all(crate::text::is_publishable), "{out:?}");
            assert!(out.contains("\u{fffd}[31m"), "{out:?}");
        }
    }
}
