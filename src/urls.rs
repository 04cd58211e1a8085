//! URLs and path segments: slugs for output paths, joins on the base URL, and the
//! `itms-services` install link with its one layer of percent-encoding.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use url::Url;

/// Everything but RFC 3986 unreserved characters: what a value inside a query component needs
/// encoded so that `:` `/` `?` `&` `=` `#` `%` `+` and space survive one decoding.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// The link that makes iOS fetch `manifest_url` and install the build it names. iOS decodes the
/// `url` value once, so the manifest URL is percent-encoded as a whole.
pub fn install_link(manifest_url: &Url) -> String {
    format!(
        "itms-services://?action=download-manifest&url={}",
        utf8_percent_encode(manifest_url.as_str(), QUERY_VALUE)
    )
}

/// A file below `base`: each segment is percent-encoded as a path segment.
pub fn join_file(base: &Url, segments: &[&str]) -> Url {
    let mut url = base.clone();
    if let Ok(mut path) = url.path_segments_mut() {
        path.pop_if_empty().extend(segments);
    }
    url
}

/// A folder below `base`, ending with `/`.
pub fn join_dir(base: &Url, segments: &[&str]) -> Url {
    let mut url = base.clone();
    if let Ok(mut path) = url.path_segments_mut() {
        path.pop_if_empty().extend(segments).push("");
    }
    url
}

/// Turns any text into a path segment of `[a-z0-9._-]` that cannot climb (`..`) or hide (`.x`).
/// Text with no usable character at all becomes `prefix` plus a short hash, so distinct inputs
/// stay distinct.
pub fn slugify(input: &str, prefix: &str) -> String {
    let mut slug = String::with_capacity(input.len());
    for c in input.chars().flat_map(char::to_lowercase) {
        let c = if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
            c
        } else {
            '-'
        };
        if c == '-' && slug.ends_with('-') {
            continue;
        }
        slug.push(c);
    }
    let slug = slug.trim_start_matches(['.', '-']).trim_end_matches('-');
    if slug.is_empty() || !slug.chars().any(|c| c.is_ascii_alphanumeric()) {
        return format!("{prefix}{}", short_hash(input));
    }
    slug.to_string()
}

/// Whether `s` is already a valid slug: what `slugify` makes, and what config may name.
pub fn is_slug(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with('.')
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'))
        && s.chars().any(|c| c.is_ascii_alphanumeric())
}

fn short_hash(input: &str) -> String {
    use sha2::{Digest, Sha256};
    crate::text::hex(&Sha256::digest(input.as_bytes())[..4])
}

#[cfg(test)]
mod tests {
    use super::*;
    use percent_encoding::percent_decode_str;

    fn url_param(link: &str) -> String {
        let value = link
            .strip_prefix("itms-services://?action=download-manifest&url=")
            .expect("link prefix");
        percent_decode_str(value)
            .decode_utf8()
            .unwrap()
            .into_owned()
    }

    #[test]
    fn install_link_decodes_once_to_the_manifest_url() {
        for raw in [
            "https://example.com/app/1.0/manifest.plist",
            "https://example.com/my builds/a&b/1.0+2/manifest.plist",
            "https://example.com/p?x/%41#/manifest.plist",
            "https://例え.jp/ビルド/manifest.plist",
        ] {
            let url = Url::parse(raw).unwrap();
            let link = install_link(&url);
            assert_eq!(url_param(&link), url.as_str(), "{raw}");
            let value = link.split("url=").nth(1).unwrap();
            for c in [':', '/', '?', '&', '=', '#', '+', ' '] {
                assert!(!value.contains(c), "{c:?} left unencoded in {value}");
            }
        }
    }

    #[test]
    fn install_link_double_encodes_a_space_in_a_path() {
        let url = Url::parse("https://e.com/my builds/manifest.plist").unwrap();
        assert!(install_link(&url).contains("my%2520builds"));
    }

    #[test]
    fn joins_encode_each_segment() {
        let base = Url::parse("https://e.com/builds/").unwrap();
        let url = join_file(&base, &["a b", "x/y", "f.ipa"]);
        assert_eq!(url.as_str(), "https://e.com/builds/a%20b/x%2Fy/f.ipa");
        assert_eq!(
            join_dir(&base, &["app"]).as_str(),
            "https://e.com/builds/app/"
        );
    }

    #[test]
    fn slugs_keep_safe_characters_and_lowercase() {
        assert_eq!(slugify("com.Example.Field", "app-"), "com.example.field");
        assert_eq!(slugify("1.4.0 (312)", "v"), "1.4.0-312");
        assert_eq!(slugify("1.0_beta-2", "v"), "1.0_beta-2");
    }

    #[test]
    fn slugs_cannot_climb_or_hide() {
        assert_eq!(slugify("../../etc", "v"), "etc");
        assert_eq!(slugify("a/../b", "v"), "a-..-b");
        assert_eq!(slugify(".hidden", "v"), "hidden");
        assert!(slugify("..", "v").starts_with('v'));
        assert!(slugify("/", "v").starts_with('v'));
        for s in ["../../etc", "a/../b", ".hidden", "..", "/", "x y/z"] {
            assert!(is_slug(&slugify(s, "v")), "{s}");
            assert!(!slugify(s, "v").contains('/'));
        }
    }

    #[test]
    fn non_ascii_slugs_fall_back_to_distinct_hashes() {
        let a = slugify("版本", "v");
        let b = slugify("ভার্সন", "v");
        assert!(a.starts_with('v') && a.len() == 9, "{a}");
        assert_ne!(a, b);
        assert_eq!(slugify("Café", "v"), "caf");
    }

    #[test]
    fn is_slug_rejects_unsafe_names() {
        assert!(is_slug("field"));
        for bad in ["", ".", "..", ".x", "A", "a b", "a/b", "---"] {
            assert!(!is_slug(bad), "{bad}");
        }
    }
}
