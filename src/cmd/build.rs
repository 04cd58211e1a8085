//! `relsite build`: the whole pipeline, then the write.

use std::time::Instant;

use crate::cli::BuildArgs;
use crate::cmd::Failure;
use crate::diag::Diagnostic;
use crate::pipeline::{self, CacheUse, Options, Prepared};
use crate::ui::{Ui, plural};
use crate::write;

/// Builds the site.
pub fn run(args: &BuildArgs, ui: &Ui) -> Result<(), Failure> {
    let options = Options {
        root: args.site.root.clone(),
        output: args.output.clone(),
        base_url: args.site.base_url.clone(),
        drafts: args.site.drafts,
        cache: if args.site.no_cache {
            CacheUse::Off
        } else {
            CacheUse::ReadWrite
        },
    };
    build(&options, ui).map(drop)
}

/// Runs the pipeline and writes the site, reporting its warnings and what it wrote.
pub fn build(options: &Options, ui: &Ui) -> Result<Prepared, Failure> {
    let started = Instant::now();
    let prepared = pipeline::prepare(options, ui).map_err(Failure::unwritten)?;
    ui.report(&prepared.diagnostics);
    let bar = ui.progress(prepared.plan.len() as u64, "Writing");
    let written = write::write_site(&prepared.plan, &prepared.output_dir, &bar);
    bar.finish_and_clear();
    let stats =
        written.map_err(|err| Failure::unwritten(Diagnostic::error(None, err.to_string())))?;
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
    Ok(prepared)
}
