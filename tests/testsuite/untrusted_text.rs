//! Text from releases that no output may carry raw: control characters and noncharacters in a
//! display name, a profile's team name, a channel and a title. Manifests and Atom feeds stay
//! well-formed XML (read back by Python's expat-based parsers, as strict as iOS), pages carry
//! none of those characters, and JSON feeds still parse.

use std::process::Command;

use crate::ipa_builder::{IpaBuilder, ProfileSpec};
use crate::support::*;

/// Every character XML 1.0 forbids that a Rust string can hold, in one string: NUL, SOH, form
/// feed, ESC, U+FFFE and U+FFFF.
const HOSTILE: &str = "\u{0}\u{1}\u{c}\u{1b}\u{fffe}\u{ffff}";

/// A site with one release whose display name (Info.plist), team name (profile), channel and
/// title (notes) each carry [`HOSTILE`] characters, built.
fn hostile_site() -> TestSite {
    let site = TestSite::new();
    let mut profile = ProfileSpec::ad_hoc("com.acme.field");
    profile.team_name = format!("Acme{HOSTILE} Co");
    site.ipa(
        "releases/field/Field.ipa",
        &IpaBuilder::new("Field", "com.acme.field", "1.0", "1")
            .key("CFBundleDisplayName", format!("Field{HOSTILE}Pro"))
            .profile(&profile.der()),
    );
    // YAML double-quoted escapes give any character, however the file itself is encoded.
    site.file(
        "releases/field/Field.yaml",
        br#"channel: "beta\0\x01\f\e\uFFFE\uFFFF"
title: "Spring\0\x01\f\e\uFFFE\uFFFF release"
notes: "Fixed \e[31m**sync**\f"
"#,
    );
    site
}

/// Parses `file` with Python's `parser`, failing the test with Python's message.
#[track_caller]
fn python_parses(parser: &str, file: &std::path::Path) {
    let out = Command::new("python3")
        .args(["-c", &format!("import sys, {parser}; print('ok')")])
        .arg(file)
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "python3 could not parse {}: {}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn control_characters_in_names_leave_manifests_and_feeds_well_formed() {
    let site = hostile_site();
    site.run_at(&["build"], Some(1_717_200_000)).assert_ok();
    let build = "public/com.acme.field/1.0-1";

    python_parses(
        "plistlib\nm = plistlib.load(open(sys.argv[1], 'rb'))\nassert m['items'][0]['metadata']['bundle-identifier'] == 'com.acme.field'",
        &site.path(&format!("{build}/manifest.plist")),
    );
    let manifest = std::fs::read(site.path(&format!("{build}/manifest.plist"))).unwrap();
    let (id, _, title, _) = manifest_facts(&manifest);
    assert_eq!(id, "com.acme.field");
    assert_eq!(
        title,
        "Spring\u{fffd}\u{fffd}\u{fffd}\u{fffd}\u{fffd}\u{fffd} release"
    );
    let text = String::from_utf8(manifest).unwrap();
    assert!(
        text.contains("Acme\u{fffd}\u{fffd}\u{fffd}\u{fffd}\u{fffd}\u{fffd} Co"),
        "the team name is the subtitle: {text}"
    );

    for feed in ["public/feed.xml", "public/com.acme.field/feed.xml"] {
        python_parses(
            "xml.etree.ElementTree\nxml.etree.ElementTree.parse(sys.argv[1])",
            &site.path(feed),
        );
        let bytes = std::fs::read(site.path(feed)).unwrap();
        let parsed = feed_rs::parser::parse(&bytes[..]).unwrap_or_else(|e| panic!("{feed}: {e}"));
        let entry_title = parsed.entries[0].title.as_ref().expect("a title");
        assert!(
            entry_title.content.starts_with("Spring\u{fffd}"),
            "{feed}: {entry_title:?}"
        );
    }

    for (path, bytes) in site.tree("public") {
        if path.ends_with(".ipa") || path.ends_with(".png") {
            continue;
        }
        let text = String::from_utf8(bytes).unwrap_or_else(|e| panic!("{path}: {e}"));
        let bad: Vec<char> = text
            .chars()
            .filter(|c| {
                (c.is_control() && !matches!(c, '\t' | '\n' | '\r')) || HOSTILE.contains(*c)
            })
            .collect();
        assert_eq!(
            bad,
            Vec::<char>::new(),
            "{path} carries characters no page, feed or manifest may"
        );
        if path.ends_with(".json") {
            serde_json::from_str::<serde_json::Value>(&text)
                .unwrap_or_else(|e| panic!("{path}: {e}"));
        }
    }
    let page = site.read(&format!("{build}/index.html"));
    assert!(
        page.contains("Field\u{fffd}"),
        "the display name is shown, replaced"
    );
}
