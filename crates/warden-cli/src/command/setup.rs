//! `migrate`, `console-users`, `mapping check`: setting Warden up on a database.

use warden_service::session;
use warden_service::{Clock, mapping, setup};

use crate::args::{Cli, ConsoleUsersArgs, ConsoleUsersCommand, MappingCommand};
use crate::context::{
    Result, connect, load_mapping, note, read_new_password, show, target, with_ctx,
};
use crate::output::print;
use crate::render::Message;

/// `warden migrate`, as the administrator account the URL or profile names: the mapping's
/// grant table is recorded as the one remediation may touch.
pub async fn migrate(cli: &Cli, print_sql: bool, account_prefix: Option<String>) -> Result<u8> {
    let opts = setup::MigrateOptions {
        account_prefix,
        grant_target: Some(load_mapping(cli)?.grant_target()),
    };
    let db = connect(cli).await?;
    if print_sql {
        let script = setup::server_roles_script(&db, Clock::System).await;
        db.close().await;
        print!("{}", script?);
        return Ok(0);
    }
    let done = setup::migrate(&db, Clock::System, &opts).await;
    db.close().await;
    let done = done?;
    if done.grant_table.is_none() {
        note(
            cli,
            "note: the mapping's grant table is not in this database: campaigns can be run, \
             but closing one will be refused until `warden migrate` runs with the right --mapping",
        );
    }
    if let Some(why) = &done.remediation_refused {
        note(
            cli,
            &format!(
                "note: {why}: campaigns can be run, but their revocations are carried out in \
                 the application (Warden removes a grant only by a key that names exactly one row)"
            ),
        );
    }
    print(cli.format, &done)?;
    Ok(0)
}

/// `warden password`: a new password for the account signing in, set on the server, then
/// kept in the profile's keyring entry.
pub async fn password(cli: &Cli) -> Result<u8> {
    let target = target(cli)?;
    let new = read_new_password(cli)?;
    session::change_password(&target, None, &new).await?;
    let kept = match &target {
        session::Target::Profile(name) => format!("kept in the OS keyring for profile `{name}`"),
        session::Target::Url(_) => "set WARDEN_DATABASE_PASSWORD to it for the next command".into(),
    };
    print(
        cli.format,
        &Message::new(format!("password changed; {kept}")),
    )?;
    Ok(0)
}

impl ConsoleUsersArgs {
    pub async fn run(&self, cli: &Cli) -> Result<u8> {
        match &self.command {
            None => show(cli, false, setup::console_users).await,
            Some(ConsoleUsersCommand::Add { login, role, host }) => {
                let req = setup::AddConsoleUser {
                    login: login.clone(),
                    role: role.parse()?,
                    host: host.clone(),
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
