//! Private catalogs (`private: true`): install files under secret paths derived from the site
//! secret, stable from build to build, all moved by a new secret, and never named by a file
//! served without a login.

use std::collections::BTreeMap;
use std::path::Path;

use crate::ipa_builder::IpaBuilder;
use crate::support::*;

/// The deployment record `relsite deploy` keeps in its target.
pub const RECORD: &str = ".relsite-deploy.json";

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
    // A site that needs no secret says it does not read one.
    let config = site.read("relsite.yaml").replace("private: true\n", "");
    site.config(&config);
    let run = site.build();
    run.assert_ok();
    let said = run.lines_with("`secret_file` is set, but the site needs no secret");
    assert_eq!(said.len(), 1, "{}", run.stderr);
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

    let run = site.run_env(&["build", "--verbose"], &[("RELSITE_SECRET", SECRET)]);
    run.assert_ok();
    let said = format!("{}{}", run.stdout, run.stderr);
    assert!(said.contains("planned 0 of 2 parts of apps"), "{said}");
    assert_eq!(site.tree("public"), first, "a second build changes nothing");

    let run = site.run_env(&["build", "--verbose"], &[("RELSITE_SECRET", OTHER_SECRET)]);
    run.assert_ok();
    let said = format!("{}{}", run.stdout, run.stderr);
    assert!(said.contains("planned 2 of 2 parts of apps"), "{said}");
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
    .assert_fails_with("error: RELSITE_NETLIFY_BASIC_AUTH: login 1 of 1 is not `user:password`");
}

/// The README's nginx server block for private catalogs, set up as its reader would for this
/// machine: its port, certificate, output folder and password file.
fn readme_nginx_server(port: u16, tls: &Path, root: &Path, htpasswd: &Path) -> String {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README.md");
    let blocks: Vec<&str> = readme
        .split("```nginx\n")
        .skip(1)
        .map(|rest| rest.split("```").next().unwrap_or_default())
        .collect();
    assert_eq!(blocks.len(), 1, "one nginx block in the README");
    let mut server = blocks[0].to_string();
    for (from, to) in [
        ("listen 443 ssl;", format!("listen 127.0.0.1:{port} ssl;")),
        (
            "server_name catalog.example.com;",
            "server_name localhost;".to_string(),
        ),
        (
            "/etc/ssl/catalog.example.com.pem",
            tls.join("server.pem").display().to_string(),
        ),
        (
            "/etc/ssl/catalog.example.com.key",
            tls.join("server.key").display().to_string(),
        ),
        ("/srv/catalog/public", root.display().to_string()),
        (
            "/etc/nginx/catalog.htpasswd",
            htpasswd.display().to_string(),
        ),
    ] {
        assert_eq!(server.matches(from).count(), 1, "{from} in\n{server}");
        server = server.replace(from, &to);
    }
    server
}

/// An HTTPS client that trusts only the test's CA, follows no redirect and keeps no cookie.
fn device(ca: &Path) -> ureq::Agent {
    let pem = std::fs::read(ca).unwrap();
    let certs: Vec<_> = ureq::tls::parse_pem(&pem)
        .filter_map(|item| match item {
            Ok(ureq::tls::PemItem::Certificate(cert)) => Some(cert.to_owned()),
            _ => None,
        })
        .collect();
    ureq::Agent::config_builder()
        .max_redirects(0)
        .http_status_as_error(false)
        .tls_config(
            ureq::tls::TlsConfig::builder()
                .root_certs(ureq::tls::RootCerts::new_with_certs(&certs))
                .build(),
        )
        .build()
        .new_agent()
}

/// Basic credentials: `tester:s3cret`, and a wrong password.
const LOGIN: &str = "dGVzdGVyOnMzY3JldA==";
const WRONG_LOGIN: &str = "dGVzdGVyOndyb25n";

/// Status, content type and body of a GET of `url`, with `login` (base64) as Basic credentials.
fn get(agent: &ureq::Agent, url: &str, login: Option<&str>) -> (u16, String, Vec<u8>) {
    let mut request = agent.get(url);
    if let Some(login) = login {
        request = request.header("Authorization", format!("Basic {login}"));
    }
    let mut response = request.call().unwrap_or_else(|e| panic!("{url}: {e}"));
    let kind = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let body = response
        .body_mut()
        .with_config()
        .limit(1 << 30)
        .read_to_vec()
        .unwrap();
    (response.status().as_u16(), kind, body)
}

#[test]
fn nginx_serves_install_files_to_devices_and_pages_only_with_a_login() {
    let nginx = crate::deployed::nginx();
    // Three builds, and one in an unlisted channel on its share page.
    let site = private_site();
    let config = site.read("relsite.yaml");
    site.config(&format!("{config}channels:\n  qa:\n    unlisted: true\n"));
    site.ipa(
        "releases/ledger/2.1/Ledger.ipa",
        &IpaBuilder::new("Ledger", "com.acme.ledger", "2.1", "8").signed(),
    );
    site.file("releases/ledger/2.1/Ledger.yaml", b"channel: qa\n");
    let tls = tempfile::tempdir().unwrap();
    crate::deployed::certificates(tls.path());
    let ca = tls.path().join("ca.pem");
    let port = crate::deployed::free_port();
    let base = format!("https://localhost:{port}/");
    site.run_env(
        &["build", "--base-url", &base],
        &[("RELSITE_SECRET", SECRET)],
    )
    .assert_ok();
    let hash = std::process::Command::new("openssl")
        .args(["passwd", "-apr1", "-salt", "relsite1", "s3cret"])
        .output()
        .expect("openssl");
    let htpasswd = tls.path().join("catalog.htpasswd");
    std::fs::write(
        &htpasswd,
        format!("tester:{}", String::from_utf8_lossy(&hash.stdout)),
    )
    .unwrap();
    let root = std::fs::canonicalize(site.path("public")).unwrap();
    let server = readme_nginx_server(port, tls.path(), &root, &htpasswd);
    let http = |server: &str| {
        format!(
            "types {{ text/html html; text/css css; image/svg+xml svg; application/json json; text/xml xml; image/png png; }}\ndefault_type application/octet-stream;\n{server}"
        )
    };
    let served = crate::deployed::start_nginx(&nginx, tls.path(), port, &http(&server));
    let agent = device(&ca);
    let login = Some(LOGIN);
    let output = site.tree("public");
    let tokens = tokens_in_paths(&output);

    // Without credentials, every file but the open ones is refused, pages by their folders too.
    let mut refused = 0;
    for path in output.keys().filter(|p| !is_open(p)) {
        let mut urls = vec![format!("{base}{path}")];
        if let Some(folder) = path.strip_suffix("index.html") {
            urls.push(format!("{base}{folder}"));
        }
        for url in urls {
            let (status, ..) = get(&agent, &url, None);
            assert_eq!(status, 401, "{url}");
            let (status, ..) = get(&agent, &url, Some(WRONG_LOGIN));
            assert_eq!(status, 401, "{url} with a wrong password");
            refused += 1;
        }
    }
    assert!(refused > 20, "{refused}");
    let (status, _, page) = get(&agent, &base, login);
    assert_eq!(status, 200);
    assert!(
        String::from_utf8_lossy(&page).contains(r#"<meta name="referrer" content="no-referrer">"#)
    );
    let response = agent.get(&base).call().unwrap();
    assert_eq!(
        response
            .headers()
            .get("referrer-policy")
            .map(|v| v.to_str().unwrap()),
        Some("no-referrer")
    );

    // A device, without credentials or cookies, gets each manifest and its IPA and icons.
    let manifests: Vec<&String> = output
        .keys()
        .filter(|p| p.starts_with("i/") && p.ends_with("/manifest.plist"))
        .collect();
    assert_eq!(manifests.len(), 4);
    for manifest in manifests {
        let (status, kind, bytes) = get(&agent, &format!("{base}{manifest}"), None);
        assert_eq!((status, kind.as_str()), (200, "text/xml"), "{manifest}");
        assert_eq!(bytes, output[manifest]);
        let (.., ipa_url) = manifest_facts(&bytes);
        let ipa = ipa_url.strip_prefix(&base).expect("below the base URL");
        let (status, kind, bytes) = get(&agent, &ipa_url, None);
        assert_eq!(
            (status, kind.as_str()),
            (200, "application/octet-stream"),
            "{ipa}"
        );
        assert_eq!(bytes, output[ipa]);
        let folder = manifest.trim_end_matches("manifest.plist");
        for icon in ["icon-57.png", "icon-512.png"] {
            let (status, kind, _) = get(&agent, &format!("{base}{folder}{icon}"), None);
            assert_eq!(
                (status, kind.as_str()),
                (200, "image/png"),
                "{folder}{icon}"
            );
        }
        // A guessed or cut path is not found, and the folder is not listed.
        let token = folder.trim_start_matches("i/").trim_end_matches('/');
        for guess in [
            format!("i/{}/manifest.plist", &token[..31]),
            format!(
                "i/{}0/manifest.plist",
                &token[..31].replace(|c: char| c != '0', "1")
            ),
            format!("i/{}/manifest.plist", "0123456789abcdef".repeat(2)),
        ] {
            let (status, ..) = get(&agent, &format!("{base}{guess}"), None);
            assert_eq!(status, 404, "{guess}");
        }
        let (status, ..) = get(&agent, &format!("{base}{folder}"), None);
        assert_ne!(status, 200, "{folder} lists its files");
    }
    let (status, ..) = get(&agent, &format!("{base}i/"), None);
    assert_ne!(status, 200, "i/ lists its folders");
    for open in ["robots.txt", "404.html"] {
        let (status, _, bytes) = get(&agent, &format!("{base}{open}"), None);
        assert_eq!(status, 200, "{open}");
        for token in &tokens {
            assert!(
                !String::from_utf8_lossy(&bytes).contains(token.as_str()),
                "{open}"
            );
        }
    }

    // check --deployed agrees, and fails once the pages are served without a login.
    let check = || {
        let ca = ca.to_str().unwrap();
        let args = ["check", "--deployed", "--base-url", &base, "--ca-file", ca];
        site.run_env(&args, &[("RELSITE_SECRET", SECRET)])
    };
    let run = check();
    run.assert_ok();
    assert!(
        run.stdout
            .contains("pages and feeds refuse without a login"),
        "{}",
        run.stdout
    );
    let share = share_page(&site);
    let (status, _, page) = get(&agent, &format!("{base}{share}"), login);
    assert_eq!(status, 200);
    assert!(String::from_utf8_lossy(&page).contains("com.acme.ledger/"));
    drop(served);
    // Served without the login, every page fails the check, the share page too.
    let open_server = server.replace("auth_basic \"Catalog\";", "auth_basic off;");
    assert_ne!(open_server, server);
    let served = crate::deployed::start_nginx(&nginx, tls.path(), port, &http(&open_server));
    let run = check();
    run.assert_fails_with("answers 200 without a login");
    let share_dir = share.trim_end_matches("index.html");
    let shown = format!(
        "/s/{}…/: error: answers 200 without a login",
        &share_dir[2..8]
    );
    assert!(run.stderr.contains(&shown), "{shown}:\n{}", run.stderr);
    drop(served);
    // Icons served as another type fail it too.
    let jpeg = server.replace("image/png png;", "image/jpeg png;");
    assert_ne!(jpeg, server);
    let _served = crate::deployed::start_nginx(&nginx, tls.path(), port, &http(&jpeg));
    check().assert_fails_with("/icon-57.png: error: header Content-Type is `image/jpeg`: an icon must be served as image/png");
}

/// A site whose channel `qa` is unlisted: Field 1.0 (1) in `stable`, Field 1.1 (2) and
/// Ledger 2.0 (7) in `qa`; private or not.
fn unlisted_site(private: bool) -> TestSite {
    let site = TestSite::new();
    site.config(&format!(
        "title: Shared\nbase_url: {BASE_URL}\nprivate: {private}\nchannels:\n  QA:\n    unlisted: true\n"
    ));
    for (dir, name, id, version, build, channel) in [
        ("field/1.0", "Field", "com.acme.field", "1.0", "1", "stable"),
        ("field/1.1", "Field", "com.acme.field", "1.1", "2", "qa"),
        ("ledger/2.0", "Ledger", "com.acme.ledger", "2.0", "7", "qa"),
    ] {
        site.ipa(
            &format!("releases/{dir}/{name}.ipa"),
            &IpaBuilder::new(name, id, version, build).signed(),
        );
        site.file(
            &format!("releases/{dir}/notes.yaml"),
            format!("channel: {channel}\nnotes: Build {version}\n").as_bytes(),
        );
    }
    site
}

/// The share page's path, from `relsite share`.
fn share_page(site: &TestSite) -> String {
    let run = site.run_env(&["share"], &[("RELSITE_SECRET", SECRET)]);
    run.assert_ok();
    let line = run.stdout.trim();
    let (_, url) = line.rsplit_once(' ').unwrap_or_else(|| panic!("{line}"));
    format!("{}index.html", site_path(url))
}

fn unlisted_builds_are_only_on_their_secret_page(private: bool) {
    let site = unlisted_site(private);
    site.run_env(&["build"], &[("RELSITE_SECRET", SECRET)])
        .assert_ok();
    let output = site.tree("public");
    let share = share_page(&site);
    assert!(output.contains_key(&share), "{share}: {:?}", output.keys());
    let share_dir = share.trim_end_matches("index.html").to_string();
    let page = String::from_utf8(output[&share].clone()).unwrap();
    let mut links = install_links(&page);
    links.sort();
    links.dedup();
    assert_eq!(links.len(), 2, "{page}");
    // Each unlisted build's install folder, named by its manifest.
    let mut secret_folders = vec![share_dir.clone()];
    for link in &links {
        let manifest = site_path(&manifest_url_of(link));
        assert!(manifest.starts_with("i/"), "{manifest}");
        let (id, ..) = manifest_facts(&output[&manifest]);
        assert!(id == "com.acme.field" || id == "com.acme.ledger", "{id}");
        secret_folders.push(manifest.trim_end_matches("manifest.plist").to_string());
    }
    let index = output
        .keys()
        .find(|p| p.starts_with("s/") && p.ends_with("/catalog.json"))
        .expect("an index")
        .clone();
    secret_folders.push(index.trim_end_matches("catalog.json").to_string());
    assert!(!output.contains_key("catalog.json"));
    let secret = |path: &str| secret_folders.iter().any(|f| path.starts_with(f.as_str()));
    // Outside the secret folders, nothing names the unlisted builds or their folders.
    let tokens: Vec<String> = secret_folders
        .iter()
        .filter_map(|f| f.split('/').nth(1).map(str::to_string))
        .collect();
    for needle in ["1.1-2", "2.0-7", "Build 1.1", "Build 2.0"]
        .into_iter()
        .map(str::to_string)
        .chain(tokens)
    {
        let naming: Vec<String> = files_naming(&output, &needle)
            .into_iter()
            .filter(|p| !secret(p))
            .collect();
        assert!(naming.is_empty(), "{needle} in {naming:?}");
    }
    assert!(
        !output
            .keys()
            .any(|p| p.contains("/latest/qa/") && !secret(p))
    );
    assert!(!output.keys().any(|p| p.starts_with("com.acme.ledger/")));
    // The listed build stays where it is, with its install files beside its page unless the
    // site is private.
    let listed = "com.acme.field/1.0-1/manifest.plist";
    assert_eq!(output.contains_key(listed), !private, "{listed}");
    let catalog = String::from_utf8(output["index.html"].clone()).unwrap();
    assert!(catalog.contains("com.acme.field/"), "{catalog}");
    assert!(!catalog.contains("Ledger"), "{catalog}");
    // The share page's apps have pages of their own below it.
    assert!(output.contains_key(&format!("{share_dir}com.acme.ledger/2.0-7/index.html")));
    assert!(output.contains_key(&format!("{share_dir}com.acme.field/latest/qa/index.html")));
}

#[test]
fn an_unlisted_channel_is_only_on_its_secret_page() {
    unlisted_builds_are_only_on_their_secret_page(false);
}

#[test]
fn an_unlisted_channel_of_a_private_site_is_only_on_its_secret_page() {
    unlisted_builds_are_only_on_their_secret_page(true);
}

#[test]
fn an_unlisted_channel_needs_a_secret() {
    let site = unlisted_site(false);
    site.build().assert_fails_with(
        "relsite.yaml: error: channel `QA` is unlisted and needs a secret for its page's path: set RELSITE_SECRET",
    );
    assert!(!site.path("public").exists());
    site.run(&["share"])
        .assert_fails_with("channel `QA` is unlisted and needs a secret");
}

/// [`private_site`] with a `deploy` target in `target`.
fn deploying_private_site(target: &Path) -> TestSite {
    let site = private_site();
    let config = site.read("relsite.yaml");
    site.config(&format!(
        "{config}deploy:\n  url: file://{}/site\n",
        target.display()
    ));
    site
}

#[test]
fn a_private_deploy_keeps_every_build_from_a_runner_and_a_new_secret_moves_every_path() {
    let target = tempfile::tempdir().unwrap();
    let store = target.path().join("site");
    let site = deploying_private_site(target.path());
    let secret = [("RELSITE_SECRET", SECRET)];
    let run = site.run_env(&["deploy"], &secret);
    run.assert_ok();
    let published = crate::deploy::objects(&store);
    let tokens = tokens_in_paths(&published);
    assert_eq!(tokens, tokens_in_paths(&site.tree("public")));
    assert_eq!(tokens.len(), 4);
    assert!(!published.contains_key("catalog.json"));
    for token in &tokens {
        assert!(
            !run.stdout.contains(token.as_str()),
            "{token} in the log:\n{}",
            run.stdout
        );
        assert!(!run.stderr.contains(token.as_str()), "{token} in the log");
    }
    // The log names each install folder by its token's first digits only.
    let manifests = published
        .keys()
        .filter(|p| p.starts_with("i/") && p.ends_with("/manifest.plist"));
    for manifest in manifests {
        let shown = format!("uploaded i/{}…/manifest.plist", &manifest[2..8]);
        assert!(run.stdout.contains(&shown), "{shown}:\n{}", run.stdout);
    }

    // A runner that holds only a new build keeps every published one, from the secret index.
    let runner = TestSite::new();
    runner.config(&site.read("relsite.yaml"));
    runner.ipa(
        "releases/field/1.2/Field.ipa",
        &IpaBuilder::new("Field", "com.acme.field", "1.2", "3").signed(),
    );
    runner
        .run_env(&["deploy", "--from-published"], &secret)
        .assert_ok();
    let with_new = crate::deploy::objects(&store);
    let new_tokens = tokens_in_paths(&with_new);
    assert_eq!(new_tokens.len(), 5, "{new_tokens:?}");
    assert!(
        tokens.iter().all(|t| new_tokens.contains(t)),
        "{new_tokens:?}"
    );
    for ipa in ["field.ipa", "ledger.ipa"] {
        let kept = published.keys().filter(|p| p.ends_with(ipa)).count();
        assert_eq!(
            with_new.keys().filter(|p| p.ends_with(ipa)).count(),
            kept + usize::from(ipa == "field.ipa")
        );
    }

    // A runner cannot move published IPAs it does not hold: a new secret there is refused.
    runner
        .run_env(
            &["deploy", "--from-published"],
            &[("RELSITE_SECRET", OTHER_SECRET)],
        )
        .assert_fails_with("and the site secret as they were");
    assert_eq!(crate::deploy::objects(&store), with_new);

    // From a folder holding every build, a new secret moves every path and leaves no old one.
    site.ipa(
        "releases/field/1.2/Field.ipa",
        &IpaBuilder::new("Field", "com.acme.field", "1.2", "3").signed(),
    );
    site.run_env(&["deploy"], &[("RELSITE_SECRET", OTHER_SECRET)])
        .assert_ok();
    let rotated = crate::deploy::objects(&store);
    let rotated_tokens = tokens_in_paths(&rotated);
    assert_eq!(rotated_tokens.len(), 5, "{rotated_tokens:?}");
    for token in &new_tokens {
        assert!(!rotated_tokens.contains(token), "{token} kept");
        let naming = files_naming(&rotated, token);
        assert!(naming.is_empty(), "{token} still in {naming:?}");
    }
}

#[test]
fn build_from_published_finds_the_index_a_secret_moved_and_refuses_what_would_move() {
    let config = "title: Pages\nbase_url: https://apps.example.com/\nipa_base_url: https://cdn.example.com/ipas/\n";
    let with_unlisted = format!("{config}channels:\n  qa:\n    unlisted: true\n");
    let runner = |config: &str, version: &str, build: &str, channel: &str| {
        let site = TestSite::new();
        site.config(config);
        site.ipa(
            &format!("releases/{version}/App.ipa"),
            &IpaBuilder::new("App", "com.acme.app", version, build).signed(),
        );
        site.file(
            &format!("releases/{version}/App.yaml"),
            format!("channel: {channel}\n").as_bytes(),
        );
        site
    };
    let build = |site: &TestSite, base: &str, secret: &str| {
        site.run_env(
            &["build", "--from-published", "--base-url", base],
            &[("RELSITE_SECRET", secret)],
        )
    };
    // Published before the site had a secret: its index is at the root.
    let a = runner(config, "1.0", "1", "stable");
    a.build().assert_ok();
    let served = crate::deploy::Served::new(&a.path("public"));

    // A runner that adds an unlisted channel keeps the published build, from the old index.
    let b = runner(&with_unlisted, "1.1", "2", "qa");
    build(&b, &served.base, SECRET).assert_ok();
    let output = b.tree("public");
    assert!(output.contains_key("com.acme.app/1.0-1/manifest.plist"));
    assert!(!output.contains_key("catalog.json"));
    let index = output
        .iter()
        .find(|(p, _)| p.starts_with("s/") && p.ends_with("/catalog.json"))
        .map(|(_, bytes)| String::from_utf8_lossy(bytes).into_owned())
        .expect("the secret index");
    assert!(index.contains("releases/1.0/App.ipa") && index.contains("releases/1.1/App.ipa"));
    drop(served);
    let served = crate::deploy::Served::new(&b.path("public"));

    // With another secret the index is nowhere: the runner stops instead of dropping builds.
    let c = runner(&with_unlisted, "1.2", "3", "qa");
    build(&c, &served.base, OTHER_SECRET)
        .assert_fails_with("error: serves a catalog relsite made, but no catalog index at s/")
        .assert_fails_with("the site secret changed");
    // Without its unlisted channel the site has no secret, and its index is at the root again,
    // where there is none yet: refused too, as the secret index is what holds the builds.
    let e = runner(config, "1.2", "3", "stable");
    e.run(&["build", "--from-published", "--base-url", &served.base])
        .assert_fails_with(
            "error: serves a catalog relsite made, but no catalog index at catalog.json",
        );
    assert!(!e.path("public").exists());
    // Unlisting a published channel would move its builds' files: refused, naming the build.
    let moved =
        format!("{config}channels:\n  stable:\n    unlisted: true\n  qa:\n    unlisted: true\n");
    let d = runner(&moved, "1.3", "4", "qa");
    build(&d, &served.base, SECRET).assert_fails_with(
        "error: releases/1.0/App.ipa of com.acme.app is published in com.acme.app/1.0-1/, and would now be in i/",
    );
    assert!(!d.path("public").exists(), "nothing was written");
}

#[test]
fn an_indexed_site_keeps_search_engines_out_of_its_secret_folders() {
    let site = unlisted_site(false);
    let config = site.read("relsite.yaml");
    site.config(&format!("{config}public: true\n"));
    site.run_env(&["build"], &[("RELSITE_SECRET", SECRET)])
        .assert_ok();
    let noindex = r#"<meta name="robots" content="noindex, nofollow">"#;
    assert!(!site.read("public/index.html").contains(noindex));
    assert!(
        !site
            .read("public/com.acme.field/index.html")
            .contains(noindex)
    );
    let share = share_page(&site);
    assert!(site.read(&format!("public/{share}")).contains(noindex));
    let share_dir = share.trim_end_matches("index.html");
    for page in [
        "com.acme.ledger/index.html",
        "com.acme.ledger/2.0-7/index.html",
    ] {
        let page = site.read(&format!("public/{share_dir}{page}"));
        assert!(page.contains(noindex), "{page}");
    }
    assert_eq!(
        site.read("public/robots.txt"),
        "User-agent: *\nDisallow: /i/\nDisallow: /s/\nAllow: /\n"
    );
    let headers = site.read("public/_headers");
    for folder in ["/i/*", "/s/*"] {
        assert!(
            headers.contains(&format!("\n{folder}\n  X-Robots-Tag: noindex, nofollow\n")),
            "{headers}"
        );
    }
}

#[test]
fn add_refuses_a_channel_written_like_an_unlisted_one() {
    let site = unlisted_site(false);
    let outside = tempfile::tempdir().unwrap();
    let ipa = outside.path().join("Field.ipa");
    std::fs::write(
        &ipa,
        IpaBuilder::new("Field", "com.acme.field", "1.3", "4")
            .signed()
            .build(),
    )
    .unwrap();
    let ipa = ipa.to_str().unwrap();
    let secret = [("RELSITE_SECRET", SECRET)];
    site.run_env(&["add", ipa, "--channel", "Q.A."], &secret)
        .assert_fails_with("is in channel `Q.A.`, which is not the unlisted channel `QA`");
    site.run_env(&["add", ipa, "--channel", "qa"], &secret)
        .assert_ok();
}
