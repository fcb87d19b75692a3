//! `sandbox start | seed | status | url | stop`: a private MariaDB to try Warden on.

use std::path::{Path, PathBuf};

use warden_sandbox::server;
use warden_service::{Clock, ErrorCode, setup};
use warden_store::{ConnectSpec, Database};

use crate::args::{Cli, DataDir, SandboxCommand};
use crate::context::{Result, connect, note};
use crate::failure::Failure;
use crate::output::print;
use crate::render::{Message, SandboxStatus};

fn data_dir(dir: &DataDir) -> Result<PathBuf> {
    match &dir.data_dir {
        Some(d) => Ok(d.clone()),
        None => Ok(server::default_data_dir()?),
    }
}

impl SandboxCommand {
    pub async fn run(&self, cli: &Cli) -> Result<u8> {
        let format = cli.format;
        match self {
            SandboxCommand::Start { dir, port } => {
                let info = server::start(&data_dir(dir)?, *port)?;
                print(format, &SandboxStatus::running(info))?;
                Ok(0)
            }
            SandboxCommand::Seed(args) => {
                let scenario = args.scenario.parse()?;
                let opts = warden_sandbox::SeedOptions {
                    now: args.now.unwrap_or_else(|| Clock::System.now()),
                    users: args.users,
                    log_rows: args.log_rows,
                    seed: args.seed,
                    scenario,
                    hostile: match &args.hostile_text {
                        Some(path) => warden_sandbox::seed::read_lines(path)?,
                        None => Vec::new(),
                    },
                };
                let db = match &cli.database_url {
                    Some(_) => connect(cli).await?,
                    None => sandbox_database(&data_dir(&args.dir)?).await?,
                };
                note(cli, &format!("seeding {} …", db.target()));
                let report = warden_sandbox::seed::seed(&db, &opts).await?;
                // As the sandbox's administrator, the first officer.
                setup::migrate(&db, Clock::System, &sandbox_migrate_options()?).await?;
                print(format, &report)?;
                db.close().await;
                Ok(0)
            }
            SandboxCommand::Status { dir } => {
                let status = match server::status(&data_dir(dir)?)? {
                    Some(info) => SandboxStatus::running(info),
                    None => SandboxStatus::stopped(data_dir(dir)?),
                };
                print(format, &status)?;
                Ok(0)
            }
            SandboxCommand::Url { dir } => {
                let dir = data_dir(dir)?;
                let info = server::status(&dir)?.ok_or_else(|| {
                    Failure::new(
                        ErrorCode::Unavailable,
                        format!(
                            "no sandbox is running at {}: run `warden sandbox start`",
                            dir.display()
                        ),
                    )
                })?;
                match format {
                    crate::output::Format::Table => println!("{}", info.url),
                    _ => print(format, &SandboxStatus::running(info))?,
                }
                Ok(0)
            }
            SandboxCommand::Stop { dir } => {
                let dir = data_dir(dir)?;
                let stopped = server::stop(&dir)?;
                let text = if stopped {
                    format!("stopped the sandbox at {}", dir.display())
                } else {
                    format!("no sandbox was running at {}", dir.display())
                };
                print(format, &Message::new(text).with("stopped", stopped))?;
                Ok(0)
            }
        }
    }
}

/// The running sandbox's database (started if needed).
pub async fn sandbox_database(dir: &Path) -> Result<Database> {
    let info = server::start(dir, None)?;
    Ok(Database::connect(&ConnectSpec::from_url(&info.url)?).await?)
}

/// How the sandbox's administrator migrates: the reference mapping's grant table.
pub fn sandbox_migrate_options() -> Result<setup::MigrateOptions> {
    let mapping = warden_core::mapping::Mapping::preset("reference")
        .ok_or_else(|| Failure::usage("the reference mapping is missing from this build"))?;
    Ok(setup::MigrateOptions {
        account_prefix: None,
        grant_target: Some(mapping.grant_target()),
    })
}
