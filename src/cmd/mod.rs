//! One function per subcommand.

pub mod add;
pub mod build;
pub mod check;
pub mod deployed;
pub mod init;
pub mod serve;
pub mod theme;

use clap::CommandFactory;

use crate::cli::{Cli, CompletionsArgs};

/// `relsite completions <shell>`: the completion script on standard output.
pub fn completions(args: &CompletionsArgs) -> bool {
    clap_complete::generate(
        args.shell,
        &mut Cli::command(),
        "relsite",
        &mut std::io::stdout(),
    );
    true
}
