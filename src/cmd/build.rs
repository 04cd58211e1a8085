//! `relsite build`: the whole pipeline, then the write.

use std::time::Instant;

use crate::cli::BuildArgs;
use crate::diag::{Diagnostic, Diagnostics};
use crate::pipeline::{self, Options, Prepared};
use crate::ui::{Ui, plural};
use crate::write;

/// Builds the site; returns whether it succeeded.
pub fn run(args: &BuildArgs, ui: &Ui) -> bool {
    let options = Options {
        root: args.site.root.clone(),
        output: args.output.clone(),
        base_url: args.site.base_url.clone(),
        drafts: args.site.drafts,
    };
    build(&options, ui).is_some()
}

/// Runs the pipeline and writes the site, reporting as it goes; `None` when it failed.
pub fn build(options: &Options, ui: &Ui) -> Option<Prepared> {
    let started = Instant::now();
    let prepared = match pipeline::prepare(options, ui) {
        Ok(prepared) => prepared,
        Err(diagnostics) => {
            ui.report_unwritten(&diagnostics);
            return None;
        }
    };
    ui.report(&prepared.diagnostics);
    let bar = ui.progress(prepared.plan.len() as u64, "Writing");
    let written = write::write_site_with_progress(&prepared.plan, &prepared.output_dir, &bar);
    bar.finish_and_clear();
    let stats = match written {
        Ok(stats) => stats,
        Err(err) => {
            ui.report_unwritten(&Diagnostics::from(Diagnostic::error(None, err.to_string())));
            return None;
        }
    };
    ui.detail(format!(
        "wrote {} and kept {} unchanged",
        plural(stats.written, "file"),
        stats.unchanged
    ));
    ui.status(format!(
        "built {} and {} into {} with {} in {:.2}s",
        plural(prepared.catalog.apps.len(), "app"),
        plural(prepared.catalog.build_count(), "build"),
        prepared.output_dir.display(),
        plural(prepared.diagnostics.warning_count(), "warning"),
        started.elapsed().as_secs_f64()
    ));
    Some(prepared)
}
