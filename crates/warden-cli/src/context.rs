//! What every command stands on: the database the flags name, a context opened on it (and
//! always closed; who acts is the account the server authenticated), and notes for people
//! on stderr.

use std::io::{BufRead, IsTerminal};
use warden_core::mapping::Mapping;

use warden_service::session::{self, OpenRequest, Target};
use warden_service::{Ctx, ErrorCode};
use warden_store::Database;
use warden_store::Secret;

use crate::args::Cli;
use crate::failure::Failure;
use crate::output::{Render, print};

pub type Result<T> = std::result::Result<T, Failure>;

/// Notes for people go to stderr, never stdout, and not at all with --quiet.
pub fn note(cli: &Cli, text: &str) {
    if !cli.quiet {
        eprintln!("{text}");
    }
}

/// The database named by --database-url or --profile.
pub fn target(cli: &Cli) -> Result<Target> {
    match (&cli.database_url, &cli.profile) {
        (Some(url), None) => Ok(Target::Url(url.clone())),
        (None, Some(name)) => Ok(Target::Profile(name.clone())),
        _ => Err(Failure::usage(
            "no database: pass --database-url (or WARDEN_DATABASE_URL) or --profile; \
             for the sandbox: --database-url \"$(warden sandbox url)\"",
        )),
    }
}

pub async fn connect(cli: &Cli) -> Result<Database> {
    Ok(session::connect(&target(cli)?).await?.0)
}

pub fn load_mapping(cli: &Cli) -> Result<Mapping> {
    Ok(session::mapping_for(&target(cli)?, cli.mapping.as_deref())?)
}

/// Connects, establishes the actor's console role, and checks the mapping if one is needed.
/// At a terminal, an account whose password has expired (the first sign-in) is asked for a
/// new one, which is set (and kept in a profile's keyring) before going on.
pub async fn context(cli: &Cli, with_mapping: bool) -> Result<Ctx> {
    let req = OpenRequest {
        target: target(cli)?,
        mapping: cli.mapping.clone(),
        with_mapping,
        password: None,
    };
    match session::open(&req).await {
        Err(e) if e.code() == ErrorCode::PasswordExpired && std::io::stdin().is_terminal() => {
            note(
                cli,
                "This account's password has expired (an initial password always has): choose your own.",
            );
            let new = read_new_password(cli)?;
            session::change_password(&req.target, None, &new).await?;
            if let Target::Url(_) = req.target {
                note(
                    cli,
                    "Password changed: set WARDEN_DATABASE_PASSWORD to it from now on.",
                );
            }
            Ok(session::open(&OpenRequest {
                password: Some(new),
                ..req
            })
            .await?)
        }
        other => Ok(other?),
    }
}

/// A new password: twice at a terminal, or once from the first line of stdin.
pub fn read_new_password(cli: &Cli) -> Result<Secret> {
    let unreadable = |e: std::io::Error| Failure::usage(format!("cannot read the password: {e}"));
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("new password: ").map_err(unreadable)?;
        let again = rpassword::prompt_password("the same again: ").map_err(unreadable)?;
        if first != again {
            return Err(Failure::new(ErrorCode::Input, "the two passwords differ"));
        }
        return Ok(Secret::new(first));
    }
    note(cli, "reading the new password from the first line of stdin");
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(unreadable)?;
    Ok(Secret::new(line.trim_end_matches(['\n', '\r']).to_string()))
}

/// A context on an already connected database (the demo).
pub async fn context_on(db: Database, mapping: Mapping) -> Result<Ctx> {
    Ok(Ctx::establish(db, Some(mapping)).await?)
}

/// Runs `f` with a context and closes the connections afterwards, whatever `f` returned,
/// so the server sees a clean goodbye rather than an aborted connection.
pub async fn with_ctx(
    cli: &Cli,
    with_mapping: bool,
    f: impl AsyncFnOnce(&Ctx) -> Result<u8>,
) -> Result<u8> {
    let ctx = context(cli, with_mapping).await?;
    let result = f(&ctx).await;
    // The trail's head this command saw (its own writes included) becomes this client's
    // witness: a database later restored from an older backup is then told apart.
    let remembered = match warden_store::witness::path() {
        Ok(file) => {
            let place = witness_place(cli, &ctx);
            warden_service::audit::remember_head(&ctx, &file, &place)
                .await
                .map_err(|e| e.to_string())
        }
        Err(e) => Err(e.to_string()),
    };
    if let Err(e) = remembered {
        tracing::warn!(error = %e, "the audit trail's head was not kept as this client's witness");
    }
    ctx.close().await;
    result
}

/// The shape of most commands: connect, call one use case, print its answer, exit 0.
pub async fn show<R: Render>(
    cli: &Cli,
    with_mapping: bool,
    call: impl AsyncFnOnce(&Ctx) -> warden_service::Result<R>,
) -> Result<u8> {
    with_ctx(cli, with_mapping, async |ctx| {
        print(cli.format, &call(ctx).await?)?;
        Ok(0)
    })
    .await
}

/// A file's text, or a usage error naming it.
pub fn read_file(path: &std::path::Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|e| Failure::usage(format!("{}: {e}", path.display())))
}

/// Where this command reaches Warden's tables, as its witness of the trail is kept.
pub fn witness_place(cli: &Cli, ctx: &Ctx) -> String {
    warden_service::audit::place(ctx, cli.profile.as_deref())
}
