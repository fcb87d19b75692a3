//! One module per command group, each with its own `run`; this is only the dispatch.

pub(crate) mod audit;
mod demo;
mod directory;
mod export;
mod findings;
mod logs;
mod policy;
mod profile;
mod review;
mod sandbox;
mod setup;

use crate::args::{Cli, Command};
use crate::context::Result;

/// Runs a command; returns the exit code of a command that ran.
pub async fn run(cli: Cli) -> Result<u8> {
    match &cli.command {
        Command::Sandbox(cmd) => cmd.run(&cli).await,
        Command::Demo(args) => demo::run(&cli, args).await,
        Command::Migrate {
            print_sql,
            account_prefix,
        } => setup::migrate(&cli, *print_sql, account_prefix.clone()).await,
        Command::Password => setup::password(&cli).await,
        Command::Profile(cmd) => cmd.run(&cli),
        Command::ConsoleUsers(args) => args.run(&cli).await,
        Command::Mapping(cmd) => cmd.run(&cli).await,
        Command::Users(_) | Command::Roles | Command::Access { .. } | Command::WhoCan { .. } => {
            directory::run(&cli).await
        }
        Command::Policy(cmd) => cmd.run(&cli).await,
        Command::Check(args) => args.run(&cli).await,
        Command::Findings(args) => args.run(&cli).await,
        Command::Review(cmd) => cmd.run(&cli).await,
        Command::Logs(cmd) => cmd.run(&cli).await,
        Command::Audit(cmd) => cmd.run(&cli).await,
        Command::Export(cmd) => cmd.run(&cli).await,
    }
}
