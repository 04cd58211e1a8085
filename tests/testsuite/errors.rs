//! Bad input: each case fails with a message naming the file, exit code 1, and the previous
//! output left exactly as it was.

use std::io::Write;

use crate::ipa_builder::{IpaBuilder, zip_bytes};
use crate::support::*;

pub(crate) fn good_site() -> TestSite {
    let site = TestSite::new();
    site.ipa(
        "releases/good/Good.ipa",
        &IpaBuilder::new("Good", "com.acme.good", "1.0", "1"),
    );
    site.build().assert_ok();
    site
}

/// Applies `break_it` to a site that built, then checks the build fails with `line` on stderr,
/// within the time and memory of [`TestSite::run_bounded`], and the output is byte-for-byte and
/// inode-for-inode what it was.
#[track_caller]
pub(crate) fn fails_keeping_output(break_it: impl FnOnce(&TestSite), line: &str) -> Run {
    let site = good_site();
    let before = site.tree("public");
    let ids = identities(&site.path("public"));
    break_it(&site);
    let beside = site.top_level();
    let run = site.run_bounded(&["build"]);
    run.assert_fails_with(line);
    assert!(run.stderr.contains("nothing was written"), "{}", run.stderr);
    assert_eq!(before, site.tree("public"), "output bytes unchanged");
    assert_eq!(
        ids,
        identities(&site.path("public")),
        "output files untouched"
    );
    assert_eq!(site.top_level(), beside, "nothing left beside the output");
    run
}

#[test]
fn a_file_that_is_not_a_zip() {
    fails_keeping_output(
        |s| {
            s.file("releases/bad/Bad.ipa", b"this is not a zip archive");
        },
        "releases/bad/Bad.ipa: error: not a readable IPA (an IPA is a zip archive)",
    );
}

#[test]
fn a_truncated_zip() {
    let bytes = IpaBuilder::new("T", "com.acme.t", "1.0", "1").build();
    fails_keeping_output(
        |s| {
            s.file("releases/bad/T.ipa", &bytes[..bytes.len() / 2]);
        },
        "releases/bad/T.ipa: error: not a readable IPA",
    );
}

#[test]
fn an_ipa_without_an_app_info_plist() {
    let bytes = zip_bytes(&[
        (
            "Payload/X.app/PlugIns/E.appex/Info.plist".into(),
            b"<plist/>".to_vec(),
        ),
        ("Payload/X.app/X".into(), b"binary".to_vec()),
    ]);
    fails_keeping_output(
        |s| {
            s.file("releases/bad/X.ipa", &bytes);
        },
        "releases/bad/X.ipa: error: no app Info.plist: an IPA holds Payload/<Name>.app/Info.plist",
    );
}

#[test]
fn an_info_plist_that_is_not_a_plist() {
    let bytes = zip_bytes(&[("Payload/X.app/Info.plist".into(), b"garbage".to_vec())]);
    fails_keeping_output(
        |s| {
            s.file("releases/bad/X.ipa", &bytes);
        },
        "releases/bad/X.ipa: error: `Payload/X.app/Info.plist` is not a property list",
    );
}

/// A deflated Info.plist of 1 GiB: refused by its declared size before anything is inflated.
#[test]
fn a_zip_bomb_info_plist() {
    let bomb = bomb_zip(1 << 30);
    fails_keeping_output(
        |s| {
            s.file("releases/bad/Bomb.ipa", &bomb);
        },
        "releases/bad/Bomb.ipa: error: `Payload/Bomb.app/Info.plist` inflates past 4194304 bytes: not a plausible Info.plist",
    );
}

/// The same bomb with its headers claiming 100 bytes: inflating stops at the cap all the same.
#[test]
fn a_zip_bomb_info_plist_that_lies_about_its_size() {
    let mut bomb = bomb_zip(256 << 20);
    lie_about_sizes(&mut bomb, 100);
    let run = fails_keeping_output(
        |s| {
            s.file("releases/bad/Bomb.ipa", &bomb);
        },
        "releases/bad/Bomb.ipa: error:",
    );
    assert!(run.stderr.contains("Info.plist"), "{}", run.stderr);
}

fn bomb_zip(size: usize) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(1))
        .large_file(size >= u32::MAX as usize);
    zip.start_file("Payload/Bomb.app/Info.plist", options)
        .unwrap();
    let chunk = vec![0u8; 1 << 20];
    for _ in 0..size / chunk.len() {
        zip.write_all(&chunk).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

/// Rewrites the uncompressed size of every entry, in local and central headers, to `size`.
fn lie_about_sizes(zip: &mut [u8], size: u32) {
    let mut i = 0;
    while i + 30 < zip.len() {
        match &zip[i..i + 4] {
            [0x50, 0x4b, 0x03, 0x04] => zip[i + 22..i + 26].copy_from_slice(&size.to_le_bytes()),
            [0x50, 0x4b, 0x01, 0x02] => zip[i + 24..i + 28].copy_from_slice(&size.to_le_bytes()),
            _ => {}
        }
        i += 1;
    }
}

#[test]
fn malformed_notes_yaml() {
    fails_keeping_output(
        |s| {
            s.file("releases/good/Good.yaml", b"notes: hi\n- not: a key\n");
        },
        "releases/good/Good.yaml:2:1: error: did not find expected key",
    );
}

#[test]
fn a_notes_date_out_of_range_in_utc() {
    fails_keeping_output(
        |s| {
            s.file(
                "releases/good/Good.yaml",
                b"date: 9999-12-31T23:59:59-23:59\n",
            );
        },
        "releases/good/Good.yaml:1:7: error: `9999-12-31T23:59:59-23:59` is out of range: a date must fall within the years 0000 to 9999 in UTC",
    );
}

#[test]
fn an_unknown_key_in_notes() {
    fails_keeping_output(
        |s| {
            s.file("releases/good/Good.yaml", b"notes: hi\nchanel: beta\n");
        },
        "releases/good/Good.yaml:2:1: error: unknown field `chanel`, expected one of `notes`, `date`, `channel`, `draft`, `title`, `version`",
    );
}

#[test]
fn an_unknown_key_in_config() {
    fails_keeping_output(
        |s| {
            s.config(&format!(
                "title: T\nbase_url: {BASE_URL}\nouptut_dir: out\n"
            ));
        },
        "relsite.yaml:3:1: error: unknown field `ouptut_dir`, expected one of `title`, `base_url`, `description`, `releases_dir`, `output_dir`, `theme`, `ipa_base_url`, `apps`",
    );
}

#[test]
fn an_http_base_url() {
    fails_keeping_output(
        |s| {
            s.config("title: T\nbase_url: http://builds.example.com/\n");
        },
        "relsite.yaml:2:11: error: `base_url`: `http://builds.example.com/` must be an https:// URL",
    );
}

#[test]
fn two_ipas_that_map_to_the_same_url() {
    let run = fails_keeping_output(
        |s| {
            s.ipa(
                "releases/copy/Good.ipa",
                &IpaBuilder::new("Good", "com.acme.good", "1.0", "1"),
            );
        },
        "maps to the same URL as",
    );
    run.assert_mentions(&["releases/copy/Good.ipa", "releases/good/Good.ipa"]);
}

#[test]
fn two_apps_that_map_to_the_same_slug() {
    let run = fails_keeping_output(
        |s| {
            s.config(&format!(
                "title: T\nbase_url: {BASE_URL}\napps:\n  com.acme.other:\n    slug: com.acme.good\n"
            ));
            s.ipa(
                "releases/other/O.ipa",
                &IpaBuilder::new("O", "com.acme.other", "1.0", "1"),
            );
        },
        "both map to `com.acme.good/`",
    );
    run.assert_mentions(&["releases/other/O.ipa", "releases/good/Good.ipa"]);
}

#[test]
fn bundle_ids_that_cannot_be_published() {
    for (i, id) in [
        "com/acme/../../x",
        "com.acme..x",
        "com.acme app",
        "com.acmé",
    ]
    .iter()
    .enumerate()
    {
        let rel = format!("releases/bad{i}/X.ipa");
        fails_keeping_output(
            |s| {
                s.ipa(&rel, &IpaBuilder::new("X", id, "1.0", "1"));
            },
            &format!("{rel}: error: CFBundleIdentifier `{id}` is not a valid bundle identifier"),
        );
    }
}

#[test]
fn versions_that_cannot_be_published() {
    for (i, (version, build)) in [
        ("../../../etc", "1"),
        ("1.0/2", "1"),
        ("1.0 beta", "1"),
        ("１.０", "1"),
        ("1.0", "../x"),
    ]
    .iter()
    .enumerate()
    {
        let rel = format!("releases/bad{i}/X.ipa");
        fails_keeping_output(
            |s| {
                s.ipa(&rel, &IpaBuilder::new("X", "com.acme.x", version, build));
            },
            &format!("{rel}: error:"),
        );
    }
}

#[test]
fn a_version_in_notes_that_contradicts_the_ipa() {
    fails_keeping_output(
        |s| {
            s.file("releases/good/Good.yaml", b"version: '2.0'\n");
        },
        "releases/good/Good.yaml: error: `version: 2.0` contradicts the IPA's CFBundleShortVersionString `1.0`",
    );
}

#[test]
fn notes_that_pair_with_nothing() {
    fails_keeping_output(
        |s| {
            s.file("releases/good/Goood.yaml", b"notes: typo in the name\n");
        },
        "releases/good/Goood.yaml: error: notes file pairs with no IPA",
    );
}

#[test]
fn every_problem_of_a_run_is_reported() {
    let run = fails_keeping_output(
        |s| {
            s.file("releases/a/A.ipa", b"not a zip")
                .file("releases/b/B.ipa", b"nor this")
                .file("releases/good/Good.yaml", b"chanel: x\n");
        },
        "found 3 problems",
    );
    run.assert_mentions(&[
        "releases/a/A.ipa",
        "releases/b/B.ipa",
        "releases/good/Good.yaml",
    ]);
}

#[test]
fn a_missing_config_names_the_file() {
    let site = TestSite::new();
    site.remove("relsite.yaml");
    site.build()
        .assert_fails_with("relsite.yaml: error: no relsite.yaml in");
}

#[test]
fn an_output_folder_that_would_replace_the_site_is_refused() {
    let site = good_site();
    let root = site.root().to_str().unwrap().to_string();
    site.run(&["build", "--output", &root])
        .assert_fails_with("must be a folder of its own");
    assert!(site.path("relsite.yaml").exists());
    let releases = site.path("releases");
    site.run(&["build", "--output", releases.to_str().unwrap()])
        .assert_fails_with("must be a folder of its own");
    assert!(site.path("releases/good/Good.ipa").exists());
}

#[test]
fn usage_errors_exit_with_2() {
    let site = TestSite::new();
    assert_eq!(site.run(&["build", "--no-such-flag"]).code, 2);
}

#[test]
fn an_output_folder_relsite_did_not_write_is_left_alone() {
    let site = good_site();
    let elsewhere = tempfile::tempdir().unwrap();
    std::fs::write(elsewhere.path().join("thesis.txt"), "years of work").unwrap();
    site.run(&["build", "--output", elsewhere.path().to_str().unwrap()])
        .assert_fails_with("is not empty and was not written by relsite");
    assert_eq!(
        std::fs::read_to_string(elsewhere.path().join("thesis.txt")).unwrap(),
        "years of work"
    );
}

#[test]
fn an_output_folder_holding_a_configured_icon_is_refused() {
    let site = good_site();
    site.file("icons/app.png", b"png");
    site.config(&format!(
        "title: T\nbase_url: {BASE_URL}\noutput_dir: icons\napps:\n  com.acme.good:\n    icon: icons/app.png\n"
    ));
    site.build()
        .assert_fails_with("must be a folder of its own");
    assert!(site.path("icons/app.png").exists());
}

#[test]
fn every_problem_of_a_notes_file_is_reported_in_one_run() {
    let site = TestSite::new();
    site.ipa(
        "releases/a/A.ipa",
        &crate::ipa_builder::IpaBuilder::new("A", "com.acme.a", "1.0", "1"),
    )
    .file(
        "releases/a/A.yaml",
        b"chanel: beta\ndate: last tuesday\ndraft: maybe\nversion: ' '\n",
    );
    let run = site.run(&["build"]);
    run.assert_fails_with("releases/a/A.yaml:1:1: error: unknown field `chanel`")
        .assert_fails_with("releases/a/A.yaml:2:7: error: `last tuesday` is not a date")
        .assert_fails_with("releases/a/A.yaml:3:8: error: ")
        .assert_fails_with("releases/a/A.yaml:4:10: error: `version` must not be empty")
        .assert_fails_with("error: found 4 problems, nothing was written");
}
