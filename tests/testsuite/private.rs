//! Private catalogs (`private: true`): install files under secret paths derived from the site
//! secret, stable from build to build, all moved by a new secret, and never named by a file
//! served without a login.

use std::collections::BTreeMap;

use crate::ipa_builder::IpaBuilder;
use crate::support::*;

pub const SECRET: &str = "9f1c2e7a4b8d0f3165a7c9e2b4d6f8a0";
pub const OTHER_SECRET: &str = "5e8b1d4f7a0c3e6b9d2f5a8c1e4b7d0a";

/// A private site with two apps, one with two builds.
pub fn private_site() -> TestSite {
    let site = TestSite::new();
    site.config(&format!(
        "title: Private\nbase_url: {BASE_URL}\nprivate: true\n"
    ));
    for (dir, name, id, version, build) in [
        ("field/1.0", "Field", "com.acme.field", "1.0", "1"),
        ("field/1.1", "Field", "com.acme.field", "1.1", "2"),
        ("ledger/2.0", "Ledger", "com.acme.ledger", "2.0", "7"),
    ] {
        site.ipa(
            &format!("releases/{dir}/{name}.ipa"),
            &IpaBuilder::new(name, id, version, build).signed(),
        );
    }
    site
}

/// Every `i/<token>` and `s/<token>` segment named in the output's paths.
pub fn tokens_in_paths(output: &BTreeMap<String, Vec<u8>>) -> Vec<String> {
    let mut tokens: Vec<String> = output
        .keys()
        .filter_map(|path| {
            let mut parts = path.split('/');
            match (parts.next(), parts.next()) {
                (Some("i" | "s"), Some(token)) if parts.next().is_some() => Some(token.to_string()),
                _ => None,
            }
        })
        .collect();
    tokens.sort();
    tokens.dedup();
    tokens
}

/// The output files whose bytes contain `needle`.
pub fn files_naming(output: &BTreeMap<String, Vec<u8>>, needle: &str) -> Vec<String> {
    output
        .iter()
        .filter(|(_, bytes)| bytes.windows(needle.len()).any(|w| w == needle.as_bytes()))
        .map(|(path, _)| path.clone())
        .collect()
}

/// The files a private site's host serves without a login.
pub fn is_open(path: &str) -> bool {
    path.starts_with("i/") || path == "robots.txt" || path == "404.html"
}

#[test]
fn private_without_a_secret_is_an_error_and_writes_nothing() {
    let site = private_site();
    site.build().assert_fails_with(
        "relsite.yaml: error: `private: true` needs a secret: set RELSITE_SECRET (in CI, as a secret of the pipeline) or `secret_file` to a file outside the site; make one with `openssl rand -hex 32`",
    );
    assert!(!site.path("public").exists());
    site.run_env(&["build"], &[("RELSITE_SECRET", "too short")])
        .assert_fails_with(
            "relsite.yaml: error: RELSITE_SECRET holds 9 bytes; a secret has at least 32 (make one with `openssl rand -hex 32`)",
        );
    site.file("secret.txt", format!("{SECRET}\n").as_bytes());
    let config = site.read("relsite.yaml");
    site.config(&format!("{config}secret_file: secret.txt\n"));
    site.build().assert_fails_with(
        "relsite.yaml: error: `secret_file` secret.txt is inside the site, where it could be committed or published: keep it outside",
    );
    assert!(!site.path("public").exists());
}

#[test]
fn a_secret_file_outside_the_site_gives_the_same_paths_as_the_variable() {
    let site = private_site();
    site.run_env(&["build"], &[("RELSITE_SECRET", SECRET)])
        .assert_ok();
    let from_variable = site.tree("public");
    let outside = tempfile::tempdir().expect("temp dir");
    std::fs::write(outside.path().join("secret"), format!("{SECRET}\n")).unwrap();
    let config = site.read("relsite.yaml");
    site.config(&format!(
        "{config}secret_file: {}\n",
        outside.path().join("secret").display()
    ));
    site.build().assert_ok();
    assert_eq!(
        tokens_in_paths(&site.tree("public")),
        tokens_in_paths(&from_variable)
    );
}

#[test]
fn install_files_sit_under_stable_secret_paths_that_a_new_secret_moves() {
    let site = private_site();
    site.run_env(&["build"], &[("RELSITE_SECRET", SECRET)])
        .assert_ok();
    let first = site.tree("public");
    let tokens = tokens_in_paths(&first);
    // Three builds' install folders and the index's folder.
    assert_eq!(tokens.len(), 4, "{tokens:?}");
    for token in &tokens {
        assert_eq!(token.len(), 32, "{token}");
        assert!(
            token
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        );
        assert!(!first.keys().any(|p| p.contains(SECRET)));
    }
    for build in [
        "com.acme.field/1.0-1",
        "com.acme.field/1.1-2",
        "com.acme.ledger/2.0-7",
    ] {
        assert!(
            first.contains_key(&format!("{build}/index.html")),
            "{build}: {:?}",
            first.keys()
        );
        assert!(
            !first.contains_key(&format!("{build}/manifest.plist")),
            "{build}"
        );
    }
    assert!(!first.contains_key("catalog.json"));
    let index: Vec<&String> = first
        .keys()
        .filter(|p| p.starts_with("s/") && p.ends_with("/catalog.json"))
        .collect();
    assert_eq!(index.len(), 1, "{index:?}");
    // Every install link of a page leads to a manifest under i/, which names its own IPA there.
    let page = String::from_utf8(first["com.acme.field/1.1-2/index.html"].clone()).unwrap();
    let mut links = install_links(&page);
    links.dedup();
    assert_eq!(links.len(), 1, "{page}");
    let manifest = site_path(&manifest_url_of(&links[0]));
    assert!(manifest.starts_with("i/"), "{manifest}");
    let (.., url) = manifest_facts(&first[&manifest]);
    let folder = manifest.trim_end_matches("manifest.plist");
    assert_eq!(site_path(&url), format!("{folder}field.ipa"));
    assert!(first.contains_key(&site_path(&url)));
    assert!(page.contains(r#"<meta name="referrer" content="no-referrer">"#));

    // No file served without a login names a secret path, and each install folder names only
    // its own.
    for (path, _) in first.iter().filter(|(p, _)| is_open(p)) {
        for token in &tokens {
            if !path.contains(token.as_str()) {
                assert!(
                    !files_naming(&first, token).contains(path),
                    "{path} names {token}"
                );
            }
        }
    }

    site.run_env(&["build"], &[("RELSITE_SECRET", SECRET)])
        .assert_ok();
    assert_eq!(site.tree("public"), first, "a second build changes nothing");

    let run = site.run_env(&["build", "--verbose"], &[("RELSITE_SECRET", OTHER_SECRET)]);
    run.assert_ok();
    let rotated = site.tree("public");
    let new_tokens = tokens_in_paths(&rotated);
    assert_eq!(new_tokens.len(), 4, "{new_tokens:?}");
    for token in &tokens {
        assert!(!new_tokens.contains(token), "{token} kept");
        let naming = files_naming(&rotated, token);
        assert!(naming.is_empty(), "{token} still in {naming:?}");
    }
    let page = String::from_utf8(rotated["com.acme.field/1.1-2/index.html"].clone()).unwrap();
    let manifest = site_path(&manifest_url_of(&install_links(&page)[0]));
    assert!(rotated.contains_key(&manifest), "{manifest}");
}

#[test]
fn netlify_logins_guard_every_page_and_no_install_file() {
    let site = private_site();
    site.run_env(
        &["build"],
        &[
            ("RELSITE_SECRET", SECRET),
            ("RELSITE_NETLIFY_BASIC_AUTH", "tester:s3cret qa:0ther"),
        ],
    )
    .assert_ok();
    let output = site.tree("public");
    let headers = site.read("public/_headers");
    let guarded: Vec<&str> = headers
        .split("\n/")
        .filter(|rule| rule.contains("Basic-Auth: tester:s3cret qa:0ther"))
        .map(|rule| rule.lines().next().unwrap_or_default())
        .collect();
    // Every path of the output but the open ones matches a rule with the logins.
    for path in output.keys().filter(|p| !is_open(p)) {
        let top = path.split('/').next().unwrap();
        let matched = if path.contains('/') {
            guarded.contains(&format!("{top}/*").as_str())
        } else {
            guarded.contains(&top)
        };
        assert!(matched, "{path} is not guarded: {guarded:?}\n{headers}");
    }
    assert!(guarded.contains(&""), "the catalog page `/`: {guarded:?}");
    for rule in &guarded {
        assert!(
            *rule != "i" && !rule.starts_with("i/") && *rule != "robots.txt" && *rule != "404.html",
            "{rule}"
        );
        assert!(!rule.contains('*') || rule.ends_with("/*"), "{rule}");
    }
    for token in tokens_in_paths(&output) {
        assert!(!headers.contains(&token), "{token}");
    }
    assert!(headers.contains("  Referrer-Policy: no-referrer\n"));
    // Without the variable, no logins; a bad value is an error naming it.
    site.run_env(&["build"], &[("RELSITE_SECRET", SECRET)])
        .assert_ok();
    assert!(!site.read("public/_headers").contains("Basic-Auth"));
    site.run_env(
        &["build"],
        &[
            ("RELSITE_SECRET", SECRET),
            ("RELSITE_NETLIFY_BASIC_AUTH", "tester"),
        ],
    )
    .assert_fails_with("error: RELSITE_NETLIFY_BASIC_AUTH holds `tester`");
}
