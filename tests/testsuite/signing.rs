//! What the IPA says about installing it: provisioning profile checks, platform, icons, and the
//! facts build pages show.

use crate::ipa_builder::{IpaBuilder, ProfileSpec};
use crate::support::*;

/// 2024-07-01: `ProfileSpec::ad_hoc` profiles (2024-01-01 to 2024-12-31) are valid.
const MID_2024: u64 = 1_719_792_000;
/// 2024-12-15: 16 days before they expire.
const DEC_15_2024: u64 = 1_734_220_800;
/// 2025-01-10: after they expired.
const JAN_10_2025: u64 = 1_736_467_200;

const PAGE: &str = "public/com.acme.field/1.0-1/index.html";

fn signed(profile: ProfileSpec) -> IpaBuilder {
    IpaBuilder::new("Field", "com.acme.field", "1.0", "1").profile(&profile.der())
}

fn site_with(ipa: IpaBuilder) -> TestSite {
    let site = TestSite::new();
    site.ipa("releases/field/Field.ipa", &ipa);
    site
}

#[test]
fn an_ad_hoc_build_shows_its_profile_facts() {
    let site = site_with(signed(ProfileSpec::ad_hoc("com.acme.field")));
    let run = site.run_at(&["build"], Some(MID_2024));
    run.assert_ok();
    assert!(run.lines_with("profile").is_empty(), "{}", run.stderr);
    let page = site.read(PAGE);
    for fact in [
        "<dt>Distribution</dt><dd>Ad hoc</dd>",
        "<dt>Team</dt><dd>Example Co.</dd>",
        "<time datetime=\"2024-12-31\">2024-12-31</time>",
        "2 registered devices",
        "<dt>Runs on</dt><dd>iPhone and iPad</dd>",
        "<dt>Requires</dt><dd>iOS 15.0 or later</dd>",
    ] {
        assert!(page.contains(fact), "{fact} missing from\n{page}");
    }
    let sha = {
        use sha2::Digest;
        let bytes = std::fs::read(site.path("releases/field/Field.ipa")).unwrap();
        sha2::Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    };
    assert!(page.contains(&sha), "SHA-256 of the IPA is shown");
    assert!(
        !page.contains("00008030-001A2B3C4D5E6F01"),
        "UDIDs are private by default"
    );
    assert!(
        !page.contains("EXAMPLE123") && !page.contains("com.acme.field AdHoc"),
        "the team ID and the profile's name are private by default"
    );
    let (_, _, _, _) = manifest_facts(
        site.read("public/com.acme.field/1.0-1/manifest.plist")
            .as_bytes(),
    );
    assert!(
        site.read("public/com.acme.field/1.0-1/manifest.plist")
            .contains("<string>Example Co.</string>"),
        "team as subtitle"
    );
}

#[test]
fn the_team_id_is_shown_only_when_the_site_asks() {
    let site = site_with(signed(ProfileSpec::ad_hoc("com.acme.field")));
    site.config(&format!(
        "title: T\nbase_url: {BASE_URL}\nshow_profile: true\n"
    ));
    site.run_at(&["build"], Some(MID_2024)).assert_ok();
    assert!(
        site.read(PAGE)
            .contains("<dt>Team</dt><dd>Example Co. (EXAMPLE123)</dd>")
    );
}

#[test]
fn an_enterprise_build_warns_unless_the_site_is_private() {
    let enterprise = ProfileSpec {
        devices: None,
        all_devices: true,
        ..ProfileSpec::ad_hoc("com.acme.field")
    };
    let site = site_with(signed(enterprise));
    let warned = |run: &Run, what: &str| {
        run.assert_ok();
        let line = format!(
            "releases/field/Field.ipa: warning: is an in-house (enterprise) build in a site {what}"
        );
        assert_eq!(run.lines_with(&line).len(), 1, "{}", run.stderr);
        assert_eq!(run.lines_with("in-house").len(), 1, "{}", run.stderr);
    };
    warned(
        &site.run_at(&["build"], Some(MID_2024)),
        "that is not private: anyone with its install link installs it",
    );
    site.run_at(&["build", "--strict"], Some(MID_2024))
        .assert_fails_with("in-house");
    site.config(&format!("title: T\nbase_url: {BASE_URL}\npublic: true\n"));
    warned(
        &site.run_at(&["build"], Some(MID_2024)),
        "search engines may index",
    );
    site.config(&format!("title: T\nbase_url: {BASE_URL}\nprivate: true\n"));
    let run = site.run_env(
        &["build"],
        &[
            ("RELSITE_SECRET", crate::private::SECRET),
            ("SOURCE_DATE_EPOCH", &MID_2024.to_string()),
        ],
    );
    run.assert_ok();
    assert!(run.lines_with("in-house").is_empty(), "{}", run.stderr);
}

#[test]
fn device_udids_are_shown_only_when_the_site_asks() {
    let site = site_with(signed(ProfileSpec::ad_hoc("com.acme.field")));
    site.config(&format!(
        "title: T\nbase_url: {BASE_URL}\nshow_devices: true\n"
    ));
    site.run_at(&["build"], Some(MID_2024)).assert_ok();
    let page = site.read(PAGE);
    assert!(page.contains("00008030-001A2B3C4D5E6F01"));
    assert!(page.contains("00008101-000A1B2C3D4E5F02"));
}

#[test]
fn an_app_store_profile_is_an_error() {
    let profile = ProfileSpec {
        devices: None,
        ..ProfileSpec::ad_hoc("com.acme.field")
    };
    let site = site_with(signed(profile));
    site.run_at(&["build"], Some(MID_2024)).assert_fails_with(
        "releases/field/Field.ipa: error: is signed with the App Store profile `com.acme.field AdHoc`: such a build can never be installed over the air",
    );
    assert!(!site.path("public").exists());
}

#[test]
fn an_expired_profile_keeps_the_build_listed_without_install_button() {
    let site = site_with(signed(ProfileSpec::ad_hoc("com.acme.field")));
    let run = site.run_at(&["build"], Some(JAN_10_2025));
    run.assert_ok();
    assert_eq!(
        run.lines_with("warning: its profile `com.acme.field AdHoc` expired on 2024-12-31")
            .len(),
        1,
        "{}",
        run.stderr
    );
    let page = site.read(PAGE);
    assert!(
        install_links(&page).is_empty(),
        "no install link on an expired build"
    );
    assert!(page.contains("aria-disabled=\"true\""));
    assert!(page.contains("expired"));
    assert!(
        site.read("public/com.acme.field/index.html")
            .contains("badge-expired")
    );
}

#[test]
fn a_profile_expiring_within_30_days_is_a_warning_naming_the_date() {
    let site = site_with(signed(ProfileSpec::ad_hoc("com.acme.field")));
    let run = site.run_at(&["build"], Some(DEC_15_2024));
    run.assert_ok();
    assert_eq!(
        run.lines_with(
            "warning: its profile `com.acme.field AdHoc` expires on 2024-12-31, in 16 days"
        )
        .len(),
        1,
        "{}",
        run.stderr
    );
    assert_eq!(
        install_links(&site.read(PAGE)).len(),
        1,
        "still installable"
    );
}

#[test]
fn a_profile_for_another_app_is_an_error() {
    let site = site_with(signed(ProfileSpec::ad_hoc("com.acme.other")));
    site.run_at(&["build"], Some(MID_2024)).assert_fails_with(
        "releases/field/Field.ipa: error: its profile `com.acme.other AdHoc` is for `com.acme.other`, not for CFBundleIdentifier `com.acme.field`",
    );
}

#[test]
fn wildcard_profiles_match_their_apps() {
    for app_id in ["EXAMPLE123.*", "EXAMPLE123.com.acme.*"] {
        let profile = ProfileSpec {
            app_id: app_id.into(),
            ..ProfileSpec::ad_hoc("com.acme.field")
        };
        site_with(signed(profile))
            .run_at(&["build"], Some(MID_2024))
            .assert_ok();
    }
    let profile = ProfileSpec {
        app_id: "EXAMPLE123.com.other.*".into(),
        ..ProfileSpec::ad_hoc("com.acme.field")
    };
    site_with(signed(profile))
        .run_at(&["build"], Some(MID_2024))
        .assert_fails_with("is for `com.other.*`, not for CFBundleIdentifier `com.acme.field`");
}

#[test]
fn development_and_enterprise_profiles_are_classified() {
    let dev = ProfileSpec {
        get_task_allow: true,
        ..ProfileSpec::ad_hoc("com.acme.field")
    };
    let site = site_with(signed(dev));
    site.run_at(&["build"], Some(MID_2024)).assert_ok();
    assert!(
        site.read(PAGE)
            .contains("<dt>Distribution</dt><dd>Development</dd>")
    );

    let enterprise = ProfileSpec {
        devices: None,
        all_devices: true,
        ..ProfileSpec::ad_hoc("com.acme.field")
    };
    let site = site_with(signed(enterprise));
    site.run_at(&["build"], Some(MID_2024)).assert_ok();
    let page = site.read(PAGE);
    assert!(page.contains("<dt>Distribution</dt><dd>Enterprise (in-house)</dd>"));
    assert!(page.contains("all devices"));
}

#[test]
fn no_profile_is_a_warning() {
    let site = site_with(IpaBuilder::new("Field", "com.acme.field", "1.0", "1"));
    let run = site.build();
    run.assert_ok();
    assert_eq!(
        run.lines_with("releases/field/Field.ipa: warning: has no embedded.mobileprovision")
            .len(),
        1,
        "{}",
        run.stderr
    );
    assert!(
        site.read(PAGE)
            .contains("unknown (no provisioning profile)")
    );
}

#[test]
fn an_unreadable_profile_is_a_warning() {
    let site = site_with(
        IpaBuilder::new("Field", "com.acme.field", "1.0", "1").profile(b"\x30\x80garbage"),
    );
    let run = site.build();
    run.assert_ok();
    assert_eq!(
        run.lines_with("warning: cannot read its embedded.mobileprovision")
            .len(),
        1,
        "{}",
        run.stderr
    );
}

#[test]
fn a_non_ios_platform_is_a_warning_and_the_page_says_so() {
    for (platform, words) in [
        ("AppleTVOS", "Apple TV"),
        ("XROS", "Apple Vision Pro"),
        ("WatchOS", "Apple Watch"),
        ("iPhoneSimulator", "the iOS Simulator"),
    ] {
        let ipa = signed(ProfileSpec::ad_hoc("com.acme.field")).key(
            "CFBundleSupportedPlatforms",
            plist::Value::Array(vec![platform.into()]),
        );
        let site = site_with(ipa);
        let run = site.run_at(&["build"], Some(MID_2024));
        run.assert_ok();
        assert_eq!(
            run.lines_with(&format!(
                "warning: is built for {platform}, not iOS: it cannot be installed from Safari"
            ))
            .len(),
            1,
            "{}",
            run.stderr
        );
        let page = site.read(PAGE);
        assert!(page.contains(&format!("This build is for {words}, not for iPhone or iPad: it cannot be installed from Safari.")), "{page}");
        assert!(install_links(&page).is_empty());
    }
}

/// A profile really signed with `openssl cms -sign`, whose developer certificate expires before
/// the profile does: the certificate's date is the one that counts.
#[test]
fn a_signed_profile_expires_with_its_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let path = |n: &str| dir.path().join(n);
    let openssl = |args: &[&str]| openssl(dir.path(), args);
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-keyout",
        "key.pem",
        "-out",
        "cert.pem",
        "-days",
        "10",
        "-subj",
        "/CN=iPhone Distribution: Example Co.",
    ]);
    openssl(&[
        "x509", "-in", "cert.pem", "-outform", "DER", "-out", "cert.der",
    ]);
    let now = std::time::SystemTime::now();
    let spec = ProfileSpec {
        created: now,
        expires: now + std::time::Duration::from_secs(365 * 86_400),
        certificates: vec![std::fs::read(path("cert.der")).unwrap()],
        ..ProfileSpec::ad_hoc("com.acme.field")
    };
    std::fs::write(path("profile.plist"), spec.plist()).unwrap();
    openssl(&[
        "cms",
        "-sign",
        "-binary",
        "-nodetach",
        "-in",
        "profile.plist",
        "-signer",
        "cert.pem",
        "-inkey",
        "key.pem",
        "-outform",
        "DER",
        "-out",
        "embedded.mobileprovision",
    ]);
    let profile = std::fs::read(path("embedded.mobileprovision")).unwrap();

    let site = site_with(IpaBuilder::new("Field", "com.acme.field", "1.0", "1").profile(&profile));
    let run = site.build();
    run.assert_ok();
    let warnings = run.lines_with("warning: its profile `com.acme.field AdHoc` expires on");
    assert_eq!(warnings.len(), 1, "{}", run.stderr);
    assert!(
        warnings[0].contains("in 9 days") || warnings[0].contains("in 10 days"),
        "{}",
        warnings[0]
    );
}

#[test]
#[cfg_attr(
    not(have_fixtures),
    ignore = "needs ../shared/fixtures/real beside the checkout"
)]
fn a_loose_icon_is_published_as_standard_pngs_and_in_the_manifest() {
    let dir = crate::fixtures::fixtures_dir();
    let cgbi = std::fs::read(dir.join("an3park__async-cgbi-to-png/cgbi.png")).unwrap();
    let ipa = IpaBuilder::new("Field", "com.acme.field", "1.0", "1")
        .key(
            "CFBundleIconFiles",
            plist::Value::Array(vec!["AppIcon40x40".into(), "AppIcon60x60".into()]),
        )
        .app_file(
            "AppIcon40x40@2x.png",
            &std::fs::read(dir.join("leenxyz__node-pngdefry/icon.png")).unwrap(),
        )
        .app_file("AppIcon60x60@2x.png", &cgbi);
    let site = site_with(ipa);
    let run = site.build();
    run.assert_ok();
    assert!(run.lines_with("icon").is_empty(), "{}", run.stderr);
    for (name, size) in [("icon-57.png", 57), ("icon-512.png", 512)] {
        let bytes =
            std::fs::read(site.path(&format!("public/com.acme.field/1.0-1/{name}"))).unwrap();
        assert_standard_png(&bytes, size);
    }
    let manifest = site.read("public/com.acme.field/1.0-1/manifest.plist");
    assert!(manifest.contains("https://builds.example.com/com.acme.field/1.0-1/icon-57.png"));
    assert!(manifest.contains("https://builds.example.com/com.acme.field/1.0-1/icon-512.png"));
    assert!(
        site.read(PAGE)
            .contains("src=\"../../com.acme.field/1.0-1/icon-512.png\"")
    );
}

#[test]
#[cfg_attr(
    not(have_fixtures),
    ignore = "needs ../shared/fixtures/real beside the checkout"
)]
fn an_app_without_loose_icons_gets_its_configured_icon_else_a_placeholder() {
    let dir = crate::fixtures::fixtures_dir();
    let ipa = IpaBuilder::new("Field", "com.acme.field", "1.0", "1").key(
        "CFBundleIcons",
        plist::Value::Dictionary(
            [(
                "CFBundlePrimaryIcon".to_string(),
                plist::Value::from("App Icon"),
            )]
            .into_iter()
            .collect(),
        ),
    );
    let site = site_with(ipa.clone());
    let run = site.build();
    run.assert_ok();
    assert_eq!(
        run.lines_with("warning: has no loose icon PNG (its icon lives only in Assets.car)")
            .len(),
        1,
        "{}",
        run.stderr
    );
    let placeholder = std::fs::read(site.path("public/com.acme.field/1.0-1/icon-512.png")).unwrap();
    assert_standard_png(&placeholder, 512);

    let site = site_with(ipa);
    site.file(
        "icons/field.png",
        &std::fs::read(dir.join("an3park__async-cgbi-to-png/cgbi2.png")).unwrap(),
    );
    site.config(&format!(
        "title: T\nbase_url: {BASE_URL}\napps:\n  com.acme.field:\n    icon: icons/field.png\n"
    ));
    let run = site.build();
    run.assert_ok();
    assert!(run.lines_with("icon").is_empty(), "{}", run.stderr);
    let configured = std::fs::read(site.path("public/com.acme.field/1.0-1/icon-512.png")).unwrap();
    assert_standard_png(&configured, 512);
    assert_ne!(configured, placeholder);
}

#[test]
fn a_missing_configured_icon_is_an_error() {
    let site = site_with(IpaBuilder::new("Field", "com.acme.field", "1.0", "1"));
    site.config(&format!(
        "title: T\nbase_url: {BASE_URL}\napps:\n  com.acme.field:\n    icon: icons/nope.png\n"
    ));
    site.build().assert_fails_with(
        "icons/nope.png: error: `apps.com.acme.field.icon` cannot be used: failed to read",
    );
}

/// A PNG a browser decodes: standard signature, IHDR first, no CgBI chunk, the given size.
#[track_caller]
pub fn assert_standard_png(bytes: &[u8], size: u32) {
    assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "PNG signature");
    assert_eq!(&bytes[12..16], b"IHDR", "IHDR is the first chunk (no CgBI)");
    let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    let reader = decoder.read_info().expect("a standard decoder reads it");
    assert_eq!((reader.info().width, reader.info().height), (size, size));
}
