//! Allowed and denied accesses over time, for the timeline.

use chrono::NaiveDateTime;
use sqlx::{MySql, QueryBuilder};

use super::log_map;
use super::search::{Search, push_filters};
use crate::connect::Database;
use crate::error::Result;
use crate::mapped::PushSource;
use crate::mapped::col;
use crate::schema::Resolved;

/// Allowed and denied accesses matching `s` (its page ignored), per bucket of
/// `bucket_seconds` from `from`: (bucket index, allowed, denied), in order.
pub async fn timeline(
    db: &Database,
    r: &Resolved,
    s: &Search,
    from: NaiveDateTime,
    bucket_seconds: i64,
) -> Result<Vec<(i64, i64, i64)>> {
    let log = log_map(r)?;
    let mut qb = QueryBuilder::<MySql>::new("SELECT CAST(FLOOR(TIMESTAMPDIFF(SECOND, ");
    qb.push_bind(from)
        .push(", ")
        .push(col("l", &log.time))
        .push(") / ")
        .push_bind(bucket_seconds)
        .push(") AS SIGNED) AS b, ");
    match &log.outcome {
        Some(outcome) => {
            qb.push("CAST(SUM(").push(col("l", outcome)).push(" IN (");
            let mut sep = qb.separated(", ");
            for v in &log.allowed_values {
                sep.push_bind(v.clone());
            }
            qb.push(")) AS SIGNED), CAST(SUM(")
                .push(col("l", outcome))
                .push(" NOT IN (");
            let mut sep = qb.separated(", ");
            for v in &log.allowed_values {
                sep.push_bind(v.clone());
            }
            qb.push(")) AS SIGNED)");
        }
        None => {
            qb.push("CAST(COUNT(*) AS SIGNED), CAST(0 AS SIGNED)");
        }
    }
    qb.push(" FROM ")
        .push_source(&log.table, &log.filter)
        .push(" l");
    if !push_filters(&mut qb, log, s, &mut Vec::new())? {
        return Ok(Vec::new());
    }
    qb.push(" GROUP BY b ORDER BY b");
    Ok(qb.build_query_as().fetch_all(db.app()).await?)
}

/// The first and last time of the rows matching `s` (its page ignored).
pub async fn time_range(
    db: &Database,
    r: &Resolved,
    s: &Search,
) -> Result<Option<(NaiveDateTime, NaiveDateTime)>> {
    let log = log_map(r)?;
    let mut qb = QueryBuilder::<MySql>::new("SELECT CAST(MIN(");
    qb.push(col("l", &log.time))
        .push(") AS DATETIME), CAST(MAX(")
        .push(col("l", &log.time))
        .push(") AS DATETIME) FROM ")
        .push_source(&log.table, &log.filter)
        .push(" l");
    if !push_filters(&mut qb, log, s, &mut Vec::new())? {
        return Ok(None);
    }
    let (a, b): (Option<NaiveDateTime>, Option<NaiveDateTime>) =
        qb.build_query_as().fetch_one(db.app()).await?;
    Ok(a.zip(b))
}
