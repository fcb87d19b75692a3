//! SQL over the application's tables as the mapping names them: every identifier from the
//! mapping is quoted here (after `schema::resolve` checked it against information_schema),
//! and every column is read as a fixed type, so a query reads the same columns whatever
//! the mapping has.

use chrono::NaiveDateTime;
use sqlx::{MySql, QueryBuilder};
use warden_core::ident::quote;
use warden_core::mapping::Mapping;

/// `alias`.`column`
pub(crate) fn col(alias: &str, column: &str) -> String {
    let mut s = String::with_capacity(alias.len() + column.len() + 3);
    s.push_str(alias);
    s.push('.');
    s.push_str(&quote(column));
    s
}

/// `CAST(alias.column<test> AS ty)`, or a typed NULL when the mapping lacks the column, so
/// every query reads the same columns in the same order whatever the mapping has.
pub(crate) fn push_cast(
    qb: &mut QueryBuilder<'_, MySql>,
    alias: &str,
    column: Option<&str>,
    test: &str,
    ty: &str,
) {
    qb.push("CAST(");
    match column {
        Some(c) => qb.push(col(alias, c)).push(test),
        None => qb.push("NULL"),
    };
    qb.push(" AS ").push(ty).push(")");
}

pub(crate) fn push_text(qb: &mut QueryBuilder<'_, MySql>, alias: &str, column: Option<&str>) {
    push_cast(qb, alias, column, "", "CHAR");
}

pub(crate) fn push_flag(qb: &mut QueryBuilder<'_, MySql>, alias: &str, column: Option<&str>) {
    push_cast(qb, alias, column, " <> 0", "SIGNED");
}

pub(crate) fn push_time(qb: &mut QueryBuilder<'_, MySql>, alias: &str, column: Option<&str>) {
    push_cast(qb, alias, column, "", "DATETIME");
}

pub(crate) fn push_id(qb: &mut QueryBuilder<'_, MySql>, alias: &str, column: Option<&str>) {
    push_cast(qb, alias, column, "", "SIGNED");
}

/// The condition "this user is active" in the application's terms.
pub(crate) fn push_active_condition<'a>(
    qb: &mut QueryBuilder<'a, MySql>,
    m: &'a Mapping,
    alias: &str,
) {
    let u = &m.users;
    if let Some(status) = &u.status {
        qb.push(col(alias, status)).push(" IN (");
        let mut sep = qb.separated(", ");
        for v in &u.active_values {
            sep.push_bind(v.as_str());
        }
        qb.push(")");
    } else if let Some(active) = &u.active {
        qb.push(col(alias, active)).push(" <> 0");
    } else {
        qb.push("1 = 1");
    }
}

pub(crate) fn push_superuser_condition(qb: &mut QueryBuilder<'_, MySql>, m: &Mapping, alias: &str) {
    match &m.users.superuser {
        Some(c) => qb.push(col(alias, c)).push(" <> 0"),
        None => qb.push("1 = 0"),
    };
}

/// Grants that have not expired at `at` (Warden's clock, never the server's `NOW()`).
pub(crate) fn push_not_expired(
    qb: &mut QueryBuilder<'_, MySql>,
    m: &Mapping,
    alias: &str,
    at: NaiveDateTime,
) {
    if let Some(expires) = &m.user_roles.expires_at {
        qb.push(" AND (")
            .push(col(alias, expires))
            .push(" IS NULL OR ")
            .push(col(alias, expires))
            .push(" > ")
            .push_bind(at)
            .push(")");
    }
}

/// Escapes LIKE's wildcards in user text with `!`, the escape every such LIKE names
/// (`ESCAPE '!'`): a backslash is no escape under `NO_BACKSLASH_ESCAPES`, so it is not
/// relied on.
pub(crate) fn like_literal(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '!') {
            out.push('!');
        }
        out.push(c);
    }
    out
}

/// What follows every LIKE whose pattern came through [`like_literal`].
pub(crate) const LIKE_ESCAPE: &str = " ESCAPE '!'";
