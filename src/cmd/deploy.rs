//! `relsite deploy`: build, then publish the output to the site's object store.

use std::time::Instant;

use crate::cli::{BuildArgs, DeployArgs, RemoveArgs, SiteArgs};
use crate::cmd::{Failure, build};
use crate::config::Config;
use crate::deploy::{Deploy, DeployError, Plan, Target};
use crate::diag::Diagnostic;
use crate::layout::redacted;
use crate::published::PublishedBuild;
use crate::render::views::human_size;
use crate::ui::{Ui, plural};

/// Builds the site and deploys it.
pub fn run(args: &DeployArgs, ui: &Ui) -> Result<(), Failure> {
    deploy(args, None, ui)
}

/// `relsite remove`: deploys the published catalog without one build, deleting its files.
pub fn remove(args: &RemoveArgs, ui: &Ui) -> Result<(), Failure> {
    let deploy_args = DeployArgs {
        build: BuildArgs {
            site: SiteArgs {
                root: args.root.clone(),
                base_url: None,
                drafts: false,
                no_cache: false,
            },
            output: None,
            from_published: true,
            strict: false,
        },
        dry_run: args.dry_run,
        verify: false,
    };
    deploy(&deploy_args, Some((&args.bundle_id, &args.build)), ui)
}

/// The version and path segment (`<version>-<build>`) of a published build.
fn published_slug(build: &PublishedBuild) -> Option<(String, String)> {
    let source = crate::scan::ReleaseSource {
        ipa: build.release.clone(),
        notes: None,
    };
    let (version, number) =
        crate::catalog::identify_version(&source, &build.facts.plist, &build.notes)?;
    let slug = crate::catalog::version_slug(&version, number.as_deref());
    Some((version, slug))
}

/// The path segment of the published build when it is `bundle_id`'s build `which`: named by
/// its path segment, or by its version.
fn is_build(build: &PublishedBuild, bundle_id: &str, which: &str) -> Option<String> {
    if build.facts.plist.bundle_id != bundle_id {
        return None;
    }
    let (version, slug) = published_slug(build)?;
    (slug == which || version == which).then_some(slug)
}

fn deploy(args: &DeployArgs, removing: Option<(&str, &str)>, ui: &Ui) -> Result<(), Failure> {
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
    let (previous, notice) = deploy.record().map_err(failed)?;
    if let Some(notice) = notice {
        ui.notice(notice);
    }
    if args.build.from_published {
        let index = crate::secret::SiteSecret::index_file_of(&config, &options.root)
            .map_err(Failure::unwritten)?;
        let recorded: Vec<&str> = previous
            .iter()
            .flat_map(|r| r.objects.keys())
            .map(String::as_str)
            .collect();
        options.published = deploy.published(&index, &recorded).map_err(failed)?;
        ui.detail(format!(
            "{} published in {}",
            plural(options.published.len(), "build"),
            target.url
        ));
    }
    let mut removed = None;
    if let Some((bundle_id, which)) = removing {
        let matching: Vec<String> = options
            .published
            .iter()
            .filter_map(|b| is_build(b, bundle_id, which))
            .collect();
        match matching.as_slice() {
            [slug] => removed = Some(slug.clone()),
            [] => {
                let published: Vec<String> = options
                    .published
                    .iter()
                    .filter(|b| b.facts.plist.bundle_id == bundle_id)
                    .filter_map(|b| published_slug(b).map(|(_, slug)| slug))
                    .collect();
                return Err(Failure::unwritten(Diagnostic::error(
                    None,
                    format!(
                        "{}: no published build {which} of {bundle_id}{}",
                        target.url,
                        if published.is_empty() {
                            String::new()
                        } else {
                            format!("; published: {}", published.join(", "))
                        }
                    ),
                )));
            }
            several => {
                return Err(Failure::unwritten(Diagnostic::error(
                    None,
                    format!(
                        "{which} names {} builds of {bundle_id} ({}): give the one to remove as <version>-<build>",
                        several.len(),
                        several.join(", ")
                    ),
                )));
            }
        }
        options
            .published
            .retain(|b| is_build(b, bundle_id, which).is_none());
    }
    let prepared = build::build(&options, ui)?;
    if let (Some((bundle_id, _)), Some(slug)) = (removing, &removed)
        && let Some(build) = prepared
            .catalog
            .apps
            .iter()
            .filter(|a| a.bundle_id == bundle_id)
            .flat_map(|a| &a.builds)
            .find(|b| b.slug == *slug)
    {
        return Err(Failure::unwritten(Diagnostic::error(
            build.source.ipa.clone(),
            format!(
                "holds build {slug} of {bundle_id}: take it out of the releases folder too, or it is published again"
            ),
        )));
    }
    let known = prepared.cache.output_hashes();
    let (files, hashes) = crate::deploy::local_files(&prepared.output_dir, &known)
        .map_err(|why| Failure::unwritten(Diagnostic::error(prepared.output_dir.clone(), why)))?;
    if hashes != known
        && let Err(why) = prepared.cache.save_output_hashes(&hashes)
    {
        ui.notice(format!("{why}: the next deploy hashes every file again"));
    }
    let index = prepared
        .output_dir
        .join(prepared.catalog.layout.index().file);
    let indexed = crate::published::builds_files(&index)
        .map_err(|why| Failure::unwritten(Diagnostic::error(index.clone(), why)))?;
    let elsewhere: Vec<String> = indexed
        .into_iter()
        .flat_map(|(_, _, files)| files)
        .collect();
    let no_record = previous.is_none();
    let mut plan = Plan::new(files, previous, &elsewhere);
    if no_record && target.etags_are_md5() {
        // No record: every object at a file's key is compared with the file instead.
        let remote = deploy.listing().map_err(failed)?;
        plan.keep_matching(&remote);
        plan.claim_published(&elsewhere, &remote);
    }
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
                redacted(&file.path),
                human_size(file.size)
            ));
        }
        for key in &plan.deletes {
            ui.status(format!("would delete {}", redacted(key)));
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
    // On a terminal a progress bar; elsewhere, as in a CI log, a line per file.
    let lines = bar.is_hidden();
    deploy
        .run(
            &plan,
            &|file| {
                bar.inc(1);
                if lines {
                    ui.status(format!(
                        "uploaded {} ({})",
                        redacted(&file.path),
                        human_size(file.size)
                    ));
                }
            },
            &|key| {
                if lines {
                    ui.status(format!("deleted {}", redacted(key)));
                }
            },
        )
        .map_err(|e| Failure {
            diagnostics: Diagnostic::error(None, e.to_string()).into(),
            consequence: Some(
                "run `relsite deploy` again to finish: the live site links only to what is up",
            ),
        })?;
    bar.finish_and_clear();
    ui.status(format!(
        "deployed to {}: {} in {:.2}s",
        target.url,
        summary("uploaded", "deleted"),
        started.elapsed().as_secs_f64()
    ));
    if let (Some((bundle_id, _)), Some(slug)) = (removing, &removed) {
        ui.status(format!(
            "removed build {slug} of {bundle_id} from {}",
            target.url
        ));
    }
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
