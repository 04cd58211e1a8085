use std::process::ExitCode;

use clap::Parser;
use relsite::cli::{Cli, Command, ThemeCommand};
use relsite::cmd;
use relsite::ui::Ui;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let ui = Ui::new(cli.quiet, cli.verbose);
    let ok = match &cli.command {
        Command::Init(args) => cmd::init::run(args, &ui),
        Command::Add(args) => cmd::add::run(args, &ui),
        Command::Build(args) => cmd::build::run(args, &ui),
        Command::Check(args) => cmd::check::run(args, &ui),
        Command::Serve(args) => cmd::serve::run(args, &ui),
        Command::Theme(ThemeCommand::Eject(args)) => cmd::theme::eject(args, &ui),
        Command::Completions(args) => cmd::completions(args),
    };
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
