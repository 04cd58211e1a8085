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
use url::Url;

use crate::catalog::{App, Build, Catalog};
use crate::cmd::Failure;
use crate::diag::{Diagnostic, Diagnostics};
use crate::layout::{AppFeed, ICON_SIZES, INSTALL_DIR, Layout, redacted};
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

/// Checks every build's manifest and IPA at their URLs, within `limits`. In a site with a
/// secret, also each build's icons and what must not be served; in a private one, that every
/// page and feed asks for the host's login.
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
    let behind_login = if prepared.config.private {
        login_pages(&prepared.catalog)
    } else {
        Vec::new()
    };
    let count = prepared.catalog.build_count() + behind_login.len();
    let bar = ui.progress(count as u64, "Checking");
    let mut problems = Diagnostics::default();
    for (app, build) in prepared.catalog.builds() {
        let manifest = layout.manifest(app, build).url;
        let ipa = layout.ipa(app, build).url;
        crate::ui::progress_message(&bar, &redacted(manifest.as_str()));
        problems.extend(check_manifest(
            &mut asker,
            build,
            manifest.as_str(),
            ipa.as_str(),
        ));
        problems.extend(check_ipa(&mut asker, build, ipa.as_str(), ipa_key));
        if layout.has_secret() {
            problems.extend(check_icons(&mut asker, layout, app, build));
        }
        bar.inc(1);
    }
    for page in &behind_login {
        crate::ui::progress_message(&bar, &redacted(page.as_str()));
        problems.extend(check_login(&mut asker, page));
        bar.inc(1);
    }
    if layout.has_secret() {
        problems.extend(check_unserved(&mut asker, layout.base_url()));
    }
    bar.finish_and_clear();
    problems.extend(asker.unasked());
    if problems.has_errors() {
        return Err(Failure::found(problems));
    }
    ui.report(&problems);
    let refusing = if prepared.config.private {
        format!(
            "; {} pages and feeds refuse without a login",
            behind_login.len()
        )
    } else {
        String::new()
    };
    ui.status(format!(
        "ok: {} and their IPAs at {} answer as iOS needs{refusing}",
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
                    "the check's deadline of {}s passed: {} not checked, from {}; set a longer --deadline for a large catalog or a slow host",
                    seconds(self.limits.deadline),
                    plural(self.late.len(), "request"),
                    redacted(first),
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

/// A problem of the answer at `url`, named with its secret token cut short.
fn problem(url: &str, message: String) -> Diagnostic {
    Diagnostic::error(PathBuf::from(redacted(url)), message)
}

/// The first problem of an answer that is not a plain success (200, or 206 to a range).
fn status_problem(
    url: &str,
    response: &ureq::http::Response<ureq::Body>,
    key: &str,
) -> Option<Diagnostic> {
    let status = response.status();
    if status.is_redirection() {
        let to = redacted(&header(response, "location").unwrap_or_default());
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
    let response = sent.map_err(|e| unfetched(url, &e))?;
    match status_problem(url, &response, key) {
        Some(d) => Err(d),
        None => Ok(response),
    }
}

/// The problem of a request for `url` that failed with `e`.
fn unfetched(url: &str, e: &str) -> Diagnostic {
    let hint = if e.to_lowercase().contains("certificate") {
        " (a site behind a private certificate authority needs --ca-file)"
    } else {
        ""
    };
    problem(url, format!("cannot be fetched: {e}{hint}"))
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
                "points to `{}`, but the build's IPA is `{}`: deploy the current build",
                redacted(package),
                redacted(ipa_url)
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

/// Checks the build's icons: in a site with a secret they sit with its install files, which
/// need no login, and iOS shows one while it installs.
fn check_icons(asker: &mut Asker, layout: &Layout, app: &App, build: &Build) -> Vec<Diagnostic> {
    ICON_SIZES
        .iter()
        .filter_map(|&px| check_icon(asker, layout.icon(app, build, px).url.as_str()))
        .collect()
}

/// Checks the icon at `url`: a PNG, served as one.
fn check_icon(asker: &mut Asker, url: &str) -> Option<Diagnostic> {
    let response = match fetch(asker, url, Ask::Get, "base_url") {
        Ok(Some(response)) => response,
        Ok(None) => return None,
        Err(d) => return Some(d),
    };
    let (content_type, essence) = media_type(&response);
    (essence != "image/png").then(|| {
        problem(
            url,
            format!("header Content-Type is `{content_type}`: an icon must be served as image/png"),
        )
    })
}

/// Every page and feed of a private catalog, which name its secret install paths: the catalog
/// page, the site feed and the catalog index, then each app's list pages, feeds, `latest/`
/// pages and build pages, as the plan writes them.
fn login_pages(catalog: &Catalog) -> Vec<Url> {
    let layout = &catalog.layout;
    let mut pages = vec![layout.catalog_page(), layout.site_feed(), layout.index()];
    for app in &catalog.apps {
        let total = crate::plan::app_page_count(app);
        pages.extend((1..=total).map(|n| layout.app_page(app, n)));
        pages.extend(
            [AppFeed::Releases, AppFeed::Latest, AppFeed::Atom]
                .map(|feed| layout.app_feed(app, feed)),
        );
        pages.extend(app.latest().map(|_| layout.latest_page(app, None)));
        pages.extend(
            app.latest_per_channel()
                .into_iter()
                .map(|build| layout.latest_page(app, Some(&build.channel_slug()))),
        );
        pages.extend(app.builds.iter().map(|build| layout.build_page(app, build)));
    }
    pages.extend(
        catalog
            .shares()
            .into_iter()
            .map(|s| layout.share_page(&s.token)),
    );
    pages.into_iter().map(|page| page.url).collect()
}

/// How many redirects on the page's own host are followed to the login, such as one that adds
/// a trailing slash.
const LOGIN_REDIRECTS: usize = 2;

/// Where Cloudflare Access sends a visitor to log in.
const ACCESS_LOGIN: &str = "/cdn-cgi/access/";

/// What an answer to a request without credentials says of a page that must ask for the login.
#[derive(Debug, PartialEq, Eq)]
enum Verdict {
    /// It asks for the login: 401 or 403, or a redirect to a login page.
    Refuses,
    /// A redirect on the same host, to be followed and judged.
    Follow(Url),
    /// It does not ask: why, and what to do.
    Answers(String),
}

/// Judges the answer `status`, redirecting to `location`, to a request for `url` without
/// credentials.
fn login_verdict(status: u16, location: Option<&str>, url: &Url) -> Verdict {
    const ADVICE: &str =
        "put every page and feed behind the host's login (README: Private catalogs)";
    match status {
        401 | 403 => Verdict::Refuses,
        300..=399 => {
            let Some(location) = location else {
                return Verdict::Answers(format!("answers {status} with no Location header"));
            };
            // A login elsewhere refuses; the host's own moves are followed: the same host and
            // port, or `http` to `https`, with `www.` or without.
            let host = |u: &Url| {
                let host = u.host_str().unwrap_or_default();
                host.strip_prefix("www.").unwrap_or(host).to_string()
            };
            let own_move = |to: &Url| {
                let same_port = to.scheme() == url.scheme()
                    && to.port_or_known_default() == url.port_or_known_default();
                let upgrade = url.scheme() == "http" && to.scheme() == "https";
                host(to) == host(url) && (same_port || upgrade)
            };
            match url.join(location) {
                Ok(to) if to.path().starts_with(ACCESS_LOGIN) || !own_move(&to) => Verdict::Refuses,
                Ok(to) => Verdict::Follow(to),
                Err(e) => Verdict::Answers(format!(
                    "answers {status} redirecting to `{}`, which is no URL: {e}",
                    redacted(location)
                )),
            }
        }
        200..=299 => Verdict::Answers(format!(
            "answers {status} without a login: a private site's pages hold its secret install paths; {ADVICE}"
        )),
        404 => Verdict::Answers(format!(
            "answers 404 without a login: the page is not deployed, or not behind the login; deploy the current build, and {ADVICE}"
        )),
        _ => Verdict::Answers(format!(
            "answers {status} without a login, not 401 or 403: a private site's pages hold its secret install paths; {ADVICE}"
        )),
    }
}

/// Checks that the page at `url`, asked without credentials, asks for the login, following
/// redirects on its own host. `None` when it does, or was not asked (see [`Asker::send`]).
fn check_login(asker: &mut Asker, url: &Url) -> Option<Diagnostic> {
    let mut at = url.clone();
    for _ in 0..=LOGIN_REDIRECTS {
        let response = match asker.send(at.as_str(), Ask::Get)? {
            Ok(response) => response,
            Err(e) => return Some(unfetched(at.as_str(), &e)),
        };
        let location = header(&response, "location");
        let why = match login_verdict(response.status().as_u16(), location.as_deref(), &at) {
            Verdict::Refuses => return None,
            Verdict::Follow(to) => {
                at = to;
                continue;
            }
            Verdict::Answers(why) if at == *url => why,
            Verdict::Answers(why) => {
                format!("redirects to `{}`, which {why}", redacted(at.as_str()))
            }
        };
        return Some(problem(url.as_str(), why));
    }
    Some(problem(
        url.as_str(),
        format!(
            "redirects more than {LOGIN_REDIRECTS} times on its own host without asking for the login, last to `{}`: put it behind the host's login (README: Private catalogs)",
            redacted(at.as_str())
        ),
    ))
}

/// Checks what a site with a secret must not serve: a made-up install path, as a host that
/// answers unknown paths with a page would hand out a page; the install folder, whose listing
/// would hand out every install path; and the deployment record, which names every secret
/// path.
fn check_unserved(asker: &mut Asker, base: &Url) -> Vec<Diagnostic> {
    let made_up = made_up_token();
    let asks = [
        (
            crate::urls::join_file(base, &[INSTALL_DIR, &made_up, Layout::manifest_file()]),
            "nothing was deployed at this made-up install path, and a host that answers unknown paths with a page hands that page out without a login; a missing file must answer 404 (README: Private catalogs)",
        ),
        (
            crate::urls::join_dir(base, &[INSTALL_DIR]),
            "a host that lists its install folder hands out every install path; it must answer 403 or 404 (README: Private catalogs)",
        ),
        (
            crate::urls::join_file(base, &[crate::deploy::RECORD]),
            "the deployment record names every secret path; put it behind the host's login, or deny it (README: Private catalogs)",
        ),
    ];
    asks.into_iter()
        .filter_map(|(url, why)| check_unserved_at(asker, url.as_str(), why))
        .collect()
}

/// A problem when `url` answers 2xx without credentials, saying `why` it must not.
fn check_unserved_at(asker: &mut Asker, url: &str, why: &str) -> Option<Diagnostic> {
    match asker.send(url, Ask::Get)? {
        Ok(response) if response.status().is_success() => {
            let status = response.status().as_u16();
            Some(problem(
                url,
                format!("answers {status} without a login: {why}"),
            ))
        }
        Ok(_) => None,
        Err(e) => Some(unfetched(url, &e)),
    }
}

/// A token no build has: 32 random hex digits.
fn made_up_token() -> String {
    use ring::rand::SecureRandom;
    let mut bytes = [0u8; 16];
    // Should the system's randomness fail, zeros are as unlikely a token.
    let _ = ring::rand::SystemRandom::new().fill(&mut bytes);
    crate::text::hex(&bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::testing::{config, modelled_secret, release, test_secret};
    use crate::plan::{BUILDS_PER_PAGE, PlanOptions};

    const TOKEN: &str = "0123456789abcdef0123456789abcdef";

    fn page() -> Url {
        Url::parse("https://e.com/builds/field/").unwrap()
    }

    #[track_caller]
    fn assert_answers(verdict: Verdict, start: &str) {
        match verdict {
            Verdict::Answers(why) => assert!(why.starts_with(start), "{why}"),
            other => panic!("{other:?}, not an answer starting `{start}`"),
        }
    }

    #[test]
    fn a_page_that_asks_for_the_login_refuses() {
        for status in [401, 403] {
            assert_eq!(login_verdict(status, None, &page()), Verdict::Refuses);
        }
        let elsewhere = Some("https://team.cloudflareaccess.com/cdn-cgi/access/login/e.com");
        assert_eq!(login_verdict(302, elsewhere, &page()), Verdict::Refuses);
        let sso = Some("https://sso.e.com/login?next=%2Fbuilds%2F");
        assert_eq!(login_verdict(303, sso, &page()), Verdict::Refuses);
        let access = Some("/cdn-cgi/access/login/e.com?redirect_url=%2Fbuilds%2Ffield%2F");
        assert_eq!(login_verdict(302, access, &page()), Verdict::Refuses);
    }

    #[test]
    fn a_redirect_on_the_same_host_is_followed() {
        let folder = Url::parse("https://e.com/builds/field").unwrap();
        assert_eq!(
            login_verdict(301, Some("/builds/field/"), &folder),
            Verdict::Follow(page())
        );
        assert_eq!(
            login_verdict(308, Some("https://e.com/builds/field/"), &folder),
            Verdict::Follow(page())
        );
        // The host's own moves are no login: followed, to be judged there.
        let to = Url::parse("https://www.e.com/builds/field/").unwrap();
        assert_eq!(
            login_verdict(301, Some(to.as_str()), &folder),
            Verdict::Follow(to)
        );
        let plain = Url::parse("http://e.com/builds/field").unwrap();
        assert_eq!(
            login_verdict(301, Some(folder.as_str()), &plain),
            Verdict::Follow(folder.clone())
        );
        // A login on another port or scheme of the host is a login elsewhere.
        for login in ["https://e.com:9091/login", "http://e.com/login"] {
            assert_eq!(login_verdict(302, Some(login), &folder), Verdict::Refuses);
        }
        assert_answers(
            login_verdict(302, None, &page()),
            "answers 302 with no Location header",
        );
    }

    #[test]
    fn a_page_served_without_a_login_is_an_error() {
        assert_answers(
            login_verdict(200, None, &page()),
            "answers 200 without a login: a private site's pages hold its secret install paths; put every page and feed behind the host's login (README: Private catalogs)",
        );
        assert_answers(
            login_verdict(404, None, &page()),
            "answers 404 without a login: the page is not deployed",
        );
        assert_answers(
            login_verdict(500, None, &page()),
            "answers 500 without a login, not 401 or 403",
        );
    }

    #[test]
    fn urls_are_shown_with_their_secret_token_cut_short() {
        assert_eq!(
            redacted(&format!("https://e.com/builds/i/{TOKEN}/manifest.plist")),
            "https://e.com/builds/i/012345…/manifest.plist"
        );
        assert_eq!(
            redacted(&format!(
                "https://cdn.e.com:8443/i/{TOKEN}/Field%201.ipa?v=1"
            )),
            "https://cdn.e.com:8443/i/012345…/Field%201.ipa?v=1"
        );
        assert_eq!(
            redacted(&format!("https://e.com/s/{TOKEN}/catalog.json")),
            "https://e.com/s/012345…/catalog.json"
        );
        for shown in [
            "https://e.com/builds/field/1.0-7/manifest.plist",
            "https://e.com/i/field/",
            "/moved.plist",
        ] {
            assert_eq!(redacted(shown), shown);
        }
    }

    #[test]
    fn a_made_up_token_is_a_token() {
        assert!(crate::layout::is_token(&made_up_token()));
    }

    #[test]
    fn login_pages_are_every_page_and_feed_the_plan_writes_outside_the_install_files() {
        let secret = test_secret();
        // More than a page of listed builds, and a few in an unlisted channel.
        let releases = (1..=BUILDS_PER_PAGE + 12)
            .map(|n| {
                let channel = match n % 6 {
                    0 => "qa",
                    1 | 3 => "beta",
                    _ => "stable",
                };
                release("com.e.field", "1.0", &n.to_string())
                    .notes(&format!("channel: {channel}\n"))
            })
            .collect();
        let config = config("private: true\nchannels:\n  qa:\n    unlisted: true\n");
        let (catalog, problems) = modelled_secret(&config, false, Some(&secret), releases);
        assert_eq!(problems, []);
        let root = Path::new("/nonexistent/site");
        let theme = std::sync::Arc::new(crate::render::Theme::load(root, None).unwrap());
        let options = PlanOptions::default();
        let host = crate::hosting::HostSettings::default();
        let planned = crate::plan::plan(&catalog, &theme, root, options, host, None)
            .and_then(|plan| plan.whole())
            .unwrap();
        let base = catalog.layout.base_url();
        // Install files, files that name no secret path, and files for the host or relsite.
        let left_out = |file: &str| {
            let own = [
                crate::layout::NOT_FOUND_PAGE,
                crate::layout::ROBOTS_FILE,
                crate::layout::HEADERS_FILE,
                crate::write::MARKER,
            ];
            file.starts_with("i/")
                || file.starts_with("assets/")
                || file.ends_with("/qr.svg")
                || own.contains(&file)
        };
        let mut written: Vec<String> = planned
            .files
            .keys()
            .filter(|file| !left_out(file))
            .map(|file| {
                let page = file.strip_suffix("index.html").unwrap_or(file);
                base.join(page).unwrap().to_string()
            })
            .collect();
        written.sort();
        let mut asked: Vec<String> = login_pages(&catalog).iter().map(Url::to_string).collect();
        asked.sort();
        assert_eq!(asked, written);
        assert!(asked.iter().any(|url| url.ends_with("/page/2/")));
        assert!(asked.iter().any(|url| url.ends_with("/latest/beta/")));
        let share = catalog
            .layout
            .share_page(&catalog.shares()[0].token)
            .url
            .to_string();
        assert!(asked.contains(&share), "{share}");
        assert!(
            asked
                .iter()
                .any(|url| url.starts_with(&share) && url.ends_with("/latest/qa/"))
        );
    }
}
