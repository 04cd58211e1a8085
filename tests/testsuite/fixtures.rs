//! Real IPAs other tools committed as fixtures (`../shared/fixtures/real`): each is built in a
//! site of its own, and its manifest is checked against the facts that folder's README lists.
//! Where the folder is missing they are ignored, except with `CI=true`, where they fail.

use std::path::{Path, PathBuf};

use crate::support::*;

/// The fixtures folder; panics when it is missing.
pub fn fixtures_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures/real");
    assert!(
        dir.join("README.md").is_file(),
        "{} is missing: CI must have ../shared beside the checkout",
        dir.display()
    );
    dir
}

/// One IPA row of the README: file and the facts relsite checks.
#[derive(Debug)]
pub struct IpaFacts {
    pub file: String,
    pub bundle_id: String,
    pub short_version: Option<String>,
    pub build: Option<String>,
    /// The whole facts cell.
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

/// `mobileprovision: yes (development, team 72SA8V3WYL, 1 dev)` → (type, team, devices).
fn profile_facts(facts: &str) -> Option<(String, String, usize)> {
    let inner = facts
        .split("mobileprovision: yes (")
        .nth(1)?
        .split(')')
        .next()?;
    let parts: Vec<&str> = inner.split(", ").collect();
    let team = parts.get(1)?.strip_prefix("team ")?.to_string();
    let devices = parts.get(2)?.strip_suffix(" dev")?.parse().ok()?;
    Some((parts[0].to_string(), team, devices))
}

/// Every real IPA builds, except those the README says are signed for the App Store (never
/// installable over the air: an error) and the one without any version; the manifest of each
/// that builds carries the README's bundle id and version, and its page the profile's facts.
#[test]
#[cfg_attr(
    not(have_fixtures),
    ignore = "needs ../shared/fixtures/real beside the checkout"
)]
fn every_real_ipa_builds_with_the_facts_of_its_readme() {
    let dir = fixtures_dir();
    let all = ipa_facts(&dir);
    assert!(all.len() >= 12, "README lists {} IPAs", all.len());
    for facts in &all {
        let (site, rel) = site_with(&dir, &facts.file, None);
        site.config(&format!(
            "title: T\nbase_url: {BASE_URL}\nshow_profile: true\n"
        ));
        let run = site.build();
        let profile = profile_facts(&facts.facts);
        let version = facts.short_version.clone().or_else(|| facts.build.clone());
        if version.is_none() {
            run.assert_fails_with(&format!("{rel}: error: has no version"));
        }
        if profile.as_ref().is_some_and(|p| p.0 == "app-store") {
            run.assert_fails_with(&format!(
                "{rel}: error: is signed with the App Store profile"
            ));
            continue;
        }
        let Some(version) = version else { continue };
        run.assert_ok();
        let (id, got_version, _, _) = manifest_of(&site);
        assert_eq!(id, facts.bundle_id, "{}", facts.file);
        assert_eq!(got_version, version, "{}", facts.file);
        let page = build_page_of(&site);
        match profile {
            Some((kind, team, devices)) => {
                let label = match kind.as_str() {
                    "development" => "Development",
                    "ad-hoc" => "Ad hoc",
                    "enterprise" => "Enterprise (in-house)",
                    other => panic!("{}: unexpected type {other}", facts.file),
                };
                assert!(
                    page.contains(&format!("<dt>Distribution</dt><dd>{label}</dd>")),
                    "{}: {label}",
                    facts.file
                );
                assert!(
                    page.contains(&format!("({team})</dd>")),
                    "{}: team {team}",
                    facts.file
                );
                let shown = if kind == "enterprise" {
                    "all devices".to_string()
                } else {
                    format!(
                        "{devices} registered device{}",
                        if devices == 1 { "" } else { "s" }
                    )
                };
                assert!(page.contains(&shown), "{}: {shown}", facts.file);
                assert!(
                    page.contains("<strong class=\"expired\">expired</strong>"),
                    "{}: every fixture profile has expired",
                    facts.file
                );
            }
            None => {
                assert!(
                    page.contains("unknown (no provisioning profile)"),
                    "{}",
                    facts.file
                );
            }
        }
    }
}

fn build_page_of(site: &TestSite) -> String {
    let files = site.tree("public");
    let (_, bytes) = files
        .iter()
        .find(|(p, _)| p.matches('/').count() == 2 && p.ends_with("/index.html"))
        .expect("a build page");
    String::from_utf8_lossy(bytes).into_owned()
}

/// Which real IPAs carry loose icon PNGs (and whether they are CgBI), from the README's notes.
const ICONS: &[(&str, Option<bool>)] = &[
    ("CsabaSzabo__ipa_analyzer/test_app.ipa", Some(false)),
    (
        "CsabaSzabo__ipa_analyzer/test_unexpected-CFBundleIconFiles.ipa",
        Some(false),
    ),
    ("icyleaf__app-info/ipad.ipa", Some(true)),
    ("shorebirdtech__shorebird/base.ipa", Some(false)),
    ("icyleaf__app-info/apple-tv.ipa", None),
    ("icyleaf__app-info/embedded.ipa", None),
    ("icyleaf__app-info/iphone.ipa", None),
    ("shorebirdtech__shorebird/no_version.ipa", None),
    ("matiassingers__ipa-metadata/testApp.ipa", None),
    ("matiassingers__ipa-metadata/testApp-binaryPlist.ipa", None),
    ("fastlane__fastlane/very-capable-app.ipa", None),
    ("fastlane__fastlane/very capable app.ipa", None),
];

/// Every real IPA with loose icons yields standard 57 and 512 PNGs (CgBI converted); the rest
/// fall back to a placeholder. Read through the library, so that App Store-signed IPAs, which
/// never build, are checked too.
#[test]
#[cfg_attr(
    not(have_fixtures),
    ignore = "needs ../shared/fixtures/real beside the checkout"
)]
fn real_icons_become_standard_pngs_or_placeholders() {
    use relsite::ipa::{BundleIcon, IconStore};
    let dir = fixtures_dir();
    for facts in ipa_facts(&dir) {
        assert!(
            ICONS.iter().any(|(f, _)| *f == facts.file),
            "{} has no icon expectation",
            facts.file
        );
    }
    for (file, expected) in ICONS {
        let store = IconStore::in_memory();
        let info =
            relsite::ipa::read(&dir.join(file), &store).unwrap_or_else(|e| panic!("{file}: {e}"));
        match (expected, &info.icon) {
            (
                Some(cgbi),
                BundleIcon::Found {
                    was_cgbi,
                    key,
                    entry,
                },
            ) => {
                let icons = store.get(key).expect("rendered into the store");
                assert_eq!(was_cgbi, cgbi, "{file}: {entry}");
                assert!(
                    icons.png(57).is_some() && icons.png(512).is_some(),
                    "{file}"
                );
                for png in icons.pngs() {
                    let bytes = png.bytes().expect("the icon's bytes");
                    crate::signing::assert_standard_png(&bytes, png.px());
                }
            }
            (None, BundleIcon::Missing) => {}
            (expected, got) => panic!("{file}: expected {expected:?}, got {got:?}"),
        }
    }
    let (site, _) = site_with(&dir, "icyleaf__app-info/apple-tv.ipa", None);
    let run = site.build();
    run.assert_ok();
    assert_eq!(
        run.lines_with("has no loose icon PNG").len(),
        1,
        "{}",
        run.stderr
    );
    assert_eq!(
        run.lines_with("is built for AppleTVOS, not iOS").len(),
        1,
        "{}",
        run.stderr
    );
    let icon = site
        .tree("public")
        .into_iter()
        .find(|(p, _)| p.ends_with("icon-512.png"))
        .expect("a placeholder icon");
    crate::signing::assert_standard_png(&icon.1, 512);
}

/// The profile facts of every real IPA, App Store-signed ones included, read through the library.
#[test]
#[cfg_attr(
    not(have_fixtures),
    ignore = "needs ../shared/fixtures/real beside the checkout"
)]
fn real_profiles_read_as_their_readme_says() {
    use relsite::ipa::IconStore;
    let dir = fixtures_dir();
    for facts in ipa_facts(&dir) {
        let info = relsite::ipa::read(&dir.join(&facts.file), &IconStore::in_memory()).unwrap();
        let Some((kind, team, devices)) = profile_facts(&facts.facts) else {
            assert!(info.profile.profile().is_none(), "{}", facts.file);
            continue;
        };
        let profile = info
            .profile
            .profile()
            .unwrap_or_else(|| panic!("{}: profile", facts.file));
        assert_eq!(profile.distribution.as_str(), kind, "{}", facts.file);
        assert_eq!(
            profile.team_id.as_deref(),
            Some(team.as_str()),
            "{}",
            facts.file
        );
        assert_eq!(profile.devices.len(), devices, "{}", facts.file);
    }
}

#[test]
#[cfg_attr(
    not(have_fixtures),
    ignore = "needs ../shared/fixtures/real beside the checkout"
)]
fn a_real_ipa_without_version_takes_the_version_of_its_notes() {
    let dir = fixtures_dir();
    let (site, rel) = site_with(
        &dir,
        "shorebirdtech__shorebird/no_version.ipa",
        Some("version: 1.0.0\n"),
    );
    let run = site.build();
    run.assert_fails_with(&format!(
        "{rel}: error: is signed with the App Store profile"
    ));
    assert!(
        run.lines_with("has no version").is_empty(),
        "notes supply the version: {}",
        run.stderr
    );
}

#[test]
#[cfg_attr(
    not(have_fixtures),
    ignore = "needs ../shared/fixtures/real beside the checkout"
)]
fn spaces_in_the_ipa_name_stay_valid_urls() {
    let dir = fixtures_dir();
    let (site, _) = site_with(&dir, "fastlane__fastlane/very capable app.ipa", None);
    site.build().assert_ok();
    let (_, _, _, package) = manifest_of(&site);
    assert!(!package.contains(' '), "{package}");
    assert!(
        site.path(&format!("public/{}", site_path(&package)))
            .is_file()
    );
}

/// The read facts of every real IPA are one plain value that survives a round trip through JSON
/// unchanged: what a cache stores and a published catalog carries.
#[test]
#[cfg_attr(
    not(have_fixtures),
    ignore = "needs ../shared/fixtures/real beside the checkout"
)]
fn real_ipa_facts_round_trip_through_json() {
    use relsite::ipa::IconStore;
    let dir = fixtures_dir();
    for facts in ipa_facts(&dir) {
        let read = relsite::ipa::read(&dir.join(&facts.file), &IconStore::in_memory()).unwrap();
        let json = serde_json::to_string(&read).unwrap();
        let back: relsite::ipa::IpaFacts =
            serde_json::from_str(&json).unwrap_or_else(|e| panic!("{}: {e}", facts.file));
        assert_eq!(back, read, "{}", facts.file);
    }
}
