//! `migrate`, `console-users`, `mapping check`: setting Warden up on a database.

use warden_service::{Clock, mapping, setup};

use crate::args::{Cli, ConsoleUsersArgs, ConsoleUsersCommand, MappingCommand};
use crate::context::{Result, actor, connect, load_mapping, show, with_ctx};
use crate::output::print;

pub async fn migrate(cli: &Cli, print_sql: bool) -> Result<u8> {
    let db = connect(cli).await?;
    if print_sql {
        let script = setup::server_roles_script(&db, Clock::System).await;
        db.close().await;
        print!("{}", script?);
        return Ok(0);
    }
    let actor = actor()?;
    let done = setup::migrate(&db, &actor, Clock::System).await;
    db.close().await;
    print(cli.format, &done?)?;
    Ok(0)
}

impl ConsoleUsersArgs {
    pub async fn run(&self, cli: &Cli) -> Result<u8> {
        match &self.command {
            None => show(cli, false, setup::console_users).await,
            Some(ConsoleUsersCommand::Add { login, role }) => {
                let req = setup::AddConsoleUser {
                    login: login.clone(),
                    role: role.parse()?,
                };
                show(cli, false, async |ctx| {
                    setup::add_console_user(ctx, req).await
                })
                .await
            }
            Some(ConsoleUsersCommand::Remove { login }) => {
                show(cli, false, async |ctx| {
                    setup::remove_console_user(ctx, login).await
                })
                .await
            }
        }
    }
}

impl MappingCommand {
    pub async fn run(&self, cli: &Cli) -> Result<u8> {
        let MappingCommand::Check = self;
        let m = load_mapping(cli)?;
        with_ctx(cli, false, async |ctx| {
            let report = mapping::check(ctx, &m).await?;
            print(cli.format, &report)?;
            Ok(if report.ok { 0 } else { 2 })
        })
        .await
    }
}
