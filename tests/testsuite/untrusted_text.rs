//! Text from releases that no output may carry raw: control characters and noncharacters in a
//! display name, a profile's team name, a channel and a title. Manifests and Atom feeds stay
//! well-formed XML (read back by Python's expat-based parsers, as strict as iOS), pages carry
//! none of those characters, and JSON feeds still parse. Names from files that reach the
//! terminal (bundle identifiers, profile names, YAML keys, file names) arrive escaped.

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

/// Escape codes and line breaks in a bundle identifier, a profile's name, a YAML key and a file
/// name: what a terminal would act on.
#[test]
fn names_from_files_reach_the_terminal_escaped() {
    let site = TestSite::new();
    let forged = "\u{1b}[2K\u{1b}[32m\nok: all good";
    site.ipa(
        "releases/a/A.ipa",
        &IpaBuilder::new("A", &format!("com.acme.a{forged}"), "1.0", "1"),
    );
    let mut profile = ProfileSpec::ad_hoc("com.acme.other");
    profile.name = format!("Acme{forged}");
    site.ipa(
        "releases/b/B.ipa",
        &IpaBuilder::new("B", "com.acme.b", "1.0", "1").profile(&profile.der()),
    );
    site.ipa(
        "releases/c/C.ipa",
        &IpaBuilder::new("C", "com.acme.c", "1.0", "1"),
    );
    site.file("releases/c/C.yaml", b"\"\\e[31mchannel\\r\": beta\n");
    site.file(&format!("releases/d/D{forged}.ipa"), b"not a zip");

    for args in [&["build", "--verbose"][..], &["check"][..]] {
        let run = site.run(args);
        assert_eq!(run.code, 1, "{}", run.stderr);
        let printed = format!("{}{}", run.stdout, run.stderr);
        let raw: Vec<char> = printed
            .chars()
            .filter(|c| c.is_control() && *c != '\n')
            .collect();
        assert_eq!(raw, Vec::<char>::new(), "{printed}");
        assert!(
            !printed.lines().any(|l| l.starts_with("ok: all good")),
            "a name started a line of its own: {printed}"
        );
        let escaped = "\\u{1b}[2K\\u{1b}[32m\\nok: all good";
        for line in [
            format!("releases/a/A.ipa: error: CFBundleIdentifier `com.acme.a{escaped}`"),
            format!("releases/b/B.ipa: error: its profile `Acme{escaped}` is for"),
            "releases/c/C.yaml:1:1: error: unknown field `\\u{1b}[31mchannel\\r`".to_string(),
            format!("releases/d/D{escaped}.ipa: error: not a readable IPA"),
        ] {
            run.assert_fails_with(&line);
        }
        assert!(
            run.stderr.contains("error: found 4 problems"),
            "{}",
            run.stderr
        );
    }
}

/// `add` reports the build it copied by its bundle identifier and file name, both from the IPA,
/// and refuses an identifier no URL can carry, showing it escaped.
#[test]
fn a_status_line_shows_names_from_the_ipa_escaped() {
    let site = TestSite::new();
    let work = tempfile::tempdir().unwrap();
    let ipa = work.path().join("F\u{1b}[8m.ipa");
    std::fs::write(&ipa, IpaBuilder::new("F", "com.acme.f", "1.0", "1").build()).unwrap();
    let run = site.run(&["add", ipa.to_str().unwrap()]);
    run.assert_ok();
    assert_eq!(
        run.stdout,
        "added com.acme.f 1.0 (1) as releases/com.acme.f/1.0-1/F\\u{1b}[8m.ipa with notes releases/com.acme.f/1.0-1/F\\u{1b}[8m.yaml\n"
    );
    let bad = work.path().join("G.ipa");
    std::fs::write(
        &bad,
        IpaBuilder::new("G", "com.acme.g\u{1b}]0;title\u{7}", "1.0", "1").build(),
    )
    .unwrap();
    let run = site.run(&["add", bad.to_str().unwrap()]);
    run.assert_fails_with("error: CFBundleIdentifier `com.acme.g\\u{1b}]0;title\\u{7}` is not a valid bundle identifier");
    assert!(!run.stderr.contains('\u{1b}'), "{}", run.stderr);
}
