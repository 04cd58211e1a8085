//! A site that builds: pages, manifests, IPAs, links, ordering, drafts, determinism.

use crate::ipa_builder::{IpaBuilder, PlistFormat};
use crate::support::*;

fn field(version: &str, build: &str) -> IpaBuilder {
    IpaBuilder::new("Field", "com.acme.field", version, build).signed()
}

#[test]
fn builds_pages_manifest_and_ipa_for_each_release() {
    let site = TestSite::new();
    let ipa = field("1.4.0", "312").key("CFBundleDisplayName", "Field");
    site.ipa("releases/field/1.4.0/Field.ipa", &ipa).file(
        "releases/field/1.4.0/Field.yaml",
        b"date: 2024-05-01\nnotes: |\n  **Faster** sync\n",
    );
    let run = site.build();
    run.assert_ok();
    assert!(
        run.stdout.contains("built 1 app and 1 build"),
        "{}",
        run.stdout
    );

    let dir = "public/com.acme.field/1.4.0-312";
    let (id, version, title, package) =
        manifest_facts(site.read(&format!("{dir}/manifest.plist")).as_bytes());
    assert_eq!(id, "com.acme.field");
    assert_eq!(version, "1.4.0");
    assert_eq!(title, "Field");
    assert_eq!(
        package,
        format!("{BASE_URL}com.acme.field/1.4.0-312/field.ipa")
    );
    assert_eq!(
        std::fs::read(site.path(&format!("{dir}/field.ipa"))).unwrap(),
        std::fs::read(site.path("releases/field/1.4.0/Field.ipa")).unwrap(),
        "the IPA is published with its exact bytes"
    );
    let page = site.read(&format!("{dir}/index.html"));
    assert!(
        page.contains("<strong>Faster</strong> sync"),
        "notes are rendered"
    );
    assert!(page.contains("<time datetime=\"2024-05-01\">"));
    assert!(site.read("public/index.html").contains("com.acme.field/"));
    assert!(
        site.read("public/com.acme.field/index.html")
            .contains("1.4.0-312/")
    );
}

#[test]
fn install_links_decode_once_to_manifests_that_exist() {
    let site = TestSite::new();
    site.config("title: T\nbase_url: https://example.com/my builds/\n");
    site.ipa("releases/a/A.ipa", &field("2.0", "7"));
    site.build().assert_ok();
    let page = site.read("public/com.acme.field/2.0-7/index.html");
    assert!(
        page.contains("href=\"itms-services://?action=download-manifest&amp;url=https%3A%2F%2Fexample.com%2Fmy%2520builds%2Fcom.acme.field%2F2.0-7%2Fmanifest.plist\""),
        "{page}"
    );
    let links = install_links(&page);
    assert_eq!(links.len(), 1);
    assert_eq!(
        manifest_url_of(&links[0]),
        "https://example.com/my%20builds/com.acme.field/2.0-7/manifest.plist"
    );
}

#[test]
fn titles_and_names_are_escaped_in_html_and_manifest() {
    let site = TestSite::new();
    let ipa = field("1.0", "1").key("CFBundleDisplayName", "Field <b>&\"Co\"");
    site.ipa("releases/a/A.ipa", &ipa).file(
        "releases/a/A.yaml",
        b"title: 'Beta <script>alert(1)</script> & \"more\"'\n",
    );
    site.build().assert_ok();
    let page = site.read("public/com.acme.field/1.0-1/index.html");
    assert!(
        page.contains("Beta &lt;script&gt;alert(1)&lt;&#x2F;script&gt; &amp; &quot;more&quot;")
            || page.contains("Beta &lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;more&quot;"),
        "{page}"
    );
    assert!(!page.contains("<script>alert(1)"));
    let app_page = site.read("public/com.acme.field/index.html");
    assert!(
        app_page.contains("Field &lt;b&gt;&amp;&quot;Co&quot;"),
        "{app_page}"
    );
    let manifest = site.read("public/com.acme.field/1.0-1/manifest.plist");
    assert!(
        manifest.contains("Beta &lt;script&gt;alert(1)&lt;/script&gt; &amp;"),
        "{manifest}"
    );
    let (_, _, title, _) = manifest_facts(manifest.as_bytes());
    assert_eq!(title, "Beta <script>alert(1)</script> & \"more\"");
}

#[test]
fn raw_html_in_notes_is_shown_not_run() {
    let site = TestSite::new();
    site.ipa("releases/a/A.ipa", &field("1.0", "1")).file(
        "releases/a/A.yaml",
        b"notes: |\n  Hi <img src=x onerror=alert(1)>\n\n  <script>alert(2)</script>\n\n  [x](javascript:alert(3))\n",
    );
    site.build().assert_ok();
    let page = site.read("public/com.acme.field/1.0-1/index.html");
    assert!(!page.contains("<img src=x"), "{page}");
    assert!(!page.contains("<script>alert(2)"), "{page}");
    assert!(!page.contains("javascript:"), "{page}");
    assert!(
        page.contains("&lt;img src=x onerror=alert(1)&gt;"),
        "{page}"
    );
}

#[test]
fn orders_builds_by_version_numerically_then_build() {
    let site = TestSite::new();
    for (dir, version, build) in [
        ("a", "1.9", "90"),
        ("b", "1.10", "100"),
        ("c", "3.1.0", "11"),
        ("d", "3.1.0", "9"),
        ("e", "1.2.10", "5"),
    ] {
        site.ipa(&format!("releases/{dir}/Field.ipa"), &field(version, build));
    }
    site.build().assert_ok();
    let page = site.read("public/com.acme.field/index.html");
    let all = page.split("All builds").nth(1).expect("all builds section");
    let order: Vec<usize> = ["3.1.0-11/", "3.1.0-9/", "1.10-100/", "1.9-90/", "1.2.10-5/"]
        .iter()
        .map(|s| all.find(s).unwrap_or_else(|| panic!("{s} missing")))
        .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{order:?}");
}

#[test]
fn drafts_are_published_only_with_drafts_flag() {
    let site = TestSite::new();
    site.ipa("releases/a/Field.ipa", &field("1.0", "1"))
        .ipa("releases/b/Field.ipa", &field("2.0", "2"))
        .file("releases/b/Field.yaml", b"draft: true\n");
    site.build().assert_ok();
    assert!(!site.path("public/com.acme.field/2.0-2").exists());
    assert!(
        !site
            .read("public/com.acme.field/index.html")
            .contains("2.0-2/")
    );
    site.run(&["build", "--drafts"]).assert_ok();
    assert!(
        site.path("public/com.acme.field/2.0-2/manifest.plist")
            .exists()
    );
}

#[test]
fn reads_xml_and_binary_info_plists_and_ignores_nested_bundles() {
    let site = TestSite::new();
    site.ipa(
        "releases/a/A.ipa",
        &field("1.0", "1").format(PlistFormat::Xml),
    )
    .ipa(
        "releases/b/B.ipa",
        &IpaBuilder::new("B", "com.acme.b", "2.0", "2").format(PlistFormat::Binary),
    );
    site.build().assert_ok();
    for (dir, id) in [
        ("com.acme.field/1.0-1", "com.acme.field"),
        ("com.acme.b/2.0-2", "com.acme.b"),
    ] {
        let (got, _, _, _) = manifest_facts(
            site.read(&format!("public/{dir}/manifest.plist"))
                .as_bytes(),
        );
        assert_eq!(got, id, "never the extension's or framework's Info.plist");
    }
}

#[test]
fn building_twice_gives_identical_output() {
    let site = TestSite::new();
    site.ipa("releases/a/A.ipa", &field("1.0", "1"))
        .ipa("releases/b/B.ipa", &field("1.1", "2"))
        .file("releases/b/B.yaml", b"notes: hi\nchannel: beta\n");
    site.build().assert_ok();
    let first = site.tree("public");
    let ids = identities(&site.path("public"));
    let second_run = site.run(&["build", "--verbose"]);
    second_run.assert_ok();
    assert_eq!(first, site.tree("public"), "same bytes");
    assert_eq!(
        ids,
        identities(&site.path("public")),
        "unchanged files keep inode and mtime"
    );
    assert!(
        second_run.stderr.contains("wrote 0 files and kept "),
        "{}",
        second_run.stderr
    );
    assert_eq!(
        site.top_level(),
        vec![
            ".public.relsite-staging",
            "public",
            "releases",
            "relsite.yaml"
        ],
        "only the staging folder beside the output"
    );
    assert_eq!(
        first,
        site.tree(".public.relsite-staging"),
        "staging holds the site"
    );
}

#[test]
fn output_and_base_url_can_be_overridden() {
    let site = TestSite::new();
    site.ipa("releases/a/A.ipa", &field("1.0", "1"));
    let out = site.path("elsewhere/site");
    let run = site.run(&[
        "build",
        "--output",
        out.to_str().unwrap(),
        "--base-url",
        "https://staging.example.net/x",
    ]);
    run.assert_ok();
    let (_, _, _, package) =
        manifest_facts(&std::fs::read(out.join("com.acme.field/1.0-1/manifest.plist")).unwrap());
    assert_eq!(
        package,
        "https://staging.example.net/x/com.acme.field/1.0-1/a.ipa"
    );
    assert!(!site.path("public").exists());
}

#[test]
fn app_settings_name_and_slug_apply() {
    let site = TestSite::new();
    site.config(&format!(
        "title: T\nbase_url: {BASE_URL}\napps:\n  com.acme.field:\n    name: Field Pro\n    slug: field\n    description: '*Survey* app'\n"
    ));
    site.ipa("releases/a/A.ipa", &field("1.0", "1"));
    site.build().assert_ok();
    let page = site.read("public/field/index.html");
    assert!(page.contains("Field Pro"));
    assert!(page.contains("<em>Survey</em> app"));
}

#[test]
fn version_from_notes_when_info_plist_has_none() {
    let site = TestSite::new();
    let ipa = field("1.0", "1")
        .without("CFBundleShortVersionString")
        .without("CFBundleVersion");
    site.ipa("releases/a/A.ipa", &ipa)
        .file("releases/a/A.yaml", b"version: '2.5'\n");
    site.build().assert_ok();
    let (_, version, _, _) = manifest_facts(
        site.read("public/com.acme.field/2.5/manifest.plist")
            .as_bytes(),
    );
    assert_eq!(version, "2.5");
}

#[test]
fn build_number_stands_in_for_a_missing_marketing_version() {
    let site = TestSite::new();
    site.ipa(
        "releases/a/A.ipa",
        &field("1.0", "77").without("CFBundleShortVersionString"),
    );
    site.build().assert_ok();
    let (_, version, _, _) = manifest_facts(
        site.read("public/com.acme.field/77/manifest.plist")
            .as_bytes(),
    );
    assert_eq!(version, "77");
}

#[test]
fn check_validates_without_writing() {
    let site = TestSite::new();
    site.ipa("releases/a/A.ipa", &field("1.0", "1"));
    let run = site.run(&["check"]);
    run.assert_ok();
    assert!(run.stdout.contains("1 app and 1 build"), "{}", run.stdout);
    assert!(!site.path("public").exists());
}
