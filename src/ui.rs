//! What the commands print: problems on standard error, results on standard output, colour and
//! progress bars only on a terminal (and no colour when `NO_COLOR` is set), quiet in CI logs.
//! Every line is printed with its control characters escaped ([`crate::text::terminal`]): names
//! from files (bundle identifiers, profile names, YAML keys, file names, titles) can neither
//! colour nor move the terminal, nor start a line of their own.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::cmd::Failure;
use crate::diag::{Diagnostic, Diagnostics, Severity, Style};
pub(crate) use crate::text::plural;
use crate::text::terminal;

#[derive(Debug, Clone, Copy, Default)]
pub struct Ui {
    /// Print only errors.
    pub quiet: bool,
    /// Print what each stage did.
    pub verbose: bool,
    color: bool,
    progress: bool,
}

impl Ui {
    /// Decides colour and progress from the terminal and the environment.
    pub fn new(quiet: bool, verbose: bool) -> Ui {
        let terminal = std::io::stderr().is_terminal();
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let dumb = std::env::var("TERM").is_ok_and(|t| t == "dumb");
        Ui {
            quiet,
            verbose: verbose && !quiet,
            color: terminal && !no_color && !dumb,
            progress: terminal && !quiet && !dumb,
        }
    }

    /// Prints every problem (only errors when quiet), sorted, then a count of errors.
    pub(crate) fn report(&self, diagnostics: &Diagnostics) {
        self.report_then(diagnostics, None);
    }

    /// Prints why a command failed: its problems, a count, and what that meant for the output.
    pub fn report_failure(&self, failure: &Failure) {
        self.report_then(&failure.diagnostics, failure.consequence);
    }

    fn report_then(&self, diagnostics: &Diagnostics, consequence: Option<&str>) {
        for d in diagnostics.sorted() {
            if self.quiet && d.severity == Severity::Warning {
                continue;
            }
            eprintln!("{}", self.format(d));
        }
        let errors = diagnostics.error_count();
        if errors > 0 {
            let label = self.paint("error", "1;31");
            eprintln!(
                "{label}: found {}{}",
                plural(errors, "problem"),
                consequence.map(|c| format!(", {c}")).unwrap_or_default()
            );
        }
    }

    /// One problem, with its place and label coloured on a terminal.
    pub(crate) fn format(&self, d: &Diagnostic) -> String {
        d.render(|text, style| match style {
            Style::Place => self.paint(text, "1"),
            Style::Label(Severity::Error) => self.paint(text, "1;31"),
            Style::Label(Severity::Warning) => self.paint(text, "1;33"),
        })
    }

    fn paint(&self, text: &str, code: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    /// A result line on standard output, unless quiet.
    pub fn status(&self, message: impl AsRef<str>) {
        if !self.quiet {
            println!("{}", terminal(message.as_ref()));
        }
    }

    /// A note on standard error about how the run went (not a problem of the site), unless
    /// quiet.
    pub(crate) fn notice(&self, message: impl AsRef<str>) {
        if !self.quiet {
            eprintln!(
                "{}: {}",
                self.paint("note", "1;36"),
                terminal(message.as_ref())
            );
        }
    }

    /// A detail line on standard error, only when verbose.
    pub fn detail(&self, message: impl AsRef<str>) {
        if self.verbose {
            eprintln!("{}", terminal(message.as_ref()));
        }
    }

    /// A progress bar of `len` steps on a terminal; elsewhere a bar that draws nothing. Its
    /// messages are set with [`progress_message`].
    pub fn progress(&self, len: u64, what: &str) -> ProgressBar {
        if !self.progress {
            return ProgressBar::hidden();
        }
        let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
        let style = ProgressStyle::with_template("{prefix:>10} [{bar:30}] {pos}/{len} {wide_msg}")
            .map(|s| s.progress_chars("=> "))
            .unwrap_or_else(|_| ProgressStyle::default_bar());
        bar.set_style(style);
        bar.set_prefix(what.to_string());
        bar.enable_steady_tick(Duration::from_millis(120));
        bar
    }
}

/// Shows `message` beside a progress bar, escaped as every printed line is.
pub(crate) fn progress_message(bar: &ProgressBar, message: &str) {
    bar.set_message(terminal(message).into_owned());
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    #[test]
    fn plain_output_has_no_escape_codes() {
        let ui = Ui::default();
        let d = Diagnostic::warning(PathBuf::from("a.yaml"), "x");
        assert_eq!(ui.format(&d), "a.yaml: warning: x");
    }

    #[test]
    fn colour_paints_place_and_label() {
        let ui = Ui {
            color: true,
            ..Ui::default()
        };
        let d = Diagnostic::error(PathBuf::from("a.yaml"), "x");
        assert_eq!(
            ui.format(&d),
            "\x1b[1ma.yaml:\x1b[0m \x1b[1;31merror\x1b[0m: x"
        );
    }
}
