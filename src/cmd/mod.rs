//! One function per subcommand.

pub mod build;
pub mod check;
pub mod theme;

use crate::diag::Diagnostics;

/// Prints every problem to standard error, sorted, then a count of each kind.
pub fn report(diagnostics: &Diagnostics) {
    for d in diagnostics.sorted() {
        eprintln!("{d}");
    }
    let errors = diagnostics.error_count();
    if errors > 0 {
        eprintln!(
            "error: found {errors} problem{}, nothing was written",
            if errors == 1 { "" } else { "s" }
        );
    }
}

pub(crate) fn plural(n: usize, word: &str) -> String {
    format!("{n} {word}{}", if n == 1 { "" } else { "s" })
}
