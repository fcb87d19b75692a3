//! Roles, permissions, and how they connect: the role hierarchy and each role's own
//! permissions.

use sqlx::{MySql, QueryBuilder, Row};
use warden_core::directory::{Permission, PermissionId, Role, RoleId, UserId};
use warden_core::ident::quote;

use super::fetch::{fetch_mapped, pairs};
use crate::connect::Database;
use crate::error::Result;
use crate::mapped::PushSource;
use crate::mapped::{
    col, permissions_of, push_id, push_refers_to, push_scope, push_text, roles_of, scope_of,
};
use crate::schema::Resolved;

/// Every role, with its owner's login where the mapping has owners.
pub async fn roles(db: &Database, r: &Resolved) -> Result<Vec<Role>> {
    let m = r.mapping();
    let ro = &m.roles;
    let mut qb = QueryBuilder::<MySql>::new("SELECT ");
    push_id(&mut qb, "r", Some(&ro.id));
    qb.push(" AS id, ");
    push_text(&mut qb, "r", Some(&ro.name));
    qb.push(" AS name, ");
    push_id(&mut qb, "r", ro.owner.as_deref());
    qb.push(" AS owner_id, ");
    push_text(
        &mut qb,
        "o",
        ro.owner.as_ref().map(|_| m.users.login.as_str()),
    );
    qb.push(" AS owner");
    push_scope(&mut qb, "r", &ro.scope);
    qb.push(" FROM ")
        .push_source(&ro.table, &ro.filter)
        .push(" r");
    if let Some(owner) = &ro.owner {
        qb.push(" LEFT JOIN ")
            .push_source(&m.users.table, &m.users.filter)
            .push(" o ON ")
            .push(col("o", &m.users.id))
            .push(" = ")
            .push(col("r", owner));
    }
    qb.push(" ORDER BY ").push(col("r", &ro.name));
    fetch_mapped(db, qb, |row| {
        let name: String = row
            .try_get::<Option<String>, _>("name")?
            .unwrap_or_default();
        Ok(Role {
            id: RoleId(row.try_get("id")?),
            // A role of a resource (rolify) is another role than its name elsewhere.
            name: scope_of(row, &ro.scope)?.qualify(&name),
            owner_id: row.try_get::<Option<i64>, _>("owner_id")?.map(UserId),
            owner: row.try_get("owner")?,
        })
    })
    .await
}

/// Every permission with its key (prefixed from a joined table where the mapping says so).
pub async fn permissions(db: &Database, r: &Resolved) -> Result<Vec<Permission>> {
    let p = &r.mapping().permissions;
    let mut qb = QueryBuilder::<MySql>::new("SELECT ");
    push_id(&mut qb, "p", Some(&p.id));
    qb.push(" AS id, ");
    match &p.key_prefix {
        Some(k) => {
            qb.push("CONCAT(CAST(")
                .push(col("k", &k.column))
                .push(" AS CHAR), ")
                .push_bind(k.separator.clone())
                .push(", CAST(")
                .push(col("p", &p.key))
                .push(" AS CHAR)) AS perm_key");
            push_scope(&mut qb, "p", &p.scope);
            qb.push(" FROM ")
                .push_source(&p.table, &p.filter)
                .push(" p JOIN ")
                .push(quote(&k.table))
                .push(" k ON ")
                .push(col("k", &k.id))
                .push(" = ")
                .push(col("p", &k.foreign_key));
        }
        None => {
            push_text(&mut qb, "p", Some(&p.key));
            qb.push(" AS perm_key");
            push_scope(&mut qb, "p", &p.scope);
            qb.push(" FROM ")
                .push_source(&p.table, &p.filter)
                .push(" p");
        }
    }
    let mut out = fetch_mapped(db, qb, |row| {
        let key: String = row
            .try_get::<Option<String>, _>("perm_key")?
            .unwrap_or_default();
        Ok(Permission {
            id: PermissionId(row.try_get("id")?),
            key: scope_of(row, &p.scope)?.qualify(&key),
        })
    })
    .await?;
    out.sort_by(|a, b| a.key.cmp(&b.key));
    Ok(out)
}

/// (role, parent) pairs: the role inherits the parent's permissions. With
/// `wider_roles_cover_narrower`, also each role of wider scope over the same-named roles
/// of narrower scope ([`wider_roles`]).
pub async fn role_hierarchy(db: &Database, r: &Resolved) -> Result<Vec<(RoleId, RoleId)>> {
    let mut out = wider_roles(db, r).await?;
    out.extend(mapped_hierarchy(db, r).await?);
    Ok(out)
}

/// (wider, narrower) pairs of same-named roles (`roles.scope`, rolify's `has_role?`): the
/// wider sets no scope column the narrower does not set alike, and leaves NULL one it
/// sets. Only with `semantics.wider_roles_cover_narrower`.
async fn wider_roles(db: &Database, r: &Resolved) -> Result<Vec<(RoleId, RoleId)>> {
    let m = r.mapping();
    let ro = &m.roles;
    if !m.semantics.wider_roles_cover_narrower || ro.scope.is_empty() {
        return Ok(Vec::new());
    }
    let mut qb = QueryBuilder::<MySql>::new("SELECT ");
    push_id(&mut qb, "w", Some(&ro.id));
    qb.push(", ");
    push_id(&mut qb, "n", Some(&ro.id));
    qb.push(" FROM ")
        .push_source(&ro.table, &ro.filter)
        .push(" w JOIN ")
        .push_source(&ro.table, &ro.filter)
        .push(" n ON ")
        .push(col("w", &ro.name))
        .push(" = ")
        .push(col("n", &ro.name))
        .push(" AND ")
        .push(col("w", &ro.id))
        .push(" <> ")
        .push(col("n", &ro.id))
        .push(" WHERE (");
    for (i, c) in ro.scope.iter().enumerate() {
        if i > 0 {
            qb.push(" AND ");
        }
        qb.push("(")
            .push(col("w", c))
            .push(" IS NULL OR ")
            .push(col("w", c))
            .push(" = ")
            .push(col("n", c))
            .push(")");
    }
    qb.push(") AND (");
    for (i, c) in ro.scope.iter().enumerate() {
        if i > 0 {
            qb.push(" OR ");
        }
        qb.push("(")
            .push(col("w", c))
            .push(" IS NULL AND ")
            .push(col("n", c))
            .push(" IS NOT NULL)");
    }
    qb.push(")");
    pairs(db, qb)
        .await
        .map(|v| v.into_iter().map(|(a, b)| (RoleId(a), RoleId(b))).collect())
}

async fn mapped_hierarchy(db: &Database, r: &Resolved) -> Result<Vec<(RoleId, RoleId)>> {
    let Some(h) = &r.mapping().role_hierarchy else {
        return Ok(Vec::new());
    };
    let mut qb = QueryBuilder::<MySql>::new("SELECT ");
    push_id(&mut qb, "h", Some(&h.role));
    qb.push(", ");
    push_id(&mut qb, "h", Some(&h.parent));
    qb.push(" FROM ")
        .push_source(&h.table, &h.filter)
        .push(" h WHERE 1 = 1");
    let m = r.mapping();
    push_refers_to(&mut qb, "h", &h.role, roles_of(m));
    push_refers_to(&mut qb, "h", &h.parent, roles_of(m));
    pairs(db, qb)
        .await
        .map(|v| v.into_iter().map(|(a, b)| (RoleId(a), RoleId(b))).collect())
}

/// (role, permission) pairs as granted directly to each role.
pub async fn role_permissions(db: &Database, r: &Resolved) -> Result<Vec<(RoleId, PermissionId)>> {
    let rp = &r.mapping().role_permissions;
    let mut qb = QueryBuilder::<MySql>::new("SELECT ");
    push_id(&mut qb, "rp", Some(&rp.role));
    qb.push(", ");
    push_id(&mut qb, "rp", Some(&rp.permission));
    qb.push(" FROM ")
        .push_source(&rp.table, &rp.filter)
        .push(" rp WHERE 1 = 1");
    let m = r.mapping();
    push_refers_to(&mut qb, "rp", &rp.role, roles_of(m));
    push_refers_to(&mut qb, "rp", &rp.permission, permissions_of(m));
    pairs(db, qb).await.map(|v| {
        v.into_iter()
            .map(|(a, b)| (RoleId(a), PermissionId(b)))
            .collect()
    })
}
