//! `relsite check --deployed` against a site served by nginx over TLS on loopback, with a
//! certificate authority the test makes: one good deployment, one with a wrong content type.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::ipa_builder::IpaBuilder;
use crate::support::*;

/// The nginx binary; panics when there is none.
pub(crate) fn nginx() -> PathBuf {
    ["/usr/sbin/nginx", "/usr/bin/nginx"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
        .expect("nginx is missing: .ci/run installs it")
}

/// A CA and a server certificate for localhost signed by it.
pub(crate) fn certificates(dir: &Path) {
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    let mut ca = vec!["req", "-x509"];
    ca.extend(ec);
    ca.extend([
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=relsite test CA",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
    ]);
    openssl(dir, &ca);
    let mut csr = vec!["req"];
    csr.extend(ec);
    csr.extend([
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        "-subj",
        "/CN=localhost",
    ]);
    openssl(dir, &csr);
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\n",
    )
    .unwrap();
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.pem",
            "-days",
            "2",
            "-extfile",
            "server.ext",
        ],
    );
}

pub(crate) fn check_deployed(site: &TestSite, base: &str, ca: &Path) -> Run {
    site.run(&[
        "check",
        "--deployed",
        "--base-url",
        base,
        "--ca-file",
        ca.to_str().unwrap(),
    ])
}

pub(crate) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub(crate) struct Nginx(Child);

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Serves `root` over TLS on `port`; `plist_type` is the MIME type given to `.plist`, `extra`
/// holds more directives for the server block.
fn serve_with(
    nginx: &Path,
    dir: &Path,
    root: &Path,
    port: u16,
    plist_type: &str,
    extra: &str,
) -> Nginx {
    let http = format!(
        "types {{ text/html html; text/css css; image/png png; image/svg+xml svg; application/json json; {plist_type} plist; application/octet-stream ipa; }}\n\
         default_type application/octet-stream;\n\
         server {{ listen 127.0.0.1:{port} ssl; server_name localhost; ssl_certificate {d}/server.pem; ssl_certificate_key {d}/server.key; root {r}; index index.html; {extra} }}\n",
        d = dir.display(),
        r = root.display(),
    );
    start_nginx(nginx, dir, port, &http)
}

/// Runs nginx with `http` as its `http` block's directives, its files in `dir` (the
/// certificates of [`certificates`] among them), and waits until it listens on `port`.
pub(crate) fn start_nginx(nginx: &Path, dir: &Path, port: u16, http: &str) -> Nginx {
    let conf = format!(
        "daemon off;\nmaster_process off;\nuser root;\npid {d}/nginx.pid;\nerror_log {d}/error.log;\nevents {{}}\n\
         http {{\n  access_log off;\n  client_body_temp_path {d}/body;\n  proxy_temp_path {d}/proxy;\n  fastcgi_temp_path {d}/fastcgi;\n  uwsgi_temp_path {d}/uwsgi;\n  scgi_temp_path {d}/scgi;\n{http}}}\n",
        d = dir.display(),
    );
    std::fs::write(dir.join("nginx.conf"), conf).unwrap();
    let child = Command::new(nginx)
        .arg("-c")
        .arg(dir.join("nginx.conf"))
        .arg("-p")
        .arg(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "nginx did not start: {}",
            std::fs::read_to_string(dir.join("error.log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    Nginx(child)
}

/// A site with the given apps built for `https://localhost:<port>/`, and a CA that signed the
/// certificate nginx will serve it with.
struct Deployment {
    nginx: PathBuf,
    site: TestSite,
    tls: tempfile::TempDir,
    ca: PathBuf,
    port: u16,
    base: String,
}

impl Deployment {
    fn new(apps: &[(&str, &str, &str)]) -> Deployment {
        let nginx = nginx();
        let site = TestSite::new();
        for (id, version, build) in apps {
            site.ipa(
                &format!(
                    "releases/{}/{version}/App.ipa",
                    id.rsplit('.').next().unwrap_or(id)
                ),
                &IpaBuilder::new("App", id, version, build),
            );
        }
        let tls = tempfile::tempdir().unwrap();
        certificates(tls.path());
        let ca = tls.path().join("ca.pem");
        let port = free_port();
        let base = format!("https://localhost:{port}/");
        site.run(&["build", "--base-url", &base]).assert_ok();
        Deployment {
            nginx,
            site,
            tls,
            ca,
            port,
            base,
        }
    }

    fn public(&self) -> PathBuf {
        std::fs::canonicalize(self.site.path("public")).unwrap()
    }

    /// Serves `root` with `.plist` as `plist_type` and `extra` directives in the server block.
    fn serve(&self, root: &Path, plist_type: &str, extra: &str) -> Nginx {
        serve_with(
            &self.nginx,
            self.tls.path(),
            root,
            self.port,
            plist_type,
            extra,
        )
    }

    fn check(&self) -> Run {
        check_deployed(&self.site, &self.base, &self.ca)
    }
}

#[test]
#[cfg_attr(
    not(have_nginx),
    ignore = "needs nginx at /usr/sbin/nginx or /usr/bin/nginx"
)]
fn check_deployed_passes_a_good_deployment_and_names_a_wrong_content_type() {
    let d = Deployment::new(&[("com.acme.a", "1.0", "1"), ("com.acme.b", "2.0", "7")]);
    let base = &d.base;
    let good = d.serve(&d.public(), "text/xml", "");
    let run = d.check();
    run.assert_ok();
    assert!(
        run.stdout.contains(&format!(
            "ok: 2 manifests and their IPAs at {base} answer as iOS needs"
        )),
        "{}",
        run.stdout
    );
    let untrusted = d.site.run(&["check", "--deployed", "--base-url", base]);
    untrusted.assert_fails_with("manifest.plist: error: cannot be fetched");
    drop(good);

    let _bad = d.serve(&d.public(), "application/octet-stream", "");
    let run = d.check();
    run.assert_fails_with(&format!(
        "{base}com.acme.a/1.0-1/manifest.plist: error: header Content-Type is `application/octet-stream`: a manifest must be served as text/xml or application/xml"
    ));
    run.assert_mentions(&[&format!("{base}com.acme.b/2.0-7/manifest.plist")]);
    assert!(
        run.lines_with(".ipa: error").is_empty(),
        "the IPAs are fine: {}",
        run.stderr
    );
}

#[test]
#[cfg_attr(
    not(have_nginx),
    ignore = "needs nginx at /usr/sbin/nginx or /usr/bin/nginx"
)]
fn check_deployed_names_a_manifest_that_is_missing_or_stale() {
    let d = Deployment::new(&[("com.acme.a", "1.0", "1")]);
    let deployed = tempfile::tempdir().unwrap();
    for (path, bytes) in d.site.tree("public") {
        let target = deployed.path().join(&path);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::write(target, bytes).unwrap();
    }
    d.site.ipa(
        "releases/b/B.ipa",
        &IpaBuilder::new("B", "com.acme.b", "2.0", "7"),
    );
    let _server = d.serve(deployed.path(), "text/xml", "");
    let run = d.check();
    run.assert_fails_with(&format!(
        "{}com.acme.b/2.0-7/manifest.plist: error: answers 404 Not Found, not 200",
        d.base
    ));
    assert!(run.lines_with("/com.acme.a/").is_empty(), "{}", run.stderr);
}

#[test]
#[cfg_attr(
    not(have_nginx),
    ignore = "needs nginx at /usr/sbin/nginx or /usr/bin/nginx"
)]
fn check_deployed_copes_with_a_host_that_refuses_head_and_names_a_redirect() {
    let d = Deployment::new(&[("com.acme.a", "1.0", "1"), ("com.acme.b", "2.0", "7")]);
    let _server = d.serve(
        &d.public(),
        "text/xml",
        "if ($request_method = HEAD) { return 405; } location = /com.acme.b/2.0-7/manifest.plist { return 301 /moved.plist; }",
    );
    let run = d.check();
    run.assert_fails_with(&format!(
        "{}com.acme.b/2.0-7/manifest.plist: error: answers 301 Moved Permanently redirecting to",
        d.base
    ));
    assert!(
        run.stderr.contains("so base_url must be the final URL"),
        "{}",
        run.stderr
    );
    assert!(
        run.lines_with(".ipa: error").is_empty(),
        "IPAs checked by a ranged GET: {}",
        run.stderr
    );
    assert!(run.lines_with("/com.acme.a/").is_empty(), "{}", run.stderr);
}

/// A host that takes connections and never answers: a listener nobody accepts from, whose
/// connections the system completes and then leaves waiting.
fn silent_host() -> (TcpListener, String) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!(
        "https://127.0.0.1:{}/",
        listener.local_addr().unwrap().port()
    );
    (listener, base)
}

/// A site of three builds, whose check asks six URLs.
fn three_builds() -> TestSite {
    let site = TestSite::new();
    for (dir, id, version) in [
        ("a", "com.acme.a", "1.0"),
        ("b", "com.acme.b", "2.0"),
        ("c", "com.acme.c", "3.0"),
    ] {
        site.ipa(
            &format!("releases/{dir}/App.ipa"),
            &IpaBuilder::new("App", id, version, "1"),
        );
    }
    site
}

#[test]
fn check_deployed_ends_at_its_deadline_against_a_silent_host() {
    let (_listener, base) = silent_host();
    let site = three_builds();
    let started = Instant::now();
    let run = site.run(&[
        "check",
        "--deployed",
        "--base-url",
        &base,
        "--timeout",
        "60",
        "--deadline",
        "2",
    ]);
    let took = started.elapsed();
    run.assert_fails_with(&format!(
        "error: the check's deadline of 2s passed: 6 requests not checked, from {base}com.acme.a/1.0-1/manifest.plist; set a longer --deadline"
    ));
    assert!(
        took < Duration::from_secs(10),
        "the deadline of 2s held: took {took:?}"
    );
}

#[test]
fn check_deployed_asks_a_silent_host_once() {
    let (_listener, base) = silent_host();
    let site = three_builds();
    let started = Instant::now();
    let run = site.run(&["check", "--deployed", "--base-url", &base, "--timeout", "1"]);
    let took = started.elapsed();
    run.assert_fails_with(&format!(
        "{base}com.acme.a/1.0-1/manifest.plist: error: cannot be fetched: did not answer within 1s"
    ));
    run.assert_fails_with(&format!(
        "{base}: error: 5 more requests not sent: did not answer within 1s; set a longer --timeout if it is only slow"
    ));
    assert_eq!(
        run.lines_with(": error: cannot be fetched").len(),
        1,
        "{}",
        run.stderr
    );
    assert!(
        took < Duration::from_secs(4),
        "one timeout of 1s, not six: took {took:?}"
    );
}
