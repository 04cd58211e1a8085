//! `relsite check`: every stage but the write.

use crate::cli::SiteArgs;
use crate::cmd::{plural, report};
use crate::pipeline::{self, Options};

/// Validates the site; returns whether it would build.
pub fn run(args: &SiteArgs) -> bool {
    let options = Options {
        root: args.root.clone(),
        output: None,
        base_url: args.base_url.clone(),
        drafts: args.drafts,
    };
    match pipeline::prepare(&options) {
        Ok(prepared) => {
            report(&prepared.diagnostics);
            let builds: usize = prepared.catalog.apps.iter().map(|a| a.builds.len()).sum();
            println!(
                "ok: {} and {} would be published ({} files, {})",
                plural(prepared.catalog.apps.len(), "app"),
                plural(builds, "build"),
                prepared.plan.len(),
                plural(prepared.diagnostics.warning_count(), "warning")
            );
            true
        }
        Err(diagnostics) => {
            report(&diagnostics);
            false
        }
    }
}
