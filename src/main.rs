use std::process::ExitCode;

use clap::Parser;
use relsite::cli::{Cli, Command, ThemeCommand};
use relsite::cmd;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let ok = match &cli.command {
        Command::Build(args) => cmd::build::run(args),
        Command::Check(args) => cmd::check::run(args),
        Command::Theme(ThemeCommand::Eject(args)) => cmd::theme::eject(args),
    };
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
