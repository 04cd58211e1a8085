//! `relsite deploy` to a local folder (`file://`): what is uploaded, kept and deleted, the
//! deployment record, and refusals. The same through a real S3 store is in `deploy_s3`.

use std::collections::BTreeMap;
use std::path::Path;

use crate::ipa_builder::IpaBuilder;
use crate::support::*;

/// A site deploying to the folder `target`.
fn site_to(target: &Path) -> TestSite {
    let site = TestSite::new();
    site.config(&format!(
        "title: Deploys\nbase_url: https://apps.example.com/\ndeploy:\n  url: file://{}/site\n",
        target.display()
    ));
    site
}

/// A site with builds 1.0 (1) and 1.1 (2), deployed to a folder of its own.
fn deployed_with_two_builds() -> (tempfile::TempDir, TestSite) {
    let target = tempfile::tempdir().expect("temp dir");
    let site = site_to(target.path());
    add_build(&site, "1.0", "1");
    add_build(&site, "1.1", "2");
    site.run(&["deploy"]).assert_ok();
    (target, site)
}

fn add_build(site: &TestSite, version: &str, build: &str) {
    site.ipa(
        &format!("releases/{version}/App.ipa"),
        &IpaBuilder::new("App", "com.acme.app", version, build),
    );
}

/// The files below `dir`, by path, with their bytes.
pub(crate) fn objects(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .map(|e| e.expect("walk"))
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            let rel = e.path().strip_prefix(dir).expect("below").to_string_lossy();
            (rel.into_owned(), std::fs::read(e.path()).expect("read"))
        })
        .collect()
}

/// The summary line of a deploy.
fn summary(run: &Run) -> &str {
    run.stdout
        .lines()
        .find(|l| l.starts_with("deployed to "))
        .unwrap_or_else(|| panic!("no summary:\n{}\n{}", run.stdout, run.stderr))
}

#[test]
fn a_deploy_uploads_the_output_and_a_second_one_nothing() {
    let target = tempfile::tempdir().expect("temp dir");
    let site = site_to(target.path());
    add_build(&site, "1.0", "1");
    let run = site.run(&["deploy"]);
    run.assert_ok();
    let published = objects(&target.path().join("site"));
    let mut output = site.tree("public");
    output.remove(".relsite-output");
    for (path, bytes) in &output {
        assert_eq!(published.get(path), Some(bytes), "{path}");
    }
    assert!(published.contains_key(".relsite-deploy.json"));
    assert_eq!(
        published.len(),
        output.len() + 1,
        "the output and the record"
    );
    assert!(
        summary(&run).contains(&format!("uploaded {} files", output.len())),
        "{}",
        run.stdout
    );

    let run = site.run(&["deploy"]);
    run.assert_ok();
    assert!(summary(&run).contains("nothing changed"), "{}", run.stdout);
    assert_eq!(objects(&target.path().join("site")), published);
}

#[test]
fn a_new_build_uploads_its_files_and_the_pages_that_list_it() {
    let target = tempfile::tempdir().expect("temp dir");
    let site = site_to(target.path());
    add_build(&site, "1.0", "1");
    site.run(&["deploy"]).assert_ok();
    add_build(&site, "1.1", "2");
    let run = site.run(&["deploy", "-v"]);
    run.assert_ok();
    let uploaded: Vec<&str> = run
        .stdout
        .lines()
        .filter_map(|l| l.strip_prefix("uploaded "))
        .map(|l| l.split(' ').next().unwrap_or_default())
        .collect();
    for file in [
        "com.acme.app/1.1-2/app.ipa",
        "com.acme.app/1.1-2/manifest.plist",
        "com.acme.app/1.1-2/index.html",
        "com.acme.app/index.html",
        "com.acme.app/latest/index.html",
        "index.html",
    ] {
        assert!(uploaded.contains(&file), "{file} not in {uploaded:?}");
    }
    assert!(
        !uploaded
            .iter()
            .any(|f| f.starts_with("com.acme.app/1.0-1/")),
        "the first build's files are unchanged: {uploaded:?}"
    );
    // Per-build files before build pages, before the pages that list builds.
    let at = |f: &str| uploaded.iter().position(|u| *u == f).expect("uploaded");
    assert!(at("com.acme.app/1.1-2/app.ipa") < at("com.acme.app/1.1-2/index.html"));
    assert!(at("com.acme.app/1.1-2/index.html") < at("com.acme.app/index.html"));
    assert!(summary(&run).contains("deleted 0"), "{}", run.stdout);
}

#[test]
fn a_removed_build_is_deleted_and_foreign_objects_stay() {
    let (target, site) = deployed_with_two_builds();
    let foreign = target
        .path()
        .join("site/com.acme.app/1.0-1/notes-by-hand.txt");
    std::fs::write(&foreign, b"mine").expect("write");
    let outside = target.path().join("site/other/keep.html");
    std::fs::create_dir_all(outside.parent().expect("parent")).expect("mkdir");
    std::fs::write(&outside, b"mine").expect("write");
    std::fs::remove_dir_all(site.path("releases/1.0")).expect("remove");
    let run = site.run(&["deploy"]);
    run.assert_ok();
    let published = objects(&target.path().join("site"));
    assert!(
        !published.contains_key("com.acme.app/1.0-1/app.ipa"),
        "the removed build's IPA is gone"
    );
    assert!(!published.contains_key("com.acme.app/1.0-1/index.html"));
    assert!(published.contains_key("com.acme.app/1.1-2/app.ipa"));
    assert_eq!(std::fs::read(&foreign).expect("kept"), b"mine");
    assert_eq!(std::fs::read(&outside).expect("kept"), b"mine");
    let record =
        std::fs::read_to_string(target.path().join("site/.relsite-deploy.json")).expect("record");
    assert!(!record.contains("1.0-1"), "{record}");
}

#[test]
fn a_dry_run_lists_the_plan_and_changes_nothing() {
    let target = tempfile::tempdir().expect("temp dir");
    let site = site_to(target.path());
    add_build(&site, "1.0", "1");
    let run = site.run(&["deploy", "--dry-run"]);
    run.assert_ok();
    assert!(
        run.stdout
            .contains("would upload com.acme.app/1.0-1/app.ipa"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("nothing was changed (--dry-run)"));
    assert!(objects(target.path()).is_empty());
}

#[test]
fn an_unreadable_record_means_uploading_everything_and_deleting_nothing() {
    let (target, site) = deployed_with_two_builds();
    let record = target.path().join("site/.relsite-deploy.json");
    std::fs::write(&record, b"{not json").expect("damage");
    std::fs::remove_dir_all(site.path("releases/1.0")).expect("remove");
    let run = site.run(&["deploy"]);
    run.assert_ok();
    assert!(
        run.stderr
            .contains("cannot be read: every file is compared with the object at its key (uploaded where that cannot be told), and nothing is deleted"),
        "{}",
        run.stderr
    );
    assert!(summary(&run).contains("deleted 0"), "{}", run.stdout);
    assert!(
        target
            .path()
            .join("site/com.acme.app/1.0-1/app.ipa")
            .is_file(),
        "not known to be relsite's, so not deleted"
    );
    let run = site.run(&["deploy"]);
    assert!(summary(&run).contains("nothing changed"), "{}", run.stdout);
}

#[test]
fn a_record_of_a_newer_relsite_stops_the_deploy() {
    let (target, site) = deployed_with_two_builds();
    let record = target.path().join("site/.relsite-deploy.json");
    let newer = std::fs::read_to_string(&record)
        .expect("record")
        .replace("\"format\":1", "\"format\":7");
    std::fs::write(&record, &newer).expect("write");
    std::fs::remove_dir_all(site.path("releases/1.0")).expect("remove");
    let before = objects(target.path());
    let run = site.run(&["deploy"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let url = format!("file://{}/site", target.path().display());
    assert!(run.stderr.contains(&url), "{}", run.stderr);
    assert!(run.stderr.contains("(format 7)"), "{}", run.stderr);
    assert!(run.stderr.contains("nothing was deleted"), "{}", run.stderr);
    assert_eq!(objects(target.path()), before);
}

#[test]
fn deploy_needs_a_target_and_refuses_a_bad_one() {
    let site = TestSite::new();
    add_build(&site, "1.0", "1");
    site.run(&["deploy"]).assert_fails_with(
        "relsite.yaml: error: no `deploy` target: add `deploy: {url: s3://bucket/prefix}` (and `endpoint` for an S3-compatible store)",
    );
    site.config(
        "title: T\nbase_url: https://apps.example.com/\ndeploy:\n  url: s3://bucket/\n  endpoint: http://s3.example.com\n",
    );
    let run = site.run(&["deploy"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("relsite.yaml:5:")
            && run
                .stderr
                .contains("`deploy.endpoint` `http://s3.example.com` must be https://"),
        "{}",
        run.stderr
    );
    site.config(
        "title: T\nbase_url: https://apps.example.com/\ndeploy:\n  url: s3://bucket/\n  secret: x\n",
    );
    let run = site.run(&["deploy"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("unknown field `secret`"),
        "{}",
        run.stderr
    );
}

/// A second site, as on another runner: the same config, none of the first site's releases.
fn runner(target: &Path) -> TestSite {
    site_to(target)
}

/// A runner's site with `builds` of com.acme.app, deployed with `--from-published`.
fn published_by_a_runner(target: &Path, builds: &[(&str, &str)]) -> TestSite {
    let site = runner(target);
    for (version, build) in builds {
        add_build(&site, version, build);
    }
    site.run(&["deploy", "--from-published"]).assert_ok();
    site
}

#[test]
fn a_runner_with_only_the_new_build_keeps_every_published_build() {
    let target = tempfile::tempdir().expect("temp dir");
    let a = runner(target.path());
    add_build(&a, "1.0", "1");
    a.file("releases/1.0/App.yaml", b"notes: Fixed **it**\n");
    a.run(&["deploy", "--from-published"]).assert_ok();
    let first_ipa = std::fs::read(a.path("public/com.acme.app/1.0-1/app.ipa")).expect("ipa");
    let first_page = std::fs::read(a.path("public/com.acme.app/1.0-1/index.html")).expect("page");
    assert!(
        String::from_utf8_lossy(&first_page).contains("Fixed <strong>it</strong>"),
        "the first build's page shows its notes"
    );
    drop(a);

    let b = runner(target.path());
    add_build(&b, "1.1", "2");
    let run = b.run(&["deploy", "--from-published", "-v"]);
    run.assert_ok();
    let published = objects(&target.path().join("site"));
    assert_eq!(
        published.get("com.acme.app/1.0-1/app.ipa"),
        Some(&first_ipa),
        "the first build's IPA stays as it was"
    );
    let app_page = String::from_utf8_lossy(&published["com.acme.app/index.html"]).into_owned();
    for build in ["1.0-1/", "1.1-2/"] {
        assert!(app_page.contains(build), "{build} not listed:\n{app_page}");
    }
    // Made again from the index, the first build's page is the same, notes and all.
    assert_eq!(
        published.get("com.acme.app/1.0-1/index.html"),
        Some(&first_page)
    );
    assert!(
        String::from_utf8_lossy(&published["catalog.json"]).contains("Fixed **it**"),
        "the index keeps the notes' text"
    );
    let uploaded: Vec<&str> = run
        .stdout
        .lines()
        .filter_map(|l| l.strip_prefix("uploaded "))
        .map(|l| l.split(' ').next().unwrap_or_default())
        .collect();
    assert!(
        !uploaded
            .iter()
            .any(|f| f.starts_with("com.acme.app/1.0-1/")),
        "nothing of the first build is uploaded again: {uploaded:?}"
    );
    assert!(
        uploaded.contains(&"com.acme.app/1.1-2/app.ipa"),
        "{uploaded:?}"
    );
    assert!(summary(&run).contains("deleted 0"), "{}", run.stdout);

    let run = b.run(&["deploy", "--from-published"]);
    assert!(summary(&run).contains("nothing changed"), "{}", run.stdout);
    let index =
        String::from_utf8_lossy(&objects(&target.path().join("site"))["catalog.json"]).into_owned();
    assert!(index.contains("com.acme.app/1.0-1/app.ipa"), "{index}");
}

#[test]
fn keep_takes_older_published_builds_out_and_deletes_their_files() {
    let target = tempfile::tempdir().expect("temp dir");
    let a = published_by_a_runner(target.path(), &[("1.0", "1"), ("1.1", "2")]);
    drop(a);
    let b = runner(target.path());
    b.config(&format!(
        "title: Deploys\nbase_url: https://apps.example.com/\nkeep: 2\ndeploy:\n  url: file://{}/site\n",
        target.path().display()
    ));
    add_build(&b, "1.2", "3");
    let run = b.run(&["deploy", "--from-published"]);
    run.assert_ok();
    assert!(summary(&run).contains("deleted 6"), "{}", run.stdout);
    let published = objects(&target.path().join("site"));
    assert!(
        !published
            .keys()
            .any(|k| k.starts_with("com.acme.app/1.0-1/")),
        "{published:?}"
    );
    for build in ["1.1-2", "1.2-3"] {
        assert!(published.contains_key(&format!("com.acme.app/{build}/app.ipa")));
    }
    let index = String::from_utf8_lossy(&published["catalog.json"]).into_owned();
    assert!(!index.contains("1.0-1"), "{index}");
}

#[test]
fn remove_takes_a_published_build_out_from_any_runner() {
    let target = tempfile::tempdir().expect("temp dir");
    let a = published_by_a_runner(target.path(), &[("1.0", "1"), ("1.1", "2")]);
    let foreign = target.path().join("site/com.acme.app/1.0-1/mine.txt");
    std::fs::write(&foreign, b"mine").expect("write");

    // The build is at hand on runner A: removing it there would bring it back.
    a.run(&["remove", "com.acme.app", "1.0-1"]).assert_fails_with(
        "releases/1.0/App.ipa: error: holds build 1.0-1 of com.acme.app: take it out of the releases folder too, or it is published again",
    );

    let b = runner(target.path());
    let run = b.run(&["remove", "com.acme.app", "3.0"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr
            .contains("no published build 3.0 of com.acme.app; published: 1.1-2, 1.0-1"),
        "{}",
        run.stderr
    );
    let run = b.run(&["remove", "com.acme.app", "1.0-1", "--dry-run"]);
    run.assert_ok();
    assert!(
        run.stdout
            .contains("would delete com.acme.app/1.0-1/app.ipa"),
        "{}",
        run.stdout
    );
    assert!(
        target
            .path()
            .join("site/com.acme.app/1.0-1/app.ipa")
            .is_file()
    );

    let run = b.run(&["remove", "com.acme.app", "1.0"]);
    run.assert_ok();
    assert!(
        run.stdout.contains("removed build 1.0-1 of com.acme.app"),
        "{}",
        run.stdout
    );
    let published = objects(&target.path().join("site"));
    let left: Vec<&String> = published
        .keys()
        .filter(|k| k.starts_with("com.acme.app/1.0-1/"))
        .collect();
    assert_eq!(
        left,
        ["com.acme.app/1.0-1/mine.txt"],
        "only the foreign file stays"
    );
    assert!(published.contains_key("com.acme.app/1.1-2/app.ipa"));
    let app = String::from_utf8_lossy(&published["com.acme.app/index.html"]).into_owned();
    assert!(!app.contains("1.0-1/"), "{app}");
}

#[test]
fn from_published_refuses_what_would_lose_published_files() {
    let target = tempfile::tempdir().expect("temp dir");
    published_by_a_runner(target.path(), &[("1.0", "1")]);
    let before = objects(target.path());

    // Another IPA as the same version and build number: hosts cache the first for good.
    let b = runner(target.path());
    b.ipa(
        "releases/1.0/App.ipa",
        &IpaBuilder::new("App", "com.acme.app", "1.0", "1").app_file("Other.txt", b"other"),
    );
    let run = b.run(&["deploy", "--from-published"]);
    run.assert_fails_with(
        "releases/1.0/App.ipa: error: is build 1.0-1 of com.acme.app, published before with another IPA: give this one a new build number (CFBundleVersion), since hosts keep a published IPA for good",
    );

    // The app's slug changed: the published IPA stays at the old path.
    let c = runner(target.path());
    c.config(&format!(
        "title: Deploys\nbase_url: https://apps.example.com/\napps:\n  com.acme.app:\n    slug: renamed\ndeploy:\n  url: file://{}/site\n",
        target.path().display()
    ));
    add_build(&c, "1.1", "2");
    let run = c.run(&["deploy", "--from-published"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "releases/1.0/App.ipa of com.acme.app is published in com.acme.app/1.0-1/, and would now be in renamed/1.0-1/"
        ),
        "{}",
        run.stderr
    );

    // The index is gone but the record lists objects: not a first deploy.
    std::fs::remove_file(target.path().join("site/catalog.json")).expect("remove");
    let d = runner(target.path());
    add_build(&d, "1.1", "2");
    let run = d.run(&["deploy", "--from-published"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("the deployment record lists objects but there is no catalog.json"),
        "{}",
        run.stderr
    );
    let mut now = objects(target.path());
    now.remove("site/catalog.json");
    let mut was = before;
    was.remove("site/catalog.json");
    assert_eq!(now, was, "nothing changed in the target");
}

/// Serves `dir` over HTTP on loopback, as a folder host would, until dropped.
pub(crate) struct Served {
    server: std::process::Child,
    pub(crate) base: String,
}

impl Served {
    pub(crate) fn new(dir: &Path) -> Served {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .expect("port")
            .local_addr()
            .expect("addr")
            .port();
        let server = std::process::Command::new("python3")
            .args([
                "-m",
                "http.server",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--directory",
            ])
            .arg(dir)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("python3 -m http.server");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                std::time::Instant::now() < deadline,
                "the server did not start"
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        Served {
            server,
            base: format!("http://127.0.0.1:{port}/"),
        }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.server.kill();
        let _ = self.server.wait();
    }
}

#[test]
fn build_from_published_carries_a_folder_hosts_catalog_and_icons_over() {
    let config = "title: Pages\nbase_url: https://apps.example.com/\nipa_base_url: https://cdn.example.com/ipas/\n";
    let a = TestSite::new();
    a.config(config);
    add_build(&a, "1.0", "1");
    a.build().assert_ok();
    let served = Served::new(&a.path("public"));

    let b = TestSite::new();
    b.config(config);
    add_build(&b, "1.1", "2");
    let run = b.run(&["build", "--from-published", "--base-url", &served.base]);
    run.assert_ok();
    let old = a.tree("public");
    let new = b.tree("public");
    for file in [
        "com.acme.app/1.0-1/icon-57.png",
        "com.acme.app/1.0-1/icon-512.png",
    ] {
        assert_eq!(new.get(file), old.get(file), "{file} carried over");
    }
    assert!(new.contains_key("com.acme.app/1.0-1/manifest.plist"));
    assert!(new.contains_key("com.acme.app/1.1-2/index.html"));
    assert!(
        !new.keys().any(|k| k.ends_with(".ipa")),
        "IPAs live at ipa_base_url"
    );
    let index = String::from_utf8_lossy(&new["catalog.json"]).into_owned();
    assert!(index.contains("releases/1.0/App.ipa") && index.contains("releases/1.1/App.ipa"));

    // Without ipa_base_url the IPAs of builds not at hand could not be in the output.
    let c = TestSite::new();
    c.config("title: Pages\nbase_url: https://apps.example.com/\n");
    add_build(&c, "1.1", "2");
    c.run(&["build", "--from-published", "--base-url", &served.base])
        .assert_fails_with("relsite.yaml: error: `build --from-published` needs `ipa_base_url`: the IPAs of builds not at hand cannot be in the output; with `deploy`, the target keeps them");

    // Nothing published yet: the build at hand alone.
    let empty = tempfile::tempdir().expect("temp dir");
    let nothing = Served::new(empty.path());
    let run = b.run(&["build", "--from-published", "--base-url", &nothing.base]);
    run.assert_ok();
    assert!(!b.path("public/com.acme.app/1.0-1").exists());
}

#[test]
fn strict_stops_a_deploy_with_warnings_before_anything_is_uploaded() {
    let target = tempfile::tempdir().expect("temp dir");
    let site = site_to(target.path());
    add_build(&site, "1.0", "1");
    let run = site.run(&["deploy", "--strict"]);
    run.assert_fails_with("error: --strict: ")
        .assert_fails_with("has no embedded.mobileprovision");
    assert!(
        objects(target.path()).is_empty(),
        "a strict failure uploaded"
    );
    site.run(&["deploy"]).assert_ok();
    assert!(!objects(target.path()).is_empty());
}
