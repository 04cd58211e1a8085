//! `relsite build`: the whole pipeline, then the write.

use std::time::Instant;

use crate::cli::BuildArgs;
use crate::cmd::{plural, report};
use crate::diag::{Diagnostic, Diagnostics};
use crate::pipeline::{self, Options};
use crate::write;

/// Builds the site; returns whether it succeeded.
pub fn run(args: &BuildArgs) -> bool {
    let started = Instant::now();
    let options = Options {
        root: args.site.root.clone(),
        output: args.output.clone(),
        base_url: args.site.base_url.clone(),
        drafts: args.site.drafts,
    };
    let prepared = match pipeline::prepare(&options) {
        Ok(prepared) => prepared,
        Err(diagnostics) => {
            report(&diagnostics);
            return false;
        }
    };
    report(&prepared.diagnostics);
    let stats = match write::write_site(&prepared.plan, &prepared.output_dir) {
        Ok(stats) => stats,
        Err(err) => {
            report(&Diagnostics::from(Diagnostic::error(None, err.to_string())));
            return false;
        }
    };
    let builds: usize = prepared.catalog.apps.iter().map(|a| a.builds.len()).sum();
    println!(
        "built {} and {} into {} ({} written, {} unchanged, {}) in {:.2}s",
        plural(prepared.catalog.apps.len(), "app"),
        plural(builds, "build"),
        prepared.output_dir.display(),
        plural(stats.written, "file"),
        stats.unchanged,
        plural(prepared.diagnostics.warning_count(), "warning"),
        started.elapsed().as_secs_f64()
    );
    true
}
