//! `relsite init`: a new site that builds at once.

use std::path::{Path, PathBuf};

use crate::cli::InitArgs;
use crate::cmd::Failure;
use crate::diag::{Diagnostic, display_path};
use crate::ui::Ui;

/// The new site's configuration: every key, commented.
pub const CONFIG_TEMPLATE: &str = r#"# relsite site configuration. `relsite build` writes the site into output_dir.

# Catalog title, shown on every page.
title: Test builds

# Absolute https URL where output_dir will be served. Install links and manifests are built on
# it, and iOS installs only over HTTPS with a trusted certificate. Change this placeholder.
base_url: https://builds.example.invalid/

# Markdown shown on the catalog page.
# description: |
#   Builds for registered testers. Open this page in Safari on your iPhone and tap Install.

# Folder of .ipa files and their notes, and the output folder (both relative to this file).
# releases_dir: releases
# output_dir: public

# A folder under themes/ whose files override the built-in theme (`relsite theme eject`).
# theme: custom

# Absolute https URL where IPAs are hosted instead, when the site's host caps file sizes.
# ipa_base_url: https://ipas.example.com/

# List provisioned device UDIDs on build pages.
# show_devices: false

# Show the provisioning profile's name and the team ID on build pages.
# show_profile: false

# Let search engines index the site (in-house apps must not be found publicly).
# public: false

# A private catalog: pages behind the host's login, install files at secret paths. The secret
# comes from RELSITE_SECRET, or a file outside the site (README: Private catalogs).
# private: true
# secret_file: ../catalog-secret

# The channel whose newest installable build each app's latest/ presents.
# default_channel: stable

# Publish only the newest builds of each channel of each app (a channel's newest installable
# build is always published); per channel under `channels`.
# keep: 20
# channels:
#   beta:
#     keep: 5
#   qa:
#     unlisted: true   # only on its own page at a secret path (`relsite share`)

# Per-app settings, by bundle identifier.
# apps:
#   com.example.field:
#     name: Field              # display name (default: from the newest IPA)
#     slug: field              # URL segment (default: the bundle identifier)
#     description: Survey app  # Markdown shown on the app page
#     icon: icons/field.png    # for apps whose icons live only in Assets.car
#     keep: 10                 # `keep` for this app's channels
#     default_channel: beta    # the channel this app's latest/ presents

# Where `relsite deploy` uploads the site; credentials come from the environment only.
# deploy:
#   url: s3://my-bucket/builds
#   endpoint: https://ACCOUNT.r2.cloudflarestorage.com   # S3-compatible stores
#   region: auto
"#;

/// What goes in releases/.
pub const RELEASES_README: &str = "# Releases

Every `.ipa` below this folder, at any depth, is one release. Its notes are the YAML file of the
same name beside it (`Field.ipa` takes `Field.yaml`), or `notes.yaml` in a folder with one IPA:

    field/1.4.0/Field.ipa
    field/1.4.0/Field.yaml

```yaml
notes: |            # Markdown
  - Faster sync
date: 2024-05-01    # YYYY-MM-DD or RFC 3339
channel: beta       # default: stable
draft: true         # published only with --drafts
title: Field beta   # overrides the app's name for this build
version: 1.4.0      # only for an IPA whose Info.plist has none
```

`relsite add App.ipa --notes '…'` puts an IPA and its notes in place.
";

/// What git should not track.
pub const GITIGNORE: &str = "/public/\n/.public.relsite-*\n/.relsite-cache/\n";

/// Creates the site.
pub fn run(args: &InitArgs, ui: &Ui) -> Result<(), Failure> {
    let fail = |d: Diagnostic| Err(Failure::unwritten(d));
    let dir = &args.dir;
    if dir.exists() && !dir.is_dir() {
        return fail(Diagnostic::error(dir.clone(), "exists and is not a folder"));
    }
    let busy = std::fs::read_dir(dir).is_ok_and(|mut e| e.next().is_some());
    if busy && !args.force {
        return fail(Diagnostic::error(
            dir.clone(),
            "is not empty: choose a new folder, or use --force to write relsite's files into it",
        ));
    }
    // With --force into a folder that has them, a config and release notes are kept, and
    // .gitignore only gains the lines it lacks: nothing a user wrote is replaced.
    let mut kept = Vec::new();
    for (name, text) in [
        (crate::config::CONFIG_FILE, CONFIG_TEMPLATE),
        ("releases/README.md", RELEASES_README),
    ] {
        let path = dir.join(name);
        if std::fs::symlink_metadata(&path).is_ok() {
            kept.push(name);
            continue;
        }
        if let Err(e) = crate::fs::write_below(dir, Path::new(name), text.as_bytes()) {
            return fail(below(dir, e));
        }
    }
    let gitignore = dir.join(".gitignore");
    let existing = match crate::fs::read_regular(&gitignore).and_then(|bytes| {
        String::from_utf8(bytes)
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))
    }) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => {
            return fail(Diagnostic::error(
                PathBuf::from(".gitignore"),
                format!("cannot read: {e}"),
            ));
        }
    };
    let missing: Vec<&str> = GITIGNORE
        .lines()
        .filter(|l| !existing.lines().any(|e| e.trim() == *l))
        .collect();
    if !missing.is_empty() {
        let mut text = existing.clone();
        if !text.is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
        for line in missing {
            text.push_str(line);
            text.push('\n');
        }
        if let Err(e) = crate::fs::write_below(dir, Path::new(".gitignore"), text.as_bytes()) {
            return fail(below(dir, e));
        }
    }
    let root = shown(dir);
    let kept = if kept.is_empty() {
        String::new()
    } else {
        format!(" (kept the existing {})", kept.join(" and "))
    };
    ui.status(format!(
        "created a site in {root}{kept}: set base_url in {root}/relsite.yaml, then"
    ));
    ui.status(format!("  relsite add App.ipa --root {root}"));
    ui.status(format!("  relsite build --root {root}"));
    Ok(())
}

/// An error writing below the new site, naming the file relative to it.
fn below(dir: &Path, e: crate::fs::FsError) -> Diagnostic {
    let at = e.path.strip_prefix(dir).unwrap_or(&e.path).to_path_buf();
    Diagnostic::error(at, e.source.to_string())
}

fn shown(dir: &Path) -> String {
    let s = display_path(dir);
    if s.is_empty() { ".".into() } else { s }
}
