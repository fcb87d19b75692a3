//! Setting up the server's side of console roles (warden-core's `server_roles`): the
//! roles, the definer, their grants and the trail's chain trigger, run by `warden migrate`
//! under an administrator account, or printed for a DBA.

use chrono::NaiveDateTime;
use sha2::{Digest, Sha256};
use warden_core::mapping::RowFilter;
use warden_core::remediation::{self, Column, GrantKey, GrantTarget, Index};
use warden_core::server_roles::{self as plan, Dialect, Schemas, ServerNames};
use warden_core::{console_accounts, review_access};

use crate::connect::Database;
use crate::error::{Error, Result};

/// What to run on the server, and its fingerprint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub names: ServerNames,
    pub schemas: Schemas,
    /// Plain statements: the roles, the definer, their grants.
    pub statements: Vec<String>,
    /// Compound statements (a `DELIMITER` of their own in a script): the chain trigger
    /// and the console-user routines.
    pub compound: Vec<String>,
    /// Plain statements that need the routines: the reviewers' view, the grants on it and
    /// the EXECUTE grants.
    pub after: Vec<String>,
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
    let target = grant_target(db).await?;
    let mut statements = plan::provision_sql(&names, &schemas, dialect, target.as_ref())?;
    if dialect == Dialect::MySql {
        statements.push(plan::drop_chain_trigger_sql(&schemas)?);
        statements.push(plan::drop_decided_trigger_sql(&schemas)?);
        statements.extend(console_accounts::drop_routines_sql(&schemas)?);
        statements.push(review_access::drop_reassign_sql(&schemas)?);
        statements.extend(remediation::drop_sql(&schemas)?);
    }
    let mut compound = vec![
        plan::chain_trigger_sql(&names, &schemas, dialect)?,
        plan::decided_trigger_sql(&names, &schemas, dialect)?,
    ];
    compound.extend(console_accounts::routines_sql(&names, &schemas, dialect)?);
    compound.push(review_access::reassign_sql(&names, &schemas, dialect)?);
    compound.extend(remediation::routines_sql(&names, &schemas, dialect)?);
    let after = plan::late_sql(&names, &schemas, dialect)?;
    let mut hasher = Sha256::new();
    for s in statements.iter().chain(&compound).chain(&after) {
        hasher.update(s.as_bytes());
        hasher.update(b"\n");
    }
    Ok(Plan {
        names,
        schemas,
        statements,
        compound,
        after,
        sha256: hex::encode(hasher.finalize()),
    })
}

/// The grant table remediation works on, as the administrator recorded it. Its `mapped`
/// columns are not recorded (they served to find the key) and read back empty.
pub async fn grant_target(db: &Database) -> Result<Option<GrantTarget>> {
    type Row = (
        String,
        String,
        String,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
    );
    let row: Option<Row> = sqlx::query_as(
        "SELECT table_name, user_column, role_column, granted_at_column, key_columns, no_key, \
         row_filter FROM warden_grant_target WHERE id = 1",
    )
    .fetch_optional(db.gov())
    .await?;
    let Some((table, user, role, granted_at, key, no_key, filter)) = row else {
        return Ok(None);
    };
    let unreadable = |what: &str, e: serde_json::Error| {
        Error::Config(format!(
            "the recorded grant table's {what} is unreadable: {e}"
        ))
    };
    let key = match key {
        Some(k) => GrantKey::Columns(serde_json::from_str(&k).map_err(|e| unreadable("key", e))?),
        None => GrantKey::None(no_key.unwrap_or_else(|| {
            format!("`{table}` has no key that names exactly one grant (see `warden migrate`)")
        })),
    };
    let filter = match filter {
        Some(f) => serde_json::from_str(&f).map_err(|e| unreadable("filter", e))?,
        None => RowFilter::default(),
    };
    Ok(Some(GrantTarget {
        table,
        user,
        role,
        granted_at,
        filter,
        mapped: Vec::new(),
        key: Some(key),
    }))
}

/// The columns of `target`'s table that name one grant ([`remediation::grant_key`]), from
/// its indexes and columns as the server lists them.
pub async fn grant_key(db: &Database, target: &GrantTarget) -> Result<GrantKey> {
    // A functional key part (MySQL 8) has no column: such an index names no grant here.
    let stats: Vec<(String, i64, Option<String>)> = sqlx::query_as(
        "SELECT CAST(INDEX_NAME AS CHAR), CAST(NON_UNIQUE AS SIGNED), CAST(COLUMN_NAME AS CHAR) \
         FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? \
         ORDER BY INDEX_NAME, SEQ_IN_INDEX",
    )
    .bind(&target.table)
    .fetch_all(db.app())
    .await?;
    let mut indexes: Vec<Index> = Vec::new();
    let mut functional = std::collections::BTreeSet::new();
    for (name, non_unique, column) in stats {
        let Some(column) = column else {
            functional.insert(name);
            continue;
        };
        match indexes.last_mut() {
            Some(i) if i.name == name => i.columns.push(column),
            _ => indexes.push(Index {
                name,
                unique: non_unique == 0,
                columns: vec![column],
            }),
        }
    }
    indexes.retain(|i| !functional.contains(&i.name));
    let columns: Vec<(String, String, Option<String>, String)> = sqlx::query_as(
        "SELECT CAST(COLUMN_NAME AS CHAR), CAST(LOWER(DATA_TYPE) AS CHAR), \
         CAST(COLLATION_NAME AS CHAR), CAST(IS_NULLABLE AS CHAR) \
         FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?",
    )
    .bind(&target.table)
    .fetch_all(db.app())
    .await?;
    let columns: Vec<Column> = (columns.into_iter())
        .map(|(name, data_type, collation, nullable)| Column {
            name,
            data_type,
            collated: collation.is_some(),
            nullable: nullable == "YES",
        })
        .collect();
    let mapped: Vec<&str> = target.mapped.iter().map(String::as_str).collect();
    Ok(remediation::grant_key(
        &target.table,
        &indexes,
        &columns,
        &mapped,
        [&target.user, &target.role],
        &target
            .filter
            .0
            .keys()
            .map(String::as_str)
            .collect::<Vec<_>>(),
    ))
}

/// Records the grant table remediation works on (an administrator, at `warden migrate`),
/// with the key that names one of its grants and the mapping's filter; the next plan
/// grants the definer exactly that table. Answers the key (a table with none is recorded,
/// and the routines refuse to remove from it), or None for a table that is not in the
/// application's schema: the mapping is not this database's, and nothing is recorded.
pub async fn record_grant_target(
    db: &Database,
    target: &GrantTarget,
    at: NaiveDateTime,
) -> Result<Option<GrantKey>> {
    target.check()?;
    let exists: Option<i64> = sqlx::query_scalar(
        "SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?",
    )
    .bind(&target.table)
    .fetch_optional(db.app())
    .await?;
    if exists.is_none() {
        return Ok(None);
    }
    let key = grant_key(db, target).await?;
    let keyed = GrantTarget {
        key: Some(key.clone()),
        ..target.clone()
    };
    keyed.check()?;
    sqlx::query(
        "INSERT INTO warden_grant_target \
         (id, table_name, user_column, role_column, granted_at_column, key_columns, no_key, \
         row_filter, recorded_at) \
         VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?) ON DUPLICATE KEY UPDATE \
         recorded_at = IF(table_name <=> VALUES(table_name) AND user_column <=> VALUES(user_column) \
         AND role_column <=> VALUES(role_column) AND granted_at_column <=> VALUES(granted_at_column) \
         AND key_columns <=> VALUES(key_columns) AND row_filter <=> VALUES(row_filter), \
         recorded_at, VALUES(recorded_at)), \
         table_name = VALUES(table_name), user_column = VALUES(user_column), \
         role_column = VALUES(role_column), granted_at_column = VALUES(granted_at_column), \
         key_columns = VALUES(key_columns), no_key = VALUES(no_key), \
         row_filter = VALUES(row_filter)",
    )
    .bind(&keyed.table)
    .bind(&keyed.user)
    .bind(&keyed.role)
    .bind(&keyed.granted_at)
    .bind(keyed.key_json())
    .bind(match &key {
        GrantKey::None(why) => Some(why.as_str()),
        GrantKey::Columns(_) => None,
    })
    .bind(keyed.filter_json())
    .bind(at)
    .execute(db.gov())
    .await?;
    Ok(Some(key))
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
    for statement in plan
        .statements
        .iter()
        .chain(&plan.compound)
        .chain(&plan.after)
    {
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

/// The plan as a script a DBA runs with the `mariadb`/`mysql` client: the trigger and the
/// routines between `DELIMITER` lines, and the record of the plan last, so that `warden migrate` then finds
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
    for s in &plan.compound {
        out.push_str(s);
        out.push_str(" //\n");
    }
    out.push_str("DELIMITER ;\n");
    for s in &plan.after {
        out.push_str(s);
        out.push_str(";\n");
    }
    out.push_str(&format!(
        "INSERT INTO {}.`warden_server_roles` (id, plan_sha256, applied_at) VALUES (1, '{}', '{}') \
         ON DUPLICATE KEY UPDATE plan_sha256 = VALUES(plan_sha256), applied_at = VALUES(applied_at);\n",
        warden_core::ident::quote(&plan.schemas.gov),
        plan.sha256,
        at.format("%Y-%m-%d %H:%M:%S%.6f")
    ));
    out
}
