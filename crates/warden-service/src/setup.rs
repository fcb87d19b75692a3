//! Setting Warden up on a database: its own tables, the first officer, console users.

use serde::{Deserialize, Serialize};
use warden_core::console::{ConsoleRole, normalize_login};
use warden_core::console_accounts;
use warden_core::remediation::{GrantKey, GrantTarget};
use warden_core::server_roles::Dialect;
use warden_store::Database;
use warden_store::accounts::{self, Put};
use warden_store::governance::{self, Change};
use warden_store::server_roles;

use crate::clock::Clock;
use crate::context::Ctx;
use crate::error::{Error, Result};

#[derive(Debug, Clone, Serialize)]
pub struct MigrateResponse {
    /// Migration versions applied now.
    pub applied: Vec<i64>,
    /// Migration versions that were already there.
    pub already_applied: Vec<i64>,
    /// Set when this run made the actor the first officer.
    pub first_officer: Option<String>,
    /// The SHA-256 of the server roles, grants and trigger this run set up; none when they
    /// were already in place.
    pub server_roles: Option<String>,
    /// The application's grant table this run recorded for remediation (none when the
    /// mapping's table is not in this database, or none was given).
    pub grant_table: Option<String>,
    /// The grant table's columns that name one grant (its primary key, or every mapped
    /// and filter column when a unique key lies among them): remediation removes by them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grant_key: Option<Vec<String>>,
    /// Why no key names one grant, when none does: remediation is then refused.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remediation_refused: Option<String>,
}

/// What `warden migrate` is asked to do beyond its migrations.
#[derive(Debug, Clone, Default)]
pub struct MigrateOptions {
    /// The prefix of the account names console users get, when several governed
    /// databases share one server.
    pub account_prefix: Option<String>,
    /// The application's grant table (from the mapping) that remediation may work on.
    pub grant_target: Option<GrantTarget>,
}

/// Applies Warden's migrations and sets up the server's side (roles, definer, trigger,
/// routines), as the account that connected: an administrator. On a database where no
/// officer has an account yet, that account becomes the first officer (its login is its
/// user name); once one has, only an officer's account may migrate. What it records
/// happens at this moment of `clock`.
pub async fn migrate(
    db: &Database,
    clock: Clock,
    opts: &MigrateOptions,
) -> Result<MigrateResponse> {
    let at = clock.now();
    // Migrating writes: never on a host that takes no writes (a replica would diverge).
    if let Some(why) = db.read_only() {
        return Err(Error::Store(warden_store::Error::ReadOnly {
            target: db.target().to_string(),
            reason: why.to_string(),
        }));
    }
    if governance::is_migrated(db).await? && has_officer_account(db).await? {
        let session = accounts::session_user(db).await?;
        match session.console {
            Some((_, ConsoleRole::Officer)) => {}
            Some((login, role)) => {
                return Err(Error::Forbidden {
                    actor: login,
                    role,
                    needed: "officer",
                    what: "migrating Warden's tables",
                });
            }
            None => return Err(Error::NotConsoleUser(session.account)),
        }
    }
    // One run at a time, on one server or across a cluster's nodes: the others wait, then
    // find everything done.
    let claim = governance::MigrationClaim::take(db).await?;
    let done = migrate_claimed(db, &claim, at, opts).await;
    let released = claim.release(db).await;
    // The migration's own failure, if any, is what to report.
    let done = done?;
    released?;
    Ok(done)
}

async fn migrate_claimed(
    db: &Database,
    claim: &governance::MigrationClaim,
    at: chrono::DateTime<chrono::Utc>,
    opts: &MigrateOptions,
) -> Result<MigrateResponse> {
    let report = governance::migrate(db, claim, at.naive_utc()).await?;
    let recorded = match &opts.grant_target {
        Some(target) => server_roles::record_grant_target(db, target, at.naive_utc())
            .await?
            .map(|key| (target.table.clone(), key)),
        None => None,
    };
    let (grant_key, remediation_refused) = match recorded.as_ref().map(|(_, k)| k) {
        Some(GrantKey::Columns(c)) => (Some(c.clone()), None),
        Some(GrantKey::None(why)) => (None, Some(why.clone())),
        None => (None, None),
    };
    let grant_table = recorded.map(|(table, _)| table);
    // The trail's trigger comes with the roles: set up before the first event is written.
    let plan = server_roles::plan_for(db).await?;
    let provisioned = server_roles::provision(db, &plan, at.naive_utc()).await?;
    if let Some(prefix) = &opts.account_prefix {
        accounts::set_account_prefix(db, prefix).await?;
    }
    // The trigger accepts events only from console users' accounts: the first officer is
    // recorded before anything else is.
    let first_officer = match has_officer_account(db).await? {
        true => None,
        false => {
            let mut change = Change::begin(db, "", at).await?;
            let login = accounts::bootstrap_officer(&mut change).await?;
            let change = change.acting_as(&login);
            change
                .commit(
                    "console_user.bootstrap",
                    &login,
                    serde_json::json!({ "role": "officer", "reason": "first officer of this database" }),
                )
                .await?;
            Some(login)
        }
    };
    if !report.applied.is_empty() || provisioned {
        let login = acting_login(db).await?;
        let change = Change::begin(db, &login, at).await?;
        let mut details = serde_json::json!({ "applied": report.applied });
        if provisioned {
            details["server_roles"] = serde_json::json!({
                "sha256": plan.sha256,
                "roles": [&plan.names.officer, &plan.names.reviewer, &plan.names.auditor],
                "definer": plan.names.definer_account(),
            });
        }
        change
            .commit(
                "governance.migrate",
                db.governance_schema().unwrap_or("(application schema)"),
                details,
            )
            .await?;
    }
    Ok(MigrateResponse {
        applied: report.applied,
        already_applied: report.already,
        first_officer,
        server_roles: provisioned.then_some(plan.sha256),
        grant_table,
        grant_key,
        remediation_refused,
    })
}

async fn has_officer_account(db: &Database) -> Result<bool> {
    Ok(accounts::has_officer_account(db).await?)
}

/// The console login of the account that connected (an officer, by now).
async fn acting_login(db: &Database) -> Result<String> {
    let session = accounts::session_user(db).await?;
    session
        .console
        .map(|(login, _)| login)
        .ok_or(Error::NotConsoleUser(session.account))
}

/// What `warden migrate` would set up on the server, as a script for a DBA to read or run
/// by hand with the `mariadb` client (Warden's tables themselves come from `warden migrate`).
pub async fn server_roles_script(db: &Database, clock: Clock) -> Result<String> {
    let plan = server_roles::plan_for(db).await?;
    Ok(server_roles::script(&plan, clock.now().naive_utc()))
}

#[derive(Debug, Clone, Serialize)]
pub struct ConsoleUserSummary {
    pub login: String,
    /// The database account (`user@host`) the person signs in with; none for a console
    /// user from before accounts, who cannot act until an officer adds them again.
    pub account: Option<String>,
    pub role: ConsoleRole,
    /// Removed: the account is locked and holds no console role.
    pub locked: bool,
    pub created_at: String,
    pub created_by: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ConsoleUsersResponse {
    pub users: Vec<ConsoleUserSummary>,
}

/// Who may use the console, with their accounts and roles (removed ones, locked, too).
pub async fn console_users(ctx: &Ctx) -> Result<ConsoleUsersResponse> {
    let r = ctx.as_reader("listing console users")?;
    let users = accounts::console_accounts(r.db()).await?;
    Ok(ConsoleUsersResponse {
        users: users
            .into_iter()
            .map(|u| ConsoleUserSummary {
                login: u.login,
                account: u.account,
                role: u.role,
                locked: u.locked_at.is_some(),
                created_at: u.created_at.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
                created_by: u.created_by,
            })
            .collect(),
    })
}

#[derive(Debug, Clone, Deserialize)]
pub struct AddConsoleUser {
    pub login: String,
    pub role: ConsoleRole,
    /// The host part of the new account (`%` when none): where the person may connect
    /// from. Off this machine the account must use TLS.
    pub host: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ConsoleUserChange {
    pub login: String,
    /// `user@host` of the person's database account.
    pub account: Option<String>,
    pub role: Option<ConsoleRole>,
    pub previous_role: Option<ConsoleRole>,
    /// The new account's initial password, already expired: given to the person once, it
    /// lets them sign in only to choose their own. None when no account was created or
    /// reset.
    pub initial_password: Option<String>,
    /// The audit-trail sequence number of this change (none when nothing changed).
    pub audit_seq: Option<u64>,
}

/// Adds a console user with a database account of their own, changes their role, or
/// brings a removed one back (with a new initial password). Demoting the last officer is
/// refused. The trail records it first; then the account routine makes the server agree
/// (an account statement commits on its own): if that is cut short, running the same
/// command again finishes it.
pub async fn add_console_user(ctx: &Ctx, req: AddConsoleUser) -> Result<ConsoleUserChange> {
    let o = ctx.as_officer("managing console users")?;
    let login = normalize_login(&req.login)?;
    let host = req.host.unwrap_or_else(|| "%".into());
    console_accounts::check_host(&host)?;
    let mut change = o.change().await?;
    let row = accounts::row_in_change(&mut change, &login).await?;
    let active = matches!(&row, Some(r) if r.locked_at.is_none());
    let previous = row.as_ref().filter(|_| active).map(|r| r.role);
    // A new console user's login is their account's name: its identity form.
    let (login, recorded) = match row {
        Some(r) => (r.login, r.account_user.zip(r.account_host)),
        None => (warden_core::console::identity(&login), None),
    };
    let (user, host) = match recorded {
        Some(account) => account,
        None => {
            let version = governance::server_identity(o.db()).await?.version;
            let prefix = accounts::account_prefix(o.db()).await?;
            let user =
                console_accounts::account_user(&prefix, &login, Dialect::of_version(&version))?;
            (user, host)
        }
    };
    let account = format!("{user}@{host}");
    if previous == Some(req.role) {
        drop(change);
        // Already so: make sure the server agrees (a cut-short add is finished here).
        let password = accounts::initial_password()?;
        let used = accounts::apply(o.db(), &login, &password).await?;
        // The account was missing (an add cut short, or dropped by a DBA): it was made
        // again with a new initial password, and the trail says so.
        let audit_seq = match used {
            false => None,
            true => {
                let change = o.change().await?;
                let event = change
                    .commit(
                        "console_user.account",
                        &login,
                        serde_json::json!({
                            "account": account,
                            "reason": "the account was missing: made again with a new initial password",
                        }),
                    )
                    .await?;
                Some(event.seq)
            }
        };
        return Ok(ConsoleUserChange {
            login,
            account: Some(account),
            role: Some(req.role),
            previous_role: previous,
            initial_password: used.then(|| password.expose().to_string()),
            audit_seq,
        });
    }
    if previous == Some(ConsoleRole::Officer) && governance::officer_count(&mut change).await? <= 1
    {
        return Err(warden_store::Error::Conflict(format!(
            "{login} is the last officer; add another officer before changing their role"
        ))
        .into());
    }
    accounts::put(
        &mut change,
        &login,
        Put::Grant {
            role: req.role,
            account_user: &user,
            account_host: &host,
        },
    )
    .await?;
    let (action, details) = match previous {
        None => (
            "console_user.add",
            serde_json::json!({ "role": req.role, "account": account }),
        ),
        Some(prev) => (
            "console_user.role_change",
            serde_json::json!({ "role": req.role, "previous_role": prev, "account": account }),
        ),
    };
    let event = change.commit(action, &login, details).await?;
    // A new account, or one brought back, starts from a new expired password.
    let password = accounts::initial_password()?;
    let used = accounts::apply(o.db(), &login, &password).await?;
    Ok(ConsoleUserChange {
        login,
        account: Some(account),
        role: Some(req.role),
        previous_role: previous,
        initial_password: used.then(|| password.expose().to_string()),
        audit_seq: Some(event.seq),
    })
}

/// Removes a console user: their row stays, locked; their account is locked and loses its
/// console role. Removing the last officer is refused.
pub async fn remove_console_user(ctx: &Ctx, login: &str) -> Result<ConsoleUserChange> {
    let o = ctx.as_officer("managing console users")?;
    let login = normalize_login(login)?;
    let mut change = o.change().await?;
    let row = accounts::row_in_change(&mut change, &login)
        .await?
        .filter(|r| r.locked_at.is_none())
        .ok_or_else(|| Error::NotFound(format!("{login} is not a console user")))?;
    if row.role == ConsoleRole::Officer && governance::officer_count(&mut change).await? <= 1 {
        return Err(warden_store::Error::Conflict(format!(
            "{} is the last officer; add another officer first",
            row.login
        ))
        .into());
    }
    let account = row
        .account_user
        .as_ref()
        .zip(row.account_host.as_ref())
        .map(|(u, h)| format!("{u}@{h}"));
    accounts::put(&mut change, &row.login, Put::Remove).await?;
    let event = change
        .commit(
            "console_user.remove",
            &row.login,
            serde_json::json!({ "previous_role": row.role, "account": account }),
        )
        .await?;
    if account.is_some() {
        accounts::apply(o.db(), &row.login, &accounts::initial_password()?).await?;
    }
    Ok(ConsoleUserChange {
        login: row.login,
        account,
        role: None,
        previous_role: Some(row.role),
        initial_password: None,
        audit_seq: Some(event.seq),
    })
}
