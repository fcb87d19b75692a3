//! Setting up the server's side of console roles (warden-core's `server_roles`): the
//! roles, the definer, their grants and the trail's chain trigger, run by `warden migrate`
//! under an administrator account, or printed for a DBA.

use chrono::NaiveDateTime;
use sha2::{Digest, Sha256};
use warden_core::server_roles::{self as plan, Dialect, Schemas, ServerNames};

use crate::connect::Database;
use crate::error::{Error, Result};

/// What to run on the server, and its fingerprint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub names: ServerNames,
    pub schemas: Schemas,
    /// Plain statements, then the chain trigger (a compound statement) last.
    pub statements: Vec<String>,
    pub trigger: String,
    /// SHA-256 of every statement: the same plan, once applied, is not run again.
    pub sha256: String,
}

/// The plan for the database `db` is connected to.
pub async fn plan_for(db: &Database) -> Result<Plan> {
    let version = crate::governance::server_identity(db).await?.version;
    let dialect = Dialect::of_version(&version);
    let app = db.spec().database.clone();
    let schemas = Schemas {
        gov: db.governance_schema().unwrap_or(&app).to_string(),
        app,
    };
    let names = ServerNames::for_database(&schemas.app);
    let mut statements = plan::provision_sql(&names, &schemas, dialect)?;
    if dialect == Dialect::MySql {
        statements.push(plan::drop_chain_trigger_sql(&schemas)?);
    }
    let trigger = plan::chain_trigger_sql(&names, &schemas, dialect)?;
    let mut hasher = Sha256::new();
    for s in statements.iter().chain([&trigger]) {
        hasher.update(s.as_bytes());
        hasher.update(b"\n");
    }
    Ok(Plan {
        names,
        schemas,
        statements,
        trigger,
        sha256: hex::encode(hasher.finalize()),
    })
}

/// Applies `plan` unless it is the one applied last; records it `at`. Returns whether it
/// ran. Creating roles and accounts needs an administrator: anyone else is told so.
pub async fn provision(db: &Database, plan: &Plan, at: NaiveDateTime) -> Result<bool> {
    let applied: Option<String> =
        sqlx::query_scalar("SELECT plan_sha256 FROM warden_server_roles WHERE id = 1")
            .fetch_optional(db.gov())
            .await?;
    if applied.as_deref() == Some(plan.sha256.as_str()) {
        return Ok(false);
    }
    let mut conn = db.gov().acquire().await?;
    for statement in plan.statements.iter().chain([&plan.trigger]) {
        sqlx::raw_sql(statement)
            .execute(&mut *conn)
            .await
            .map_err(|e| match Error::from(e) {
                Error::Refused(why) => Error::Refused(format!(
                    "setting up Warden's server roles needs an administrator account \
                     (CREATE USER, CREATE ROLE, GRANT OPTION, SET USER): {why}"
                )),
                other => other,
            })?;
    }
    sqlx::query(
        "INSERT INTO warden_server_roles (id, plan_sha256, applied_at) VALUES (1, ?, ?) \
         ON DUPLICATE KEY UPDATE plan_sha256 = VALUES(plan_sha256), applied_at = VALUES(applied_at)",
    )
    .bind(&plan.sha256)
    .bind(at)
    .execute(&mut *conn)
    .await?;
    Ok(true)
}

/// The plan as a script a DBA runs with the `mariadb`/`mysql` client: the trigger between
/// `DELIMITER` lines, and the record of the plan last, so that `warden migrate` then finds
/// it applied.
pub fn script(plan: &Plan, at: NaiveDateTime) -> String {
    let mut out = format!(
        "-- Warden's server roles for the schema `{}` (Warden's tables in `{}`):\n\
         -- roles {}, {}, {}; definer {}.\n",
        plan.schemas.app,
        plan.schemas.gov,
        plan.names.officer,
        plan.names.reviewer,
        plan.names.auditor,
        plan.names.definer_account()
    );
    for s in &plan.statements {
        out.push_str(s);
        out.push_str(";\n");
    }
    out.push_str("DELIMITER //\n");
    out.push_str(&plan.trigger);
    out.push_str(" //\nDELIMITER ;\n");
    out.push_str(&format!(
        "INSERT INTO {}.`warden_server_roles` (id, plan_sha256, applied_at) VALUES (1, '{}', '{}') \
         ON DUPLICATE KEY UPDATE plan_sha256 = VALUES(plan_sha256), applied_at = VALUES(applied_at);\n",
        warden_core::ident::quote(&plan.schemas.gov),
        plan.sha256,
        at.format("%Y-%m-%d %H:%M:%S%.6f")
    ));
    out
}
