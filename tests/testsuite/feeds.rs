//! Feeds, `latest/`, hosting files and pagination, as apps, feed readers and hosts see them.

use std::path::Path;

use crate::ipa_builder::{IpaBuilder, ProfileSpec};
use crate::support::*;

/// Resolves the schemas' `$ref`s to the files in `schemas/`, never the network.
struct SchemaFiles;

impl jsonschema::Retrieve for SchemaFiles {
    fn retrieve(
        &self,
        uri: &jsonschema::Uri<String>,
    ) -> Result<serde_json::Value, Box<dyn std::error::Error + Send + Sync>> {
        let name = uri.as_str().rsplit('/').next().unwrap_or_default();
        Ok(serde_json::from_slice(&std::fs::read(schema_path(name))?)?)
    }
}

fn schema_path(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("schemas")
        .join(name)
}

#[track_caller]
fn assert_valid(schema: &str, json: &[u8]) {
    let schema: serde_json::Value =
        serde_json::from_slice(&std::fs::read(schema_path(schema)).unwrap()).unwrap();
    let validator = jsonschema::options()
        .with_retriever(SchemaFiles)
        .should_validate_formats(true)
        .build(&schema)
        .expect("schema compiles");
    let instance: serde_json::Value = serde_json::from_slice(json).expect("valid JSON");
    let errors: Vec<String> = validator
        .iter_errors(&instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{schema}: {errors:#?}");
}

fn example_site() -> tempfile::TempDir {
    let out = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("example-site");
    let status = relsite()
        .args(["build", "--no-cache", "--root"])
        .arg(&root)
        .arg("--output")
        .arg(out.path())
        .output()
        .unwrap();
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    out
}

#[test]
fn json_feeds_validate_against_their_schemas() {
    let out = example_site();
    for app in ["field", "tidetime"] {
        assert_valid(
            "releases.schema.json",
            &std::fs::read(out.path().join(app).join("releases.json")).unwrap(),
        );
        assert_valid(
            "latest.schema.json",
            &std::fs::read(out.path().join(app).join("latest.json")).unwrap(),
        );
    }
    assert_valid(
        "catalog.schema.json",
        &std::fs::read(out.path().join("catalog.json")).unwrap(),
    );
    let releases: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.path().join("tidetime/releases.json")).unwrap())
            .unwrap();
    let versions: Vec<(&str, &str)> = releases["builds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| (b["version"].as_str().unwrap(), b["build"].as_str().unwrap()))
        .collect();
    assert_eq!(
        versions,
        [("3.1.0", "411"), ("3.1.0", "410")],
        "newest first, drafts left out"
    );
    let latest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.path().join("tidetime/latest.json")).unwrap())
            .unwrap();
    assert_eq!(latest["latest"]["build"], "410", "the default channel's");
    assert_eq!(latest["channels"]["stable"]["build"], "410");
    assert_eq!(latest["channels"]["beta"]["build"], "411");
    let install = latest["latest"]["install_url"].as_str().unwrap();
    assert_eq!(
        manifest_url_of(install),
        latest["latest"]["manifest_url"].as_str().unwrap()
    );
    assert!(!install.contains("&amp;"));
}

#[test]
fn a_schema_rejects_a_broken_feed() {
    let broken = br#"{"app": {"name": "A", "bundle_id": "a", "page_url": "https://e.com/"}, "builds": [{"version": "1"}]}"#;
    let result = std::panic::catch_unwind(|| assert_valid("releases.schema.json", broken));
    assert!(
        result.is_err(),
        "the schema must not accept a build without its fields"
    );
}

#[test]
fn atom_feeds_parse_with_a_feed_parser() {
    let out = example_site();
    for (path, entries) in [
        ("feed.xml", 5),
        ("field/feed.xml", 3),
        ("tidetime/feed.xml", 2),
    ] {
        let bytes = std::fs::read(out.path().join(path)).unwrap();
        let feed = feed_rs::parser::parse(&bytes[..]).unwrap_or_else(|e| panic!("{path}: {e}"));
        assert_eq!(feed.feed_type, feed_rs::model::FeedType::Atom, "{path}");
        assert_eq!(feed.entries.len(), entries, "{path}");
        for entry in &feed.entries {
            assert!(
                entry
                    .links
                    .iter()
                    .any(|l| l.href.starts_with("https://builds.example.com/")),
                "{path}"
            );
            assert!(entry.updated.is_some(), "{path}");
        }
    }
    let site =
        feed_rs::parser::parse(&std::fs::read(out.path().join("feed.xml")).unwrap()[..]).unwrap();
    assert_eq!(
        site.entries[0].title.as_ref().unwrap().content,
        "Tide & Time 3.1.0 (411) [beta]",
        "newest first"
    );
}

#[test]
fn latest_pages_present_the_newest_build_with_a_working_link() {
    let out = example_site();
    let read = |p: &str| std::fs::read_to_string(out.path().join(p)).unwrap();
    let link_of = |p: &str| {
        install_links(&read(p))
            .into_iter()
            .next()
            .expect("an install link")
    };
    assert_eq!(
        link_of("field/latest/index.html"),
        link_of("field/1.10.1-205/index.html")
    );
    assert_eq!(
        link_of("tidetime/latest/index.html"),
        link_of("tidetime/3.1.0-410/index.html"),
        "the stable channel's newest, though a beta is newer"
    );
    assert_eq!(
        link_of("tidetime/latest/beta/index.html"),
        link_of("tidetime/3.1.0-411/index.html")
    );
    assert_eq!(
        link_of("tidetime/latest/stable/index.html"),
        link_of("tidetime/3.1.0-410/index.html")
    );
    assert!(
        read("tidetime/latest/stable/index.html").contains("href=\"../../../assets/relsite.css\"")
    );
    let catalog = read("index.html");
    assert!(
        catalog.contains("tidetime/3.1.0-410/") && catalog.contains("tidetime/3.1.0-411/"),
        "latest per channel"
    );
}

#[test]
fn latest_skips_a_newer_build_that_cannot_install() {
    let site = TestSite::new();
    let expired = ProfileSpec::ad_hoc("com.acme.field");
    let valid = ProfileSpec {
        expires: std::time::UNIX_EPOCH + std::time::Duration::from_secs(2_082_758_400),
        ..ProfileSpec::ad_hoc("com.acme.field")
    };
    site.ipa(
        "releases/a/A.ipa",
        &IpaBuilder::new("A", "com.acme.field", "1.0", "1").profile(&valid.der()),
    )
    .ipa(
        "releases/b/A.ipa",
        &IpaBuilder::new("A", "com.acme.field", "2.0", "2").profile(&expired.der()),
    );
    site.run_at(&["build"], Some(1_736_467_200)).assert_ok();
    let latest = install_links(&site.read("public/com.acme.field/latest/index.html"));
    assert_eq!(
        latest,
        install_links(&site.read("public/com.acme.field/1.0-1/index.html"))
    );
    let json: serde_json::Value =
        serde_json::from_str(&site.read("public/com.acme.field/latest.json")).unwrap();
    assert_eq!(json["latest"]["version"], "1.0");
    let releases: serde_json::Value =
        serde_json::from_str(&site.read("public/com.acme.field/releases.json")).unwrap();
    assert_eq!(releases["builds"][0]["installable"], false);
}

#[test]
fn ipa_base_url_keeps_ipas_out_of_the_output() {
    let site = TestSite::new();
    site.config(&format!(
        "title: T\nbase_url: {BASE_URL}\nipa_base_url: https://cdn.example.net/ipas\n"
    ));
    site.ipa(
        "releases/a/A.ipa",
        &IpaBuilder::new("A", "com.acme.a", "1.0", "1"),
    );
    site.build().assert_ok();
    let (_, _, _, package) = manifest_facts(
        site.read("public/com.acme.a/1.0-1/manifest.plist")
            .as_bytes(),
    );
    assert_eq!(
        package,
        "https://cdn.example.net/ipas/com.acme.a/1.0-1/a.ipa"
    );
    assert!(
        !site.tree("public").keys().any(|p| p.ends_with(".ipa")),
        "no IPA in public/"
    );
}

#[test]
fn sites_are_private_unless_they_say_public() {
    let site = TestSite::new();
    site.ipa(
        "releases/a/A.ipa",
        &IpaBuilder::new("A", "com.acme.a", "1.0", "1"),
    );
    site.build().assert_ok();
    assert_eq!(
        site.read("public/robots.txt"),
        "User-agent: *\nDisallow: /\n"
    );
    for page in [
        "public/index.html",
        "public/com.acme.a/index.html",
        "public/com.acme.a/1.0-1/index.html",
    ] {
        assert!(
            site.read(page)
                .contains("<meta name=\"robots\" content=\"noindex, nofollow\">"),
            "{page}"
        );
    }
    assert!(
        site.read("public/_headers")
            .contains("X-Robots-Tag: noindex, nofollow")
    );

    site.config(&format!("title: T\nbase_url: {BASE_URL}\npublic: true\n"));
    site.build().assert_ok();
    assert_eq!(site.read("public/robots.txt"), "User-agent: *\nAllow: /\n");
    assert!(!site.read("public/index.html").contains("noindex"));
    assert!(!site.read("public/_headers").contains("X-Robots-Tag"));
}

#[test]
fn headers_give_manifests_an_xml_type_and_icons_a_long_cache() {
    let site = TestSite::new();
    site.ipa(
        "releases/a/A.ipa",
        &IpaBuilder::new("A", "com.acme.a", "1.0", "1"),
    );
    site.build().assert_ok();
    let headers = site.read("public/_headers");
    let rule = |path: &str| -> String {
        headers
            .split(&format!("\n{path}\n"))
            .nth(1)
            .unwrap_or_else(|| panic!("no rule for {path}:\n{headers}"))
            .lines()
            .take_while(|l| l.starts_with("  "))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert!(rule("/:app/:version/manifest.plist").contains("Content-Type: text/xml"));
    assert!(rule("/:app/:version/icon-512.png").contains("immutable"));
    assert!(
        !rule("/*").contains("Cache-Control"),
        "a site-wide cache rule would be joined with the narrower ones"
    );
    for line in headers.lines().filter(|l| l.starts_with('/')) {
        assert!(
            !line.trim_end_matches('*').contains('*'),
            "Netlify rejects text after `*`: {line}"
        );
    }
}

#[test]
fn an_ipa_over_a_host_limit_is_a_warning() {
    let site = TestSite::new();
    let ipa = IpaBuilder::new("Big", "com.acme.big", "1.0", "1");
    // Deflate would shrink repeated bytes, so the archive is made past 25 MiB with a stored
    // entry of incompressible data.
    let noise: Vec<u8> = (0..26 * 1024 * 1024u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let stored =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    zip.start_file("Payload/Big.app/Info.plist", stored)
        .unwrap();
    std::io::Write::write_all(&mut zip, &ipa.info_plist_bytes()).unwrap();
    zip.start_file("Payload/Big.app/Big", stored).unwrap();
    std::io::Write::write_all(&mut zip, &noise).unwrap();
    site.file("releases/big/Big.ipa", &zip.finish().unwrap().into_inner());
    let run = site.build();
    run.assert_ok();
    assert_eq!(
        run.lines_with(
            "releases/big/Big.ipa: warning: is 27 MB, over the per-file limit of Cloudflare Pages"
        )
        .len(),
        1,
        "{}",
        run.stderr
    );
    site.config(&format!(
        "title: T\nbase_url: {BASE_URL}\nipa_base_url: https://cdn.example.net/\n"
    ));
    let run = site.build();
    assert!(
        run.lines_with("per-file limit").is_empty(),
        "IPAs hosted elsewhere: {}",
        run.stderr
    );
}

#[test]
fn app_pages_paginate_past_fifty_builds() {
    let site = TestSite::new();
    for n in 1..=51 {
        site.ipa(
            &format!("releases/{n}/A.ipa"),
            &IpaBuilder::new("A", "com.acme.a", &format!("1.{n}"), &n.to_string()).bare(),
        );
    }
    site.build().assert_ok();
    let first = site.read("public/com.acme.a/index.html");
    let second = site.read("public/com.acme.a/page/2/index.html");
    assert!(
        first.contains("1.51-51/") && !first.contains("\"../1.1-1/\""),
        "newest 50 first"
    );
    assert!(first.contains("page/2/"), "a link to page 2");
    assert!(second.contains("../../../com.acme.a/1.1-1/"), "{second}");
    assert!(second.contains("rel=\"prev\""));
    assert!(!site.path("public/com.acme.a/page/3").exists());
}

#[test]
fn pages_load_nothing_from_other_hosts() {
    let out = example_site();
    for (path, bytes) in tree(out.path()) {
        if !path.ends_with(".html") {
            continue;
        }
        let html = String::from_utf8(bytes).unwrap();
        for attr in [
            "src=\"",
            "<link rel=\"stylesheet\" href=\"",
            "<script src=\"",
        ] {
            for value in html.split(attr).skip(1).filter_map(|r| r.split('"').next()) {
                assert!(
                    !value.contains("//") && !value.contains(':'),
                    "{path}: {attr}{value}"
                );
            }
        }
        assert!(
            !html.contains("@import") && !html.contains("url(http"),
            "{path}"
        );
    }
    let css = std::fs::read_to_string(out.path().join("assets/relsite.css")).unwrap();
    assert!(!css.contains("url(") && !css.contains("@import"));
}

#[test]
fn channels_that_differ_only_in_case_share_one_latest_page() {
    let site = TestSite::new();
    site.ipa(
        "releases/a/A.ipa",
        &IpaBuilder::new("A", "com.acme.a", "1.0", "1"),
    )
    .file("releases/a/A.yaml", b"channel: Beta\n")
    .ipa(
        "releases/b/A.ipa",
        &IpaBuilder::new("A", "com.acme.a", "1.1", "2"),
    )
    .file("releases/b/A.yaml", b"channel: beta\n");
    site.build().assert_ok();
    let latest = install_links(&site.read("public/com.acme.a/latest/beta/index.html"));
    assert_eq!(
        latest,
        install_links(&site.read("public/com.acme.a/1.1-2/index.html"))
    );
    let page = site.read("public/com.acme.a/index.html");
    assert!(
        page.contains("class=\"channel channel-beta\">Beta<"),
        "{page}"
    );
}

#[test]
fn a_not_found_page_links_home_from_any_depth() {
    let site = TestSite::new();
    site.config("title: T\nbase_url: https://e.com/builds/\n");
    site.ipa(
        "releases/a/A.ipa",
        &IpaBuilder::new("A", "com.acme.a", "1.0", "1"),
    );
    site.build().assert_ok();
    let page = site.read("public/404.html");
    assert!(page.contains("<a href=\"/builds/\">"), "{page}");
    assert!(
        page.contains("href=\"/builds/assets/relsite.css\""),
        "{page}"
    );
}

/// 2024-06-01, when [`ProfileSpec::ad_hoc`] profiles are valid.
const IN_2024: u64 = 1_717_200_000;

#[test]
fn a_build_without_a_profile_is_listed_without_install_and_not_installable_in_every_feed() {
    let site = TestSite::new();
    let id = "com.acme.field";
    site.file(
        "releases/field/2.0/Field.ipa",
        &IpaBuilder::new("Field", id, "2.0", "20").build(),
    );
    site.file(
        "releases/field/1.0/Field.ipa",
        &IpaBuilder::new("Field", id, "1.0", "10")
            .profile(&ProfileSpec::ad_hoc(id).der())
            .build(),
    );
    let built = site.run_at(&["build"], Some(IN_2024));
    built.assert_ok();
    assert!(
        built
            .stderr
            .contains("releases/field/2.0/Field.ipa: warning: has no embedded.mobileprovision"),
        "{}",
        built.stderr
    );
    let page = site.read(&format!("public/{id}/2.0-20/index.html"));
    assert!(install_links(&page).is_empty(), "{page}");
    assert!(page.contains("no provisioning profile"), "{page}");
    let releases: serde_json::Value =
        serde_json::from_str(&site.read(&format!("public/{id}/releases.json"))).unwrap();
    let flags: Vec<&serde_json::Value> = releases["builds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| &b["installable"])
        .collect();
    assert_eq!(flags, [false, true], "{releases:#}");
    assert_eq!(releases["builds"][0]["expires"], serde_json::Value::Null);
    assert_eq!(releases["builds"][1]["expires"], "2024-12-31T00:00:00Z");
    assert_valid(
        "releases.schema.json",
        site.read(&format!("public/{id}/releases.json")).as_bytes(),
    );
    let latest: serde_json::Value =
        serde_json::from_str(&site.read(&format!("public/{id}/latest.json"))).unwrap();
    assert_eq!(latest["latest"]["version"], "1.0", "{latest:#}");
    assert_eq!(latest["latest"]["installable"], true);
    let latest_page = site.read(&format!("public/{id}/latest/index.html"));
    assert_eq!(install_links(&latest_page).len(), 1, "{latest_page}");
}

#[test]
fn strict_fails_on_warnings_and_writes_nothing() {
    let site = TestSite::new();
    site.file(
        "releases/field/1.0/Field.ipa",
        &IpaBuilder::new("Field", "com.acme.field", "1.0", "1").build(),
    );
    site.run(&["build"]).assert_ok();
    let before = tree(&site.path("public"));
    site.file(
        "releases/field/2.0/Field.ipa",
        &IpaBuilder::new("Field", "com.acme.field", "2.0", "2").build(),
    );
    for command in [&["build", "--strict"][..], &["check", "--strict"]] {
        let run = site.run(command);
        run.assert_fails_with("error: --strict: 5 warnings fail the run");
        assert!(
            run.stderr
                .contains("no build of app com.acme.field can be installed"),
            "{}",
            run.stderr
        );
    }
    assert_eq!(tree(&site.path("public")), before, "a strict failure wrote");
    site.run(&["check"]).assert_ok();
}

#[test]
fn latest_is_the_default_channels_newest_build_and_says_its_channel() {
    let site = TestSite::new();
    let id = "com.acme.field";
    let build = |version: &str, channel: &str| {
        site.ipa(
            &format!("releases/field/{version}/Field.ipa"),
            &IpaBuilder::new("Field", id, version, "1").signed(),
        )
        .file(
            &format!("releases/field/{version}/Field.yaml"),
            format!("channel: {channel}\n").as_bytes(),
        );
    };
    build("3.0", "beta");
    build("2.0", "stable");
    build("1.0", "nightly");
    site.run(&["build"]).assert_ok();
    let latest = |path: &str| {
        let page = site.read(&format!("public/{id}/{path}index.html"));
        let link = install_links(&page).pop().expect("an install link");
        (manifest_url_of(&link), page)
    };
    let (manifest, page) = latest("latest/");
    assert!(manifest.ends_with("/2.0-1/manifest.plist"), "{manifest}");
    assert!(
        page.contains("The latest build of the stable channel."),
        "{page}"
    );
    let (manifest, page) = latest("latest/beta/");
    assert!(manifest.ends_with("/3.0-1/manifest.plist"), "{manifest}");
    assert!(
        page.contains("The latest build of the beta channel."),
        "{page}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&site.read(&format!("public/{id}/latest.json"))).unwrap();
    assert_eq!(json["latest"]["version"], "2.0");

    site.config(&format!(
        "title: T\nbase_url: {BASE_URL}\ndefault_channel: beta\napps:\n  {id}:\n    default_channel: nightly\n"
    ));
    site.run(&["build"]).assert_ok();
    let (manifest, page) = latest("latest/");
    assert!(manifest.ends_with("/1.0-1/manifest.plist"), "{manifest}");
    assert!(
        page.contains("The latest build of the nightly channel."),
        "{page}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&site.read(&format!("public/{id}/latest.json"))).unwrap();
    assert_eq!(json["latest"]["version"], "1.0");
}
