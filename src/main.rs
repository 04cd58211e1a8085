use std::process::ExitCode;

use clap::Parser;
use relsite::cli::Cli;
use relsite::ui::Ui;

/// Runs the command; a failure is printed here, once, with every problem and a count, and
/// exits 1 (clap exits 2 for a usage error before anything runs).
fn main() -> ExitCode {
    let cli = Cli::parse();
    let ui = Ui::new(cli.quiet, cli.verbose);
    match relsite::run(&cli, &ui) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            ui.report_failure(&failure);
            ExitCode::from(1)
        }
    }
}
