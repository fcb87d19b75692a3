//! Users and the columns read for each: filtered lists, one by login, logins by id.

use sqlx::mysql::MySqlRow;
use sqlx::{MySql, QueryBuilder, Row};
use warden_core::directory::{User, UserId};
use warden_core::mapping::{Mapping, UsersMap};

use super::fetch::fetch_mapped;
use crate::connect::Database;
use crate::error::{Error, Result};
use crate::mapped::PushSource;
use crate::mapped::{
    LIKE_ESCAPE, col, push_active_condition, push_flag, push_id, push_text, push_time,
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
    qb.push(" FROM ")
        .push_source(&u.table, &u.filter)
        .push(" u");
    if let (true, Some(manager)) = (with_manager, &u.manager) {
        qb.push(" LEFT JOIN ")
            .push_source(&u.table, &u.filter)
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

/// `%text%`, its wildcards escaped: user text matches literally inside LIKE.
fn like_contains(text: &str) -> String {
    ["%", &crate::mapped::like_literal(text), "%"].concat()
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
        push_status_filter(&mut qb, u, status)?;
    }
    if let Some(text) = filter.search.as_deref().filter(|t| !t.is_empty()) {
        push_search_filter(&mut qb, u, text);
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

/// ` AND` the user has `status`: the application's own value where it has a status column,
/// else `active` / `inactive` read from its flag (anything else refused), else everyone is
/// active.
fn push_status_filter(qb: &mut QueryBuilder<'_, MySql>, u: &UsersMap, status: &str) -> Result<()> {
    qb.push(" AND ");
    match (&u.status, &u.active) {
        (Some(column), _) => {
            qb.push(col("u", column))
                .push(" = ")
                .push_bind(status.to_string());
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
    Ok(())
}

/// ` AND` `text` appears in the login, a name column or the email, matched literally.
fn push_search_filter(qb: &mut QueryBuilder<'_, MySql>, u: &UsersMap, text: &str) {
    let pattern = like_contains(text);
    qb.push(" AND (")
        .push(col("u", &u.login))
        .push(" LIKE ")
        .push_bind(pattern.clone())
        .push(LIKE_ESCAPE);
    if let Some(name) = &u.name {
        for c in name.names() {
            qb.push(" OR ")
                .push(col("u", c))
                .push(" LIKE ")
                .push_bind(pattern.clone())
                .push(LIKE_ESCAPE);
        }
    }
    if let Some(email) = &u.email {
        qb.push(" OR ")
            .push(col("u", email))
            .push(" LIKE ")
            .push_bind(pattern.clone())
            .push(LIKE_ESCAPE);
    }
    qb.push(")");
}

/// One user by login (case-insensitively where the column's collation is).
pub async fn user_by_login(db: &Database, r: &Resolved, login: &str) -> Result<Option<User>> {
    let filter = UserFilter {
        login: Some(login.to_string()),
        ..UserFilter::default()
    };
    Ok(users(db, r, &filter).await?.into_iter().next())
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
        .push_source(&u.table, &u.filter)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_match_text_literally() {
        assert_eq!(like_contains("a%b_c\\!"), "%a!%b!_c\\!!%");
        // Every LIKE names its escape: a backslash is none under NO_BACKSLASH_ESCAPES.
        let u: UsersMap =
            toml::from_str("table = \"t\"\nid = \"id\"\nlogin = \"login\"\nemail = \"email\"")
                .unwrap();
        let mut qb = QueryBuilder::<MySql>::new("SELECT 1 FROM t u WHERE 1");
        push_search_filter(&mut qb, &u, "50%");
        assert_eq!(qb.sql().matches(" LIKE ?").count(), 2);
        assert_eq!(
            qb.sql().matches(" LIKE ? ESCAPE '!'").count(),
            2,
            "{}",
            qb.sql()
        );
        assert_eq!(like_contains("' OR 1=1 --"), "%' OR 1=1 --%");
    }

    #[test]
    fn columns_are_quoted_with_their_alias() {
        assert_eq!(col("u", "last_login"), "u.`last_login`");
    }
}
