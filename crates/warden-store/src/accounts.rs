//! Console users as database accounts: who the server says is connected, the rows that map
//! accounts to console logins, and the routines that create, re-grant and lock accounts
//! (warden-core's `console_accounts`).

use chrono::NaiveDateTime;
use sqlx::mysql::MySqlConnectOptions;
use sqlx::{ConnectOptions, Connection, Executor};
use warden_core::console::{ConsoleRole, identity};
use warden_core::console_accounts::{self as plan, APPLY_ROUTINE, PUT_ROUTINE};

use crate::connect::{ConnectSpec, Database};
use crate::error::{Error, Result};
use crate::governance::Change;
use crate::secret::Secret;

/// The console user a session acts as: the row whose account is the session's
/// `CURRENT_USER()` (the account the server authenticated, not the name the client gave).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionUser {
    /// `user@host`, as `CURRENT_USER()` says it.
    pub account: String,
    /// The console login and role, when an active console user has this account.
    pub console: Option<(String, ConsoleRole)>,
}

pub async fn session_user(db: &Database) -> Result<SessionUser> {
    let account: String = sqlx::query_scalar("SELECT CAST(CURRENT_USER() AS CHAR)")
        .fetch_one(db.gov())
        .await?;
    let row: Option<(String, ConsoleRole)> = sqlx::query_as(
        "SELECT login, role FROM warden_console_users \
         WHERE account_user = SUBSTRING_INDEX(CURRENT_USER(), '@', 1) \
           AND account_host = SUBSTRING_INDEX(CURRENT_USER(), '@', -1) \
           AND locked_at IS NULL",
    )
    .fetch_optional(db.gov())
    .await?;
    Ok(SessionUser {
        account,
        console: row,
    })
}

/// Whether any active officer has an account: until one does (a new install, or one from
/// before accounts), the administrator who runs `warden migrate` becomes the first.
pub async fn has_officer_account(db: &Database) -> Result<bool> {
    // Before migration 0011 (an upgrade) nobody has an account yet.
    let has_accounts: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() \
         AND TABLE_NAME = 'warden_console_users' AND COLUMN_NAME = 'account_user'",
    )
    .fetch_one(db.gov())
    .await?;
    if has_accounts == 0 {
        return Ok(false);
    }
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM warden_console_users \
         WHERE role = 'officer' AND account_user IS NOT NULL AND locked_at IS NULL",
    )
    .fetch_one(db.gov())
    .await?;
    Ok(n > 0)
}

/// Records the connected account (an administrator's) as the first officer, within
/// `change`; its login is the account's user name. Returns the login. Warden never alters
/// that account: removing this officer only ends their console role.
pub async fn bootstrap_officer(change: &mut Change<'_>) -> Result<String> {
    let (user, host): (String, String) = sqlx::query_as(
        "SELECT CAST(SUBSTRING_INDEX(CURRENT_USER(), '@', 1) AS CHAR), \
                CAST(SUBSTRING_INDEX(CURRENT_USER(), '@', -1) AS CHAR)",
    )
    .fetch_one(change.conn())
    .await?;
    let at = change.at();
    sqlx::query(
        "INSERT INTO warden_console_users \
         (login, login_key, role, account_user, account_host, account_managed, created_at, created_by) \
         VALUES (?, ?, 'officer', ?, ?, FALSE, ?, ?) \
         ON DUPLICATE KEY UPDATE role = 'officer', account_user = VALUES(account_user), \
         account_host = VALUES(account_host), account_managed = FALSE, locked_at = NULL",
    )
    .bind(&user)
    .bind(identity(&user))
    .bind(&user)
    .bind(&host)
    .bind(at)
    .bind(format!("{user}@{host}"))
    .execute(change.conn())
    .await?;
    Ok(user)
}

/// The prefix of the account names this database's console users get.
pub async fn account_prefix(db: &Database) -> Result<String> {
    Ok(
        sqlx::query_scalar("SELECT account_prefix FROM warden_server_roles WHERE id = 1")
            .fetch_optional(db.gov())
            .await?
            .unwrap_or_default(),
    )
}

/// Sets the account prefix (an administrator, at `warden migrate`).
pub async fn set_account_prefix(db: &Database, prefix: &str) -> Result<()> {
    plan::check_prefix(prefix)?;
    sqlx::query("UPDATE warden_server_roles SET account_prefix = ? WHERE id = 1")
        .bind(prefix)
        .execute(db.gov())
        .await?;
    Ok(())
}

/// A console user as the console lists them.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ConsoleAccount {
    pub login: String,
    pub role: ConsoleRole,
    /// `user@host`; none for a console user from before accounts (they cannot act).
    pub account: Option<String>,
    /// When the user was removed (their account locked).
    pub locked_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub created_by: String,
}

pub async fn console_accounts(db: &Database) -> Result<Vec<ConsoleAccount>> {
    Ok(sqlx::query_as(
        "SELECT login, role, CAST(CONCAT(account_user, '@', account_host) AS CHAR) AS account, \
                locked_at, created_at, created_by \
         FROM warden_console_users ORDER BY login_key",
    )
    .fetch_all(db.gov())
    .await?)
}

/// A console user's row as it is now, inside a change.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Row {
    pub login: String,
    pub role: ConsoleRole,
    pub account_user: Option<String>,
    pub account_host: Option<String>,
    pub locked_at: Option<NaiveDateTime>,
}

pub async fn row_in_change(change: &mut Change<'_>, login: &str) -> Result<Option<Row>> {
    Ok(sqlx::query_as(
        "SELECT login, role, CAST(account_user AS CHAR) AS account_user, \
                CAST(account_host AS CHAR) AS account_host, locked_at \
         FROM warden_console_users WHERE login_key = ?",
    )
    .bind(identity(login))
    .fetch_optional(change.conn())
    .await?)
}

/// What to write to a console user's row.
#[derive(Debug, Clone)]
pub enum Put<'a> {
    /// Add the user (with the account `user@host`), change their role, or bring a removed
    /// user back.
    Grant {
        role: ConsoleRole,
        account_user: &'a str,
        account_host: &'a str,
    },
    /// Remove the user: the row stays, locked.
    Remove,
}

/// Writes a console user's row through the definer routine, inside `change` (its event
/// records it). The routine refuses a caller who is not an active officer, an account
/// name already on the server, and the removal or demotion of the last officer.
pub async fn put(change: &mut Change<'_>, login: &str, what: Put<'_>) -> Result<()> {
    let at = change.at();
    let (role, user, host, remove) = match what {
        Put::Grant {
            role,
            account_user,
            account_host,
        } => (role.as_str(), account_user, account_host, false),
        Put::Remove => ("reviewer", "", "", true),
    };
    sqlx::query(&format!(
        "CALL {}(?, ?, ?, ?, ?, ?, ?)",
        warden_core::ident::quote(PUT_ROUTINE)
    ))
    .bind(login)
    .bind(identity(login))
    .bind(user)
    .bind(host)
    .bind(role)
    .bind(remove)
    .bind(at)
    .execute(change.conn())
    .await?;
    Ok(())
}

/// Makes the server agree with the console user's row (after the change that wrote it has
/// committed): creates the account with `initial_password` (already expired), or resets it
/// to that for a removed user brought back; grants the row's role as the default; or, for a
/// removed user, locks the account and revokes the roles. Answers whether the password was
/// used (and must be handed to the person).
pub async fn apply(db: &Database, login: &str, initial_password: &Secret) -> Result<bool> {
    let mut conn = db.gov().acquire().await?;
    sqlx::query(&format!(
        "CALL {}(?, ?, @warden_used)",
        warden_core::ident::quote(APPLY_ROUTINE)
    ))
    .bind(identity(login))
    .bind(initial_password.expose())
    .execute(&mut *conn)
    .await?;
    let used: Option<i64> = sqlx::query_scalar("SELECT CAST(@warden_used AS SIGNED)")
        .fetch_one(&mut *conn)
        .await?;
    Ok(used == Some(1))
}

/// A random initial password: letters and digits from the OS's random source.
pub fn initial_password() -> Result<Secret> {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    let mut out = String::with_capacity(plan::INITIAL_PASSWORD_LEN);
    while out.len() < plan::INITIAL_PASSWORD_LEN {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes)
            .map_err(|e| Error::Config(format!("the OS random source failed: {e}")))?;
        // Rejection sampling: only bytes below a multiple of the alphabet's size.
        let limit = 256 - 256 % ALPHABET.len();
        out.extend(
            bytes
                .iter()
                .filter(|b| usize::from(**b) < limit)
                .map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()])),
        );
    }
    out.truncate(plan::INITIAL_PASSWORD_LEN);
    Ok(Secret::new(out))
}

/// Sets a new password for the account `spec` signs in as, whose password has expired
/// (the server then runs nothing else) or not. The session is opened bare: sqlx's usual
/// first statements (`SET sql_mode…`) would be refused while the password is expired.
///
/// MySQL 8 disconnects a client with an expired password unless the client says it can
/// handle one (`disconnect_on_expired_password`), which sqlx does not: there the person
/// changes it once with `mysql --connect-expired-password`.
pub async fn change_password(spec: &ConnectSpec, new: &Secret) -> Result<()> {
    plan::check_new_password(new.expose())?;
    let host = spec
        .hosts
        .first()
        .map(String::as_str)
        .unwrap_or("localhost");
    let options: MySqlConnectOptions = spec
        .options(host, &spec.database)?
        .pipes_as_concat(false)
        .no_engine_substitution(false)
        .timezone(None)
        .set_names(false);
    if let Some(path) = &spec.socket {
        // The current password and the new one go through this socket: only to a server
        // the kernel says is root's, mysql's or this user's.
        crate::peer::connect(path, std::time::Duration::from_secs(10))
            .await
            .map_err(|reason| Error::Unavailable {
                target: spec.target(),
                reason,
            })?;
    }
    let mut conn = options
        .connect()
        .await
        .map_err(|e| crate::error::classify(&spec.target(), e))?;
    let mut last = None;
    for statement in plan::set_password_sql(new.expose()) {
        // A statement without values goes as text (COM_QUERY): SET PASSWORD cannot be
        // prepared, and is all a session with an expired password may run.
        match conn.execute(statement.as_str()).await {
            Ok(_) => {
                last = None;
                break;
            }
            Err(e) => last = Some(e),
        }
    }
    let _ = conn.close().await;
    match last {
        None => Ok(()),
        Some(e) => Err(crate::error::classify(&spec.target(), e)),
    }
}
