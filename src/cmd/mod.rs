//! One function per subcommand. Each returns `Ok` or the [`Failure`] that stopped it; printing a
//! failure and choosing the exit code is left to `main`.

pub(crate) mod add;
pub(crate) mod build;
pub(crate) mod check;
pub(crate) mod deploy;
pub(crate) mod deployed;
pub(crate) mod init;
pub(crate) mod serve;
pub(crate) mod share;
pub(crate) mod theme;

use clap::CommandFactory;

use crate::cli::{Cli, Command, CompletionsArgs, ThemeCommand};
use crate::diag::{Diagnostic, Diagnostics};
use crate::ui::Ui;

/// Why a command did not succeed: every problem it found, and what that meant for its output.
#[derive(Debug)]
pub struct Failure {
    pub(crate) diagnostics: Diagnostics,
    /// Said after the count of problems, such as "nothing was written".
    pub(crate) consequence: Option<&'static str>,
}

impl Failure {
    /// A command that found problems and changed nothing.
    pub(crate) fn unwritten(diagnostics: impl Into<Diagnostics>) -> Failure {
        Failure {
            diagnostics: diagnostics.into(),
            consequence: Some("nothing was written"),
        }
    }

    /// A command that found problems; writing was never its job.
    pub(crate) fn found(diagnostics: impl Into<Diagnostics>) -> Failure {
        Failure {
            diagnostics: diagnostics.into(),
            consequence: None,
        }
    }
}

impl From<Vec<Diagnostic>> for Diagnostics {
    fn from(items: Vec<Diagnostic>) -> Diagnostics {
        let mut all = Diagnostics::default();
        all.extend(items);
        all
    }
}

/// Runs the command the line asked for.
pub fn run(cli: &Cli, ui: &Ui) -> Result<(), Failure> {
    match &cli.command {
        Command::Init(args) => init::run(args, ui),
        Command::Add(args) => add::run(args, ui),
        Command::Build(args) => build::run(args, ui),
        Command::Check(args) => check::run(args, ui),
        Command::Deploy(args) => deploy::run(args, ui),
        Command::Remove(args) => deploy::remove(args, ui),
        Command::Serve(args) => serve::run(args, ui),
        Command::Share(args) => share::run(args, ui),
        Command::Theme(ThemeCommand::Eject(args)) => theme::eject(args, ui),
        Command::Completions(args) => {
            completions(args);
            Ok(())
        }
    }
}

/// `relsite completions <shell>`: the completion script on standard output.
fn completions(args: &CompletionsArgs) {
    clap_complete::generate(
        args.shell,
        &mut Cli::command(),
        "relsite",
        &mut std::io::stdout(),
    );
}
