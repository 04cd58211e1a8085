//! `relsite deploy`: build, then publish the output to the site's object store.

use std::time::Instant;

use crate::cli::DeployArgs;
use crate::cmd::{Failure, build};
use crate::config::Config;
use crate::deploy::{Deploy, DeployError, Plan, Target};
use crate::diag::Diagnostic;
use crate::render::views::human_size;
use crate::ui::{Ui, plural};

/// Builds the site and deploys it.
pub fn run(args: &DeployArgs, ui: &Ui) -> Result<(), Failure> {
    let mut options = build::options(&args.build);
    let config = Config::from_root(&options.root).map_err(Failure::unwritten)?;
    let Some(settings) = &config.deploy else {
        return Err(Failure::unwritten(Diagnostic::error(
            std::path::PathBuf::from(crate::config::CONFIG_FILE),
            "no `deploy` target: add `deploy: {url: s3://bucket/prefix}` (and `endpoint` for an S3-compatible store)",
        )));
    };
    let target = Target::parse(settings).map_err(|(_, why)| {
        Failure::unwritten(Diagnostic::error(
            std::path::PathBuf::from(crate::config::CONFIG_FILE),
            why,
        ))
    })?;
    let started = Instant::now();
    let failed = |e: DeployError| Failure {
        diagnostics: Diagnostic::error(None, e.to_string()).into(),
        consequence: Some("nothing was deleted from the target"),
    };
    let deploy = Deploy::open(&target).map_err(failed)?;
    if args.from_published {
        options.published = deploy.published().map_err(failed)?;
        ui.detail(format!(
            "{} published in {}",
            plural(options.published.len(), "build"),
            target.url
        ));
    }
    let prepared = build::build(&options, ui)?;
    let (previous, notice) = deploy.record().map_err(failed)?;
    if let Some(notice) = notice {
        ui.notice(notice);
    }
    let files = crate::deploy::local_files(&prepared.output_dir)
        .map_err(|why| Failure::unwritten(Diagnostic::error(prepared.output_dir.clone(), why)))?;
    let index = prepared.output_dir.join(crate::published::INDEX_FILE);
    let elsewhere = crate::published::kept_files(&index)
        .map_err(|why| Failure::unwritten(Diagnostic::error(index.clone(), why)))?;
    let plan = Plan::new(files, previous, &elsewhere);
    let summary = |verb: &str, deleted: &str| {
        format!(
            "{verb} {} ({}), kept {}, {deleted} {}",
            plural(plan.uploads.len(), "file"),
            human_size(plan.upload_bytes()),
            plan.kept,
            plan.deletes.len()
        )
    };
    if args.dry_run {
        for (_, file) in &plan.uploads {
            ui.status(format!(
                "would upload {} ({})",
                file.path,
                human_size(file.size)
            ));
        }
        for key in &plan.deletes {
            ui.status(format!("would delete {key}"));
        }
        ui.status(format!(
            "{} to {}; nothing was changed (--dry-run)",
            summary("would upload", "would delete"),
            target.url
        ));
        return Ok(());
    }
    if plan.is_empty() {
        ui.status(format!(
            "deployed to {}: nothing changed, kept {}",
            target.url,
            plural(plan.kept, "file")
        ));
        return verify(args, &prepared, ui);
    }
    let bar = ui.progress(plan.uploads.len() as u64, "Uploading");
    let lines = bar.is_hidden();
    deploy
        .run(
            &plan,
            &|file| {
                bar.inc(1);
                if lines {
                    ui.detail(format!(
                        "uploaded {} ({})",
                        file.path,
                        human_size(file.size)
                    ));
                }
            },
            &|key| ui.detail(format!("deleted {key}")),
        )
        .map_err(failed)?;
    bar.finish_and_clear();
    ui.status(format!(
        "deployed to {}: {} in {:.2}s",
        target.url,
        summary("uploaded", "deleted"),
        started.elapsed().as_secs_f64()
    ));
    verify(args, &prepared, ui)
}

/// With `--verify`, what `check --deployed` checks, on the site just deployed.
fn verify(args: &DeployArgs, prepared: &crate::pipeline::Prepared, ui: &Ui) -> Result<(), Failure> {
    if !args.verify {
        return Ok(());
    }
    let limits = crate::cmd::deployed::Limits::default();
    crate::cmd::deployed::run(prepared, None, limits, ui)
}
