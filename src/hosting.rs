//! What static hosts need besides the pages: content types and caching for Netlify and
//! Cloudflare Pages (`_headers`), robots.txt, and warnings for hosts' per-file size limits.

use crate::catalog::Catalog;
use crate::diag::Diagnostic;
use crate::layout::{HEADERS_FILE, ICON_SIZES, Layout, ROBOTS_FILE, icon_file};
use crate::render::views::human_size;

/// Per-file limits of hosts that have one, in bytes.
pub const HOST_FILE_LIMITS: &[(&str, u64)] = &[
    ("Cloudflare Pages", 25 * 1024 * 1024),
    ("GitHub Pages", 100 * 1000 * 1000),
];

/// GitHub Pages' limit for a whole site.
pub const GITHUB_PAGES_SITE_LIMIT: u64 = 1000 * 1000 * 1000;

/// `_headers` for Netlify and Cloudflare Pages. Both join a header set by several matching
/// rules, and Netlify rejects text after a `*`, so rules name fixed per-build files through
/// `:placeholder` segments and set nothing site-wide that a narrower rule sets again. Pages and
/// feeds keep the hosts' default, a cache that revalidates on every request; manifests get a
/// content type iOS accepts and a short cache (their title or IPA URL can change), icons a
/// long one. IPAs are served as `application/octet-stream` by both hosts' defaults.
pub fn headers(public: bool) -> String {
    let mut text = String::from(
        "# Content types and caching for Netlify and Cloudflare Pages, made by relsite.\n/*\n  X-Content-Type-Options: nosniff\n",
    );
    if !public {
        text.push_str("  X-Robots-Tag: noindex, nofollow\n");
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
    text
}

/// The host configuration files, by output path.
pub fn files(public: bool) -> Vec<(&'static str, Vec<u8>)> {
    let robots: &[u8] = if public {
        b"User-agent: *\nAllow: /\n"
    } else {
        b"User-agent: *\nDisallow: /\n"
    };
    vec![
        (HEADERS_FILE, headers(public).into_bytes()),
        (ROBOTS_FILE, robots.to_vec()),
    ]
}

/// Warnings for IPAs over a host's per-file limit, and a site over GitHub Pages' total.
/// A warning for each in-house (enterprise) build when the site lets search engines index it:
/// Apple allows in-house apps only inside the organisation.
pub fn enterprise_warnings(catalog: &Catalog, public: bool) -> Vec<Diagnostic> {
    if !public {
        return Vec::new();
    }
    catalog
        .builds()
        .filter(|(_, build)| {
            build
                .profile
                .as_ref()
                .is_some_and(|p| p.distribution == crate::ipa::Distribution::Enterprise)
        })
        .map(|(_, build)| {
            Diagnostic::warning(
                build.source.ipa.clone(),
                "is an in-house (enterprise) build in a site search engines may index (`public: true`): Apple allows in-house apps only inside your organisation, and a certificate found in public is revoked; set `public: false` and keep the site behind a login",
            )
        })
        .collect()
}

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
