//! Who holds what: role grants current at a moment, direct grants, and the members of
//! roles.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use sqlx::{MySql, QueryBuilder, Row};
use warden_core::directory::{DirectGrant, PermissionId, RoleGrant, RoleId, UserId};

use super::fetch::pairs;
use crate::connect::Database;
use crate::error::Result;
use crate::mapped::PushSource;
use crate::mapped::{
    col, permissions_of, push_id, push_not_expired, push_refers_to, push_scope, push_time,
    roles_of, scope_of, users_of,
};
use crate::schema::Resolved;

/// Which role grants to read.
#[derive(Debug, Clone)]
pub enum GrantsOf {
    All,
    User(UserId),
    Roles(Vec<RoleId>),
}

fn push_role_list(qb: &mut QueryBuilder<'_, MySql>, roles: &[RoleId]) {
    qb.push(" IN (");
    let mut sep = qb.separated(", ");
    for role in roles {
        sep.push_bind(role.0);
    }
    qb.push(")");
}

/// Role grants in scope that are current (unexpired) at `at`.
pub async fn role_grants(
    db: &Database,
    r: &Resolved,
    scope: &GrantsOf,
    at: NaiveDateTime,
) -> Result<Vec<RoleGrant>> {
    read_role_grants(db, r, scope, at, None).await
}

/// Every role grant current at `at`, each with its row's `key` columns (a campaign's items
/// keep them: remediation removes exactly that row). The columns come from the grant
/// target `warden migrate` recorded, each checked and quoted like every identifier.
pub async fn role_grants_keyed(
    db: &Database,
    r: &Resolved,
    at: NaiveDateTime,
    key: &[String],
) -> Result<Vec<RoleGrant>> {
    read_role_grants(db, r, &GrantsOf::All, at, Some(key)).await
}

async fn read_role_grants(
    db: &Database,
    r: &Resolved,
    scope: &GrantsOf,
    at: NaiveDateTime,
    key: Option<&[String]>,
) -> Result<Vec<RoleGrant>> {
    let m = r.mapping();
    let ur = &m.user_roles;
    if matches!(scope, GrantsOf::Roles(roles) if roles.is_empty()) {
        return Ok(Vec::new());
    }
    let mut qb = QueryBuilder::<MySql>::new("SELECT ");
    push_id(&mut qb, "ur", Some(&ur.user));
    qb.push(" AS user, ");
    push_id(&mut qb, "ur", Some(&ur.role));
    qb.push(" AS role, ");
    push_time(&mut qb, "ur", ur.granted_at.as_deref());
    qb.push(" AS granted_at, ");
    push_id(&mut qb, "ur", ur.granted_by.as_deref());
    qb.push(" AS granted_by");
    push_scope(&mut qb, "ur", &ur.scope);
    if let Some(key) = key {
        qb.push(", CAST(JSON_OBJECT(");
        let mut sep = qb.separated(", ");
        for c in key {
            warden_core::ident::check(c)
                .map_err(|e| crate::error::Error::Config(format!("grant key column {c:?} {e}")))?;
            sep.push_bind(c.clone());
            sep.push(col("ur", c));
        }
        qb.push(") AS CHAR) AS grant_key");
    }
    qb.push(" FROM ")
        .push_source(&ur.table, &ur.filter)
        .push(" ur WHERE 1 = 1");
    push_refers_to(&mut qb, "ur", &ur.user, users_of(m));
    push_refers_to(&mut qb, "ur", &ur.role, roles_of(m));
    push_not_expired(&mut qb, m, "ur", at);
    match scope {
        GrantsOf::All => {}
        GrantsOf::User(user) => {
            qb.push(" AND ")
                .push(col("ur", &ur.user))
                .push(" = ")
                .push_bind(user.0);
        }
        GrantsOf::Roles(roles) => {
            qb.push(" AND ").push(col("ur", &ur.role));
            push_role_list(&mut qb, roles);
        }
    }
    let rows = qb.build().fetch_all(db.app()).await?;
    Ok(rows
        .iter()
        .filter_map(|row| {
            let grant = (|| {
                let (Some(user), Some(role)) = (
                    row.try_get::<Option<i64>, _>("user")?,
                    row.try_get::<Option<i64>, _>("role")?,
                ) else {
                    return Ok(None);
                };
                Ok(Some(RoleGrant {
                    user: UserId(user),
                    role: RoleId(role),
                    granted_at: row.try_get("granted_at")?,
                    granted_by: row.try_get::<Option<i64>, _>("granted_by")?.map(UserId),
                    scope: scope_of(row, &ur.scope)?,
                    key: match key {
                        Some(_) => row.try_get("grant_key")?,
                        None => None,
                    },
                }))
            })();
            grant.transpose()
        })
        .collect::<std::result::Result<_, sqlx::Error>>()?)
}

/// Permissions granted to users directly (for one user, or all).
pub async fn direct_grants(
    db: &Database,
    r: &Resolved,
    user: Option<UserId>,
) -> Result<Vec<DirectGrant>> {
    let m = r.mapping();
    let Some(up) = &m.user_permissions else {
        return Ok(Vec::new());
    };
    let mut qb = QueryBuilder::<MySql>::new("SELECT ");
    push_id(&mut qb, "up", Some(&up.user));
    qb.push(" AS user, ");
    push_id(&mut qb, "up", Some(&up.permission));
    qb.push(" AS permission");
    push_scope(&mut qb, "up", &up.scope);
    qb.push(" FROM ")
        .push_source(&up.table, &up.filter)
        .push(" up WHERE 1 = 1");
    push_refers_to(&mut qb, "up", &up.user, users_of(m));
    push_refers_to(&mut qb, "up", &up.permission, permissions_of(m));
    if let Some(user) = user {
        qb.push(" AND ")
            .push(col("up", &up.user))
            .push(" = ")
            .push_bind(user.0);
    }
    let rows = qb.build().fetch_all(db.app()).await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
        let (Some(user), Some(permission)) = (
            row.try_get::<Option<i64>, _>("user")?,
            row.try_get::<Option<i64>, _>("permission")?,
        ) else {
            continue;
        };
        out.push(DirectGrant {
            user: UserId(user),
            permission: PermissionId(permission),
            scope: scope_of(row, &up.scope)?,
        });
    }
    Ok(out)
}

/// How many grants current at `at` each role has.
pub async fn role_member_counts(
    db: &Database,
    r: &Resolved,
    at: NaiveDateTime,
) -> Result<HashMap<RoleId, i64>> {
    let m = r.mapping();
    let ur = &m.user_roles;
    let mut qb = QueryBuilder::<MySql>::new("SELECT ");
    push_id(&mut qb, "ur", Some(&ur.role));
    qb.push(", COUNT(*) FROM ")
        .push_source(&ur.table, &ur.filter)
        .push(" ur WHERE 1 = 1");
    push_refers_to(&mut qb, "ur", &ur.user, users_of(m));
    push_refers_to(&mut qb, "ur", &ur.role, roles_of(m));
    push_not_expired(&mut qb, m, "ur", at);
    qb.push(" GROUP BY ").push(col("ur", &ur.role));
    Ok(pairs(db, qb)
        .await?
        .into_iter()
        .map(|(r, n)| (RoleId(r), n))
        .collect())
}

/// (user, role) of the grants of `roles` current at `at`, without grant details.
pub async fn role_members(
    db: &Database,
    r: &Resolved,
    roles: &[RoleId],
    at: NaiveDateTime,
) -> Result<Vec<(UserId, RoleId)>> {
    if roles.is_empty() {
        return Ok(Vec::new());
    }
    let m = r.mapping();
    let ur = &m.user_roles;
    let mut qb = QueryBuilder::<MySql>::new("SELECT ");
    push_id(&mut qb, "ur", Some(&ur.user));
    qb.push(", ");
    push_id(&mut qb, "ur", Some(&ur.role));
    qb.push(" FROM ")
        .push_source(&ur.table, &ur.filter)
        .push(" ur WHERE ")
        .push(col("ur", &ur.role));
    push_role_list(&mut qb, roles);
    push_refers_to(&mut qb, "ur", &ur.user, users_of(m));
    push_refers_to(&mut qb, "ur", &ur.role, roles_of(m));
    push_not_expired(&mut qb, m, "ur", at);
    Ok(pairs(db, qb)
        .await?
        .into_iter()
        .map(|(u, r)| (UserId(u), RoleId(r)))
        .collect())
}

/// Users granted `permission` directly.
pub async fn direct_grantees(
    db: &Database,
    r: &Resolved,
    permission: PermissionId,
) -> Result<Vec<UserId>> {
    let m = r.mapping();
    let Some(up) = &m.user_permissions else {
        return Ok(Vec::new());
    };
    let mut qb = QueryBuilder::<MySql>::new("SELECT ");
    push_id(&mut qb, "up", Some(&up.user));
    qb.push(", ");
    push_id(&mut qb, "up", Some(&up.permission));
    qb.push(" FROM ")
        .push_source(&up.table, &up.filter)
        .push(" up WHERE ")
        .push(col("up", &up.permission))
        .push(" = ")
        .push_bind(permission.0);
    push_refers_to(&mut qb, "up", &up.user, users_of(m));
    push_refers_to(&mut qb, "up", &up.permission, permissions_of(m));
    Ok(pairs(db, qb)
        .await?
        .into_iter()
        .map(|(u, _)| UserId(u))
        .collect())
}
