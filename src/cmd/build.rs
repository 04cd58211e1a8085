//! `relsite build`: the whole pipeline, then the write.

use std::time::Instant;

use crate::cli::BuildArgs;
use crate::cmd::Failure;
use crate::diag::Diagnostic;
use crate::pipeline::{self, CacheUse, Options, Prepared};
use crate::ui::{Ui, plural};
use crate::write::{self, Ipas, WriteError};

/// Builds the site.
pub fn run(args: &BuildArgs, ui: &Ui) -> Result<(), Failure> {
    build(&options(args), ui).map(drop)
}

/// What `build` (and `deploy`) were asked for.
pub fn options(args: &BuildArgs) -> Options {
    Options {
        root: args.site.root.clone(),
        output: args.output.clone(),
        base_url: args.site.base_url.clone(),
        drafts: args.site.drafts,
        preview: false,
        published: Vec::new(),
        cache: if args.site.no_cache {
            CacheUse::Off
        } else {
            CacheUse::ReadWrite
        },
    }
}

/// Runs the pipeline and writes the site, reporting its warnings and what it wrote.
pub fn build(options: &Options, ui: &Ui) -> Result<Prepared, Failure> {
    let started = Instant::now();
    let prepared = pipeline::prepare(options, ui).map_err(Failure::unwritten)?;
    ui.report(&prepared.diagnostics);
    let bar = ui.progress(prepared.plan.len() as u64, "Writing");
    let previous = prepared.cache.output_record(&prepared.output_dir);
    let ipas = if options.preview {
        Ipas::Link
    } else {
        Ipas::Copy
    };
    let written = write::write_site(
        &prepared.plan,
        &prepared.output_dir,
        previous.as_ref(),
        ipas,
        &bar,
        &|notice| bar.suspend(|| ui.notice(notice)),
    );
    bar.finish_and_clear();
    let (stats, record) = written.map_err(|err| match err {
        WriteError::Made(problems) => Failure::unwritten(problems),
        err => {
            // What the error is about, relative to the site; else the output folder.
            let file = err
                .path()
                .and_then(|p| p.strip_prefix(&options.root).ok())
                .or_else(|| prepared.output_dir.strip_prefix(&options.root).ok())
                .unwrap_or(&prepared.output_dir);
            Failure::unwritten(Diagnostic::error(file.to_path_buf(), err.to_string()))
        }
    })?;
    drop(previous);
    if let Some(record) = record
        && let Err(why) = prepared.cache.save_output_record(&record)
    {
        ui.notice(format!("{why}: the next build compares every file"));
    }
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
