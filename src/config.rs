//! `relsite.yaml`: the site's configuration. Unknown keys are errors (a typo must not pass
//! silently), and URLs are checked while parsing so their errors carry line and column.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use url::Url;

use crate::diag::{Diagnostic, YamlKeys};

/// The configuration file's name inside the site root.
pub const CONFIG_FILE: &str = "relsite.yaml";

/// The largest configuration file relsite reads, in bytes: a site's settings take a few
/// kilobytes, even with an entry for each of hundreds of apps.
pub const MAX_CONFIG_BYTES: u64 = 1 << 20;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct Config {
    /// Catalog title.
    pub title: String,
    /// Absolute https URL where the output root is served; every URL in manifests and install
    /// links is built on it. Checked by `parse` into [`Config::base_url`].
    #[serde(rename = "base_url")]
    base_url_text: String,
    /// Markdown shown on the catalog page.
    #[serde(default)]
    pub description: Option<String>,
    /// Folder of releases, relative to the site root.
    #[serde(default = "default_releases_dir")]
    pub releases_dir: PathBuf,
    /// Output folder, relative to the site root.
    #[serde(default = "default_output_dir")]
    pub output_dir: PathBuf,
    /// A folder under `themes/` whose files override the built-in theme.
    #[serde(default)]
    pub theme: Option<String>,
    /// Absolute https URL where IPAs are hosted when they live elsewhere.
    #[serde(default, rename = "ipa_base_url")]
    ipa_base_url_text: Option<String>,
    /// Per-app settings, by bundle identifier.
    #[serde(default)]
    pub apps: BTreeMap<String, AppSettings>,
    /// Publish the UDIDs of provisioned devices on build pages.
    #[serde(default)]
    pub show_devices: bool,
    /// Publish the provisioning profile's name and the team ID on build pages.
    #[serde(default)]
    pub show_profile: bool,
    /// Let search engines index the site; by default pages say `noindex` and robots.txt
    /// disallows everything (in-house apps must not be found publicly).
    #[serde(default)]
    pub public: bool,
    /// A private catalog: each build's install files are published under an unguessable path
    /// derived from the site secret, and the pages, which name those paths, belong behind the
    /// host's login.
    #[serde(default)]
    pub private: bool,
    /// A file outside the site holding the site secret, when `RELSITE_SECRET` is not set.
    #[serde(default)]
    pub secret_file: Option<PathBuf>,
    /// Where `relsite deploy` publishes the output.
    #[serde(default)]
    pub deploy: Option<DeploySettings>,
    /// Publish only the newest `keep` builds of each channel of each app (the newest
    /// installable build of a channel is always published); default: every build.
    #[serde(default)]
    pub keep: Option<usize>,
    /// Per-channel settings, by channel name.
    #[serde(default)]
    pub channels: BTreeMap<String, ChannelSettings>,
    /// The channel an app's `latest/` presents; default: `stable`.
    #[serde(default)]
    pub default_channel: Option<String>,
    /// `base_url`, checked.
    #[serde(skip, default = "HttpsUrl::placeholder")]
    pub base_url: HttpsUrl,
    /// `ipa_base_url`, checked.
    #[serde(skip)]
    pub ipa_base_url: Option<HttpsUrl>,
}

fn default_releases_dir() -> PathBuf {
    PathBuf::from("releases")
}

fn default_output_dir() -> PathBuf {
    PathBuf::from("public")
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "snake_case")]
pub struct AppSettings {
    /// Display name, overriding the name in the IPA.
    pub name: Option<String>,
    /// URL path segment of the app; default: its bundle identifier.
    pub slug: Option<String>,
    /// Markdown shown on the app page.
    pub description: Option<String>,
    /// PNG shown for apps whose icons live only in Assets.car, relative to the site root.
    pub icon: Option<PathBuf>,
    /// `keep` for this app's channels.
    pub keep: Option<usize>,
    /// The channel this app's `latest/` presents, overriding the site's `default_channel`.
    pub default_channel: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "snake_case")]
pub struct ChannelSettings {
    /// `keep` for this channel, in every app.
    pub keep: Option<usize>,
    /// The channel's builds are on no page or feed but its own catalog page, at a secret path.
    pub unlisted: bool,
}

/// The channel `latest/` presents when the config names none.
pub const DEFAULT_CHANNEL: &str = "stable";

impl Config {
    /// The channel the `latest/` of the app `bundle_id` presents: the app's setting, else the
    /// site's, else `stable`.
    pub fn default_channel(&self, bundle_id: &str) -> &str {
        self.apps
            .get(bundle_id)
            .and_then(|a| a.default_channel.as_deref())
            .or(self.default_channel.as_deref())
            .unwrap_or(DEFAULT_CHANNEL)
    }

    /// Whether `channel` is unlisted: matched by its slug, as `latest/<channel>/` is, so
    /// `QA` and `qa` are one channel.
    pub fn is_unlisted(&self, channel: &str) -> bool {
        if !self.has_unlisted() {
            return false;
        }
        let slug = crate::urls::slugify(channel, "c");
        self.channels
            .iter()
            .any(|(name, c)| c.unlisted && crate::urls::slugify(name, "c") == slug)
    }

    /// Whether any channel is unlisted.
    pub fn has_unlisted(&self) -> bool {
        self.channels.values().any(|c| c.unlisted)
    }

    /// How many builds of `channel` of the app `bundle_id` are published, `None` for all: the
    /// channel's setting, else the app's, else the site's.
    pub fn keep(&self, bundle_id: &str, channel: &str) -> Option<usize> {
        self.channels
            .get(channel)
            .and_then(|c| c.keep)
            .or_else(|| self.apps.get(bundle_id).and_then(|a| a.keep))
            .or(self.keep)
    }
}

/// `deploy:` in `relsite.yaml`. Credentials never go here: they come from the environment.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct DeploySettings {
    /// `s3://bucket/prefix`, `gs://bucket/prefix`, `az://container/prefix` or `file:///folder`.
    pub url: String,
    /// The endpoint of an S3-compatible store (R2, Garage, MinIO, B2): https, or http for a
    /// store on this machine.
    #[serde(default)]
    pub endpoint: Option<String>,
    /// The S3 region.
    #[serde(default)]
    pub region: Option<String>,
}

/// An absolute `https://` URL, normalised to end with `/` so paths join below it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpsUrl(Url);

impl HttpsUrl {
    fn placeholder() -> Self {
        HttpsUrl(Url::parse("https://localhost/").expect("a valid literal URL"))
    }

    pub fn parse(input: &str) -> Result<Self, String> {
        let len = input.trim().len();
        if len > MAX_URL_BYTES {
            return Err(format!(
                "is a URL of {len} bytes, longer than the {MAX_URL_BYTES} relsite takes"
            ));
        }
        let url = Url::parse(input.trim()).map_err(|e| match e {
            url::ParseError::RelativeUrlWithoutBase => {
                format!("`{input}` is not an absolute URL; write it as https://host/path/")
            }
            other => format!("`{input}` is not a valid URL: {other}"),
        })?;
        if url.scheme() != "https" {
            return Err(format!(
                "`{input}` must be an https:// URL: iOS installs over the air only over HTTPS"
            ));
        }
        Self::from_url(url).map_err(|why| format!("`{input}` {why}"))
    }

    /// Accepts `http://` for loopback hosts only: a local preview, where installs cannot work.
    pub fn parse_preview(input: &str) -> Result<Self, String> {
        match Url::parse(input.trim()) {
            Ok(url) if url.scheme() == "http" && is_loopback(&url) => {
                Self::from_url(url).map_err(|why| format!("`{input}` {why}"))
            }
            _ => Self::parse(input),
        }
    }

    fn from_url(mut url: Url) -> Result<Self, &'static str> {
        if url.host_str().is_none_or(str::is_empty) {
            return Err("has no host");
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err("must not have a query or fragment");
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err("must not carry a user name or password");
        }
        if !url.path().ends_with('/') {
            let path = format!("{}/", url.path());
            url.set_path(&path);
        }
        if url.as_str().len() > MAX_URL_BYTES {
            return Err("is longer than the 1024 bytes relsite takes, once written out in full");
        }
        Ok(HttpsUrl(url))
    }

    pub fn as_url(&self) -> &Url {
        &self.0
    }

    pub fn is_https(&self) -> bool {
        self.0.scheme() == "https"
    }
}

/// The longest `base_url` or `ipa_base_url`, in bytes: a page's QR code holds the page's URL,
/// this and the app's and the build's folder names (at most 2331 bytes in all, the most a QR
/// code holds at its error correction), and no host needs more.
pub const MAX_URL_BYTES: usize = 1024;

pub(crate) fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d == "localhost",
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

impl fmt::Display for HttpsUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.as_str().fmt(f)
    }
}

impl Config {
    /// Parses the configuration text; `file` names it in errors.
    pub fn parse(text: &str, file: &Path) -> Result<Config, Vec<Diagnostic>> {
        let mut config: Config = crate::yaml::from_str(text).map_err(|problem| {
            vec![Diagnostic::error(file.to_path_buf(), problem.message).at(problem.location)]
        })?;
        let problems = config.validate(text, file);
        if problems.is_empty() {
            Ok(config)
        } else {
            Err(problems)
        }
    }

    /// Reads `relsite.yaml` from the site root.
    pub fn from_root(root: &Path) -> Result<Config, Vec<Diagnostic>> {
        let file = PathBuf::from(CONFIG_FILE);
        let text = crate::fs::read_capped_to_string(
            &root.join(&file),
            MAX_CONFIG_BYTES,
            "a configuration file",
        )
        .map_err(|err| {
            let message = if err.source.kind() == std::io::ErrorKind::NotFound {
                format!(
                    "no {CONFIG_FILE} in `{}`: is this a relsite site? (`relsite init` makes one)",
                    root.display()
                )
            } else {
                err.to_string()
            };
            vec![Diagnostic::error(file.clone(), message)]
        })?;
        Config::parse(&text, &file)
    }

    /// What serde cannot say: values that are well-typed but unusable. Fills in the checked URLs.
    fn validate(&mut self, text: &str, file: &Path) -> Vec<Diagnostic> {
        let mut problems = Vec::new();
        let keys = YamlKeys::index(text);
        let mut error = |path: &[&str], message: String| {
            problems.push(Diagnostic::error(file.to_path_buf(), message).at(keys.locate(path)))
        };
        match HttpsUrl::parse(&self.base_url_text) {
            Ok(url) => self.base_url = url,
            Err(why) => error(&["base_url"], format!("`base_url`: {why}")),
        }
        if let Some(raw) = &self.ipa_base_url_text {
            match HttpsUrl::parse(raw) {
                Ok(url) => self.ipa_base_url = Some(url),
                Err(why) => error(&["ipa_base_url"], format!("`ipa_base_url`: {why}")),
            }
        }
        let keeps = std::iter::once((vec!["keep"], self.keep))
            .chain(
                self.apps
                    .iter()
                    .map(|(id, a)| (vec!["apps", id.as_str(), "keep"], a.keep)),
            )
            .chain(
                self.channels
                    .iter()
                    .map(|(name, c)| (vec!["channels", name.as_str(), "keep"], c.keep)),
            );
        for (path, keep) in keeps {
            if keep == Some(0) {
                error(
                    &path,
                    format!(
                        "`{}` must be at least 1: the newest build of a channel is always published",
                        path.join(".")
                    ),
                );
            }
        }
        if let Some(deploy) = &self.deploy
            && let Err((key, why)) = crate::deploy::Target::parse(deploy)
        {
            error(&["deploy", key], why);
        }
        if let Some(description) = &self.description
            && let Err(why) = crate::markdown::check_length("`description`", description)
        {
            error(&["description"], why);
        }
        if self.private && self.public {
            error(
                &["private"],
                "`private: true` and `public: true` contradict: a private catalog is never indexed"
                    .into(),
            );
        }
        let defaults = std::iter::once((vec!["default_channel"], &self.default_channel)).chain(
            self.apps.iter().map(|(id, a)| {
                (
                    vec!["apps", id.as_str(), "default_channel"],
                    &a.default_channel,
                )
            }),
        );
        for (path, channel) in defaults {
            if let Some(channel) = channel
                && self.is_unlisted(channel)
            {
                error(
                    &path,
                    format!(
                        "`{}: {channel}` names an unlisted channel: latest/ is listed, so it presents listed builds only; name a listed channel",
                        path.join(".")
                    ),
                );
            }
        }
        if self.title.trim().is_empty() {
            error(&["title"], "`title` must not be empty".into());
        }
        for (key, dir) in [
            ("releases_dir", &self.releases_dir),
            ("output_dir", &self.output_dir),
        ] {
            if !is_inner_relative(dir) {
                error(
                    &[key],
                    format!(
                        "`{key}` must be a folder inside the site root, got `{}`",
                        dir.display()
                    ),
                );
            }
        }
        if let Some(input) = self.output_overlap() {
            error(
                &["output_dir"],
                format!(
                    "`output_dir` `{}` overlaps {input}: the output is replaced on every build, so it must be a folder of its own",
                    self.output_dir.display()
                ),
            );
        }
        if let Some(theme) = &self.theme
            && !is_plain_name(theme)
        {
            error(
                &["theme"],
                format!("`theme` must be a folder name under themes/, got `{theme}`"),
            );
        }
        // relsite's own names; the theme's are known, and checked, once it is loaded.
        let reserved = crate::layout::ReservedNames::new([]);
        for (bundle_id, app) in &self.apps {
            if let Some(slug) = &app.slug
                && !crate::urls::is_slug(slug)
            {
                error(
                    &["apps", bundle_id, "slug"],
                    format!(
                        "`apps.{bundle_id}.slug` may hold only lowercase letters, digits, `.`, `_` and `-`, and may not start with `.`, got `{slug}`"
                    ),
                );
            } else if let Some(slug) = &app.slug
                && let Some(owner) = reserved.owner(slug)
            {
                error(
                    &["apps", bundle_id, "slug"],
                    format!(
                        "`apps.{bundle_id}.slug` `{slug}` is a name relsite keeps for {owner}; choose another slug"
                    ),
                );
            }
            if let Some(description) = &app.description
                && let Err(why) = crate::markdown::check_length(
                    &format!("`apps.{bundle_id}.description`"),
                    description,
                )
            {
                error(&["apps", bundle_id, "description"], why);
            }
            if let Some(icon) = &app.icon
                && !is_inner_relative(icon)
            {
                error(
                    &["apps", bundle_id, "icon"],
                    format!(
                        "`apps.{bundle_id}.icon` must be a file inside the site root, got `{}`",
                        icon.display()
                    ),
                );
            }
        }
        problems
    }
}

impl Config {
    /// The folder of inputs `output_dir` is, holds or sits in, by its setting and value, as
    /// far as the paths say (the build checks again where the folders really are).
    fn output_overlap(&self) -> Option<String> {
        let plain = |path: &Path| -> PathBuf {
            path.components()
                .filter(|c| !matches!(c, std::path::Component::CurDir))
                .collect()
        };
        let output = plain(&self.output_dir);
        [
            ("`releases_dir`", self.releases_dir.as_path()),
            ("the theme folder", Path::new("themes")),
            ("the static folder", Path::new("static")),
            ("the cache", Path::new(crate::cache::CACHE_DIR)),
        ]
        .into_iter()
        .find(|(_, input)| {
            let input = plain(input);
            output.starts_with(&input) || input.starts_with(&output)
        })
        .map(|(what, input)| format!("{what} `{}`", input.display()))
    }
}

/// A relative path that stays inside its base: no root, no `..`, not empty.
fn is_inner_relative(path: &Path) -> bool {
    use std::path::Component;
    path.components().next().is_some()
        && path
            .components()
            .all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
        && path.components().any(|c| matches!(c, Component::Normal(_)))
}

fn is_plain_name(name: &str) -> bool {
    !name.is_empty() && name != "." && name != ".." && !name.contains(['/', '\\'])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, Vec<String>> {
        Config::parse(text, Path::new(CONFIG_FILE))
            .map_err(|ds| ds.iter().map(ToString::to_string).collect())
    }

    #[test]
    fn a_default_channel_cannot_be_unlisted() {
        let errs = parse("title: T\nbase_url: https://e.com/\ndefault_channel: QA\napps:\n  com.e.a:\n    default_channel: qa\nchannels:\n  qa:\n    unlisted: true\n").unwrap_err();
        assert_eq!(errs.len(), 2, "{errs:?}");
        assert!(
            errs[0].contains("`default_channel: QA` names an unlisted channel"),
            "{errs:?}"
        );
        assert!(
            errs[1].contains("`apps.com.e.a.default_channel: qa` names an unlisted channel"),
            "{errs:?}"
        );
    }

    #[test]
    fn unlisted_channels_match_by_slug() {
        let c = parse("title: T\nbase_url: https://e.com/\nchannels:\n  QA Team:\n    unlisted: true\n  beta:\n    keep: 2\n").unwrap();
        assert!(c.has_unlisted());
        for channel in ["QA Team", "qa team", "qa-team"] {
            assert!(c.is_unlisted(channel), "{channel}");
        }
        for channel in ["beta", "qa", "stable"] {
            assert!(!c.is_unlisted(channel), "{channel}");
        }
        let c =
            parse("title: T\nbase_url: https://e.com/\nchannels:\n  beta:\n    keep: 2\n").unwrap();
        assert!(!c.has_unlisted());
    }

    #[test]
    fn can_read_minimal_config_with_defaults() {
        let c = parse("title: Builds\nbase_url: https://example.com/builds\n").unwrap();
        assert_eq!(c.title, "Builds");
        assert_eq!(c.base_url.to_string(), "https://example.com/builds/");
        assert_eq!(c.releases_dir, PathBuf::from("releases"));
        assert_eq!(c.output_dir, PathBuf::from("public"));
        assert!(c.apps.is_empty());
    }

    #[test]
    fn errors_when_base_url_is_http() {
        let errs = parse("title: T\nbase_url: http://example.com/\n").unwrap_err();
        assert_eq!(errs.len(), 1);
        assert!(errs[0].starts_with("relsite.yaml:2:11: error: `base_url`: `http://example.com/` must be an https:// URL"), "{}", errs[0]);
        assert!(errs[0].contains("must be an https:// URL"), "{}", errs[0]);
    }

    #[test]
    fn errors_when_base_url_is_relative() {
        let errs = parse("title: T\nbase_url: /builds/\n").unwrap_err();
        assert!(errs[0].contains("is not an absolute URL"), "{}", errs[0]);
    }

    #[test]
    fn errors_when_base_url_is_missing() {
        let errs = parse("title: T\n").unwrap_err();
        assert!(errs[0].contains("missing field `base_url`"), "{}", errs[0]);
    }

    #[test]
    fn errors_on_unknown_key_listing_valid_ones() {
        let errs = parse("title: T\nbase_url: https://e.com/\ntheem: x\n").unwrap_err();
        assert!(
            errs[0].starts_with("relsite.yaml:3:1: error: unknown field `theem`"),
            "{}",
            errs[0]
        );
        assert!(errs[0].contains("`releases_dir`"), "{}", errs[0]);
    }

    #[test]
    fn errors_on_unknown_app_key() {
        let errs = parse("title: T\nbase_url: https://e.com/\napps:\n  com.a.b:\n    nmae: A\n")
            .unwrap_err();
        assert!(errs[0].contains("unknown field `nmae`"), "{}", errs[0]);
    }

    #[test]
    fn errors_when_base_url_is_longer_than_a_qr_code_allows() {
        let host = "h".repeat(MAX_URL_BYTES);
        let errs = parse(&format!("title: T\nbase_url: https://{host}.com/\n")).unwrap_err();
        assert!(
            errs[0].starts_with(
                "relsite.yaml:2:11: error: `base_url`: is a URL of 1037 bytes, longer than the 1024 relsite takes"
            ),
            "{errs:?}"
        );
        let spaces = format!("https://e.com/{}/", " ".repeat(400));
        let errs = parse(&format!("title: T\nbase_url: '{spaces}'\n")).unwrap_err();
        assert!(
            errs[0]
                .ends_with("is longer than the 1024 bytes relsite takes, once written out in full"),
            "{errs:?}"
        );
    }

    #[test]
    fn errors_when_output_dir_leaves_the_site() {
        let errs = parse("title: T\nbase_url: https://e.com/\noutput_dir: ../out\n").unwrap_err();
        assert!(errs[0].contains("`output_dir` must be a folder inside the site root"));
    }

    #[test]
    fn errors_when_output_dir_is_inside_releases_naming_both() {
        let errs =
            parse("title: T\nbase_url: https://e.com/\noutput_dir: ./releases/out\n").unwrap_err();
        assert_eq!(
            errs,
            [
                "relsite.yaml:3:13: error: `output_dir` `./releases/out` overlaps `releases_dir` `releases`: the output is replaced on every build, so it must be a folder of its own"
            ]
        );
        let errs = parse(
            "title: T\nbase_url: https://e.com/\nreleases_dir: builds/ipas\noutput_dir: builds\n",
        )
        .unwrap_err();
        assert!(
            errs[0].starts_with("relsite.yaml:4:13: error: `output_dir` `builds` overlaps `releases_dir` `builds/ipas`"),
            "{errs:?}"
        );
        for input in ["themes/site", "static", ".relsite-cache/out"] {
            let text = format!("title: T\nbase_url: https://e.com/\noutput_dir: {input}\n");
            assert!(parse(&text).is_err(), "{input}");
        }
        for fine in ["public", "releases-site", "out/releases"] {
            let text = format!("title: T\nbase_url: https://e.com/\noutput_dir: {fine}\n");
            assert!(parse(&text).is_ok(), "{fine}");
        }
    }

    #[test]
    fn errors_on_app_slug_relsite_keeps_for_its_files() {
        let errs =
            parse("title: T\nbase_url: https://e.com/\napps:\n  com.a.b:\n    slug: feed.xml\n")
                .unwrap_err();
        assert_eq!(
            errs,
            [
                "relsite.yaml:5:11: error: `apps.com.a.b.slug` `feed.xml` is a name relsite keeps for the Atom feeds `feed.xml` and `<app>/feed.xml`; choose another slug"
            ]
        );
    }

    #[test]
    fn errors_on_bad_app_slug() {
        let errs = parse("title: T\nbase_url: https://e.com/\napps:\n  com.a.b:\n    slug: A B\n")
            .unwrap_err();
        assert!(
            errs[0].starts_with("relsite.yaml:5:11: error: `apps.com.a.b.slug`"),
            "{}",
            errs[0]
        );
    }

    #[test]
    fn errors_on_descriptions_longer_than_markdown_may_be() {
        let max = crate::markdown::MAX_MARKDOWN_BYTES;
        let long = "a".repeat(max + 1);
        let errs = parse(&format!(
            "title: T\nbase_url: https://e.com/\ndescription: {long}\napps:\n  com.a.b:\n    description: {long}\n"
        ))
        .unwrap_err();
        assert_eq!(
            errs,
            [
                format!(
                    "relsite.yaml:3:14: error: `description` is {} bytes of Markdown, more than the {max} relsite renders",
                    max + 1
                ),
                format!(
                    "relsite.yaml:6:18: error: `apps.com.a.b.description` is {} bytes of Markdown, more than the {max} relsite renders",
                    max + 1
                ),
            ]
        );
    }

    #[test]
    fn preview_url_may_be_http_on_loopback_only() {
        assert!(HttpsUrl::parse_preview("http://127.0.0.1:8080").is_ok());
        assert!(HttpsUrl::parse_preview("http://localhost:1111/").is_ok());
        assert!(HttpsUrl::parse_preview("http://example.com/").is_err());
    }

    #[test]
    fn base_url_rejects_query_and_credentials() {
        assert!(HttpsUrl::parse("https://e.com/?a=b").is_err());
        assert!(HttpsUrl::parse("https://u:p@e.com/").is_err());
    }
}
