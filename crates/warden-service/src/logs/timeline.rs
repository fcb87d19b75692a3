//! The timeline of allowed and denied accesses, and the log table's state.

use serde::Serialize;
use ts_rs::TS;
use warden_store::logs::{self as store, APP_SOURCE};

use super::search::{Filters, SearchRequest};
use crate::context::Ctx;
use crate::directory::utc;
use crate::error::{Error, Result};

#[derive(Debug, Clone, Serialize, TS)]
pub struct TimelinePoint {
    /// The bucket's start (UTC).
    pub at: String,
    pub allowed: u64,
    pub denied: u64,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct TimelineResponse {
    pub from: Option<String>,
    pub to: Option<String>,
    pub bucket_seconds: u64,
    pub points: Vec<TimelinePoint>,
}

/// Allowed and denied accesses of the application's log over time, for the explorer's
/// chart: the search's filters (its page ignored), over its time range (or the matching
/// rows' own), in about `buckets` equal buckets of at least a minute.
pub async fn timeline(ctx: &Ctx, req: SearchRequest, buckets: u32) -> Result<TimelineResponse> {
    let r = ctx.as_reader("charting the access log")?;
    let (db, m) = (r.db(), r.mapping()?);
    let search = Filters::parse(&req)?.app_search(db, m).await?;
    let empty = TimelineResponse {
        from: None,
        to: None,
        bucket_seconds: 0,
        points: Vec::new(),
    };
    let (from, to) = match (search.since, search.until) {
        (Some(a), Some(b)) => (a, b),
        _ => match store::time_range(db, m, &search).await? {
            Some((a, b)) => (
                search.since.unwrap_or(a),
                search.until.unwrap_or(b + chrono::Duration::seconds(1)),
            ),
            None => return Ok(empty),
        },
    };
    if to <= from {
        return Ok(empty);
    }
    let span = (to - from).num_seconds().max(60);
    let bucket = (span + i64::from(buckets.clamp(1, 500)) - 1) / i64::from(buckets.clamp(1, 500));
    let bucket = bucket.max(60);
    let counts = store::timeline(db, m, &search, from, bucket).await?;
    Ok(TimelineResponse {
        from: Some(utc(from)),
        to: Some(utc(to)),
        bucket_seconds: bucket as u64,
        points: counts
            .into_iter()
            .map(|(b, allowed, denied)| TimelinePoint {
                at: utc(from + chrono::Duration::seconds(b * bucket)),
                allowed: allowed.max(0) as u64,
                denied: denied.max(0) as u64,
            })
            .collect(),
    })
}

/// The application's own log, read where it is: its table, the scans' checkpoint, and how
/// many rows wait for the next scan (`warden logs ingest table`).
#[derive(Debug, Clone, Serialize, TS)]
pub struct TableStatus {
    pub source: String,
    pub table: String,
    pub checkpoint: i64,
    pub newest_id: Option<i64>,
    pub waiting: i64,
}

pub async fn table_status(ctx: &Ctx) -> Result<TableStatus> {
    let r = ctx.as_reader("reading the access log's state")?;
    let (db, m) = (r.db(), r.mapping()?);
    let table = (m.mapping().access_log.as_ref())
        .map(|l| l.table.clone())
        .ok_or_else(|| Error::Invalid("the mapping has no access log ([access_log])".into()))?;
    let checkpoint = store::checkpoint(db, APP_SOURCE).await?;
    let (newest, waiting) = store::rows_after(db, m, checkpoint).await?;
    Ok(TableStatus {
        source: APP_SOURCE.into(),
        table,
        checkpoint,
        newest_id: newest,
        waiting,
    })
}
