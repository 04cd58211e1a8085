//! What static hosts need besides the pages: content types and caching for Netlify and
//! Cloudflare Pages (`_headers`), robots.txt, and warnings for hosts' per-file size limits.

use crate::catalog::Catalog;
use crate::config::Config;
use crate::diag::Diagnostic;
use crate::layout::{
    HEADERS_FILE, ICON_SIZES, INSTALL_DIR, Layout, NOT_FOUND_PAGE, ROBOTS_FILE, SHARE_DIR,
    icon_file,
};
use crate::render::views::human_size;

/// Per-file limits of hosts that have one, in bytes.
pub const HOST_FILE_LIMITS: &[(&str, u64)] = &[
    ("Cloudflare Pages", 25 * 1024 * 1024),
    ("GitHub Pages", 100 * 1000 * 1000),
];

/// GitHub Pages' limit for a whole site.
pub const GITHUB_PAGES_SITE_LIMIT: u64 = 1000 * 1000 * 1000;

/// The environment variable with the logins Netlify asks for before it serves a private
/// catalog's pages: `user:password` pairs separated by spaces, as its `Basic-Auth` takes them.
pub const NETLIFY_BASIC_AUTH_VAR: &str = "RELSITE_NETLIFY_BASIC_AUTH";

/// What the host files say besides content types and caching.
#[derive(Default)]
pub struct HostSettings {
    /// Let search engines index the site.
    pub public: bool,
    /// The site has a secret, so its pages name secret paths: they send no `Referer`, and
    /// robots keep out of its secret folders.
    pub secret_paths: bool,
    /// A private catalog's logins for Netlify's `Basic-Auth` (from [`NETLIFY_BASIC_AUTH_VAR`]),
    /// with the top-level names of what sits behind them: every one in the output but the
    /// install files, robots.txt and the not-found page.
    pub basic_auth: Option<(String, Vec<String>)>,
}

impl std::fmt::Debug for HostSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostSettings")
            .field("public", &self.public)
            .field("secret_paths", &self.secret_paths)
            .field(
                "basic_auth",
                &self.basic_auth.as_ref().map(|(_, roots)| roots),
            )
            .finish()
    }
}

impl HostSettings {
    /// The host settings of the site `config` describes and `catalog` holds, with the theme's
    /// static files at `theme_files` (paths below the output root) and `basic_auth`, the value
    /// of [`NETLIFY_BASIC_AUTH_VAR`]; with problems of that value.
    pub fn of<'a>(
        config: &Config,
        catalog: &Catalog,
        theme_files: impl Iterator<Item = &'a str>,
        basic_auth: Option<String>,
    ) -> (HostSettings, Vec<Diagnostic>) {
        let mut settings = HostSettings {
            public: config.public,
            secret_paths: catalog.layout.has_secret(),
            basic_auth: None,
        };
        let Some(value) = basic_auth.filter(|v| !v.trim().is_empty()) else {
            return (settings, Vec::new());
        };
        if !config.private {
            let ignored = format!(
                "{NETLIFY_BASIC_AUTH_VAR} is set, but the site is not private: its logins are left out of `_headers`, as a login before the whole site breaks every install; set `private: true` (README: Private catalogs)"
            );
            return (settings, vec![Diagnostic::warning(None, ignored)]);
        }
        match basic_auth_logins(&value) {
            Ok(logins) => {
                settings.basic_auth = Some((logins, login_roots(catalog, theme_files)));
                (settings, Vec::new())
            }
            Err(why) => (settings, vec![Diagnostic::error(None, why)]),
        }
    }
}

/// The top-level names of the output that sit behind a private catalog's login: all but the
/// install files, robots.txt and the not-found page.
fn login_roots<'a>(catalog: &Catalog, theme_files: impl Iterator<Item = &'a str>) -> Vec<String> {
    let layout = &catalog.layout;
    let mut files = vec![
        layout.catalog_page().file,
        layout.site_feed().file,
        layout.index().file,
        HEADERS_FILE.to_string(),
        crate::write::MARKER.to_string(),
        SHARE_DIR.to_string(),
    ];
    files.extend(catalog.apps.iter().map(|app| layout.app_page(app, 1).file));
    files.extend(theme_files.map(str::to_string));
    let mut roots: Vec<String> = files
        .iter()
        .filter_map(|file| file.split('/').next())
        .filter(|top| ![INSTALL_DIR, ROBOTS_FILE, NOT_FOUND_PAGE].contains(top))
        .flat_map(|top| {
            // Netlify serves `index.html` at `/index` too ("pretty URLs").
            let pretty = top.strip_suffix(".html").map(str::to_string);
            std::iter::once(top.to_string()).chain(pretty)
        })
        .collect();
    roots.sort();
    roots.dedup();
    roots
}

/// The logins of [`NETLIFY_BASIC_AUTH_VAR`] when its value is one Netlify takes: `user:password`
/// words, each with both parts, separated by spaces, in printable ASCII.
pub fn basic_auth_logins(value: &str) -> Result<String, String> {
    let logins: Vec<&str> = value.split_ascii_whitespace().collect();
    if logins.is_empty() {
        return Err(format!("{NETLIFY_BASIC_AUTH_VAR} is empty"));
    }
    for (n, login) in logins.iter().enumerate() {
        let well_formed = login.bytes().all(|b| b.is_ascii_graphic())
            && login
                .split_once(':')
                .is_some_and(|(user, password)| !user.is_empty() && !password.is_empty());
        if !well_formed {
            return Err(format!(
                "{NETLIFY_BASIC_AUTH_VAR}: login {} of {} is not `user:password` in printable ASCII (logins are separated by spaces, so a password has none)",
                n + 1,
                logins.len()
            ));
        }
    }
    Ok(logins.join(" "))
}

/// `_headers` for Netlify and Cloudflare Pages. Both join a header set by several matching
/// rules, and Netlify rejects text after a `*`, so rules name fixed per-build files through
/// `:placeholder` segments and set nothing site-wide that a narrower rule sets again. Pages and
/// feeds keep the hosts' default, a cache that revalidates on every request; manifests get a
/// content type iOS accepts and a short cache (their title or IPA URL can change), icons a
/// long one. IPAs are served as `application/octet-stream` by both hosts' defaults.
///
/// A private catalog's logins go in a rule for each top-level name behind them, and for the
/// catalog page: a rule cannot leave a path out, so the install files, which iOS fetches
/// without credentials, are left out by naming everything else.
pub fn headers(settings: &HostSettings) -> String {
    let mut text = String::from(
        "# Content types and caching for Netlify and Cloudflare Pages, made by relsite.\n/*\n  X-Content-Type-Options: nosniff\n",
    );
    if !settings.public {
        text.push_str("  X-Robots-Tag: noindex, nofollow\n");
    }
    if settings.secret_paths {
        text.push_str("  Referrer-Policy: no-referrer\n");
        if settings.public {
            // An indexed site's secret folders are never indexed, should a link leak.
            for folder in [INSTALL_DIR, SHARE_DIR] {
                text.push_str(&format!("/{folder}/*\n  X-Robots-Tag: noindex, nofollow\n"));
            }
        }
    }
    text.push_str(&format!(
        "{}\n  Content-Type: text/xml; charset=utf-8\n  Cache-Control: public, max-age=300\n",
        Layout::per_build_pattern(Layout::manifest_file())
    ));
    for &px in ICON_SIZES {
        text.push_str(&format!(
            "{}\n  Cache-Control: public, max-age=31536000, immutable\n",
            Layout::per_build_pattern(&icon_file(px))
        ));
    }
    if let Some((logins, roots)) = &settings.basic_auth {
        text.push_str("# Pages and feeds ask for a login; the install files below /i/ do not.\n");
        let mut rule = |pattern: &str| {
            text.push_str(&format!("{pattern}\n  Basic-Auth: {logins}\n"));
        };
        rule("/");
        for root in roots {
            rule(&format!("/{root}"));
            rule(&format!("/{root}/*"));
        }
    }
    text
}

/// The host configuration files, by output path.
pub fn files(settings: &HostSettings) -> Vec<(&'static str, Vec<u8>)> {
    let robots = match (settings.public, settings.secret_paths) {
        (false, _) => "User-agent: *\nDisallow: /\n".to_string(),
        (true, false) => "User-agent: *\nAllow: /\n".to_string(),
        // Secret paths are found only by their links; never index one that leaks.
        (true, true) => {
            format!("User-agent: *\nDisallow: /{INSTALL_DIR}/\nDisallow: /{SHARE_DIR}/\nAllow: /\n")
        }
    };
    vec![
        (HEADERS_FILE, headers(settings).into_bytes()),
        (ROBOTS_FILE, robots.into_bytes()),
    ]
}

/// A warning for each in-house (enterprise) build in a site that is not private: anyone with
/// its install link installs it, and Apple allows in-house apps only inside the organisation.
pub fn enterprise_warnings(catalog: &Catalog, public: bool, private: bool) -> Vec<Diagnostic> {
    if private {
        return Vec::new();
    }
    let why = if public {
        "is an in-house (enterprise) build in a site search engines may index (`public: true`): Apple allows in-house apps only inside your organisation, and a certificate found in public is revoked; set `private: true` and keep the pages behind a login (README: Private catalogs)"
    } else {
        "is an in-house (enterprise) build in a site that is not private: anyone with its install link installs it, and Apple revokes a certificate found in public; set `private: true` and keep the pages behind a login (README: Private catalogs)"
    };
    catalog
        .builds()
        .filter(|(_, build)| {
            build
                .profile
                .as_ref()
                .is_some_and(|p| p.distribution == crate::ipa::Distribution::Enterprise)
        })
        .map(|(_, build)| Diagnostic::warning(build.source.ipa.clone(), why))
        .collect()
}

/// Warnings for IPAs over a host's per-file limit, and a site over GitHub Pages' total.
pub fn size_warnings(catalog: &Catalog) -> Vec<Diagnostic> {
    let mut warnings = Vec::new();
    let mut total = 0u64;
    for (_, build) in catalog.builds() {
        let size = build.package.size;
        total += size;
        let over: Vec<&str> = HOST_FILE_LIMITS
            .iter()
            .filter(|(_, limit)| size > *limit)
            .map(|(host, _)| *host)
            .collect();
        if !over.is_empty() {
            warnings.push(Diagnostic::warning(
                build.source.ipa.clone(),
                format!(
                    "is {}, over the per-file limit of {}: if you deploy there, host IPAs elsewhere with `ipa_base_url`",
                    human_size(size),
                    over.join(" and ")
                ),
            ));
        }
    }
    if total > GITHUB_PAGES_SITE_LIMIT {
        warnings.push(Diagnostic::warning(
            None,
            format!(
                "the IPAs add up to {}, over GitHub Pages' 1 GB per site: if you deploy there, host IPAs elsewhere with `ipa_base_url`",
                human_size(total)
            ),
        ));
    }
    warnings
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::testing::{config, modelled_secret, release, test_secret};

    fn private_settings(basic_auth: Option<&str>) -> (HostSettings, Vec<Diagnostic>) {
        let config = config("private: true\napps:\n  com.e.field:\n    slug: field\n");
        let secret = test_secret();
        let (catalog, problems) = modelled_secret(
            &config,
            false,
            Some(&secret),
            vec![release("com.e.field", "1.0", "7").ipa("releases/Field.ipa")],
        );
        assert_eq!(problems, []);
        let theme = ["assets/relsite.css", "assets/favicon.svg", "favicon.ico"];
        HostSettings::of(
            &config,
            &catalog,
            theme.into_iter(),
            basic_auth.map(str::to_string),
        )
    }

    #[test]
    fn robots_keep_out_of_secret_folders_of_an_indexed_site() {
        let robots = |public, secret_paths| {
            let settings = HostSettings {
                public,
                secret_paths,
                basic_auth: None,
            };
            String::from_utf8(files(&settings)[1].1.clone()).unwrap()
        };
        assert_eq!(robots(false, true), "User-agent: *\nDisallow: /\n");
        assert_eq!(robots(true, false), "User-agent: *\nAllow: /\n");
        assert_eq!(
            robots(true, true),
            "User-agent: *\nDisallow: /i/\nDisallow: /s/\nAllow: /\n"
        );
    }

    #[test]
    fn logins_are_user_password_words() {
        assert_eq!(basic_auth_logins("a:b").as_deref(), Ok("a:b"));
        assert_eq!(
            basic_auth_logins("  a:b\tc:d:e ").as_deref(),
            Ok("a:b c:d:e")
        );
        for bad in ["", "  ", "a", "a:", ":b", "a:b c", "ä:b"] {
            assert!(basic_auth_logins(bad).is_err(), "{bad:?}");
        }
        // A line break cannot smuggle a rule into `_headers`: it separates logins, and each
        // login must have both parts.
        assert!(basic_auth_logins("a:b\n/i/*").is_err());
        let why = basic_auth_logins("tester:pa ss").unwrap_err();
        assert_eq!(
            why,
            "RELSITE_NETLIFY_BASIC_AUTH: login 2 of 2 is not `user:password` in printable ASCII (logins are separated by spaces, so a password has none)"
        );
    }

    #[test]
    fn a_private_catalog_asks_for_a_login_everywhere_but_its_install_files() {
        let (settings, problems) = private_settings(Some("tester:s3cret"));
        assert_eq!(problems, []);
        let (_, roots) = settings.basic_auth.as_ref().unwrap();
        assert_eq!(
            roots,
            &[
                ".relsite-output",
                "_headers",
                "assets",
                "favicon.ico",
                "feed.xml",
                "field",
                "index",
                "index.html",
                "s"
            ]
        );
        let text = headers(&settings);
        assert!(text.contains("/*\n  X-Content-Type-Options: nosniff\n  X-Robots-Tag: noindex, nofollow\n  Referrer-Policy: no-referrer\n"), "{text}");
        assert!(
            text.contains("\n/\n  Basic-Auth: tester:s3cret\n"),
            "{text}"
        );
        for root in roots {
            for rule in [format!("/{root}"), format!("/{root}/*")] {
                assert!(
                    text.contains(&format!("\n{rule}\n  Basic-Auth: tester:s3cret\n")),
                    "{rule}: {text}"
                );
            }
        }
        let rules: Vec<&str> = text.lines().filter(|l| l.starts_with('/')).collect();
        for open in ["/i", "/robots.txt", "/404.html", "/*"] {
            let protected = text.contains(&format!("\n{open}\n  Basic-Auth"))
                || text.contains(&format!("\n{open}/*\n  Basic-Auth"));
            assert!(!protected, "{open} asks for a login: {rules:?}");
        }
        assert_eq!(text.matches("Basic-Auth").count(), 1 + 2 * roots.len());
    }

    #[test]
    fn logins_go_nowhere_without_the_variable_or_a_private_site() {
        let (settings, problems) = private_settings(None);
        assert_eq!(problems, []);
        assert!(!headers(&settings).contains("Basic-Auth"));
        let (_, problems) = private_settings(Some("tester"));
        assert_eq!(problems.len(), 1);
        assert!(problems[0].message.contains(NETLIFY_BASIC_AUTH_VAR));

        let config = config("");
        let (catalog, _) = crate::catalog::testing::modelled(vec![]);
        let (settings, problems) = HostSettings::of(
            &config,
            &catalog,
            std::iter::empty(),
            Some("tester:s3cret".into()),
        );
        let text = headers(&settings);
        assert!(
            !text.contains("Basic-Auth") && !text.contains("Referrer-Policy"),
            "{text}"
        );
        assert_eq!(problems.len(), 1);
        assert!(problems[0].message.contains("the site is not private"));
        assert!(!format!("{settings:?}").contains("s3cret"));
    }
}
