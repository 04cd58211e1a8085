//! `relsite check`: every stage but the write, or with `--deployed`, the live site.

use crate::cli::CheckArgs;
use crate::cmd::Failure;
use crate::pipeline::{self, CacheUse, Options};
use crate::ui::{Ui, plural};

/// Validates the site (or its deployment).
pub fn run(args: &CheckArgs, ui: &Ui) -> Result<(), Failure> {
    let options = Options {
        root: args.site.root.clone(),
        output: None,
        base_url: args.site.base_url.clone(),
        drafts: args.site.drafts,
        preview: false,
        published: Vec::new(),
        strict: args.strict,
        cache: if args.site.no_cache {
            CacheUse::Off
        } else {
            CacheUse::ReadOnly
        },
    };
    let prepared = pipeline::prepare(&options, ui).map_err(Failure::found)?;
    let files = match prepared.plan.verify() {
        Ok(files) => files,
        Err(problems) => {
            let mut all = prepared.diagnostics.clone();
            all.extend(problems);
            return Err(Failure::found(all));
        }
    };
    if let Some(failed) = pipeline::strict_failure(args.strict, &prepared.diagnostics, &[]) {
        return Err(Failure::found(failed));
    }
    ui.report(&prepared.diagnostics);
    if args.deployed {
        let defaults = crate::cmd::deployed::Limits::default();
        let limits = crate::cmd::deployed::Limits {
            timeout: args
                .timeout
                .map_or(defaults.timeout, std::time::Duration::from_secs_f64),
            deadline: args
                .deadline
                .map_or(defaults.deadline, std::time::Duration::from_secs_f64),
        };
        return crate::cmd::deployed::run(&prepared, args.ca_file.as_deref(), limits, ui);
    }
    ui.status(format!(
        "ok: {} and {} would be published ({}, {})",
        plural(prepared.catalog.app_count(), "app"),
        plural(prepared.catalog.build_count(), "build"),
        plural(files, "file"),
        plural(prepared.diagnostics.warning_count(), "warning")
    ));
    Ok(())
}
