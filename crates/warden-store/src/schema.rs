//! Checking a mapping against the live schema: every table and column must exist in
//! information_schema, with a type that fits, before any query is built from it.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use warden_core::mapping::{Mapping, MappingProblem};
use warden_core::suggest;

use crate::connect::Database;
use crate::error::{Error, Result};

/// A mapping whose every identifier was found in information_schema. Only [`resolve`] makes
/// one, so holding a `Resolved` is the proof that its names are safe to quote into SQL.
#[derive(Debug, Clone)]
pub struct Resolved {
    mapping: Arc<Mapping>,
}

impl Resolved {
    pub fn mapping(&self) -> &Mapping {
        &self.mapping
    }
}

/// The tables and columns of a schema: table -> column -> DATA_TYPE.
type Catalog = BTreeMap<String, BTreeMap<String, String>>;

async fn catalog(db: &Database) -> Result<Catalog> {
    let rows: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT CAST(TABLE_NAME AS CHAR), CAST(COLUMN_NAME AS CHAR), CAST(DATA_TYPE AS CHAR) \
         FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE()",
    )
    .fetch_all(db.app())
    .await?;
    let mut out = Catalog::new();
    for (table, column, ty) in rows {
        out.entry(table).or_default().insert(column, ty);
    }
    Ok(out)
}

/// Every problem of the mapping against this database, all at once.
pub async fn check(db: &Database, mapping: &Mapping) -> Result<Vec<MappingProblem>> {
    let shape = mapping.check_shape();
    if !shape.is_empty() {
        // Names that are not identifiers are never sent to the server, not even as values.
        return Ok(shape);
    }
    Ok(problems_against(mapping, &catalog(db).await?))
}

/// Rows a section's `where` leaves out, counted: a grant table holding rows of another
/// model type, guard or tenant is then visible, and so is a mapping that forgot a filter.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Ignored {
    pub section: String,
    pub table: String,
    pub rows: u64,
    /// "model_has_roles: 12 rows outside `where` (model_type) are ignored".
    pub message: String,
}

/// For a mapping that fits ([`resolve`]), the rows each filtered section leaves out.
pub async fn ignored_rows(db: &Database, r: &Resolved) -> Result<Vec<Ignored>> {
    let mut out = Vec::new();
    let sections = r.mapping().filters().into_iter();
    for (section, table, filter) in sections.filter(|(s, _, _)| Mapping::is_directory_section(s)) {
        let mut qb = sqlx::QueryBuilder::<sqlx::MySql>::new("SELECT COUNT(*) FROM ");
        qb.push(warden_core::ident::quote(table))
            .push(" WHERE NOT COALESCE((");
        crate::mapped::push_filter(&mut qb, filter, None);
        qb.push("), 0)");
        let rows: i64 = qb.build_query_scalar().fetch_one(db.app()).await?;
        if rows > 0 {
            let columns: Vec<&str> = filter.0.keys().map(String::as_str).collect();
            out.push(Ignored {
                section: section.to_string(),
                table: table.to_string(),
                rows: rows as u64,
                message: format!(
                    "{table}: {} outside `where` ({}) {} ignored",
                    rows_said(rows),
                    columns.join(", "),
                    if rows == 1 { "is" } else { "are" }
                ),
            });
        }
    }
    out.extend(ignored_by_reference(db, r.mapping()).await?);
    Ok(out)
}

/// "1 row", "12 rows".
fn rows_said(rows: i64) -> String {
    format!("{rows} row{}", if rows == 1 { "" } else { "s" })
}

/// Grants and links that pass their own section's filter but point at a row another
/// section's filter leaves out (a grant of an API-guard role): dropped on every read, and
/// counted here so that access a filter hides is visible.
async fn ignored_by_reference(db: &Database, m: &Mapping) -> Result<Vec<Ignored>> {
    use crate::mapped::{PushSource, permissions_of, push_points_outside, roles_of, users_of};
    let mut links = vec![
        (
            "user_roles",
            &m.user_roles.table,
            &m.user_roles.filter,
            &m.user_roles.user,
            "users",
            users_of(m),
        ),
        (
            "user_roles",
            &m.user_roles.table,
            &m.user_roles.filter,
            &m.user_roles.role,
            "roles",
            roles_of(m),
        ),
        (
            "role_permissions",
            &m.role_permissions.table,
            &m.role_permissions.filter,
            &m.role_permissions.role,
            "roles",
            roles_of(m),
        ),
        (
            "role_permissions",
            &m.role_permissions.table,
            &m.role_permissions.filter,
            &m.role_permissions.permission,
            "permissions",
            permissions_of(m),
        ),
    ];
    if let Some(up) = &m.user_permissions {
        links.push((
            "user_permissions",
            &up.table,
            &up.filter,
            &up.user,
            "users",
            users_of(m),
        ));
        links.push((
            "user_permissions",
            &up.table,
            &up.filter,
            &up.permission,
            "permissions",
            permissions_of(m),
        ));
    }
    let mut out = Vec::new();
    for (section, table, filter, column, referred, target) in links {
        if target.2.is_empty() {
            continue;
        }
        let mut qb = sqlx::QueryBuilder::<sqlx::MySql>::new("SELECT COUNT(*) FROM ");
        qb.push_source(table, filter).push(" a WHERE ");
        push_points_outside(&mut qb, "a", column, target);
        let rows: i64 = qb.build_query_scalar().fetch_one(db.app()).await?;
        if rows > 0 {
            let columns: Vec<&str> = target.2.0.keys().map(String::as_str).collect();
            out.push(Ignored {
                section: section.to_string(),
                table: table.clone(),
                rows: rows as u64,
                message: format!(
                    "{table}: {} point{} at {referred} outside their `where` ({}) and {} ignored",
                    rows_said(rows),
                    if rows == 1 { "s" } else { "" },
                    columns.join(", "),
                    if rows == 1 { "is" } else { "are" }
                ),
            });
        }
    }
    Ok(out)
}

/// Checks the mapping and returns the proof that it fits, or every problem.
pub async fn resolve(db: &Database, mapping: Mapping) -> Result<Resolved> {
    let problems = check(db, &mapping).await?;
    if !problems.is_empty() {
        return Err(Error::Mapping(problems));
    }
    Ok(Resolved {
        mapping: Arc::new(mapping),
    })
}

fn problems_against(mapping: &Mapping, catalog: &Catalog) -> Vec<MappingProblem> {
    let mut problems = Vec::new();
    let mut missing_tables = BTreeSet::new();
    for c in mapping.columns() {
        let Some(columns) = catalog.get(c.table) else {
            if missing_tables.insert(c.table) {
                problems.push(MappingProblem {
                    field: c.field.clone(),
                    table: c.table.into(),
                    column: None,
                    message: format!("table `{}` does not exist", c.table),
                    suggestion: suggest::closest(c.table, catalog.keys().map(String::as_str))
                        .map(str::to_string),
                });
            }
            continue;
        };
        match columns.get(c.column) {
            None => problems.push(MappingProblem {
                field: c.field.clone(),
                table: c.table.into(),
                column: Some(c.column.into()),
                message: format!("column `{}.{}` does not exist", c.table, c.column),
                suggestion: suggest::closest(c.column, columns.keys().map(String::as_str))
                    .map(str::to_string),
            }),
            Some(ty) if !c.kind.accepts(ty) => problems.push(MappingProblem {
                field: c.field.clone(),
                table: c.table.into(),
                column: Some(c.column.into()),
                message: format!(
                    "column `{}.{}` is {ty}, but must hold {}",
                    c.table,
                    c.column,
                    c.kind.describe()
                ),
                suggestion: None,
            }),
            Some(_) => {}
        }
    }
    problems.extend(filter_values_against(mapping, catalog));
    problems
}

/// A filter's values must be of its column's kind: MySQL compares text with a number as
/// numbers, so `guard_name = 0` would match every non-numeric guard, and `tenant_id =
/// "1abc"` tenant 1 — a filter that silently lets everything through.
fn filter_values_against(mapping: &Mapping, catalog: &Catalog) -> Vec<MappingProblem> {
    use warden_core::mapping::Scalar;
    let mut problems = Vec::new();
    for (section, table, filter) in mapping.filters() {
        let Some(columns) = catalog.get(table) else {
            continue; // reported above
        };
        for (column, value) in &filter.0 {
            let Some(ty) = columns.get(column) else {
                continue; // reported above
            };
            let ty = ty.to_ascii_lowercase();
            let integer = matches!(
                ty.as_str(),
                "tinyint" | "smallint" | "mediumint" | "int" | "integer" | "bigint" | "bit"
            );
            let textual = matches!(
                ty.as_str(),
                "char"
                    | "varchar"
                    | "tinytext"
                    | "text"
                    | "mediumtext"
                    | "longtext"
                    | "enum"
                    | "set"
            );
            for v in value.values() {
                let fits = match v {
                    Scalar::Int(_) | Scalar::Bool(_) => integer,
                    Scalar::Text(t) => textual || (integer && t.parse::<i64>().is_ok()),
                };
                if !fits {
                    let shown = match v {
                        Scalar::Int(n) => n.to_string(),
                        Scalar::Bool(b) => b.to_string(),
                        Scalar::Text(t) => format!("{t:?}"),
                    };
                    problems.push(MappingProblem {
                        field: format!("{section}.where.{column}"),
                        table: table.to_string(),
                        column: Some(column.clone()),
                        message: format!(
                            "the value {shown} does not fit `{table}.{column}`, which is {ty}: \
                             the server would compare it loosely and match rows it should not"
                        ),
                        suggestion: None,
                    });
                }
            }
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog_of(tables: &[(&str, &[(&str, &str)])]) -> Catalog {
        tables
            .iter()
            .map(|(t, cols)| {
                (
                    t.to_string(),
                    cols.iter()
                        .map(|(c, ty)| (c.to_string(), ty.to_string()))
                        .collect(),
                )
            })
            .collect()
    }

    #[test]
    fn names_missing_tables_once_and_missing_columns_with_suggestions() {
        let mapping = Mapping::preset("django").unwrap();
        let catalog = catalog_of(&[
            (
                "auth_user",
                &[
                    ("id", "int"),
                    ("username", "varchar"),
                    ("first_name", "varchar"),
                    ("last_name", "varchar"),
                    ("email", "varchar"),
                    ("is_active", "tinyint"),
                    ("last_logn", "datetime"),
                    ("is_superuser", "varchar"),
                    ("password", "varchar"),
                    ("date_joined", "datetime"),
                ],
            ),
            ("auth_groups", &[("id", "int"), ("name", "varchar")]),
        ]);
        let problems = problems_against(&mapping, &catalog);
        let last_login = problems
            .iter()
            .find(|p| p.field == "users.last_login")
            .unwrap();
        assert_eq!(last_login.suggestion.as_deref(), Some("last_logn"));
        assert!(
            last_login
                .message
                .contains("`auth_user.last_login` does not exist")
        );
        let group = problems.iter().find(|p| p.field == "roles.id").unwrap();
        assert_eq!(group.suggestion.as_deref(), Some("auth_groups"));
        assert_eq!(
            problems.iter().filter(|p| p.table == "auth_group").count(),
            1
        );
        let flag = problems
            .iter()
            .find(|p| p.field == "users.superuser")
            .unwrap();
        assert!(
            flag.message.contains("must hold a boolean or number"),
            "{}",
            flag.message
        );
    }
}

#[cfg(test)]
mod filter_value_tests {
    use super::*;

    /// The laravel preset's tables, with `guard_name` text and `model_id` an integer.
    fn catalog() -> Catalog {
        let mut c = Catalog::new();
        let mut add = |t: &str, cols: &[(&str, &str)]| {
            c.insert(
                t.to_string(),
                cols.iter()
                    .map(|(n, ty)| (n.to_string(), ty.to_string()))
                    .collect(),
            );
        };
        add(
            "users",
            &[
                ("id", "bigint"),
                ("name", "varchar"),
                ("email", "varchar"),
                ("created_at", "timestamp"),
            ],
        );
        add(
            "roles",
            &[
                ("id", "bigint"),
                ("name", "varchar"),
                ("guard_name", "varchar"),
            ],
        );
        add(
            "permissions",
            &[
                ("id", "bigint"),
                ("name", "varchar"),
                ("guard_name", "varchar"),
            ],
        );
        add(
            "role_has_permissions",
            &[("role_id", "bigint"), ("permission_id", "bigint")],
        );
        add(
            "model_has_roles",
            &[
                ("role_id", "bigint"),
                ("model_id", "bigint"),
                ("model_type", "varchar"),
            ],
        );
        add(
            "model_has_permissions",
            &[
                ("permission_id", "bigint"),
                ("model_id", "bigint"),
                ("model_type", "varchar"),
            ],
        );
        c
    }

    #[test]
    fn filter_values_must_fit_their_columns() {
        let preset = Mapping::preset("laravel-permission").unwrap();
        assert_eq!(problems_against(&preset, &catalog()), vec![]);
        let text = include_str!("../../warden-core/src/presets/laravel-permission.toml");
        for (bad, field) in [
            (r#"where = { guard_name = 0 }"#, "roles.where.guard_name"),
            (
                r#"where = { guard_name = false }"#,
                "roles.where.guard_name",
            ),
            (
                r#"where = { guard_name = "web", id = "1abc" }"#,
                "roles.where.id",
            ),
        ] {
            let m = Mapping::from_toml(&text.replacen(r#"where = { guard_name = "web" }"#, bad, 1))
                .unwrap();
            let problems = problems_against(&m, &catalog());
            assert_eq!(problems.len(), 1, "{bad}: {problems:?}");
            assert_eq!(problems[0].field, field);
            assert!(problems[0].message.contains("does not fit"), "{problems:?}");
        }
        // An integer column may take an integer, or text that is exactly one.
        let ok = Mapping::from_toml(&text.replacen(
            r#"where = { guard_name = "web" }"#,
            r#"where = { guard_name = "web", id = [1, "2"] }"#,
            1,
        ))
        .unwrap();
        assert_eq!(problems_against(&ok, &catalog()), vec![]);
    }
}
