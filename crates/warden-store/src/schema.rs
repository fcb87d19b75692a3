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
    for (section, table, filter) in r.mapping().filters() {
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
                    "{table}: {rows} row{} outside `where` ({}) {} ignored",
                    if rows == 1 { "" } else { "s" },
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
