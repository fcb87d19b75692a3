//! Reading the application's directory through a resolved mapping: bulk reads that let the
//! core compute effective permissions in one pass, never a query per user.
//!
//! Every identifier here comes from a [`Resolved`] mapping and goes through
//! `warden_core::ident::quote`; every value is bound.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use sqlx::mysql::MySqlRow;
use sqlx::{MySql, QueryBuilder, Row};
use warden_core::directory::{
    DirectGrant, Permission, PermissionId, Role, RoleGrant, RoleId, User, UserId,
};
use warden_core::ident::quote;
use warden_core::mapping::Mapping;

use crate::connect::Database;
use crate::error::{Error, Result};
use crate::mapped::{
    col, push_active_condition, push_flag, push_id, push_not_expired, push_superuser_condition,
    push_text, push_time,
};
use crate::schema::Resolved;

/// Which users to read.
#[derive(Debug, Clone, Default)]
pub struct UserFilter {
    pub department: Option<String>,
    /// The application's status value, or `active` / `inactive`.
    pub status: Option<String>,
    /// Text searched in login, name and email (as text, never as a pattern).
    pub search: Option<String>,
    /// One login, case-insensitively.
    pub login: Option<String>,
    /// Only these ids (an access-log page's people).
    pub ids: Option<Vec<i64>>,
}

/// Which role grants to read.
#[derive(Debug, Clone)]
pub enum GrantScope {
    All,
    User(UserId),
    Roles(Vec<RoleId>),
}

/// A user holding something, with just enough to name them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    pub user: UserId,
    pub login: String,
    pub active: bool,
    pub superuser: bool,
}

/// The fourteen user columns read by [`user_from_row`], each named.
fn push_user_columns<'a>(qb: &mut QueryBuilder<'a, MySql>, m: &'a Mapping, with_manager: bool) {
    let u = &m.users;
    push_id(qb, "u", Some(&u.id));
    qb.push(" AS id, ");
    push_text(qb, "u", Some(&u.login));
    qb.push(" AS login, ");
    match &u.name {
        Some(name) => {
            qb.push("CONCAT_WS(' '");
            for c in name.names() {
                qb.push(", ").push(col("u", c));
            }
            qb.push(")");
        }
        None => {
            qb.push("CAST(NULL AS CHAR)");
        }
    }
    qb.push(" AS name, ");
    push_text(qb, "u", u.email.as_deref());
    qb.push(" AS email, ");
    push_text(qb, "u", u.department.as_deref());
    qb.push(" AS department, ");
    push_text(qb, "u", u.title.as_deref());
    qb.push(" AS title, ");
    push_id(qb, "u", u.manager.as_deref());
    qb.push(" AS manager_id, ");
    if with_manager && u.manager.is_some() {
        push_text(qb, "m", Some(&u.login));
    } else {
        qb.push("CAST(NULL AS CHAR)");
    }
    qb.push(" AS manager, ");
    match (&u.status, &u.active) {
        (Some(status), _) => push_text(qb, "u", Some(status)),
        (None, Some(active)) => {
            qb.push("CASE WHEN ")
                .push(col("u", active))
                .push(" <> 0 THEN 'active' ELSE 'inactive' END");
        }
        (None, None) => {
            qb.push("'active'");
        }
    }
    qb.push(" AS status, CAST(");
    push_active_condition(qb, m, "u");
    qb.push(" AS SIGNED) AS active, ");
    push_flag(qb, "u", u.superuser.as_deref());
    qb.push(" AS superuser, ");
    push_flag(qb, "u", u.mfa.as_deref());
    qb.push(" AS mfa, ");
    push_time(qb, "u", u.last_login.as_deref());
    qb.push(" AS last_login, ");
    push_time(qb, "u", u.created.as_deref());
    qb.push(" AS created");
}

fn push_user_from(qb: &mut QueryBuilder<'_, MySql>, m: &Mapping, with_manager: bool) {
    let u = &m.users;
    qb.push(" FROM ").push(quote(&u.table)).push(" u");
    if let (true, Some(manager)) = (with_manager, &u.manager) {
        qb.push(" LEFT JOIN ")
            .push(quote(&u.table))
            .push(" m ON ")
            .push(col("m", &u.id))
            .push(" = ")
            .push(col("u", manager));
    }
}

fn user_from_row(row: &MySqlRow) -> std::result::Result<User, sqlx::Error> {
    Ok(User {
        id: UserId(row.try_get("id")?),
        login: row
            .try_get::<Option<String>, _>("login")?
            .unwrap_or_default(),
        name: row.try_get("name")?,
        email: row.try_get("email")?,
        department: row.try_get("department")?,
        title: row.try_get("title")?,
        manager_id: row.try_get::<Option<i64>, _>("manager_id")?.map(UserId),
        manager: row.try_get("manager")?,
        status: row
            .try_get::<Option<String>, _>("status")?
            .unwrap_or_default(),
        active: row.try_get::<Option<i64>, _>("active")?.unwrap_or(0) != 0,
        superuser: row.try_get::<Option<i64>, _>("superuser")?.unwrap_or(0) != 0,
        mfa: row.try_get::<Option<i64>, _>("mfa")?.map(|v| v != 0),
        last_login: row.try_get("last_login")?,
        created: row.try_get("created")?,
    })
}

/// Runs a built query and turns each row into a `T`; database and decoding errors are
/// classified the same way everywhere.
async fn fetch_mapped<T>(
    db: &Database,
    mut qb: QueryBuilder<'_, MySql>,
    row: impl Fn(&MySqlRow) -> std::result::Result<T, sqlx::Error>,
) -> Result<Vec<T>> {
    let rows = qb.build().fetch_all(db.app()).await?;
    Ok(rows
        .iter()
        .map(row)
        .collect::<std::result::Result<_, _>>()?)
}

/// Escapes `%`, `_` and `\` so user text matches literally inside LIKE.
fn like_contains(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('%');
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

/// Users matching the filter, ordered by login.
pub async fn users(db: &Database, r: &Resolved, filter: &UserFilter) -> Result<Vec<User>> {
    let m = r.mapping();
    let u = &m.users;
    let mut qb = QueryBuilder::<MySql>::new("SELECT ");
    push_user_columns(&mut qb, m, true);
    push_user_from(&mut qb, m, true);
    qb.push(" WHERE 1 = 1");
    if let Some(dept) = &filter.department {
        let Some(column) = &u.department else {
            return Err(Error::Input(
                "this mapping has no department column, so users cannot be filtered by department"
                    .into(),
            ));
        };
        qb.push(" AND ")
            .push(col("u", column))
            .push(" = ")
            .push_bind(dept.clone());
    }
    if let Some(status) = &filter.status {
        qb.push(" AND ");
        match (&u.status, &u.active) {
            (Some(column), _) => {
                qb.push(col("u", column))
                    .push(" = ")
                    .push_bind(status.clone());
            }
            (None, Some(column)) => match status.to_ascii_lowercase().as_str() {
                "active" => {
                    qb.push(col("u", column)).push(" <> 0");
                }
                "inactive" => {
                    qb.push(col("u", column)).push(" = 0");
                }
                _ => {
                    return Err(Error::Input(format!(
                        "status `{status}`: this mapping knows only `active` and `inactive`"
                    )));
                }
            },
            (None, None) => {
                qb.push(if status.eq_ignore_ascii_case("active") {
                    "1 = 1"
                } else {
                    "1 = 0"
                });
            }
        }
    }
    if let Some(text) = filter.search.as_deref().filter(|t| !t.is_empty()) {
        let pattern = like_contains(text);
        qb.push(" AND (")
            .push(col("u", &u.login))
            .push(" LIKE ")
            .push_bind(pattern.clone());
        if let Some(name) = &u.name {
            for c in name.names() {
                qb.push(" OR ")
                    .push(col("u", c))
                    .push(" LIKE ")
                    .push_bind(pattern.clone());
            }
        }
        if let Some(email) = &u.email {
            qb.push(" OR ")
                .push(col("u", email))
                .push(" LIKE ")
                .push_bind(pattern.clone());
        }
        qb.push(")");
    }
    if let Some(login) = &filter.login {
        qb.push(" AND ")
            .push(col("u", &u.login))
            .push(" = ")
            .push_bind(login.clone());
    }
    if let Some(ids) = &filter.ids {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        qb.push(" AND ").push(col("u", &u.id)).push(" IN (");
        let mut sep = qb.separated(", ");
        for id in ids {
            sep.push_bind(*id);
        }
        qb.push(")");
    }
    qb.push(" ORDER BY ")
        .push(col("u", &u.login))
        .push(", ")
        .push(col("u", &u.id));
    fetch_mapped(db, qb, user_from_row).await
}

/// One user by login (case-insensitively where the column's collation is).
pub async fn user_by_login(db: &Database, r: &Resolved, login: &str) -> Result<Option<User>> {
    let filter = UserFilter {
        login: Some(login.to_string()),
        ..UserFilter::default()
    };
    Ok(users(db, r, &filter).await?.into_iter().next())
}

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
    qb.push(" AS owner FROM ").push(quote(&ro.table)).push(" r");
    if let Some(owner) = &ro.owner {
        qb.push(" LEFT JOIN ")
            .push(quote(&m.users.table))
            .push(" o ON ")
            .push(col("o", &m.users.id))
            .push(" = ")
            .push(col("r", owner));
    }
    qb.push(" ORDER BY ").push(col("r", &ro.name));
    fetch_mapped(db, qb, |row| {
        Ok(Role {
            id: RoleId(row.try_get("id")?),
            name: row
                .try_get::<Option<String>, _>("name")?
                .unwrap_or_default(),
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
                .push(" AS CHAR)) AS perm_key FROM ")
                .push(quote(&p.table))
                .push(" p JOIN ")
                .push(quote(&k.table))
                .push(" k ON ")
                .push(col("k", &k.id))
                .push(" = ")
                .push(col("p", &k.foreign_key));
        }
        None => {
            push_text(&mut qb, "p", Some(&p.key));
            qb.push(" AS perm_key FROM ")
                .push(quote(&p.table))
                .push(" p");
        }
    }
    let mut out = fetch_mapped(db, qb, |row| {
        Ok(Permission {
            id: PermissionId(row.try_get("id")?),
            key: row
                .try_get::<Option<String>, _>("perm_key")?
                .unwrap_or_default(),
        })
    })
    .await?;
    out.sort_by(|a, b| a.key.cmp(&b.key));
    Ok(out)
}

/// (role, parent) pairs: the role inherits the parent's permissions.
pub async fn role_hierarchy(db: &Database, r: &Resolved) -> Result<Vec<(RoleId, RoleId)>> {
    let Some(h) = &r.mapping().role_hierarchy else {
        return Ok(Vec::new());
    };
    let mut qb = QueryBuilder::<MySql>::new("SELECT ");
    push_id(&mut qb, "h", Some(&h.role));
    qb.push(", ");
    push_id(&mut qb, "h", Some(&h.parent));
    qb.push(" FROM ").push(quote(&h.table)).push(" h");
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
    qb.push(" FROM ").push(quote(&rp.table)).push(" rp");
    pairs(db, qb).await.map(|v| {
        v.into_iter()
            .map(|(a, b)| (RoleId(a), PermissionId(b)))
            .collect()
    })
}

async fn pairs(db: &Database, mut qb: QueryBuilder<'_, MySql>) -> Result<Vec<(i64, i64)>> {
    let rows: Vec<(Option<i64>, Option<i64>)> = qb.build_query_as().fetch_all(db.app()).await?;
    Ok(rows
        .into_iter()
        .filter_map(|(a, b)| Some((a?, b?)))
        .collect())
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
    scope: &GrantScope,
    at: NaiveDateTime,
) -> Result<Vec<RoleGrant>> {
    let m = r.mapping();
    let ur = &m.user_roles;
    if matches!(scope, GrantScope::Roles(roles) if roles.is_empty()) {
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
    qb.push(" AS granted_by FROM ")
        .push(quote(&ur.table))
        .push(" ur WHERE 1 = 1");
    push_not_expired(&mut qb, m, "ur", at);
    match scope {
        GrantScope::All => {}
        GrantScope::User(user) => {
            qb.push(" AND ")
                .push(col("ur", &ur.user))
                .push(" = ")
                .push_bind(user.0);
        }
        GrantScope::Roles(roles) => {
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
    let Some(up) = &r.mapping().user_permissions else {
        return Ok(Vec::new());
    };
    let mut qb = QueryBuilder::<MySql>::new("SELECT ");
    push_id(&mut qb, "up", Some(&up.user));
    qb.push(", ");
    push_id(&mut qb, "up", Some(&up.permission));
    qb.push(" FROM ").push(quote(&up.table)).push(" up");
    if let Some(user) = user {
        qb.push(" WHERE ")
            .push(col("up", &up.user))
            .push(" = ")
            .push_bind(user.0);
    }
    pairs(db, qb).await.map(|v| {
        v.into_iter()
            .map(|(u, p)| DirectGrant {
                user: UserId(u),
                permission: PermissionId(p),
            })
            .collect()
    })
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
        .push(quote(&ur.table))
        .push(" ur WHERE 1 = 1");
    push_not_expired(&mut qb, m, "ur", at);
    qb.push(" GROUP BY ").push(col("ur", &ur.role));
    Ok(pairs(db, qb)
        .await?
        .into_iter()
        .map(|(r, n)| (RoleId(r), n))
        .collect())
}

/// id, login, and the flags active (1) and superuser (2) in one column: every cell decoded
/// costs, and these lists run to the whole staff.
fn push_holder_columns<'a>(qb: &mut QueryBuilder<'a, MySql>, m: &'a Mapping) {
    push_id(qb, "u", Some(&m.users.id));
    qb.push(" AS id, ");
    push_text(qb, "u", Some(&m.users.login));
    qb.push(" AS login, CAST((");
    push_active_condition(qb, m, "u");
    qb.push(") + 2 * (");
    push_superuser_condition(qb, m, "u");
    qb.push(") AS SIGNED) AS flags");
}

fn holder_from_row(row: &MySqlRow) -> std::result::Result<Holder, sqlx::Error> {
    let flags = row.try_get::<Option<i64>, _>("flags")?.unwrap_or(0);
    Ok(Holder {
        user: UserId(row.try_get("id")?),
        login: row
            .try_get::<Option<String>, _>("login")?
            .unwrap_or_default(),
        active: flags & 1 != 0,
        superuser: flags & 2 != 0,
    })
}

/// Every user with just enough to name them and apply the application's semantics, in one
/// sequential scan. Cheaper than joining grants to users row by row when many hold a
/// permission, and it yields the superusers in the same pass.
pub async fn user_index(db: &Database, r: &Resolved) -> Result<Vec<Holder>> {
    let m = r.mapping();
    let mut qb = QueryBuilder::<MySql>::new("SELECT ");
    push_holder_columns(&mut qb, m);
    qb.push(" FROM ").push(quote(&m.users.table)).push(" u");
    holders(db, qb).await
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
        .push(quote(&ur.table))
        .push(" ur WHERE ")
        .push(col("ur", &ur.role));
    push_role_list(&mut qb, roles);
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
    let Some(up) = &r.mapping().user_permissions else {
        return Ok(Vec::new());
    };
    let mut qb = QueryBuilder::<MySql>::new("SELECT ");
    push_id(&mut qb, "up", Some(&up.user));
    qb.push(", ");
    push_id(&mut qb, "up", Some(&up.permission));
    qb.push(" FROM ")
        .push(quote(&up.table))
        .push(" up WHERE ")
        .push(col("up", &up.permission))
        .push(" = ")
        .push_bind(permission.0);
    Ok(pairs(db, qb)
        .await?
        .into_iter()
        .map(|(u, _)| UserId(u))
        .collect())
}

async fn holders(db: &Database, qb: QueryBuilder<'_, MySql>) -> Result<Vec<Holder>> {
    fetch_mapped(db, qb, holder_from_row).await
}

/// Logins of the given users (granters, owners, managers), in one query.
pub async fn users_by_ids(
    db: &Database,
    r: &Resolved,
    ids: &[UserId],
) -> Result<Vec<(UserId, String)>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let u = &r.mapping().users;
    let mut qb = QueryBuilder::<MySql>::new("SELECT ");
    push_id(&mut qb, "u", Some(&u.id));
    qb.push(", ");
    push_text(&mut qb, "u", Some(&u.login));
    qb.push(" FROM ")
        .push(quote(&u.table))
        .push(" u WHERE ")
        .push(col("u", &u.id))
        .push(" IN (");
    let mut sep = qb.separated(", ");
    for id in ids {
        sep.push_bind(id.0);
    }
    qb.push(")");
    let rows: Vec<(i64, Option<String>)> = qb.build_query_as().fetch_all(db.app()).await?;
    Ok(rows
        .into_iter()
        .map(|(id, login)| (UserId(id), login.unwrap_or_default()))
        .collect())
}

/// Per department (the job-function column; one group when the mapping has none): staff,
/// active staff, distinct roles held and current grants. Aggregated by the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DepartmentCounts {
    pub department: Option<String>,
    pub staff: i64,
    pub active: i64,
    pub roles: i64,
    pub grants: i64,
}

fn push_department(qb: &mut QueryBuilder<'_, MySql>, m: &Mapping) {
    push_text(qb, "u", m.users.department.as_deref());
}

/// Staff, active staff, and the roles and grants current at `at`, per department.
pub async fn department_counts(
    db: &Database,
    r: &Resolved,
    at: NaiveDateTime,
) -> Result<Vec<DepartmentCounts>> {
    let m = r.mapping();
    let mut qb = QueryBuilder::<MySql>::new("SELECT ");
    push_department(&mut qb, m);
    qb.push(" AS dept, COUNT(*), CAST(SUM(");
    push_active_condition(&mut qb, m, "u");
    qb.push(") AS SIGNED) FROM ")
        .push(quote(&m.users.table))
        .push(" u GROUP BY dept");
    let staff: Vec<(Option<String>, i64, Option<i64>)> =
        qb.build_query_as().fetch_all(db.app()).await?;

    let ur = &m.user_roles;
    let mut qb = QueryBuilder::<MySql>::new("SELECT ");
    push_department(&mut qb, m);
    qb.push(" AS dept, COUNT(DISTINCT ")
        .push(col("ur", &ur.role))
        .push("), COUNT(*) FROM ")
        .push(quote(&ur.table))
        .push(" ur JOIN ")
        .push(quote(&m.users.table))
        .push(" u ON ")
        .push(col("u", &m.users.id))
        .push(" = ")
        .push(col("ur", &ur.user))
        .push(" WHERE 1 = 1");
    push_not_expired(&mut qb, m, "ur", at);
    qb.push(" GROUP BY dept");
    let grants: Vec<(Option<String>, i64, i64)> = qb.build_query_as().fetch_all(db.app()).await?;
    Ok(staff
        .into_iter()
        .map(|(department, staff, active)| {
            let (roles, grants) = grants
                .iter()
                .find(|(d, _, _)| *d == department)
                .map_or((0, 0), |(_, r, g)| (*r, *g));
            DepartmentCounts {
                department,
                staff,
                active: active.unwrap_or(0),
                roles,
                grants,
            }
        })
        .collect())
}

/// Headline counts over all staff: (active superusers, active staff without MFA when the
/// mapping knows MFA).
pub async fn headline_counts(db: &Database, r: &Resolved) -> Result<(i64, Option<i64>)> {
    let m = r.mapping();
    let mut qb = QueryBuilder::<MySql>::new("SELECT CAST(COALESCE(SUM((");
    push_active_condition(&mut qb, m, "u");
    qb.push(") AND (");
    push_superuser_condition(&mut qb, m, "u");
    qb.push(")), 0) AS SIGNED), ");
    match &m.users.mfa {
        Some(mfa) => {
            qb.push("CAST(COALESCE(SUM((");
            push_active_condition(&mut qb, m, "u");
            qb.push(") AND ")
                .push(col("u", mfa))
                .push(" = 0), 0) AS SIGNED)");
        }
        None => {
            qb.push("CAST(NULL AS SIGNED)");
        }
    }
    qb.push(" FROM ").push(quote(&m.users.table)).push(" u");
    let (superusers, without_mfa): (i64, Option<i64>) =
        qb.build_query_as().fetch_one(db.app()).await?;
    Ok((superusers, without_mfa))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_match_text_literally() {
        assert_eq!(like_contains("a%b_c\\"), "%a\\%b\\_c\\\\%");
        assert_eq!(like_contains("' OR 1=1 --"), "%' OR 1=1 --%");
    }

    #[test]
    fn columns_are_quoted_with_their_alias() {
        assert_eq!(col("u", "last_login"), "u.`last_login`");
    }
}

/// The scheme of each user's password hash, read as its first `$`-separated field
/// (`pbkdf2_sha256$…` → `pbkdf2_sha256`, `$2b$…` → `2b`, a bare scheme column as is).
/// Only those few characters leave the database, never a hash. Empty without the column.
pub async fn password_schemes(db: &Database, r: &Resolved) -> Result<HashMap<UserId, String>> {
    let m = r.mapping();
    let Some(hash) = &m.users.password_hash else {
        return Ok(HashMap::new());
    };
    let h = col("u", hash);
    let mut qb = QueryBuilder::<MySql>::new("SELECT ");
    push_id(&mut qb, "u", Some(&m.users.id));
    qb.push(" AS id, CAST(LEFT(CASE WHEN LEFT(")
        .push(h.as_str())
        .push(", 1) = '$' THEN SUBSTRING_INDEX(SUBSTRING_INDEX(")
        .push(h.as_str())
        .push(", '$', 2), '$', -1) ELSE SUBSTRING_INDEX(")
        .push(h.as_str())
        .push(", '$', 1) END, 32) AS CHAR) AS scheme")
        .push(" FROM ")
        .push(quote(&m.users.table))
        .push(" u");
    let rows = fetch_mapped(db, qb, |row| {
        Ok((
            UserId(row.try_get("id")?),
            row.try_get::<Option<String>, _>("scheme")?,
        ))
    })
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(u, s)| s.map(|s| (u, s)))
        .collect())
}

/// Users with any access-log entry at or after `since`; None when the mapping has no log.
/// One index seek per user on (user, time) where the application has that index.
pub async fn active_since(
    db: &Database,
    r: &Resolved,
    since: chrono::NaiveDateTime,
) -> Result<Option<std::collections::HashSet<UserId>>> {
    let Some(log) = &r.mapping().access_log else {
        return Ok(None);
    };
    let mut qb = QueryBuilder::<MySql>::new("SELECT ");
    push_id(&mut qb, "l", Some(&log.user));
    qb.push(" AS user FROM ")
        .push(quote(&log.table))
        .push(" l GROUP BY ")
        .push(col("l", &log.user))
        .push(" HAVING MAX(")
        .push(col("l", &log.time))
        .push(") >= ")
        .push_bind(since);
    let ids = fetch_mapped(db, qb, |row| {
        Ok(row.try_get::<Option<i64>, _>("user")?.map(UserId))
    })
    .await?;
    Ok(Some(ids.into_iter().flatten().collect()))
}

/// Allowed accesses per user and action since `since`: how often, and when last.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Usage {
    pub user: UserId,
    pub action: String,
    pub count: i64,
    pub last_seen: chrono::NaiveDateTime,
}

/// The access log's allowed accesses since `since`, per user and action: how often, and
/// when last. None when the mapping has no access log.
///
/// The rows are streamed and counted here rather than grouped by the server: a year of log
/// has hundreds of thousands of (user, action) pairs, and MariaDB groups those through a
/// temporary table several times slower than it can send the rows (measured at 1,000,000
/// rows: 2.1 s grouped, 0.45 s streamed; `warden-bench --only reviews`).
pub async fn usage_since(
    db: &Database,
    r: &Resolved,
    since: chrono::NaiveDateTime,
) -> Result<Option<Vec<Usage>>> {
    use futures_util::TryStreamExt;
    let Some(log) = &r.mapping().access_log else {
        return Ok(None);
    };
    let mut qb = QueryBuilder::<MySql>::new("SELECT ");
    push_id(&mut qb, "l", Some(&log.user));
    qb.push(", ");
    push_text(&mut qb, "l", Some(&log.action));
    qb.push(", ");
    push_time(&mut qb, "l", Some(&log.time));
    qb.push(" FROM ")
        .push(quote(&log.table))
        .push(" l WHERE ")
        .push(col("l", &log.time))
        .push(" >= ")
        .push_bind(since);
    if let Some(outcome) = &log.outcome {
        qb.push(" AND ").push(col("l", outcome)).push(" IN (");
        let mut sep = qb.separated(", ");
        for v in &log.allowed_values {
            sep.push_bind(v.as_str());
        }
        qb.push(")");
    }
    // Actions are few and repeated: each is kept once, and pairs refer to it by index.
    let mut actions: Vec<String> = Vec::new();
    let mut action_ids: HashMap<String, u32> = HashMap::new();
    let mut pairs: HashMap<(i64, u32), (i64, chrono::NaiveDateTime)> = HashMap::new();
    let mut rows = qb.build().fetch(db.app());
    while let Some(row) = rows.try_next().await? {
        let (Some(user), Some(action), Some(at)) = (
            row.try_get::<Option<i64>, _>(0)?,
            row.try_get::<Option<&str>, _>(1)?,
            row.try_get::<Option<chrono::NaiveDateTime>, _>(2)?,
        ) else {
            continue;
        };
        let action = match action_ids.get(action) {
            Some(&id) => id,
            None => {
                let id = actions.len() as u32;
                actions.push(action.to_string());
                action_ids.insert(action.to_string(), id);
                id
            }
        };
        let e = pairs.entry((user, action)).or_insert((0, at));
        e.0 += 1;
        e.1 = e.1.max(at);
    }
    Ok(Some(
        pairs
            .into_iter()
            .map(|((user, action), (count, last_seen))| Usage {
                user: UserId(user),
                action: actions[action as usize].clone(),
                count,
                last_seen,
            })
            .collect(),
    ))
}
