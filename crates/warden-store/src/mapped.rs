//! SQL over the application's tables as the mapping names them: every identifier from the
//! mapping is quoted here (after `schema::resolve` checked it against information_schema),
//! and every column is read as a fixed type, so a query reads the same columns whatever
//! the mapping has.

use chrono::NaiveDateTime;
use sqlx::{MySql, QueryBuilder, Row};
use warden_core::directory::GrantScope;
use warden_core::ident::quote;
use warden_core::mapping::{Mapping, RowFilter, Scalar};

/// A mapped table as a query reads it: the table itself, or, when its section has a row
/// filter, only the rows that pass it — a derived table the server merges into the query
/// (`(SELECT * FROM t WHERE c = ? AND d IN (?, ?))`), so every read of the table, joins
/// included, sees the same rows. Column names are checked identifiers; values are bound.
pub(crate) trait PushSource {
    fn push_source(&mut self, table: &str, filter: &RowFilter) -> &mut Self;
}

impl PushSource for QueryBuilder<'_, MySql> {
    fn push_source(&mut self, table: &str, filter: &RowFilter) -> &mut Self {
        if filter.is_empty() {
            return self.push(quote(table));
        }
        self.push("(SELECT * FROM ")
            .push(quote(table))
            .push(" WHERE ");
        push_filter(self, filter, None);
        self.push(")")
    }
}

/// When the section `column` refers to has a row filter: ` AND NOT EXISTS (a row of it
/// with that id which the filter leaves out)`. A grant or a link to a role of another
/// guard, a user of another tenant, is not the application's and is left out too; one to
/// a row that exists nowhere (a dangling grant) stays, as it does unfiltered: evidence.
pub(crate) fn push_refers_to(
    qb: &mut QueryBuilder<'_, MySql>,
    alias: &str,
    column: &str,
    (table, id, filter): (&str, &str, &RowFilter),
) {
    if filter.is_empty() {
        return;
    }
    qb.push(" AND NOT ");
    push_points_outside(qb, alias, column, (table, id, filter));
}

/// ` EXISTS (a row of the section `column` refers to, with that id, which its filter leaves
/// out)`: the rows [`push_refers_to`] drops, for `mapping check` to count.
pub(crate) fn push_points_outside(
    qb: &mut QueryBuilder<'_, MySql>,
    alias: &str,
    column: &str,
    (table, id, filter): (&str, &str, &RowFilter),
) {
    qb.push("EXISTS (SELECT 1 FROM ")
        .push(quote(table))
        .push(" x WHERE ")
        .push(col("x", id))
        .push(" = ")
        .push(col(alias, column))
        .push(" AND NOT COALESCE((");
    push_filter(qb, filter, Some("x"));
    qb.push("), 0))");
}

/// The sections a grant or link may refer to: (table, id column, filter).
pub(crate) fn users_of(m: &Mapping) -> (&str, &str, &RowFilter) {
    (&m.users.table, &m.users.id, &m.users.filter)
}

pub(crate) fn roles_of(m: &Mapping) -> (&str, &str, &RowFilter) {
    (&m.roles.table, &m.roles.id, &m.roles.filter)
}

pub(crate) fn permissions_of(m: &Mapping) -> (&str, &str, &RowFilter) {
    (
        &m.permissions.table,
        &m.permissions.id,
        &m.permissions.filter,
    )
}

/// `filter` as a condition, its columns qualified by `alias` when given.
pub(crate) fn push_filter(
    qb: &mut QueryBuilder<'_, MySql>,
    filter: &RowFilter,
    alias: Option<&str>,
) {
    for (i, (column, value)) in filter.0.iter().enumerate() {
        if i > 0 {
            qb.push(" AND ");
        }
        match alias {
            Some(a) => qb.push(col(a, column)),
            None => qb.push(quote(column)),
        };
        qb.push(" IN (");
        for (j, v) in value.values().iter().enumerate() {
            if j > 0 {
                qb.push(", ");
            }
            push_scalar(qb, v);
        }
        qb.push(")");
    }
}

/// Binds a filter's value; answers it as text (for a preview).
pub(crate) fn push_scalar(qb: &mut QueryBuilder<'_, MySql>, v: &Scalar) -> String {
    match v {
        Scalar::Int(n) => {
            qb.push_bind(*n);
            n.to_string()
        }
        Scalar::Bool(b) => {
            qb.push_bind(*b);
            b.to_string()
        }
        Scalar::Text(t) => {
            qb.push_bind(t.clone());
            format!("'{}'", t.replace('\'', "''"))
        }
    }
}

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

/// `, CAST(alias.c AS CHAR) AS scope_0, …` for each scope column.
pub(crate) fn push_scope(qb: &mut QueryBuilder<'_, MySql>, alias: &str, scope: &[String]) {
    for (i, c) in scope.iter().enumerate() {
        qb.push(", CAST(")
            .push(col(alias, c))
            .push(format!(" AS CHAR) AS scope_{i}"));
    }
}

/// A row's scope, as [`push_scope`] read it.
pub(crate) fn scope_of(row: &sqlx::mysql::MySqlRow, scope: &[String]) -> sqlx::Result<GrantScope> {
    let mut out = Vec::with_capacity(scope.len());
    for (i, c) in scope.iter().enumerate() {
        let value: Option<String> = row.try_get(format!("scope_{i}").as_str())?;
        out.push((c.clone(), value));
    }
    Ok(GrantScope(out))
}
