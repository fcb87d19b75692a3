//! Running the directory's built queries: the one place rows become values and errors are
//! classified.

use sqlx::mysql::MySqlRow;
use sqlx::{MySql, QueryBuilder};

use crate::connect::Database;
use crate::error::Result;

/// Runs a built query and turns each row into a `T`; database and decoding errors are
/// classified the same way everywhere.
pub(super) async fn fetch_mapped<T>(
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

/// Runs a built query of two id columns, skipping rows where either is NULL.
pub(super) async fn pairs(
    db: &Database,
    mut qb: QueryBuilder<'_, MySql>,
) -> Result<Vec<(i64, i64)>> {
    let rows: Vec<(Option<i64>, Option<i64>)> = qb.build_query_as().fetch_all(db.app()).await?;
    Ok(rows
        .into_iter()
        .filter_map(|(a, b)| Some((a?, b?)))
        .collect())
}
