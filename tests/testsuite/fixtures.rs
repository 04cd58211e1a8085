//! Real IPAs other tools committed as fixtures (`../shared/fixtures/real`): each is built in a
//! site of its own, and its manifest is checked against the facts that folder's README lists.
//! With `CI=true` a missing fixtures folder fails the run; elsewhere these tests say they skipped.

use std::path::{Path, PathBuf};

use crate::support::*;

pub fn fixtures_dir() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures/real");
    if dir.join("README.md").is_file() {
        return Some(dir);
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!(
            "{} is missing: CI must have ../shared beside the checkout",
            dir.display()
        );
    }
    eprintln!("skipped: no fixtures at {}", dir.display());
    None
}

/// One IPA row of the README: file and the facts relsite checks.
#[derive(Debug)]
pub struct IpaFacts {
    pub file: String,
    pub bundle_id: String,
    pub short_version: Option<String>,
    pub build: Option<String>,
    /// The whole facts cell, for checks of later stages.
    #[allow(dead_code)]
    pub facts: String,
}

/// The IPA rows of the fixtures README.
pub fn ipa_facts(dir: &Path) -> Vec<IpaFacts> {
    let readme = std::fs::read_to_string(dir.join("README.md")).expect("README");
    readme
        .lines()
        .filter_map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            if cells.len() < 8 || cells[6] != "IPA" {
                return None;
            }
            let facts = cells[7].to_string();
            let field = |name: &str| -> Option<String> {
                let rest = facts.split(&format!("{name} `")).nth(1)?;
                rest.split('`').next().map(str::to_string)
            };
            let absent = |name: &str| facts.contains(&format!("{name} `None`"));
            Some(IpaFacts {
                file: cells[1].trim_matches('`').to_string(),
                bundle_id: field("id").expect("id"),
                short_version: field("short").filter(|_| !absent("short")),
                build: field("build").filter(|_| !absent("build")),
                facts,
            })
        })
        .collect()
}

/// A site holding only `ipa` (under its own file name), with optional notes.
fn site_with(dir: &Path, ipa: &str, notes: Option<&str>) -> (TestSite, String) {
    let site = TestSite::new();
    let name = Path::new(ipa)
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    let rel = format!("releases/app/{name}");
    site.file(&rel, &std::fs::read(dir.join(ipa)).unwrap());
    if let Some(notes) = notes {
        let stem = name.trim_end_matches(".ipa");
        site.file(&format!("releases/app/{stem}.yaml"), notes.as_bytes());
    }
    (site, rel)
}

fn manifest_of(site: &TestSite) -> (String, String, String, String) {
    let files = site.tree("public");
    let (_, bytes) = files
        .iter()
        .find(|(p, _)| p.ends_with("/manifest.plist"))
        .expect("a manifest in the output");
    manifest_facts(bytes)
}

#[test]
fn every_real_ipa_builds_with_the_facts_of_its_readme() {
    let Some(dir) = fixtures_dir() else { return };
    let all = ipa_facts(&dir);
    assert!(all.len() >= 12, "README lists {} IPAs", all.len());
    for facts in &all {
        let (site, rel) = site_with(&dir, &facts.file, None);
        let run = site.build();
        match facts.short_version.clone().or_else(|| facts.build.clone()) {
            Some(version) => {
                run.assert_ok();
                let (id, got_version, _, _) = manifest_of(&site);
                assert_eq!(id, facts.bundle_id, "{}", facts.file);
                assert_eq!(got_version, version, "{}", facts.file);
            }
            None => {
                run.assert_fails_with(&format!("{rel}: error: has no version"));
            }
        }
    }
}

#[test]
fn a_real_ipa_without_version_builds_when_its_notes_give_one() {
    let Some(dir) = fixtures_dir() else { return };
    let (site, _) = site_with(
        &dir,
        "shorebirdtech__shorebird/no_version.ipa",
        Some("version: 1.0.0\n"),
    );
    site.build().assert_ok();
    let (id, version, _, _) = manifest_of(&site);
    assert_eq!(id, "com.example.iosBuildTest");
    assert_eq!(version, "1.0.0");
}

#[test]
fn spaces_in_the_ipa_name_stay_valid_urls() {
    let Some(dir) = fixtures_dir() else { return };
    let (site, _) = site_with(&dir, "fastlane__fastlane/very capable app.ipa", None);
    site.build().assert_ok();
    let (_, _, _, package) = manifest_of(&site);
    assert!(!package.contains(' '), "{package}");
    assert!(
        site.path(&format!("public/{}", site_path(&package)))
            .is_file()
    );
}
