//! Names relsite keeps for its own files (pages, feeds, manifests, icons, host files, the theme's
//! folders): a bundle identifier, version, channel or slug that takes one is an error naming the
//! release's file and the files the name is kept for, once, and nothing is written.

use crate::ipa_builder::IpaBuilder;
use crate::support::*;

/// Builds `site`, which must fail with exactly one problem, on a line that starts with `line`;
/// nothing may have been written.
#[track_caller]
fn fails_once_with(site: &TestSite, line: &str) -> Run {
    let run = site.build();
    run.assert_fails_with(line);
    assert!(
        run.stderr.lines().any(|l| l.starts_with(line)),
        "no line starts with {line:?}:\n{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("error: found 1 problem, nothing was written"),
        "{}",
        run.stderr
    );
    assert!(!site.path("public").exists(), "nothing was written");
    run
}

fn site_with(bundle_id: &str, version: &str) -> TestSite {
    let site = TestSite::new();
    site.ipa(
        "releases/a/App.ipa",
        &IpaBuilder::new("App", bundle_id, version, version),
    );
    site
}

#[test]
fn bundle_ids_named_like_root_files_are_errors_naming_the_ipa_and_the_file() {
    for (id, kept) in [
        (
            "index.html",
            "the pages, each an `index.html` in its folder",
        ),
        ("feed.xml", "the Atom feeds `feed.xml` and `<app>/feed.xml`"),
        ("robots.txt", "the host configuration `robots.txt`"),
        ("404.html", "the not-found page `404.html`"),
    ] {
        let site = site_with(id, "1.0");
        fails_once_with(
            &site,
            &format!(
                "releases/a/App.ipa: error: bundle identifier `{id}` would publish the app at `{id}/`, but relsite keeps the name `{id}` for {kept}; set `apps.{id}.slug` in relsite.yaml"
            ),
        );
    }
}

#[test]
fn versions_named_like_app_files_are_errors_naming_the_ipa_and_the_file() {
    for (version, kept) in [
        ("feed.xml", "the Atom feeds `feed.xml` and `<app>/feed.xml`"),
        ("releases.json", "the app feed `<app>/releases.json`"),
        ("page", "the app pages `<app>/page/<n>/`"),
        (
            "manifest.plist",
            "the manifests `<app>/<version>/manifest.plist`",
        ),
    ] {
        let site = site_with("com.acme.field", version);
        fails_once_with(
            &site,
            &format!(
                "releases/a/App.ipa: error: version {version} build {version} would publish the build at `com.acme.field/{version}/`, but relsite keeps the name `{version}` for {kept}"
            ),
        );
    }
}

#[test]
fn a_channel_named_like_a_page_file_is_an_error_naming_the_notes() {
    let site = site_with("com.acme.field", "1.0");
    site.file("releases/a/App.yaml", b"channel: index.html\n");
    fails_once_with(
        &site,
        "releases/a/App.yaml: error: channel `index.html` would publish its latest page at `com.acme.field/latest/index.html/`, but relsite keeps the name `index.html` for the pages",
    );
}

#[test]
fn an_app_in_the_theme_folder_is_an_error_naming_the_theme_file() {
    let site = site_with("assets", "1.0");
    fails_once_with(
        &site,
        "releases/a/App.ipa: error: bundle identifier `assets` would publish the app at `assets/`, but relsite keeps the name `assets` for the theme's files, such as `assets/favicon.svg` from the built-in theme",
    );

    let site = site_with("com.acme.field", "1.0");
    site.config(&format!(
        "title: T\nbase_url: {BASE_URL}\napps:\n  com.acme.field:\n    slug: assets\n"
    ));
    fails_once_with(
        &site,
        "relsite.yaml: error: `apps.com.acme.field.slug` would publish the app of releases/a/App.ipa at `assets/`, but relsite keeps the name `assets` for the theme's files",
    );

    let site = site_with("tools", "1.0");
    site.config(&format!("title: T\nbase_url: {BASE_URL}\ntheme: brand\n"));
    site.file("themes/brand/static/tools/menu.js", b"");
    fails_once_with(
        &site,
        "releases/a/App.ipa: error: bundle identifier `tools` would publish the app at `tools/`, but relsite keeps the name `tools` for the theme's files, such as `tools/menu.js` from themes/brand/static/tools/menu.js",
    );
}

#[test]
fn a_configured_slug_named_like_a_root_file_is_an_error_at_its_line() {
    let site = site_with("com.acme.field", "1.0");
    site.config(&format!(
        "title: T\nbase_url: {BASE_URL}\napps:\n  com.acme.field:\n    slug: robots.txt\n"
    ));
    fails_once_with(
        &site,
        "relsite.yaml:5:11: error: `apps.com.acme.field.slug` `robots.txt` is a name relsite keeps for the host configuration `robots.txt`",
    );
}

#[test]
fn a_theme_file_at_the_path_of_a_relsite_file_is_an_error_naming_it() {
    let site = site_with("com.acme.field", "1.0");
    site.config(&format!("title: T\nbase_url: {BASE_URL}\ntheme: brand\n"));
    site.file("themes/brand/static/feed.xml", b"<feed/>");
    fails_once_with(
        &site,
        "themes/brand/static/feed.xml: error: two files map to the same output path `feed.xml`: the site feed and themes/brand/static/feed.xml",
    );
}

#[test]
fn an_output_dir_inside_releases_is_an_error_naming_it() {
    let site = site_with("com.acme.field", "1.0");
    site.config(&format!(
        "title: T\nbase_url: {BASE_URL}\noutput_dir: releases/site\n"
    ));
    fails_once_with(
        &site,
        "relsite.yaml:3:13: error: `output_dir` `releases/site` overlaps `releases_dir` `releases`",
    );
    assert!(!site.path("releases/site").exists());
}
