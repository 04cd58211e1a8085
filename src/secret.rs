//! The site secret of a private catalog, and the unguessable path segments derived from it.
//!
//! The secret comes from the environment (`RELSITE_SECRET`) or a file named by `secret_file`
//! outside the site, never from `relsite.yaml` or anything in git. Only tokens derived from it
//! leave this module: each is the first 128 bits of an HMAC-SHA256 of what it stands for, so it
//! is the same from build to build and changes everywhere at once when the secret does.

use std::path::{Path, PathBuf};

use ring::hmac;

use crate::config::{CONFIG_FILE, Config};
use crate::diag::Diagnostic;

/// The environment variable holding the site secret.
pub const SECRET_VAR: &str = "RELSITE_SECRET";

/// The fewest bytes a secret has: 32, as `openssl rand -hex 32` gives 64.
pub const MIN_SECRET_BYTES: usize = 32;

/// The most bytes of a secret file relsite reads.
const MAX_SECRET_FILE_BYTES: u64 = 4096;

/// The key of a site's tokens.
pub struct SiteSecret {
    key: hmac::Key,
}

impl std::fmt::Debug for SiteSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SiteSecret(..)")
    }
}

impl SiteSecret {
    /// The secret from its text: trailing whitespace (a file's newline) is not part of it.
    pub(crate) fn new(text: &str, source: &str) -> Result<SiteSecret, String> {
        let secret = text.trim_end();
        if secret.len() < MIN_SECRET_BYTES {
            return Err(format!(
                "{source} holds {} bytes; a secret has at least {MIN_SECRET_BYTES} (make one with `openssl rand -hex 32`)",
                secret.len()
            ));
        }
        Ok(SiteSecret {
            key: hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes()),
        })
    }

    /// A secret of no site, for checks that make paths but write none.
    pub(crate) fn placeholder() -> SiteSecret {
        SiteSecret {
            key: hmac::Key::new(hmac::HMAC_SHA256, b"relsite placeholder secret"),
        }
    }

    /// The site's secret when it needs one (`private: true`, or an unlisted channel): from `env`
    /// (the value of [`SECRET_VAR`]), else from `secret_file`, which must be outside the site
    /// at `root`.
    /// A site that needs none has none, whatever is set.
    pub fn load(
        config: &Config,
        root: &Path,
        env: Option<String>,
    ) -> Result<Option<SiteSecret>, Diagnostic> {
        let needs = if config.private {
            "`private: true` needs a secret".to_string()
        } else if let Some(name) = config
            .channels
            .iter()
            .find(|(_, c)| c.unlisted)
            .map(|(n, _)| n)
        {
            format!("channel `{name}` is unlisted and needs a secret for its page's path")
        } else {
            return Ok(None);
        };
        let problem = |message: String| Diagnostic::error(PathBuf::from(CONFIG_FILE), message);
        if let Some(value) = env.filter(|v| !v.is_empty()) {
            return SiteSecret::new(&value, SECRET_VAR)
                .map(Some)
                .map_err(problem);
        }
        let Some(file) = &config.secret_file else {
            return Err(problem(format!(
                "{needs}: set {SECRET_VAR} (in CI, as a secret of the pipeline) or `secret_file` to a file outside the site; make one with `openssl rand -hex 32`"
            )));
        };
        let path = root.join(file);
        let shown = crate::diag::display_path(file);
        let real = std::fs::canonicalize(&path)
            .map_err(|e| problem(format!("`secret_file` {shown}: {e}")))?;
        let real_root =
            std::fs::canonicalize(root).map_err(|e| problem(format!("the site folder: {e}")))?;
        if real.starts_with(&real_root) {
            return Err(problem(format!(
                "`secret_file` {shown} is inside the site, where it could be committed or published: keep it outside"
            )));
        }
        let text = crate::fs::read_capped_to_string(&real, MAX_SECRET_FILE_BYTES, "a secret file")
            .map_err(|e| problem(format!("`secret_file`: {e}")))?;
        SiteSecret::new(&text, &format!("`secret_file` {shown}"))
            .map(Some)
            .map_err(problem)
    }

    /// A token: 32 lowercase hex digits (128 bits) standing for `purpose` and `parts`.
    fn token(&self, purpose: &str, parts: &[&str]) -> String {
        let mut context = hmac::Context::with_key(&self.key);
        context.update(b"relsite/v1/");
        context.update(purpose.as_bytes());
        for part in parts {
            context.update(b"\0");
            context.update(part.as_bytes());
        }
        let tag = context.sign();
        crate::text::hex(&tag.as_ref()[..16])
    }

    /// The path segment of a build's install files: by its app's bundle id (not the app's
    /// slug, which a setting can change) and the build's slug.
    pub fn install_token(&self, bundle_id: &str, build_slug: &str) -> String {
        self.token("install", &[bundle_id, build_slug])
    }

    /// The path segment of an unlisted channel's pages, by the channel's slug.
    pub fn share_token(&self, channel_slug: &str) -> String {
        self.token("share", &[channel_slug])
    }

    /// [`SiteSecret::load`] with the environment's [`SECRET_VAR`].
    pub fn of_site(config: &Config, root: &Path) -> Result<Option<SiteSecret>, Diagnostic> {
        SiteSecret::load(config, root, std::env::var(SECRET_VAR).ok())
    }

    /// The published catalog index's path below the output root in the site at `root`: below
    /// the secret's token when the site needs a secret
    /// ([`crate::layout::index_file`]). For commands that read the index before a build.
    pub fn index_file_of(config: &Config, root: &Path) -> Result<String, Diagnostic> {
        let secret = SiteSecret::of_site(config, root)?;
        Ok(crate::layout::index_file(
            secret.map(|s| s.index_token()).as_deref(),
        ))
    }

    /// The path segment of the published catalog index.
    pub fn index_token(&self) -> String {
        self.token("index", &[])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "0123456789abcdef0123456789abcdef";

    fn secret() -> SiteSecret {
        SiteSecret::new(SECRET, "test").unwrap()
    }

    #[test]
    fn tokens_are_the_hmac_of_what_they_stand_for() {
        // The first 32 hex digits of `openssl dgst -sha256 -hmac <SECRET>` over the bytes
        // `relsite/v1/install`, NUL, `com.acme.a`, NUL, `1.0-1`.
        assert_eq!(
            secret().install_token("com.acme.a", "1.0-1"),
            "c20dbb6952f16a79c3c22ddf419555c9"
        );
    }

    #[test]
    fn tokens_are_128_bits_of_hex_and_differ_by_what_they_stand_for() {
        let s = secret();
        let tokens = [
            s.install_token("com.acme.a", "1.0-1"),
            s.install_token("com.acme.a", "1.0-2"),
            s.install_token("com.acme.b", "1.0-1"),
            s.install_token("com.acme.a1.0-", "1"),
            s.share_token("qa"),
            s.share_token("beta"),
            s.index_token(),
        ];
        for token in &tokens {
            assert_eq!(token.len(), 32);
            assert!(
                token
                    .bytes()
                    .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
            );
        }
        let distinct: std::collections::BTreeSet<&String> = tokens.iter().collect();
        assert_eq!(distinct.len(), tokens.len());
        assert_eq!(tokens[0], secret().install_token("com.acme.a", "1.0-1"));
        let rotated = SiteSecret::new(&SECRET.replace('0', "x"), "test").unwrap();
        assert_ne!(tokens[0], rotated.install_token("com.acme.a", "1.0-1"));
    }

    #[test]
    fn a_short_secret_is_refused_and_a_newline_is_not_part_of_one() {
        let err = SiteSecret::new(&SECRET[1..], "RELSITE_SECRET").unwrap_err();
        assert!(err.contains("RELSITE_SECRET holds 31 bytes"), "{err}");
        assert!(err.contains("openssl rand -hex 32"), "{err}");
        let with_newline = SiteSecret::new(&format!("{SECRET}\n"), "test").unwrap();
        assert_eq!(
            with_newline.index_token(),
            secret().index_token(),
            "a file's newline"
        );
        assert_eq!(format!("{:?}", secret()), "SiteSecret(..)");
    }
}

#[cfg(test)]
mod load_tests {
    use super::*;

    fn config(extra: &str) -> Config {
        Config::parse(
            &format!("title: T\nbase_url: https://example.com/\n{extra}"),
            Path::new(CONFIG_FILE),
        )
        .unwrap()
    }

    #[test]
    fn a_private_site_needs_a_secret_and_others_have_none() {
        let dir = tempfile::tempdir().unwrap();
        let secret = "0123456789abcdef0123456789abcdef".to_string();
        assert!(
            SiteSecret::load(&config(""), dir.path(), Some(secret.clone()))
                .unwrap()
                .is_none()
        );
        let private = config("private: true\n");
        let err = SiteSecret::load(&private, dir.path(), None).unwrap_err();
        assert!(
            err.to_string().contains("`private: true` needs a secret"),
            "{err}"
        );
        assert!(
            SiteSecret::load(&private, dir.path(), Some(secret))
                .unwrap()
                .is_some()
        );
    }

    #[test]
    fn a_secret_file_is_read_only_outside_the_site() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("site");
        std::fs::create_dir_all(&root).unwrap();
        std::fs::write(
            dir.path().join("secret"),
            "0123456789abcdef0123456789abcdef\n",
        )
        .unwrap();
        std::fs::write(root.join("secret"), "0123456789abcdef0123456789abcdef\n").unwrap();
        let outside = config("private: true\nsecret_file: ../secret\n");
        assert!(SiteSecret::load(&outside, &root, None).unwrap().is_some());
        let inside = config("private: true\nsecret_file: secret\n");
        let err = SiteSecret::load(&inside, &root, None).unwrap_err();
        assert!(err.to_string().contains("is inside the site"), "{err}");
        let missing = config("private: true\nsecret_file: ../nothing\n");
        assert!(SiteSecret::load(&missing, &root, None).is_err());
    }
}
