//! `relsite check --deployed`: fetch what iOS will fetch from the live site, the way iOS does
//! (HTTPS, no redirects followed), and check every manifest and IPA against the local build.
//!
//! A host may be slow, silent or gone: each request has [`Limits::timeout`] to be answered in
//! full, a host that lets one run out is asked nothing more, and the whole check ends at
//! [`Limits::deadline`]. What was not asked is reported, so such a run fails.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use ureq::Agent;
use ureq::tls::{PemItem, RootCerts, TlsConfig};

use crate::catalog::Build;
use crate::cmd::Failure;
use crate::diag::{Diagnostic, Diagnostics};
use crate::manifest::Manifest;
use crate::pipeline::Prepared;
use crate::ui::{Ui, plural};

/// How long one request may take, by default: to connect, send, and receive the whole answer.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// How long the whole check may take, by default.
pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(600);

/// How long the check may wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// For one request, answer included.
    pub timeout: Duration,
    /// For every request together.
    pub deadline: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            timeout: DEFAULT_TIMEOUT,
            deadline: DEFAULT_DEADLINE,
        }
    }
}

/// Checks every build's manifest and IPA at their URLs, within `limits`.
pub fn run(
    prepared: &Prepared,
    ca_file: Option<&Path>,
    limits: Limits,
    ui: &Ui,
) -> Result<(), Failure> {
    let mut asker = Asker::new(agent(ca_file).map_err(Failure::found)?, limits);
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
        crate::ui::progress_message(&bar, manifest.as_str());
        problems.extend(check_manifest(
            &mut asker,
            build,
            manifest.as_str(),
            ipa.as_str(),
        ));
        problems.extend(check_ipa(&mut asker, build, ipa.as_str(), ipa_key));
        bar.inc(1);
    }
    bar.finish_and_clear();
    problems.extend(asker.unasked());
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

/// Sends the check's requests within its limits, and keeps count of what it did not send.
struct Asker {
    agent: Agent,
    limits: Limits,
    /// When the deadline passes.
    end: Instant,
    /// Hosts that could not be reached or let a request's time run out, by origin
    /// (`https://host:port`).
    silent: BTreeMap<String, Silent>,
    /// URLs not asked because the deadline had passed.
    late: Vec<String>,
}

impl Asker {
    fn new(agent: Agent, limits: Limits) -> Asker {
        Asker {
            agent,
            limits,
            end: Instant::now() + limits.deadline,
            silent: BTreeMap::new(),
            late: Vec::new(),
        }
    }

    /// Sends a request for `url`, with the time it may take: the timeout, or what is left
    /// before the deadline. `None` when it was not sent (its host is silent, or the deadline
    /// passed), or when the deadline cut it short; it is then counted for [`Asker::unasked`].
    /// A request that fails says why.
    fn send(
        &mut self,
        url: &str,
        ask: Ask,
    ) -> Option<Result<ureq::http::Response<ureq::Body>, String>> {
        let origin = origin_of(url);
        if let Some(silent) = self.silent.get_mut(&origin) {
            silent.skipped += 1;
            return None;
        }
        let left = self.end.saturating_duration_since(Instant::now());
        if left.is_zero() {
            self.late.push(url.to_string());
            return None;
        }
        let time = left.min(self.limits.timeout);
        let request = match ask {
            Ask::Get => self.agent.get(url),
            Ask::Head => self.agent.head(url),
            Ask::FirstByte => self.agent.get(url).header("Range", "bytes=0-0"),
        };
        let sent = request.config().timeout_global(Some(time)).build().call();
        match sent {
            Err(e) if is_timeout(&e) && time < self.limits.timeout => {
                self.late.push(url.to_string());
                None
            }
            Err(e) if is_timeout(&e) => {
                let why = format!("did not answer within {}s", time.as_secs_f64());
                let message = format!("{why} ({e})");
                let advice = "; set a longer --timeout if it is only slow";
                self.silent
                    .insert(origin, Silent::new(format!("{why}{advice}")));
                Some(Err(message))
            }
            Err(e @ (ureq::Error::ConnectionFailed | ureq::Error::HostNotFound)) => {
                let why = format!("could not be reached ({e})");
                self.silent.insert(origin, Silent::new(why));
                Some(Err(e.to_string()))
            }
            other => Some(other.map_err(|e| e.to_string())),
        }
    }

    /// What was not asked: one error per silent host that was asked no more, one for what the
    /// deadline left.
    fn unasked(&self) -> Vec<Diagnostic> {
        let seconds = |d: Duration| d.as_secs_f64();
        let mut problems: Vec<Diagnostic> = self
            .silent
            .iter()
            .filter(|(_, silent)| silent.skipped > 0)
            .map(|(origin, silent)| {
                Diagnostic::error(
                    PathBuf::from(format!("{origin}/")),
                    format!(
                        "{} not sent: {}",
                        plural(silent.skipped, "more request"),
                        silent.why
                    ),
                )
            })
            .collect();
        if let Some(first) = self.late.first() {
            problems.push(Diagnostic::error(
                None,
                format!(
                    "the check's deadline of {}s passed: {} not checked, from {first}; set a longer --deadline for a large catalog or a slow host",
                    seconds(self.limits.deadline),
                    plural(self.late.len(), "request"),
                ),
            ));
        }
        problems
    }
}

/// A host asked nothing more.
struct Silent {
    /// What happened, with advice: `did not answer within 10s`.
    why: String,
    /// Requests to it not sent since.
    skipped: usize,
}

impl Silent {
    fn new(why: String) -> Silent {
        Silent { why, skipped: 0 }
    }
}

/// Whether an error means the request's time ran out.
fn is_timeout(e: &ureq::Error) -> bool {
    match e {
        ureq::Error::Timeout(_) => true,
        ureq::Error::Io(io) => matches!(
            io.kind(),
            std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock
        ),
        _ => false,
    }
}

/// `https://host:port` of a URL, where one host's requests are counted.
fn origin_of(url: &str) -> String {
    url::Url::parse(url)
        .map(|u| u.origin().ascii_serialization())
        .unwrap_or_else(|_| url.to_string())
}

/// An HTTPS client that follows no redirect (iOS does not, reliably) and trusts the web's
/// public roots, or only the given CA. Each request gets its own time limit from [`Asker`].
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
        .timeout_global(Some(DEFAULT_TIMEOUT))
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

/// Sends the request; a response is returned only when it is a plain success, `Ok(None)` when
/// it was not sent (see [`Asker::send`]). `key` is the setting the URL is built on, named in
/// advice about redirects.
fn fetch(
    asker: &mut Asker,
    url: &str,
    ask: Ask,
    key: &str,
) -> Result<Option<ureq::http::Response<ureq::Body>>, Diagnostic> {
    match asker.send(url, ask) {
        Some(sent) => answered(url, sent, key).map(Some),
        None => Ok(None),
    }
}

/// The response to a request for `url`, when it is a plain success.
fn answered(
    url: &str,
    sent: Result<ureq::http::Response<ureq::Body>, String>,
    key: &str,
) -> Result<ureq::http::Response<ureq::Body>, Diagnostic> {
    let response = sent.map_err(|e| {
        let hint = if e.to_lowercase().contains("certificate") {
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
fn check_manifest(asker: &mut Asker, build: &Build, url: &str, ipa_url: &str) -> Vec<Diagnostic> {
    let mut response = match fetch(asker, url, Ask::Get, "base_url") {
        Ok(Some(response)) => response,
        Ok(None) => return Vec::new(),
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
    if **id != *build.bundle_id {
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
fn check_ipa(asker: &mut Asker, build: &Build, url: &str, key: &str) -> Vec<Diagnostic> {
    // iOS downloads with GET; a host that refuses HEAD is asked for the first byte instead.
    let head_refused =
        |r: &ureq::http::Response<ureq::Body>| matches!(r.status().as_u16(), 403 | 405 | 501);
    let response = match asker.send(url, Ask::Head) {
        Some(Ok(r)) if head_refused(&r) => fetch(asker, url, Ask::FirstByte, key),
        Some(sent) => answered(url, sent, key).map(Some),
        None => Ok(None),
    };
    let response = match response {
        Ok(Some(response)) => response,
        Ok(None) => return Vec::new(),
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
