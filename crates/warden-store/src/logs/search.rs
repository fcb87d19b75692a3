//! Searching the log a page at a time by keyset (never OFFSET), and the filters every
//! search, export and timeline shares.

use chrono::NaiveDateTime;
use sqlx::{MySql, QueryBuilder, Row};
use warden_core::mapping::AccessLogMap;

use super::{allowed, log_map, select_rows};
use crate::connect::Database;
use crate::error::{Error, Result};
use crate::mapped::col;
use crate::schema::Resolved;
use crate::wire::Param;

/// A search of the log; every field optional. `user_ids`: people already resolved from a
/// login or a department (an empty list matches nothing).
#[derive(Debug, Clone, Default)]
pub struct Search {
    pub user_ids: Option<Vec<i64>>,
    pub action: Option<String>,
    pub resource_type: Option<String>,
    pub resource_id: Option<String>,
    pub allowed: Option<bool>,
    pub since: Option<NaiveDateTime>,
    pub until: Option<NaiveDateTime>,
    pub client_address: Option<String>,
    /// Rows with an id below this one (the previous page's last), newest first.
    pub before: Option<i64>,
    pub limit: u32,
}

/// One row of the log as shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogRow {
    pub id: i64,
    pub at: Option<NaiveDateTime>,
    pub user: Option<i64>,
    pub action: Option<String>,
    pub resource_type: Option<String>,
    pub resource_id: Option<String>,
    pub outcome: Option<String>,
    pub allowed: bool,
    pub client_address: Option<String>,
    pub user_agent: Option<String>,
}

/// ` WHERE …` for every filter of `s` but the page's; false when nothing can match.
/// The values of [`push_filters`]' `?`s, in order, for [`crate::wire`] (which binds its
/// own values: the query builder's stay with sqlx).
pub(super) fn push_filters<'a>(
    qb: &mut QueryBuilder<'a, MySql>,
    log: &'a AccessLogMap,
    s: &Search,
    params: &mut Vec<Param>,
) -> Result<bool> {
    qb.push(" WHERE 1 = 1");
    if let Some(ids) = &s.user_ids {
        if ids.is_empty() {
            return Ok(false);
        }
        qb.push(" AND ").push(col("l", &log.user)).push(" IN (");
        let mut sep = qb.separated(", ");
        for id in ids {
            sep.push_bind(*id);
            params.push(Param::Int(*id));
        }
        qb.push(")");
    }
    let mut text = |qb: &mut QueryBuilder<'a, MySql>,
                    column: Option<&str>,
                    value: &Option<String>,
                    what: &str|
     -> Result<()> {
        if let Some(v) = value {
            let c = column.ok_or_else(|| {
                Error::Input(format!(
                    "the mapping's access log has no {what} column to filter on"
                ))
            })?;
            qb.push(" AND ")
                .push(col("l", c))
                .push(" = ")
                .push_bind(v.clone());
            params.push(Param::Text(v.clone()));
        }
        Ok(())
    };
    text(qb, Some(&log.action), &s.action, "action")?;
    text(
        qb,
        log.resource_type.as_deref(),
        &s.resource_type,
        "resource type",
    )?;
    text(
        qb,
        log.resource_id.as_deref(),
        &s.resource_id,
        "resource id",
    )?;
    text(
        qb,
        log.client_address.as_deref(),
        &s.client_address,
        "client address",
    )?;
    if let Some(want) = s.allowed {
        let outcome = log.outcome.as_deref().ok_or_else(|| {
            Error::Input("the mapping's access log has no outcome column to filter on".into())
        })?;
        qb.push(" AND ").push(col("l", outcome));
        qb.push(if want { " IN (" } else { " NOT IN (" });
        let mut sep = qb.separated(", ");
        for v in &log.allowed_values {
            sep.push_bind(v.clone());
            params.push(Param::Text(v.clone()));
        }
        qb.push(")");
    }
    let times = [(s.since, " >= "), (s.until, " < ")];
    for (t, op) in times {
        if let Some(t) = t {
            qb.push(" AND ")
                .push(col("l", &log.time))
                .push(op)
                .push_bind(t);
            params.push(Param::Text(t.format("%Y-%m-%d %H:%M:%S%.6f").to_string()));
        }
    }
    Ok(true)
}

/// One page of rows matching `s`, newest first, by keyset on the id: a page deep in the
/// log costs what the first costs. Values are bound; the mapping's identifiers quoted.
pub async fn search(db: &Database, r: &Resolved, s: &Search) -> Result<Vec<LogRow>> {
    let log = log_map(r)?;
    let mut qb = select_rows(log);
    if !push_filters(&mut qb, log, s, &mut Vec::new())? {
        return Ok(Vec::new());
    }
    if let Some(before) = s.before {
        qb.push(" AND ")
            .push(col("l", &log.id))
            .push(" < ")
            .push_bind(before);
    }
    qb.push(" ORDER BY ")
        .push(col("l", &log.id))
        .push(" DESC LIMIT ")
        .push_bind(s.limit);
    let rows = qb.build().fetch_all(db.app()).await?;
    Ok(rows
        .iter()
        .filter_map(|row| {
            let get = || -> std::result::Result<_, sqlx::Error> {
                let outcome: Option<String> = row.try_get("outcome")?;
                Ok(row.try_get::<Option<i64>, _>("id")?.map(|id| LogRow {
                    id,
                    at: row.try_get("at").ok().flatten(),
                    user: row.try_get("user").ok().flatten(),
                    action: row.try_get("action").ok().flatten(),
                    resource_type: row.try_get("resource_type").ok().flatten(),
                    resource_id: row.try_get("resource_id").ok().flatten(),
                    allowed: allowed(log, outcome.as_deref().map(str::as_bytes)),
                    outcome,
                    client_address: row.try_get("client_address").ok().flatten(),
                    user_agent: row.try_get("user_agent").ok().flatten(),
                }))
            };
            get().transpose()
        })
        .collect::<std::result::Result<Vec<_>, sqlx::Error>>()?)
}
