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
    let mut options = options(args);
    if args.from_published {
        options.published = from_published(&options, ui)?;
    }
    build(&options, ui).map(drop)
}

/// The builds of the catalog published at the base URL, with their icons, for a host that takes
/// a whole folder per deploy: every file must be in the output, and IPAs at `ipa_base_url`.
fn from_published(
    options: &Options,
    ui: &Ui,
) -> Result<Vec<crate::published::PublishedBuild>, Failure> {
    let config = crate::config::Config::from_root(&options.root).map_err(Failure::unwritten)?;
    let base = match &options.base_url {
        Some(raw) => crate::config::HttpsUrl::parse_preview(raw).map_err(|why| {
            Failure::unwritten(Diagnostic::error(None, format!("--base-url: {why}")))
        })?,
        None => config.base_url.clone(),
    };
    if config.ipa_base_url.is_none() {
        return Err(Failure::unwritten(Diagnostic::error(
            std::path::PathBuf::from(crate::config::CONFIG_FILE),
            "`build --from-published` needs `ipa_base_url`: the IPAs of builds not at hand cannot be in the output; with `deploy`, the target keeps them",
        )));
    }
    let index = crate::secret::SiteSecret::index_file_of(&config, &options.root)
        .map_err(Failure::unwritten)?;
    let published = crate::published::fetch(base.as_url(), &index).map_err(Failure::unwritten)?;
    ui.detail(format!(
        "{} published at {}",
        plural(published.len(), "build"),
        base
    ));
    Ok(published)
}

/// Refuses a catalog in which a build published before would be at other paths than its
/// published IPA and icons (an app's slug, `ipa_base_url` or the site secret changed, say): its
/// pages would link to files no runner has, and a deploy would delete its files.
fn moved_files(
    published: &[crate::published::PublishedBuild],
    prepared: &Prepared,
) -> Result<(), Failure> {
    let layout = &prepared.catalog.layout;
    let external = prepared.config.ipa_base_url.is_some();
    let by_ipa: std::collections::HashMap<(&str, &str), &[String]> = published
        .iter()
        .map(|p| ((&*p.facts.plist.bundle_id, &*p.facts.sha256), &p.files[..]))
        .collect();
    let mut problems = Vec::new();
    for (app, build) in prepared.catalog.builds().filter(|(_, b)| b.published) {
        let Some(was) = by_ipa.get(&(&*build.bundle_id, &*build.package.sha256)) else {
            continue;
        };
        let (mut was, mut is) = (was.to_vec(), layout.kept_files(app, build, external));
        was.sort();
        is.sort();
        if was != is {
            let folder = |files: &[String]| {
                let file = files.first().map_or("", String::as_str);
                file.rsplit_once('/')
                    .map_or(file, |(folder, _)| folder)
                    .to_string()
            };
            problems.push(Diagnostic::error(
                None,
                format!(
                    "{} of {} is published in {}/, and would now be in {}/: its files stay where they are, so keep the app's slug (apps.{}.slug), ipa_base_url, `private`, unlisted channels and the site secret as they were, or build once from a folder that holds every build",
                    crate::diag::display_path(&build.source.ipa),
                    build.bundle_id,
                    folder(&was),
                    folder(&is),
                    build.bundle_id,
                ),
            ));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Failure::unwritten(problems))
    }
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
        strict: args.strict,
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
    if let Some(failed) =
        pipeline::strict_failure(options.strict, &prepared.diagnostics, &options.published)
    {
        return Err(Failure::unwritten(failed));
    }
    ui.report(&prepared.diagnostics);
    moved_files(&options.published, &prepared)?;
    let bar = ui.progress(write::progress_len(&prepared.plan), "Writing");
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
    if let Some(record) = record
        && let Err(why) = prepared.cache.save_output_record(&record)
    {
        ui.notice(format!("{why}: the next build compares every file"));
    }
    drop(previous);
    ui.detail(format!(
        "wrote {} and kept {} unchanged; planned {} of {} of apps, kept the others as they were",
        plural(stats.written, "file"),
        stats.unchanged,
        prepared.plan.parts.len() - stats.parts_kept,
        plural(prepared.plan.parts.len(), "part")
    ));
    ui.status(format!(
        "built {} and {} into {} with {} in {:.2}s",
        plural(prepared.catalog.app_count(), "app"),
        plural(prepared.catalog.build_count(), "build"),
        prepared.output_dir.display(),
        plural(prepared.diagnostics.warning_count(), "warning"),
        started.elapsed().as_secs_f64()
    ));
    Ok(prepared)
}
