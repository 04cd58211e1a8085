//! `relsite theme eject`: the built-in theme, written out to be edited file by file.

use std::path::{Path, PathBuf};

use crate::cli::EjectArgs;
use crate::cmd::Failure;
use crate::config::CONFIG_FILE;
use crate::diag::{Diagnostic, display_path};
use crate::render::{BUILTIN_STATIC, BUILTIN_TEMPLATES};
use crate::ui::{Ui, plural};

/// Writes every built-in template and static file below `themes/<name>/`.
pub fn eject(args: &EjectArgs, ui: &Ui) -> Result<(), Failure> {
    let fail = |d: Diagnostic| Err(Failure::unwritten(d));
    if !args.root.join(CONFIG_FILE).is_file() {
        return fail(Diagnostic::error(
            PathBuf::from(CONFIG_FILE),
            format!(
                "no {CONFIG_FILE} in `{}`: eject into a relsite site",
                args.root.display()
            ),
        ));
    }
    if args.name.is_empty() || args.name.contains(['/', '\\']) || args.name.starts_with('.') {
        return fail(Diagnostic::error(
            None,
            format!("`{}` is not a folder name", args.name),
        ));
    }
    let theme = Path::new("themes").join(&args.name);
    let files: Vec<(PathBuf, &[u8])> = BUILTIN_TEMPLATES
        .iter()
        .map(|(name, text)| (theme.join("templates").join(name), text.as_bytes()))
        .chain(
            BUILTIN_STATIC
                .iter()
                .map(|(path, bytes)| (theme.join("static").join(path), *bytes)),
        )
        .collect();
    let existing: Vec<String> = files
        .iter()
        .filter(|(path, _)| std::fs::symlink_metadata(args.root.join(path)).is_ok())
        .map(|(path, _)| display_path(path))
        .collect();
    if !existing.is_empty() && !args.force {
        return fail(Diagnostic::error(
            theme.clone(),
            format!(
                "would overwrite {}: use --force to replace them",
                existing.join(", ")
            ),
        ));
    }
    for (path, bytes) in &files {
        if let Err(e) = crate::fs::write_below(&args.root, path, bytes) {
            let at = e
                .path
                .strip_prefix(&args.root)
                .unwrap_or(&e.path)
                .to_path_buf();
            return fail(Diagnostic::error(at, e.source.to_string()));
        }
    }
    ui.status(format!(
        "wrote {} to {}: set `theme: {}` in {CONFIG_FILE} to use them, and delete any file you do not change so it follows the built-in theme",
        plural(files.len(), "file"),
        display_path(&theme),
        args.name
    ));
    Ok(())
}
