//! Setting Warden up on a database: its own tables, the first officer, console users.

use serde::{Deserialize, Serialize};
use warden_core::console::{Actor, ConsoleRole, normalize_login};
use warden_store::Database;
use warden_store::governance::{self, Change};
use warden_store::server_roles;

use crate::clock::Clock;
use crate::context::Ctx;
use crate::error::{Error, Result};

/// The local actor: `WARDEN_ACTOR`, or the OS user (`USER`, `LOGNAME`, else the name of
/// the process's uid in /etc/passwd).
pub fn local_actor() -> Result<Actor> {
    let login = ["WARDEN_ACTOR", "USER", "LOGNAME"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|s| !s.trim().is_empty()))
        .or_else(os_user_name)
        .ok_or_else(|| {
            Error::Invalid("cannot tell who is acting: set WARDEN_ACTOR or USER".into())
        })?;
    Ok(Actor::local(login)?)
}

fn os_user_name() -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    let uid = std::fs::metadata("/proc/self").ok()?.uid();
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|line| {
        let mut fields = line.split(':');
        let name = fields.next()?;
        let id: u32 = fields.nth(1)?.parse().ok()?;
        (id == uid).then(|| name.to_string())
    })
}

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
}

/// Applies Warden's migrations. On a database with no officer yet, the actor becomes the
/// first officer; once there is one, only an officer may migrate. What it records happens
/// at this moment of `clock`.
pub async fn migrate(db: &Database, actor: &Actor, clock: Clock) -> Result<MigrateResponse> {
    let at = clock.now();
    if governance::is_migrated(db).await? {
        let role = governance::console_role(db, &actor.login).await?;
        let has_officer = {
            let mut change = Change::begin(db, &actor.login, at).await?;
            let n = governance::officer_count(&mut change).await?;
            drop(change);
            n > 0
        };
        if has_officer && role != Some(ConsoleRole::Officer) {
            return Err(match role {
                Some(role) => Error::Forbidden {
                    actor: actor.login.clone(),
                    role,
                    needed: "officer",
                    what: "migrating Warden's tables",
                },
                None => Error::NotConsoleUser(actor.login.clone()),
            });
        }
    }
    let report = governance::migrate(db, at.naive_utc()).await?;
    // The trail's trigger comes with the roles: set up before the first event is written.
    let plan = server_roles::plan_for(db).await?;
    let provisioned = server_roles::provision(db, &plan, at.naive_utc()).await?;
    if !report.applied.is_empty() || provisioned {
        let change = Change::begin(db, &actor.login, at).await?;
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
    let mut change = Change::begin(db, &actor.login, at).await?;
    let first_officer = if governance::officer_count(&mut change).await? == 0 {
        governance::upsert_console_user(&mut change, &actor.login, ConsoleRole::Officer).await?;
        change
            .commit(
                "console_user.bootstrap",
                &actor.login,
                serde_json::json!({ "role": "officer", "reason": "first officer of this database" }),
            )
            .await?;
        Some(actor.login.clone())
    } else {
        None
    };
    Ok(MigrateResponse {
        applied: report.applied,
        already_applied: report.already,
        first_officer,
        server_roles: provisioned.then_some(plan.sha256),
    })
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
    pub role: ConsoleRole,
    pub created_at: String,
    pub created_by: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ConsoleUsersResponse {
    pub console_users: Vec<ConsoleUserSummary>,
}

/// Who may use the console, with their roles.
pub async fn console_users(ctx: &Ctx) -> Result<ConsoleUsersResponse> {
    let r = ctx.as_reader("listing console users")?;
    let users = governance::console_users(r.db()).await?;
    Ok(ConsoleUsersResponse {
        console_users: users
            .into_iter()
            .map(|u| ConsoleUserSummary {
                login: u.login,
                role: u.role,
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
}

#[derive(Debug, Clone, Serialize)]
pub struct ConsoleUserChange {
    pub login: String,
    pub role: Option<ConsoleRole>,
    pub previous_role: Option<ConsoleRole>,
    /// The audit-trail sequence number of this change (none when nothing changed).
    pub audit_seq: Option<u64>,
}

/// Adds a console user, or changes their role. Demoting the last officer is refused.
pub async fn add_console_user(ctx: &Ctx, req: AddConsoleUser) -> Result<ConsoleUserChange> {
    let o = ctx.as_officer("managing console users")?;
    let login = normalize_login(&req.login)?;
    let mut change = o.change().await?;
    let previous = governance::role_in_change(&mut change, &login).await?;
    if previous == Some(req.role) {
        return Ok(ConsoleUserChange {
            login,
            role: Some(req.role),
            previous_role: previous,
            audit_seq: None,
        });
    }
    if previous == Some(ConsoleRole::Officer) && governance::officer_count(&mut change).await? <= 1
    {
        return Err(warden_store::Error::Conflict(format!(
            "{login} is the last officer; add another officer before changing their role"
        ))
        .into());
    }
    governance::upsert_console_user(&mut change, &login, req.role).await?;
    let (action, details) = match previous {
        None => ("console_user.add", serde_json::json!({ "role": req.role })),
        Some(prev) => (
            "console_user.role_change",
            serde_json::json!({ "role": req.role, "previous_role": prev }),
        ),
    };
    let event = change.commit(action, &login, details).await?;
    Ok(ConsoleUserChange {
        login,
        role: Some(req.role),
        previous_role: previous,
        audit_seq: Some(event.seq),
    })
}

/// Removes a console user. Removing the last officer is refused.
pub async fn remove_console_user(ctx: &Ctx, login: &str) -> Result<ConsoleUserChange> {
    let o = ctx.as_officer("managing console users")?;
    let login = normalize_login(login)?;
    let mut change = o.change().await?;
    let previous = governance::role_in_change(&mut change, &login)
        .await?
        .ok_or_else(|| Error::NotFound(format!("{login} is not a console user")))?;
    if previous == ConsoleRole::Officer && governance::officer_count(&mut change).await? <= 1 {
        return Err(warden_store::Error::Conflict(format!(
            "{login} is the last officer; add another officer first"
        ))
        .into());
    }
    governance::delete_console_user(&mut change, &login).await?;
    let event = change
        .commit(
            "console_user.remove",
            &login,
            serde_json::json!({ "previous_role": previous }),
        )
        .await?;
    Ok(ConsoleUserChange {
        login,
        role: None,
        previous_role: Some(previous),
        audit_seq: Some(event.seq),
    })
}
