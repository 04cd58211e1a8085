//! `relsite check --deployed`: fetch what iOS will fetch from the live site, the way iOS does
//! (HTTPS, no redirects followed), and check every manifest and IPA against the local build.

use std::path::{Path, PathBuf};
use std::time::Duration;

use ureq::Agent;
use ureq::tls::{PemItem, RootCerts, TlsConfig};

use crate::catalog::Build;
use crate::cmd::Failure;
use crate::diag::{Diagnostic, Diagnostics};
use crate::manifest::Manifest;
use crate::pipeline::Prepared;
use crate::ui::{Ui, plural};

/// Checks every build's manifest and IPA at their URLs.
pub fn run(prepared: &Prepared, ca_file: Option<&Path>, ui: &Ui) -> Result<(), Failure> {
    let agent = agent(ca_file).map_err(Failure::found)?;
    let layout = &prepared.catalog.layout;
    let ipa_key = if prepared.config.ipa_base_url.is_some() {
        "ipa_base_url"
    } else {
        "base_url"
    };
    let bar = ui.progress(prepared.catalog.build_count() as u64, "Checking");
    let mut problems = Diagnostics::default();
    for (app, build) in prepared.catalog.builds() {
        let manifest = layout.manifest(app, build).url;
        let ipa = layout.ipa(app, build).url;
        bar.set_message(manifest.to_string());
        problems.extend(check_manifest(
            &agent,
            build,
            manifest.as_str(),
            ipa.as_str(),
        ));
        problems.extend(check_ipa(&agent, build, ipa.as_str(), ipa_key));
        bar.inc(1);
    }
    bar.finish_and_clear();
    if problems.has_errors() {
        return Err(Failure::found(problems));
    }
    ui.report(&problems);
    ui.status(format!(
        "ok: {} and their IPAs at {} answer as iOS needs",
        plural(prepared.catalog.build_count(), "manifest"),
        layout.base_url()
    ));
    Ok(())
}

/// An HTTPS client that follows no redirect (iOS does not, reliably) and trusts the web's
/// public roots, or only the given CA.
fn agent(ca_file: Option<&Path>) -> Result<Agent, Diagnostic> {
    let roots = match ca_file {
        None => RootCerts::WebPki,
        Some(file) => {
            let pem = crate::fs::read(file)
                .map_err(|e| Diagnostic::error(file.to_path_buf(), e.to_string()))?;
            let certs: Vec<_> = ureq::tls::parse_pem(&pem)
                .filter_map(|item| match item {
                    Ok(PemItem::Certificate(cert)) => Some(cert.to_owned()),
                    _ => None,
                })
                .collect();
            if certs.is_empty() {
                return Err(Diagnostic::error(
                    file.to_path_buf(),
                    "holds no PEM certificate",
                ));
            }
            RootCerts::new_with_certs(&certs)
        }
    };
    Ok(Agent::config_builder()
        .max_redirects(0)
        .max_redirects_will_error(false)
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .tls_config(TlsConfig::builder().root_certs(roots).build())
        .build()
        .new_agent())
}

fn problem(url: &str, message: String) -> Diagnostic {
    Diagnostic::error(PathBuf::from(url), message)
}

/// The first problem of an answer that is not a plain success (200, or 206 to a range).
fn status_problem(
    url: &str,
    response: &ureq::http::Response<ureq::Body>,
    key: &str,
) -> Option<Diagnostic> {
    let status = response.status();
    if status.is_redirection() {
        let to = header(response, "location").unwrap_or_default();
        return Some(problem(
            url,
            format!(
                "answers {status} redirecting to `{to}`: iOS does not follow redirects reliably, so {key} must be the final URL"
            ),
        ));
    }
    (status != 200 && status != 206).then(|| problem(url, format!("answers {status}, not 200")))
}

/// How to ask for a URL.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Ask {
    Get,
    Head,
    /// A GET of the first byte, for hosts that refuse HEAD.
    FirstByte,
}

/// Sends the request; a response is returned only when it is a plain success. `key` is the
/// setting the URL is built on, named in advice about redirects.
fn fetch(
    agent: &Agent,
    url: &str,
    ask: Ask,
    key: &str,
) -> Result<ureq::http::Response<ureq::Body>, Diagnostic> {
    let sent = match ask {
        Ask::Get => agent.get(url).call(),
        Ask::Head => agent.head(url).call(),
        Ask::FirstByte => agent.get(url).header("Range", "bytes=0-0").call(),
    };
    let response = sent.map_err(|e| {
        let hint = if e.to_string().to_lowercase().contains("certificate") {
            " (a site behind a private certificate authority needs --ca-file)"
        } else {
            ""
        };
        problem(url, format!("cannot be fetched: {e}{hint}"))
    })?;
    match status_problem(url, &response, key) {
        Some(d) => Err(d),
        None => Ok(response),
    }
}

/// The Content-Type header as sent, and its media type alone (no parameters), lowercased.
fn media_type(response: &ureq::http::Response<ureq::Body>) -> (String, String) {
    let sent = header(response, "content-type").unwrap_or_default();
    let essence = sent
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    (sent, essence)
}

fn header(response: &ureq::http::Response<ureq::Body>, name: &str) -> Option<String> {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// Checks the manifest at `url` against the build, whose IPA is at `ipa_url`.
fn check_manifest(agent: &Agent, build: &Build, url: &str, ipa_url: &str) -> Vec<Diagnostic> {
    let mut response = match fetch(agent, url, Ask::Get, "base_url") {
        Ok(response) => response,
        Err(d) => return vec![d],
    };
    let mut problems = Vec::new();
    let (content_type, essence) = media_type(&response);
    if essence != "text/xml" && essence != "application/xml" {
        problems.push(problem(url, format!(
            "header Content-Type is `{content_type}`: a manifest must be served as text/xml or application/xml"
        )));
    }
    let body = match response
        .body_mut()
        .with_config()
        .limit(1 << 20)
        .read_to_vec()
    {
        Ok(body) => body,
        Err(e) => {
            problems.push(problem(url, format!("cannot be read: {e}")));
            return problems;
        }
    };
    let manifest = match Manifest::parse(&body) {
        Ok(manifest) => manifest,
        Err(e) => {
            problems.push(problem(
                url,
                format!("is not a manifest property list: {e}"),
            ));
            return problems;
        }
    };
    let Some(item) = manifest.item() else {
        problems.push(problem(url, "is a manifest with no items".into()));
        return problems;
    };
    let (id, version) = (
        &item.metadata.bundle_identifier,
        &item.metadata.bundle_version,
    );
    if *id != build.bundle_id {
        problems.push(problem(
            url,
            format!(
                "names bundle-identifier `{id}`, but the build is `{}`",
                build.bundle_id
            ),
        ));
    }
    if *version != build.version {
        problems.push(problem(
            url,
            format!(
                "names bundle-version `{version}`, but the build is `{}`",
                build.version
            ),
        ));
    }
    match item.package_url() {
        Some(package) if package == ipa_url => {}
        Some(package) => problems.push(problem(
            url,
            format!(
                "points to `{package}`, but the build's IPA is `{ipa_url}`: deploy the current build"
            ),
        )),
        None => problems.push(problem(
            url,
            "names no software-package asset: iOS has no IPA to install".into(),
        )),
    }
    problems
}

/// Checks the IPA at `url`, built on the setting `key`, against the build.
fn check_ipa(agent: &Agent, build: &Build, url: &str, key: &str) -> Vec<Diagnostic> {
    // iOS downloads with GET; a host that refuses HEAD is asked for the first byte instead.
    let head_refused =
        |r: &ureq::http::Response<ureq::Body>| matches!(r.status().as_u16(), 403 | 405 | 501);
    let response = match agent.head(url).call() {
        Ok(r) if head_refused(&r) => fetch(agent, url, Ask::FirstByte, key),
        _ => fetch(agent, url, Ask::Head, key),
    };
    let response = match response {
        Ok(response) => response,
        Err(d) => return vec![d],
    };
    let mut problems = Vec::new();
    let (content_type, essence) = media_type(&response);
    if essence != "application/octet-stream" {
        problems.push(problem(url, format!(
            "header Content-Type is `{content_type}`: an IPA must be served as application/octet-stream"
        )));
    }
    // A ranged answer gives the whole size after the slash of `Content-Range: bytes 0-0/SIZE`.
    let size = match header(&response, "content-range") {
        Some(range) => range.rsplit('/').next().map(str::to_string),
        None => header(&response, "content-length"),
    };
    match size.and_then(|l| l.trim().parse::<u64>().ok()) {
        Some(len) if len == build.package.size => {}
        Some(len) => problems.push(problem(
            url,
            format!(
                "is {len} bytes by its headers, but the IPA has {}: deploy the current build",
                build.package.size
            ),
        )),
        None => problems.push(problem(
            url,
            "has no Content-Length header: iOS shows no progress and may give up".into(),
        )),
    }
    problems
}
