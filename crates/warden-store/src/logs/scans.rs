//! Detector scans: the log's id range, checkpoints, and each scan's record with its findings.

use std::collections::{HashMap, HashSet};

use sqlx::{MySql, QueryBuilder};
use warden_core::detectors::{EVIDENCE_IDS, Judged};
use warden_core::findings::Finding;
use warden_core::ident::quote;

use super::log_map;
use crate::connect::Database;
use crate::error::Result;
use crate::governance::Change;
use crate::mapped::PushSource;
use crate::mapped::col;
use crate::schema::Resolved;

/// The lowest and highest id of the log (None when empty): where an export newest first
/// stands, for its progress.
pub async fn id_range(db: &Database, r: &Resolved) -> Result<Option<(i64, i64)>> {
    let log = log_map(r)?;
    let mut qb = QueryBuilder::<MySql>::new("SELECT CAST(MIN(");
    qb.push(col("l", &log.id))
        .push(") AS SIGNED), CAST(MAX(")
        .push(col("l", &log.id))
        .push(") AS SIGNED) FROM ")
        .push_source(&log.table, &log.filter)
        .push(" l");
    let (low, high): (Option<i64>, Option<i64>) = qb.build_query_as().fetch_one(db.app()).await?;
    Ok(low.zip(high))
}

/// Where the last scan of `source` stopped: the highest row id it read (0 before any).
pub async fn checkpoint(db: &Database, source: &str) -> Result<i64> {
    Ok(judged(db, source).await?.through)
}

/// What earlier scans of `source` judged: through the checkpoint, but for the ids missing
/// below it then.
pub async fn judged(db: &Database, source: &str) -> Result<Judged> {
    let row: Option<(i64, Option<String>)> =
        sqlx::query_as("SELECT last_id, gaps FROM warden_log_checkpoints WHERE source = ?")
            .bind(source)
            .fetch_optional(db.gov())
            .await?;
    let Some((through, gaps)) = row else {
        return Ok(Judged::default());
    };
    let gaps: Vec<i64> = match gaps {
        Some(text) => serde_json::from_str(&text).map_err(|e| {
            crate::Error::Database(format!("the scan checkpoint's gaps are not a list: {e}"))
        })?,
        None => Vec::new(),
    };
    Ok(Judged {
        through,
        gaps: gaps.into_iter().collect(),
    })
}

/// Where a scan resuming after `through` starts reading: the first row of the trailing
/// overlap, which reaches back `lookback` from the newest judged row's time and at least
/// to the start of its day (per-day detectors see the whole day). Returns the id to read
/// after (`through` when nothing earlier qualifies).
pub async fn overlap_start(
    db: &Database,
    r: &Resolved,
    through: i64,
    lookback: chrono::Duration,
) -> Result<i64> {
    if through <= 0 {
        return Ok(0);
    }
    let log = log_map(r)?;
    let mut qb = QueryBuilder::<MySql>::new("SELECT CAST(");
    qb.push(col("l", &log.time))
        .push(" AS DATETIME) FROM ")
        .push_source(&log.table, &log.filter)
        .push(" l WHERE ")
        .push(col("l", &log.id))
        .push(" <= ")
        .push_bind(through)
        .push(" ORDER BY ")
        .push(col("l", &log.id))
        .push(" DESC LIMIT 1");
    let newest: Option<chrono::NaiveDateTime> =
        qb.build_query_scalar().fetch_optional(db.app()).await?;
    let Some(newest) = newest else {
        return Ok(0);
    };
    let day_start = newest.date().and_time(chrono::NaiveTime::MIN);
    let from = (newest - lookback).min(day_start);
    let mut qb = QueryBuilder::<MySql>::new("SELECT CAST(MIN(");
    qb.push(col("l", &log.id))
        .push(") AS SIGNED) FROM ")
        .push_source(&log.table, &log.filter)
        .push(" l WHERE ")
        .push(col("l", &log.time))
        .push(" >= ")
        .push_bind(from)
        .push(" AND ")
        .push(col("l", &log.id))
        .push(" <= ")
        .push_bind(through);
    let first: Option<i64> = qb.build_query_scalar().fetch_one(db.app()).await?;
    Ok(first.map_or(through, |id| id - 1))
}

/// A scan to record.
#[derive(Debug, Clone)]
pub struct ScanMeta {
    pub source: String,
    pub full: bool,
    pub from_id: i64,
    pub to_id: i64,
    pub scanned: u64,
    pub skipped: u64,
    pub policy_version: u32,
    /// The checkpoint the scan resumed after (None: a full scan, or a log read from its
    /// start): recording refuses when another scan moved it meanwhile, so no row is
    /// counted twice and the checkpoint never moves back.
    pub resumed_after: Option<i64>,
    /// Ids missing below `to_id` in what the scan read (newest first, at most
    /// [`MAX_GAPS`]): the next scan counts them as new if they appear.
    pub gaps: Vec<i64>,
}

/// The most missing ids a checkpoint remembers.
pub const MAX_GAPS: usize = 10_000;

/// What recording a scan did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Recorded {
    pub scan: u64,
    /// Findings not seen before.
    pub opened: u64,
    /// Findings seen before that this scan added rows to.
    pub extended: u64,
}

/// Within a change: records a scan, its findings (new fingerprints are opened; a known
/// one gets this scan's rows added to its evidence) and moves the checkpoint.
pub async fn record_scan(
    change: &mut Change<'_>,
    meta: &ScanMeta,
    findings: &[Finding],
) -> Result<Recorded> {
    let actor = change.actor().to_string();
    let at = change.at();
    let now: Option<i64> = sqlx::query_scalar(
        "SELECT last_id FROM warden_log_checkpoints WHERE source = ? FOR UPDATE",
    )
    .bind(&meta.source)
    .fetch_optional(change.conn())
    .await?;
    if let Some(from) = meta.resumed_after
        && now.unwrap_or(0) != from
    {
        return Err(crate::Error::Conflict(
            "another scan of the access log ran meanwhile: scan again (it goes on from there)"
                .into(),
        ));
    }
    let scan = sqlx::query(
        "INSERT INTO warden_log_scans (ran_at, actor, source, full_scan, from_id, to_id, \
         scanned, skipped, found, opened, policy_version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?)",
    )
    .bind(at)
    .bind(&actor)
    .bind(&meta.source)
    .bind(meta.full)
    .bind(meta.from_id)
    .bind(meta.to_id)
    .bind(meta.scanned)
    .bind(meta.skipped)
    .bind(findings.len() as u64)
    .bind(meta.policy_version)
    .execute(change.conn())
    .await?
    .last_insert_id();

    // Which of these fingerprints are known, with their evidence to extend.
    let mut known: HashMap<String, (u64, String)> = HashMap::new();
    for chunk in findings.chunks(500) {
        let mut qb = QueryBuilder::<MySql>::new(
            "SELECT fingerprint, id, evidence FROM warden_findings WHERE fingerprint IN (",
        );
        let mut sep = qb.separated(", ");
        for f in chunk {
            sep.push_bind(f.fingerprint.as_str());
        }
        qb.push(")");
        let rows: Vec<(String, u64, String)> = qb.build_query_as().fetch_all(change.conn()).await?;
        for (fp, id, evidence) in rows {
            known.insert(fp, (id, evidence));
        }
    }
    let (fresh, seen): (Vec<&Finding>, Vec<&Finding>) = findings
        .iter()
        .partition(|f| !known.contains_key(&f.fingerprint));
    crate::findings::insert_open(change, &fresh, at, scan).await?;
    let mut extended = 0;
    for f in seen {
        let (id, old) = &known[&f.fingerprint];
        let Some(merged) = merge_evidence(old, &f.evidence, f.new_rows) else {
            continue; // the same rows again (a full rescan): nothing new
        };
        extended += 1;
        sqlx::query("UPDATE warden_findings SET evidence = ?, last_seen = ? WHERE id = ?")
            .bind(merged.to_string())
            .bind(at)
            .bind(id)
            .execute(change.conn())
            .await?;
    }
    sqlx::query("UPDATE warden_log_scans SET opened = ? WHERE id = ?")
        .bind(fresh.len() as u64)
        .bind(scan)
        .execute(change.conn())
        .await?;
    sqlx::query(
        "INSERT INTO warden_log_checkpoints (source, last_id, scan_id, updated_at, gaps) \
         VALUES (?, ?, ?, ?, ?) \
         ON DUPLICATE KEY UPDATE last_id = VALUES(last_id), scan_id = VALUES(scan_id), \
         updated_at = VALUES(updated_at), gaps = VALUES(gaps)",
    )
    .bind(&meta.source)
    .bind(meta.to_id)
    .bind(scan)
    .bind(at)
    .bind(serde_json::json!(meta.gaps).to_string())
    .execute(change.conn())
    .await?;
    Ok(Recorded {
        scan,
        opened: fresh.len() as u64,
        extended,
    })
}

/// A known finding's evidence with a new scan's rows added (count and ids, up to the cap),
/// or None when the new scan brings no row the old evidence lacks. A scan that says how
/// many of its rows are new (`new_rows`: it re-read an overlap for context) adds those;
/// otherwise an incremental scan (every new row after the old ones) adds its count, and a
/// full rescan re-reads the old rows and its count is the whole.
fn merge_evidence(
    old: &str,
    new: &serde_json::Value,
    new_rows: Option<u64>,
) -> Option<serde_json::Value> {
    let mut old: serde_json::Value = serde_json::from_str(old).ok()?;
    let ids = |v: &serde_json::Value| -> Vec<i64> {
        v["rows"]
            .as_array()
            .map(|a| a.iter().filter_map(|x| x.as_i64()).collect())
            .unwrap_or_default()
    };
    let (old_ids, new_ids) = (ids(&old), ids(new));
    let (old_count, new_count) = (
        old["count"].as_u64().unwrap_or(0),
        new["count"].as_u64().unwrap_or(0),
    );
    let known: HashSet<i64> = old_ids.iter().copied().collect();
    let incremental = new_ids.iter().min() > old_ids.iter().max();
    let count = match new_rows {
        Some(n) => old_count + n,
        None if incremental => old_count + new_count,
        None => old_count.max(new_count),
    };
    if count == old_count && new_ids.iter().all(|i| known.contains(i)) {
        return None;
    }
    let mut rows = old_ids;
    rows.extend(new_ids.into_iter().filter(|i| !known.contains(i)));
    rows.sort_unstable();
    rows.truncate(EVIDENCE_IDS);
    old["rows"] = serde_json::json!(rows);
    old["count"] = serde_json::json!(count);
    if let Some(last) = new.get("last") {
        old["last"] = last.clone();
    }
    Some(old)
}

/// The newest row id of the application's log, and how many rows lie after `after`.
pub async fn rows_after(db: &Database, r: &Resolved, after: i64) -> Result<(Option<i64>, i64)> {
    let log = log_map(r)?;
    let mut qb = QueryBuilder::<MySql>::new("SELECT CAST(MAX(");
    qb.push(col("l", &log.id))
        .push(") AS SIGNED), COUNT(*) FROM ")
        .push_source(&log.table, &log.filter)
        .push(" l WHERE ")
        .push(col("l", &log.id))
        .push(" > ")
        .push_bind(after);
    let (newest, count): (Option<i64>, i64) = qb.build_query_as().fetch_one(db.app()).await?;
    Ok((newest, count))
}

/// Of `ids` (a scan's gaps), those of rows the log's `where` leaves out (another service's
/// accesses): no gap a later scan must come back for. None of them when the log is not
/// filtered.
pub async fn ids_outside_filter(db: &Database, r: &Resolved, ids: &[i64]) -> Result<HashSet<i64>> {
    let log = log_map(r)?;
    let mut out = HashSet::new();
    if log.filter.is_empty() {
        return Ok(out);
    }
    for chunk in ids.chunks(1_000) {
        let mut qb = QueryBuilder::<MySql>::new("SELECT CAST(");
        qb.push(col("l", &log.id))
            .push(" AS SIGNED) FROM ")
            .push(quote(&log.table))
            .push(" l WHERE ")
            .push(col("l", &log.id))
            .push(" IN (");
        let mut sep = qb.separated(", ");
        for id in chunk {
            sep.push_bind(*id);
        }
        qb.push(") AND NOT COALESCE((");
        crate::mapped::push_filter(&mut qb, &log.filter, Some("l"));
        qb.push("), 0)");
        let found: Vec<i64> = qb.build_query_scalar().fetch_all(db.app()).await?;
        out.extend(found);
    }
    Ok(out)
}

/// The newest row id of the application's log (None when it is empty).
pub async fn newest_id(db: &Database, r: &Resolved) -> Result<Option<i64>> {
    let log = log_map(r)?;
    let mut qb = QueryBuilder::<MySql>::new("SELECT CAST(MAX(");
    qb.push(col("l", &log.id))
        .push(") AS SIGNED) FROM ")
        .push_source(&log.table, &log.filter)
        .push(" l");
    let (newest,): (Option<i64>,) = qb.build_query_as().fetch_one(db.app()).await?;
    Ok(newest)
}
