//! `relsite deploy` against a real S3-compatible store: Garage on loopback, its website endpoint
//! serving what was deployed. Two runners that share nothing but the bucket, content types and
//! caching as served, foreign objects, and deploys killed midway.
//!
//! The site is served over plain HTTP at `http://localhost:<port>/` (a bucket named `localhost`,
//! which Garage's website endpoint serves for that host): `check --deployed` asks what iOS asks
//! (status, content type, size, bytes) the same way over HTTP; TLS in front of a host is tested
//! with nginx in `deployed`.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use object_store::ObjectStore;

use crate::garage::Garage;
use crate::ipa_builder::IpaBuilder;
use crate::support::*;

/// A runner's site: the config and nothing else, deploying to `garage` and served at its
/// website endpoint.
fn runner(garage: &Garage) -> TestSite {
    let site = TestSite::new();
    site.config(&format!(
        "title: Garage builds\nbase_url: https://apps.example.com/\n{}",
        garage.deploy_yaml("")
    ));
    site
}

fn add_build(site: &TestSite, version: &str, build: &str, payload: usize) {
    let mut ipa = IpaBuilder::new("App", "com.acme.app", version, build);
    if payload > 0 {
        ipa = ipa.app_file("Payload.bin", &noise(payload, build));
    }
    site.ipa(&format!("releases/{version}/App.ipa"), &ipa);
}

/// Bytes deflate cannot shrink, so an IPA is as large as asked.
fn noise(len: usize, seed: &str) -> Vec<u8> {
    let mut state = seed.bytes().fold(0x9e37_79b9_7f4a_7c15_u64, |s, b| {
        (s ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect()
}

/// `relsite deploy` of `site` to `garage`, with the site served at its website endpoint.
fn deploy(site: &TestSite, garage: &Garage, extra: &[&str]) -> Run {
    deploy_with(site, garage, extra, &[])
}

/// [`deploy`] with the variables `env` set too.
fn deploy_with(site: &TestSite, garage: &Garage, extra: &[&str], env: &[(&str, &str)]) -> Run {
    let mut command = relsite();
    command
        .arg("deploy")
        .args(extra)
        .args(["--base-url", &garage.base_url()])
        .arg("--root")
        .arg(site.root())
        .envs(garage.env())
        .envs(env.iter().copied());
    Run::from(command.output().expect("run relsite"))
}

fn uploaded(run: &Run) -> BTreeSet<String> {
    run.stdout
        .lines()
        .filter_map(|l| l.strip_prefix("uploaded "))
        .map(|l| l.split(' ').next().unwrap_or_default().to_string())
        .collect()
}

fn summary(run: &Run) -> String {
    run.stdout
        .lines()
        .find(|l| l.starts_with("deployed to "))
        .unwrap_or_else(|| panic!("no summary:\n{}\n{}", run.stdout, run.stderr))
        .to_string()
}

/// The store, as a test sees it.
fn store(garage: &Garage) -> Arc<dyn ObjectStore> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    Arc::new(
        object_store::aws::AmazonS3Builder::new()
            .with_bucket_name(&garage.bucket)
            .with_endpoint(&garage.endpoint)
            .with_allow_http(true)
            .with_region("garage")
            .with_access_key_id(&garage.key_id)
            .with_secret_access_key(&garage.secret)
            .build()
            .expect("an S3 client"),
    )
}

fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(future)
}

/// Every object in the bucket, by key, with its bytes, or (when `all` is false) with the bytes
/// of pages and manifests only.
fn objects(garage: &Garage, all: bool) -> BTreeMap<String, Vec<u8>> {
    use futures_util::TryStreamExt;
    use object_store::ObjectStoreExt;
    let store = store(garage);
    block_on(async {
        let metas: Vec<_> = store.list(None).try_collect().await.expect("list");
        let mut found = BTreeMap::new();
        for meta in metas {
            let key = meta.location.to_string();
            let wanted = all || key.ends_with(".html") || key.ends_with(".plist");
            let bytes = if wanted {
                let got = store.get(&meta.location).await.expect("get");
                got.bytes().await.expect("bytes").to_vec()
            } else {
                Vec::new()
            };
            found.insert(key, bytes);
        }
        found
    })
}

/// Every object in the bucket, by key, with its bytes.
fn bucket(garage: &Garage) -> BTreeMap<String, Vec<u8>> {
    objects(garage, true)
}

fn put_foreign(garage: &Garage, key: &str) {
    use object_store::ObjectStoreExt;
    let store = store(garage);
    block_on(async {
        store
            .put(&key.into(), b"not relsite's".to_vec().into())
            .await
            .expect("put")
    });
}

#[test]
#[cfg_attr(
    not(have_garage),
    ignore = "needs garage on PATH or in ~/.cargo/bin (cargo install garage --locked)"
)]
fn two_runners_share_only_the_bucket() {
    let garage = Garage::start();
    put_foreign(&garage, "not-relsites/keep.txt");

    // Runner A: the config and the first build.
    let a = runner(&garage);
    add_build(&a, "1.0", "1", 200_000);
    let run = deploy(&a, &garage, &["--from-published", "-v"]);
    run.assert_ok();
    let first_ipa = std::fs::read(a.path("public/com.acme.app/1.0-1/app.ipa")).expect("ipa");
    let check = a.run(&["check", "--deployed", "--base-url", &garage.base_url()]);
    check.assert_ok();
    drop(a);

    // Runner B: a fresh folder with only the next build.
    let b = runner(&garage);
    add_build(&b, "1.1", "2", 200_000);
    let run = deploy(&b, &garage, &["--from-published", "-v"]);
    run.assert_ok();
    let sent = uploaded(&run);
    let own: BTreeSet<&str> = sent
        .iter()
        .filter(|p| p.starts_with("com.acme.app/1.1-2/"))
        .map(String::as_str)
        .collect();
    assert_eq!(
        own,
        BTreeSet::from([
            "com.acme.app/1.1-2/app.ipa",
            "com.acme.app/1.1-2/icon-512.png",
            "com.acme.app/1.1-2/icon-57.png",
            "com.acme.app/1.1-2/index.html",
            "com.acme.app/1.1-2/manifest.plist",
            "com.acme.app/1.1-2/qr.svg",
        ]),
        "{sent:?}"
    );
    let changed: BTreeSet<&str> = sent
        .iter()
        .filter(|p| !p.starts_with("com.acme.app/1.1-2/"))
        .map(String::as_str)
        .collect();
    assert_eq!(
        changed,
        BTreeSet::from([
            "catalog.json",
            "com.acme.app/feed.xml",
            "com.acme.app/index.html",
            "com.acme.app/latest.json",
            "com.acme.app/latest/index.html",
            "com.acme.app/latest/stable/index.html",
            "com.acme.app/releases.json",
            "feed.xml",
            "index.html",
        ]),
        "only the pages and feeds that list the new build: {sent:?}"
    );
    assert!(
        summary(&run).contains("uploaded 15 files"),
        "{}",
        run.stdout
    );
    assert!(summary(&run).contains("deleted 0"), "{}", run.stdout);

    let app = garage.web_get("/com.acme.app/");
    assert_eq!(app.status, 200);
    let page = String::from_utf8_lossy(&app.body);
    assert!(page.contains("1.0-1/") && page.contains("1.1-2/"), "{page}");
    let old = garage.web_get("/com.acme.app/1.0-1/app.ipa");
    assert_eq!(old.status, 200);
    assert!(
        old.body == first_ipa,
        "the first build's IPA downloads with its exact bytes"
    );

    // Nothing changed: nothing uploaded, nothing deleted; and the live site checks out.
    let run = deploy(&b, &garage, &["--from-published", "--verify"]);
    run.assert_ok();
    assert!(summary(&run).contains("nothing changed"), "{}", run.stdout);
    assert!(
        run.stdout.contains("ok: 2 manifests and their IPAs"),
        "{}",
        run.stdout
    );

    // Content types and caching, as the store serves them.
    for (path, content_type, cache) in [
        (
            "/com.acme.app/1.1-2/manifest.plist",
            "text/xml; charset=utf-8",
            "public, max-age=300",
        ),
        (
            "/com.acme.app/1.1-2/app.ipa",
            "application/octet-stream",
            "public, max-age=31536000, immutable",
        ),
        (
            "/com.acme.app/1.1-2/icon-512.png",
            "image/png",
            "public, max-age=31536000, immutable",
        ),
        (
            "/com.acme.app/1.1-2/",
            "text/html; charset=utf-8",
            "public, max-age=300",
        ),
        ("/feed.xml", "application/atom+xml", "public, max-age=300"),
        (
            "/com.acme.app/releases.json",
            "application/json",
            "public, max-age=300",
        ),
    ] {
        let got = garage.web_get(path);
        assert_eq!(got.status, 200, "{path}");
        assert_eq!(got.header("content-type"), Some(content_type), "{path}");
        assert_eq!(got.header("cache-control"), Some(cache), "{path}");
    }

    // Without its record, a deploy compares every file with the object at its key.
    use object_store::ObjectStoreExt;
    block_on(store(&garage).delete(&".relsite-deploy.json".into())).expect("delete the record");
    let run = deploy(&b, &garage, &["--from-published"]);
    run.assert_ok();
    assert!(summary(&run).contains("uploaded 0 files"), "{}", run.stdout);
    let run = deploy(&b, &garage, &["--from-published"]);
    assert!(summary(&run).contains("nothing changed"), "{}", run.stdout);

    // `remove`, then `keep`, from a runner holding nothing: each deletes its builds' files,
    // never the foreign object.
    let c = runner(&garage);
    let mut remove = relsite();
    remove
        .args(["remove", "com.acme.app", "1.0-1", "--root"])
        .arg(c.root())
        .envs(garage.env());
    Run::from(remove.output().expect("run")).assert_ok();
    let left = bucket(&garage);
    assert!(
        !left.keys().any(|k| k.starts_with("com.acme.app/1.0-1/")),
        "{:?}",
        left.keys()
    );
    assert!(left.contains_key("com.acme.app/1.1-2/app.ipa"));
    add_build(&c, "1.2", "3", 0);
    c.config(&format!(
        "title: Garage builds\nbase_url: https://apps.example.com/\nkeep: 1\n{}",
        garage.deploy_yaml("")
    ));
    deploy(&c, &garage, &["--from-published"]).assert_ok();
    let left = bucket(&garage);
    assert!(
        !left.keys().any(|k| k.starts_with("com.acme.app/1.1-2/")),
        "{:?}",
        left.keys()
    );
    assert!(left.contains_key("com.acme.app/1.2-3/app.ipa"));
    assert_eq!(
        left.get("not-relsites/keep.txt").map(Vec::as_slice),
        Some(&b"not relsite's"[..]),
        "the foreign object survives deploys, remove and keep"
    );
}

/// Every page and manifest below `prefix` in the bucket links only to objects in it.
fn assert_links_resolve(garage: &Garage, prefix: &str, after: &str) {
    let objects: BTreeMap<String, Vec<u8>> = objects(garage, false)
        .into_iter()
        .filter_map(|(key, bytes)| {
            let key = if prefix.is_empty() {
                key
            } else {
                key.strip_prefix(&format!("{prefix}/"))?.to_string()
            };
            Some((key, bytes))
        })
        .collect();
    let base = garage.base_url();
    for (key, bytes) in &objects {
        if !(key.ends_with(".html") || key.ends_with(".plist")) {
            continue;
        }
        let text = String::from_utf8_lossy(bytes);
        let folder = key.rsplit_once('/').map_or("", |(f, _)| f);
        for link in links(&text) {
            let target = if let Some(rest) = link.strip_prefix(&base) {
                rest.to_string()
            } else if link.contains(':') || link.starts_with('#') || link.starts_with('/') {
                continue;
            } else {
                resolve(folder, &link)
            };
            let target = target.split(['#', '?']).next().unwrap_or_default();
            let found = objects.contains_key(target)
                || objects.contains_key(&format!("{}index.html", target))
                || (target.is_empty() && objects.contains_key("index.html"));
            assert!(
                found,
                "after {after}: {key} links to {link} ({target}), which is missing"
            );
        }
    }
}

/// `href`, `src` and plist `<string>` URLs in a page or manifest.
fn links(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for attr in ["href=\"", "src=\"", "<string>"] {
        let mut rest = text;
        while let Some(at) = rest.find(attr) {
            rest = &rest[at + attr.len()..];
            let end = rest.find(['"', '<']).unwrap_or(rest.len());
            let link = rest[..end].replace("&amp;", "&");
            if attr != "<string>" || link.starts_with("http") {
                found.push(link);
            }
        }
    }
    found
}

fn resolve(folder: &str, link: &str) -> String {
    let mut parts: Vec<&str> = folder.split('/').filter(|p| !p.is_empty()).collect();
    for part in link.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    let mut path = parts.join("/");
    if link.ends_with('/') && !path.is_empty() {
        path.push('/');
    }
    path
}

#[test]
#[cfg_attr(
    not(have_garage),
    ignore = "needs garage on PATH or in ~/.cargo/bin (cargo install garage --locked)"
)]
fn a_deploy_killed_at_any_point_leaves_a_whole_site_and_the_next_one_finishes() {
    let garage = Garage::start();
    let a = runner(&garage);
    add_build(&a, "1.0", "1", 1_000_000);
    let b = runner(&garage);
    add_build(&b, "1.1", "2", 24_000_000);
    add_build(&b, "1.2", "3", 24_000_000);
    // Built once, so each deploy spends its time uploading.
    b.run(&["build", "--base-url", &garage.base_url()])
        .assert_ok();
    let deploy_to = |site: &TestSite, prefix: &str| {
        site.config(&format!(
            "title: Garage builds\nbase_url: https://apps.example.com/\n{}",
            garage.deploy_yaml(prefix)
        ));
        let mut command = relsite();
        command
            .args([
                "deploy",
                "--from-published",
                "--base-url",
                &garage.base_url(),
                "--root",
            ])
            .arg(site.root())
            .envs(garage.env())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null());
        command
    };
    // A deploy not on a terminal says each file as it is uploaded or deleted: how far it got.
    let said = |line: &str| line.starts_with("uploaded ") || line.starts_with("deleted ");
    let whole = {
        assert!(deploy_to(&a, "whole").status().expect("runs").success());
        let out = deploy_to(&b, "whole").output().expect("runs");
        assert!(out.status.success());
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| said(l))
            .count()
    };
    assert!(
        whole >= 13,
        "a deploy of {whole} files is too short to stop in twelve places"
    );

    // Each time into a prefix of its own, holding runner A's deploy: B's deploy is killed
    // a twelfth further through its files than the time before, the first while its IPAs are
    // still going up, the last with its deletions and record still to come.
    let mut kills = 0;
    for k in 1..=12usize {
        let prefix = format!("kill{k}");
        assert!(deploy_to(&a, &prefix).status().expect("runs").success());
        let mut child = deploy_to(&b, &prefix).spawn().expect("deploy starts");
        let stop_after = whole * k / 13;
        let mut lines =
            std::io::BufRead::lines(std::io::BufReader::new(child.stdout.take().expect("piped")));
        let mut seen = 0;
        while seen < stop_after {
            match lines.next() {
                Some(Ok(line)) if said(&line) => seen += 1,
                Some(Ok(_)) => {}
                _ => break,
            }
        }
        if child.try_wait().expect("wait").is_none() {
            child.kill().expect("SIGKILL");
            kills += 1;
        }
        child.wait().expect("reaped");
        assert_links_resolve(
            &garage,
            &prefix,
            &format!("a kill after {seen} of {whole} files"),
        );
    }
    assert!(
        kills >= 11,
        "only {kills} of 12 deploys were stopped midway"
    );

    // The next deploy finishes the job, and the one after has nothing to do.
    let captured = |mut command: std::process::Command| {
        command
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        Run::from(command.output().expect("runs"))
    };
    captured(deploy_to(&b, "kill12")).assert_ok();
    assert_links_resolve(&garage, "kill12", "the deploy after the kill");
    let run = captured(deploy_to(&b, "kill12"));
    assert!(summary(&run).contains("nothing changed"), "{}", run.stdout);
    let catalog =
        String::from_utf8_lossy(&bucket(&garage)["kill12/com.acme.app/index.html"]).into_owned();
    for build in ["1.0-1/", "1.1-2/", "1.2-3/"] {
        assert!(catalog.contains(build), "{build}: {catalog}");
    }
}

#[test]
#[cfg_attr(
    not(have_garage),
    ignore = "needs garage on PATH or in ~/.cargo/bin (cargo install garage --locked)"
)]
fn bad_credentials_a_missing_bucket_or_no_store_fail_naming_the_target() {
    let garage = Garage::start();
    let site = runner(&garage);
    add_build(&site, "1.0", "1", 0);
    deploy(&site, &garage, &[]).assert_ok();
    let before = bucket(&garage);
    std::fs::remove_dir_all(site.path("releases/1.0")).expect("remove");
    add_build(&site, "1.1", "2", 0);

    let mut wrong = relsite();
    wrong
        .args(["deploy", "--base-url", &garage.base_url(), "--root"])
        .arg(site.root())
        .env("AWS_ACCESS_KEY_ID", &garage.key_id)
        .env("AWS_SECRET_ACCESS_KEY", "0".repeat(64));
    let run = Run::from(wrong.output().expect("run"));
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("error: s3://localhost"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("nothing was deleted"), "{}", run.stderr);
    assert_eq!(bucket(&garage), before, "nothing changed in the bucket");

    for (yaml, what) in [
        (
            format!(
                "deploy:\n  url: s3://no-such-bucket/\n  endpoint: {}\n  region: garage\n",
                garage.endpoint
            ),
            "s3://no-such-bucket/",
        ),
        (
            format!(
                "deploy:\n  url: s3://localhost/\n  endpoint: http://127.0.0.1:{}\n  region: garage\n",
                std::net::TcpListener::bind("127.0.0.1:0")
                    .expect("port")
                    .local_addr()
                    .expect("addr")
                    .port()
            ),
            "s3://localhost/",
        ),
    ] {
        site.config(&format!(
            "title: T\nbase_url: https://apps.example.com/\n{yaml}"
        ));
        let started = std::time::Instant::now();
        let run = deploy(&site, &garage, &[]);
        assert_eq!(run.code, 1, "{}", run.stderr);
        assert!(
            run.stderr.contains(&format!("error: {what}")),
            "{}",
            run.stderr
        );
        assert!(
            started.elapsed() < std::time::Duration::from_secs(60),
            "gave up after {:?}",
            started.elapsed()
        );
    }
    assert_eq!(bucket(&garage), before, "nothing changed in the bucket");
}

#[test]
#[cfg_attr(
    not(have_garage),
    ignore = "needs garage on PATH or in ~/.cargo/bin (cargo install garage --locked)"
)]
fn runners_keep_an_unlisted_channel_on_its_secret_page_only() {
    let garage = Garage::start();
    let secret = "9f1c2e7a4b8d0f3165a7c9e2b4d6f8a0";
    let deploy_with_secret = |site: &TestSite| {
        deploy_with(
            site,
            &garage,
            &["--from-published"],
            &[("RELSITE_SECRET", secret)],
        )
    };
    let unlisted_runner = || {
        let site = runner(&garage);
        let config = site.read("relsite.yaml");
        site.config(&format!("{config}channels:\n  qa:\n    unlisted: true\n"));
        site
    };
    let signed = |site: &TestSite, version: &str, build: &str| {
        let ipa = IpaBuilder::new("App", "com.acme.app", version, build).signed();
        site.ipa(&format!("releases/{version}/App.ipa"), &ipa);
    };
    let a = unlisted_runner();
    signed(&a, "1.0", "1");
    signed(&a, "1.1", "2");
    a.file("releases/1.1/App.yaml", b"channel: qa\n");
    deploy_with_secret(&a).assert_ok();
    drop(a);
    let b = unlisted_runner();
    signed(&b, "1.2", "3");
    b.file("releases/1.2/App.yaml", b"channel: qa\n");
    deploy_with_secret(&b).assert_ok();

    let bucket = bucket(&garage);
    assert!(!bucket.contains_key("catalog.json"));
    let index: Vec<&String> = bucket
        .keys()
        .filter(|k| k.starts_with("s/") && k.ends_with("/catalog.json"))
        .collect();
    assert_eq!(index.len(), 1, "{:?}", bucket.keys());
    // The share page, from `relsite share`, lists both qa builds; they are on no other page.
    let share = b.run_env(
        &["share", "--base-url", &garage.base_url()],
        &[("RELSITE_SECRET", secret)],
    );
    share.assert_ok();
    let url = share.stdout.trim().strip_prefix("qa ").expect("qa's link");
    let path = url
        .strip_prefix(&garage.base_url())
        .expect("below the base");
    let page = garage.web_get(&format!("/{path}index.html"));
    assert_eq!(page.status, 200);
    let page = String::from_utf8_lossy(&page.body).into_owned();
    let links = install_links(&page);
    assert_eq!(links.len(), 1, "the newest qa build to install: {page}");
    // Its app page below the share lists every build of the channel, with its install link.
    let app = garage.web_get(&format!("/{path}com.acme.app/index.html"));
    assert_eq!(app.status, 200);
    let app = String::from_utf8_lossy(&app.body).into_owned();
    assert!(!app.contains("1.0-1/"), "{app}");
    let mut links = Vec::new();
    for build in ["1.1-2/", "1.2-3/"] {
        assert!(
            app.contains(&format!("com.acme.app/{build}")),
            "{build}: {app}"
        );
        let page = garage.web_get(&format!("/{path}com.acme.app/{build}index.html"));
        assert_eq!(page.status, 200, "{build}");
        links.extend(install_links(&String::from_utf8_lossy(&page.body)));
    }
    links.sort();
    links.dedup();
    assert_eq!(links.len(), 2, "{links:?}");
    for (key, bytes) in &bucket {
        let text = String::from_utf8_lossy(bytes);
        let secret_folder = key.starts_with("s/") || key.starts_with("i/");
        if !secret_folder && key != crate::private::RECORD {
            for version in ["1.1-2", "1.2-3"] {
                assert!(!text.contains(version), "{key} names {version}");
            }
        }
    }
    // What iOS fetches answers; the deployment record, which names every path, must not.
    for link in &links {
        let manifest = manifest_url_of(link);
        let at = manifest
            .strip_prefix(&garage.base_url())
            .expect("below the base");
        assert_eq!(garage.web_get(&format!("/{at}")).status, 200, "{at}");
    }
    let check = b.run_env(
        &["check", "--deployed", "--base-url", &garage.base_url()],
        &[("RELSITE_SECRET", secret)],
    );
    check.assert_fails_with(".relsite-deploy.json: error: answers 200 without a login: the deployment record names every secret path");
    assert_eq!(check.lines_with(": error: ").len(), 1, "{}", check.stderr);
}
