//! Snapshots of what `relsite build` makes of the committed example-site: the file list and the
//! pages, manifest, JSON, feeds and hosting files a reviewer should see change.
//!
//! The site is copied to a temp dir and built once, with the clock pinned, so profile expiry
//! verdicts do not depend on the day the tests run. The output is deterministic (the example
//! IPAs are committed bytes), so nothing is redacted. After a deliberate change to the output,
//! run the tests with `INSTA_UPDATE=always` and review the diff of `tests/testsuite/snapshots/`.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::OnceLock;

use crate::support::{copy_site, tree};

/// 2025-01-01T00:00:00Z: after every example build's date, long before its profiles expire.
const NOW: u64 = 1_735_689_600;

/// Every file of the built example site, by path below the output folder.
fn output() -> &'static BTreeMap<String, Vec<u8>> {
    static OUTPUT: OnceLock<BTreeMap<String, Vec<u8>>> = OnceLock::new();
    OUTPUT.get_or_init(build_example_site)
}

fn build_example_site() -> BTreeMap<String, Vec<u8>> {
    let source = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/example-site"));
    let work = tempfile::tempdir().expect("temp dir");
    let site = work.path().join("example-site");
    copy_site(source, &site);
    let output = crate::support::relsite()
        .args(["build", "--root"])
        .arg(&site)
        .env("SOURCE_DATE_EPOCH", NOW.to_string())
        .output()
        .expect("run relsite");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "relsite build failed\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    // stdout ends with a timing figure, so it is checked, not snapshotted.
    assert!(
        stdout.contains("built 2 apps and 5 builds into ") && stdout.contains(" with 2 warnings"),
        "{stdout}"
    );
    // TideTime is an in-house app in a site that is not private, which relsite warns about.
    let warning = "warning: is an in-house (enterprise) build in a site that is not private";
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(
        lines.len(),
        2,
        "the example site's only diagnostics:\n{stderr}"
    );
    for (line, build) in lines.iter().zip(["3.1.0-410", "3.1.0-411"]) {
        let expected = format!("releases/tidetime/{build}/TideTime.ipa: {warning}");
        assert!(line.starts_with(&expected), "{line}");
    }
    tree(&site.join("public"))
}

/// A text file of the output.
fn text(rel: &str) -> &'static str {
    let bytes = output()
        .get(rel)
        .unwrap_or_else(|| panic!("{rel} is not in the output"));
    std::str::from_utf8(bytes).unwrap_or_else(|e| panic!("{rel} is not UTF-8: {e}"))
}

/// Every path of the output, sorted; files that are not text (IPAs, PNGs) with their size, since
/// their bytes cannot be shown and a size change is what a reviewer can see of them.
#[test]
fn output_files() {
    let list: String = output()
        .iter()
        .map(|(path, bytes)| match std::str::from_utf8(bytes) {
            Ok(_) => format!("{path}\n"),
            Err(_) => format!("{path} ({} bytes)\n", bytes.len()),
        })
        .collect();
    insta::assert_snapshot!("output-files", list);
}

/// The beta build of a version with two builds, with Markdown notes and an enterprise profile.
#[test]
fn build_page() {
    insta::assert_snapshot!(
        "build-page-tidetime-3.1.0-411",
        text("tidetime/3.1.0-411/index.html")
    );
}

#[test]
fn manifest() {
    insta::assert_snapshot!(
        "manifest-tidetime-3.1.0-411",
        text("tidetime/3.1.0-411/manifest.plist")
    );
}

#[test]
fn releases_json() {
    insta::assert_snapshot!("releases-json-tidetime", text("tidetime/releases.json"));
}

#[test]
fn latest_json() {
    insta::assert_snapshot!("latest-json-tidetime", text("tidetime/latest.json"));
}

#[test]
fn app_feed() {
    insta::assert_snapshot!("feed-tidetime", text("tidetime/feed.xml"));
}

#[test]
fn site_feed() {
    insta::assert_snapshot!("feed-site", text("feed.xml"));
}

#[test]
fn headers() {
    insta::assert_snapshot!("headers", text("_headers"));
}

#[test]
fn robots_txt() {
    insta::assert_snapshot!("robots-txt", text("robots.txt"));
}

#[test]
fn not_found_page() {
    insta::assert_snapshot!("404-html", text("404.html"));
}
