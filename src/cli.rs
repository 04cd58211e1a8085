//! The command line, as clap derive types: each doc comment is the `--help` text.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "relsite",
    version,
    about = "Static site generator for over-the-air iOS release catalogs",
    long_about = "relsite turns a folder of iOS builds (.ipa) and their release notes (YAML) into a static site from which testers install the builds over the air.",
    after_help = "Examples:\n  relsite init my-site                     start a site\n  relsite add Field.ipa --root my-site     add a build to it\n  relsite build --root my-site             write my-site/public/\n  relsite serve --root my-site             preview it with live reload"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// Print only errors
    #[arg(long, short, global = true)]
    pub quiet: bool,
    /// Print what each stage did
    #[arg(long, short, global = true, conflicts_with = "quiet")]
    pub verbose: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a new site: relsite.yaml, releases/ and .gitignore
    #[command(after_help = "Examples:\n  relsite init my-site\n  relsite init . --force")]
    Init(InitArgs),
    /// Copy an IPA into releases/ with its notes
    #[command(
        after_help = "Examples:\n  relsite add build/Field.ipa --channel beta --notes 'Fixes sync'\n  relsite add Field.ipa --notes-file CHANGELOG.md --date 2024-05-01 --root my-site"
    )]
    Add(AddArgs),
    /// Build the site into the output folder
    #[command(
        after_help = "Examples:\n  relsite build\n  relsite build --root example-site\n  relsite build --drafts --output /tmp/preview --base-url https://staging.example.com/\n  relsite build --from-published"
    )]
    Build(BuildArgs),
    /// Build the site and upload what changed to the `deploy` target in relsite.yaml
    #[command(
        after_help = "Credentials come from the environment: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY for S3 and S3-compatible stores, GOOGLE_APPLICATION_CREDENTIALS for GCS, AZURE_STORAGE_ACCOUNT_NAME and AZURE_STORAGE_ACCOUNT_KEY for Azure.\n\nExamples:\n  relsite deploy\n  relsite deploy --dry-run\n  relsite add build/Field.ipa --channel beta && relsite deploy --from-published"
    )]
    Deploy(DeployArgs),
    /// Take a published build out of the catalog in the `deploy` target, deleting its files
    #[command(
        after_help = "The build is named by its folder, <version>-<build> (or the version alone when that names one build). It must not be in the releases folder too.\n\nExamples:\n  relsite remove com.example.field 1.10.0-200\n  relsite remove com.example.field 1.9.0 --dry-run"
    )]
    Remove(RemoveArgs),
    /// Run every check of `build` without writing anything, or check a deployed site
    #[command(
        after_help = "Examples:\n  relsite check\n  relsite check --root example-site --drafts\n  relsite check --deployed\n  relsite check --deployed --ca-file corp-root.pem\n  relsite check --deployed --timeout 30 --deadline 1800"
    )]
    Check(CheckArgs),
    /// Print the secret link of each unlisted channel's page, to share with its testers
    #[command(
        after_help = "The links come from the site secret (RELSITE_SECRET or `secret_file`) and stay the same until it changes; a channel's page is published once a build is in it.\n\nExamples:\n  relsite share\n  relsite share qa --root my-site"
    )]
    Share(ShareArgs),
    /// Build and serve the site on 127.0.0.1, rebuilding and reloading on change
    #[command(
        after_help = "Examples:\n  relsite serve\n  relsite serve --root example-site --port 8080 --drafts"
    )]
    Serve(ServeArgs),
    /// Work with the site's theme
    #[command(
        subcommand,
        after_help = "Examples:\n  relsite theme eject --name brand"
    )]
    Theme(ThemeCommand),
    /// Print a shell completion script
    #[command(
        after_help = "Examples:\n  relsite completions bash > /etc/bash_completion.d/relsite\n  relsite completions zsh > \"${fpath[1]}/_relsite\""
    )]
    Completions(CompletionsArgs),
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
    /// Read every IPA again instead of using .relsite-cache/, and leave the cache as it is
    #[arg(long)]
    pub no_cache: bool,
}

#[derive(Debug, Args)]
pub struct BuildArgs {
    #[command(flatten)]
    pub site: SiteArgs,
    /// Write the site here instead of the config's `output_dir` (relative to the current folder)
    #[arg(long, short, value_name = "DIR")]
    pub output: Option<PathBuf>,
    /// Keep every build of the catalog already published, beside the releases at hand: for a
    /// runner that holds only the new build. `build` reads it from the base URL (and needs
    /// `ipa_base_url`), `deploy` from its target
    #[arg(long)]
    pub from_published: bool,
    /// Fail (exit 1, writing nothing) when there is any warning
    #[arg(long)]
    pub strict: bool,
}

#[derive(Debug, Args)]
pub struct DeployArgs {
    #[command(flatten)]
    pub build: BuildArgs,
    /// Print what would be uploaded and deleted, and change nothing in the target
    #[arg(long)]
    pub dry_run: bool,
    /// Afterwards, fetch every manifest and IPA from the live site as `check --deployed` does
    #[arg(long)]
    pub verify: bool,
}

#[derive(Debug, Args)]
pub struct RemoveArgs {
    /// The app's bundle identifier
    pub bundle_id: String,
    /// The build: its folder, <version>-<build>, or its version
    pub build: String,
    /// The site folder, holding relsite.yaml
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub root: PathBuf,
    /// Print what would be uploaded and deleted, and change nothing in the target
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Args)]
pub struct ShareArgs {
    /// Only this unlisted channel's link
    #[arg(value_name = "CHANNEL")]
    pub channel: Option<String>,
    /// The site folder, holding relsite.yaml
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub root: PathBuf,
    /// Use this base URL instead of the config's `base_url` (http:// only for localhost)
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub site: SiteArgs,
    /// Fetch the live site at the base URL and check what iOS will fetch: manifests and IPAs
    #[arg(long)]
    pub deployed: bool,
    /// Trust only this PEM certificate authority, for a site behind a private CA (with --deployed)
    #[arg(long, value_name = "FILE", requires = "deployed")]
    pub ca_file: Option<PathBuf>,
    /// Give up on a request, and on its host, after this many seconds without a whole answer
    /// (with --deployed; default: 10)
    #[arg(long, value_name = "SECONDS", requires = "deployed", value_parser = seconds)]
    pub timeout: Option<f64>,
    /// Stop checking after this many seconds in all, reporting what was not checked (with
    /// --deployed; default: 600)
    #[arg(long, value_name = "SECONDS", requires = "deployed", value_parser = seconds)]
    pub deadline: Option<f64>,
    /// Fail (exit 1) when there is any warning
    #[arg(long)]
    pub strict: bool,
}

/// A number of seconds: positive, and at most a day.
fn seconds(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(s) if s > 0.0 && s <= 86_400.0 => Ok(s),
        _ => Err(format!(
            "`{text}` is not a number of seconds from 0 to 86400"
        )),
    }
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Folder for the new site (created if missing)
    #[arg(default_value = ".")]
    pub dir: PathBuf,
    /// Write into a folder that is not empty, replacing files relsite makes
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct AddArgs {
    /// The .ipa to add
    pub ipa: PathBuf,
    /// The site folder, holding relsite.yaml
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub root: PathBuf,
    /// Release channel, e.g. beta (default: stable)
    #[arg(long, value_name = "NAME")]
    pub channel: Option<String>,
    /// Release notes (Markdown)
    #[arg(long, value_name = "TEXT", conflicts_with = "notes_file")]
    pub notes: Option<String>,
    /// Read the release notes (Markdown) from a file
    #[arg(long, value_name = "FILE")]
    pub notes_file: Option<PathBuf>,
    /// Release date, YYYY-MM-DD or RFC 3339 (default: today)
    #[arg(long, value_name = "DATE")]
    pub date: Option<String>,
    /// Publish only with --drafts until the notes say otherwise
    #[arg(long)]
    pub draft: bool,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The site folder, holding relsite.yaml
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub root: PathBuf,
    /// Publish builds whose notes say `draft: true`
    #[arg(long)]
    pub drafts: bool,
    /// Port on 127.0.0.1 (0 picks a free one)
    #[arg(long, short, default_value_t = 1111)]
    pub port: u16,
    /// Read every IPA again instead of using .relsite-cache/, and leave the cache as it is
    #[arg(long)]
    pub no_cache: bool,
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

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for
    pub shell: clap_complete::Shell,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn deployed_limits_are_positive_seconds() {
        assert_eq!(seconds("2.5"), Ok(2.5));
        for bad in ["0", "-1", "x", "NaN", "inf", "86401"] {
            assert!(seconds(bad).is_err(), "{bad}");
        }
    }
}
