//! The command line, as clap derive types: each doc comment is the `--help` text.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "relsite",
    version,
    about = "Static site generator for over-the-air iOS release catalogs",
    long_about = "relsite turns a folder of iOS builds (.ipa) and their release notes (YAML) into a static site from which testers install the builds over the air.",
    after_help = "Examples:\n  relsite build                      build the site in the current folder into public/\n  relsite build --root my-site       build another folder\n  relsite check --root my-site       validate without writing"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Build the site into the output folder
    #[command(
        after_help = "Examples:\n  relsite build\n  relsite build --root example-site\n  relsite build --drafts --output /tmp/preview --base-url https://staging.example.com/"
    )]
    Build(BuildArgs),
    /// Run every check of `build` without writing anything
    #[command(
        after_help = "Examples:\n  relsite check\n  relsite check --root example-site --drafts"
    )]
    Check(SiteArgs),
    /// Work with the site's theme
    #[command(subcommand)]
    Theme(ThemeCommand),
}

#[derive(Debug, Subcommand)]
pub enum ThemeCommand {
    /// Write the built-in theme to themes/<NAME>/ for editing, then set `theme: <NAME>`
    #[command(
        after_help = "Examples:\n  relsite theme eject\n  relsite theme eject --name brand --root my-site"
    )]
    Eject(EjectArgs),
}

#[derive(Debug, Args)]
pub struct EjectArgs {
    /// The site folder, holding relsite.yaml
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub root: PathBuf,
    /// Folder name under themes/
    #[arg(long, default_value = "custom")]
    pub name: String,
    /// Overwrite files that already exist
    #[arg(long)]
    pub force: bool,
}

/// Options shared by every command that reads a site.
#[derive(Debug, Args)]
pub struct SiteArgs {
    /// The site folder, holding relsite.yaml
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub root: PathBuf,
    /// Use this base URL instead of the config's `base_url` (http:// only for localhost)
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,
    /// Publish builds whose notes say `draft: true`
    #[arg(long)]
    pub drafts: bool,
}

#[derive(Debug, Args)]
pub struct BuildArgs {
    #[command(flatten)]
    pub site: SiteArgs,
    /// Write the site here instead of the config's `output_dir` (relative to the current folder)
    #[arg(long, short, value_name = "DIR")]
    pub output: Option<PathBuf>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_well_formed() {
        Cli::command().debug_assert();
    }
}
