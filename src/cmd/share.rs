//! `relsite share`: the secret links of unlisted channels' pages.

use std::path::PathBuf;

use crate::cli::ShareArgs;
use crate::cmd::Failure;
use crate::config::{CONFIG_FILE, Config, HttpsUrl};
use crate::diag::Diagnostic;
use crate::secret::SiteSecret;
use crate::text::terminal;
use crate::ui::Ui;

/// Prints `<channel> <link>` for each unlisted channel, or the one asked for.
pub fn run(args: &ShareArgs, ui: &Ui) -> Result<(), Failure> {
    let config = Config::from_root(&args.root).map_err(Failure::unwritten)?;
    let base = match &args.base_url {
        Some(raw) => HttpsUrl::parse_preview(raw).map_err(|why| {
            Failure::unwritten(Diagnostic::error(None, format!("--base-url: {why}")))
        })?,
        None => config.base_url.clone(),
    };
    let asked = args
        .channel
        .as_deref()
        .map(|c| crate::urls::slugify(c, "c"));
    let unlisted: Vec<&String> = config
        .channels
        .iter()
        .filter(|(name, c)| {
            c.unlisted
                && asked
                    .as_deref()
                    .is_none_or(|asked| crate::urls::slugify(name, "c") == asked)
        })
        .map(|(name, _)| name)
        .collect();
    if unlisted.is_empty() {
        let why = match &args.channel {
            Some(asked) => format!("channel `{asked}` is not unlisted: add `channels: {{{asked}: {{unlisted: true}}}}`"),
            None => "no channel is unlisted: add `channels: {qa: {unlisted: true}}` to share one channel's builds by a link".to_string(),
        };
        return Err(Failure::unwritten(Diagnostic::error(
            PathBuf::from(CONFIG_FILE),
            why,
        )));
    }
    let secret = SiteSecret::of_site(&config, &args.root)
        .map_err(Failure::unwritten)?
        .ok_or_else(|| {
            Failure::unwritten(Diagnostic::error(
                PathBuf::from(CONFIG_FILE),
                "unlisted channels need a secret",
            ))
        })?;
    let layout = crate::layout::Layout::new(base.as_url(), None, None);
    // The links are what was asked for: printed even with --quiet.
    for name in unlisted {
        let slug = crate::urls::slugify(name, "c");
        let token = secret.share_token(&slug);
        println!("{} {}", terminal(name), layout.share_page(&token).url);
    }
    ui.detail("a channel's page is published once a build is in it");
    Ok(())
}
