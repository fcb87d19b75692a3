//! The application's access log, read through the mapping: streamed in id order for the
//! detectors (from a checkpoint), searched a page at a time by keyset (never OFFSET), and
//! the business relations that justify access (need-to-know). Also Warden's record of
//! scans and their checkpoints (`warden_log_scans`, `warden_log_checkpoints`).

use std::collections::{HashMap, HashSet};

use chrono::{NaiveDateTime, SubsecRound, Utc};
use futures_util::TryStreamExt;
use sqlx::{MySql, QueryBuilder, Row};
use warden_core::detectors::{EVIDENCE_IDS, Event};
use warden_core::directory::UserId;
use warden_core::findings::Finding;
use warden_core::ident::quote;
use warden_core::mapping::AccessLogMap;

use crate::connect::Database;
use crate::directory::{col, push_id, push_text, push_time};
use crate::error::{Error, Result};
use crate::governance::Change;
use crate::schema::Resolved;

/// The checkpoint of the application's own access-log table.
pub const APP_SOURCE: &str = "app";

fn log_map(r: &Resolved) -> Result<&AccessLogMap> {
    r.mapping().access_log.as_ref().ok_or_else(|| {
        Error::Input("the mapping has no access log ([access_log]): nothing to read".into())
    })
}

/// `SELECT id, time, user, action, resource type, resource id, outcome, client, agent`
/// of the log, aliased `l`, every column cast to what Warden reads.
fn select_rows<'a>(log: &'a AccessLogMap, with_client: bool) -> QueryBuilder<'a, MySql> {
    let mut qb = QueryBuilder::<MySql>::new("SELECT ");
    push_id(&mut qb, "l", Some(&log.id));
    qb.push(", ");
    push_time(&mut qb, "l", Some(&log.time));
    qb.push(", ");
    push_id(&mut qb, "l", Some(&log.user));
    qb.push(", ");
    push_text(&mut qb, "l", Some(&log.action));
    qb.push(", ");
    push_text(&mut qb, "l", log.resource_type.as_deref());
    qb.push(", ");
    push_text(&mut qb, "l", log.resource_id.as_deref());
    qb.push(", ");
    push_text(&mut qb, "l", log.outcome.as_deref());
    if with_client {
        qb.push(", ");
        push_text(&mut qb, "l", log.client_address.as_deref());
        qb.push(", ");
        push_text(&mut qb, "l", log.user_agent.as_deref());
    }
    qb.push(" FROM ").push(quote(&log.table)).push(" l");
    qb
}

fn allowed(log: &AccessLogMap, outcome: Option<&str>) -> bool {
    match (&log.outcome, outcome) {
        (None, _) => true,
        (Some(_), Some(o)) => log.allowed_values.iter().any(|v| v.eq_ignore_ascii_case(o)),
        (Some(_), None) => false,
    }
}

/// Streams every row with an id above `after`, in id order, to `each`; returns how many
/// rows and the highest id seen. Rows without a user, time or action are counted in
/// `skipped` and not passed on.
pub async fn stream(
    db: &Database,
    r: &Resolved,
    after: i64,
    mut each: impl FnMut(&Event<'_>),
) -> Result<Streamed> {
    let log = log_map(r)?;
    let mut qb = select_rows(log, false);
    qb.push(" WHERE ")
        .push(col("l", &log.id))
        .push(" > ")
        .push_bind(after)
        .push(" ORDER BY ")
        .push(col("l", &log.id));
    let mut out = Streamed {
        rows: 0,
        skipped: 0,
        last_id: after,
    };
    let mut rows = qb.build().fetch(db.app());
    while let Some(row) = rows.try_next().await.map_err(|e| db.classify(e))? {
        let get = || -> std::result::Result<_, sqlx::Error> {
            Ok((
                row.try_get::<Option<i64>, _>(0)?,
                row.try_get::<Option<NaiveDateTime>, _>(1)?,
                row.try_get::<Option<i64>, _>(2)?,
                row.try_get::<Option<&str>, _>(3)?,
                row.try_get::<Option<&str>, _>(4)?,
                row.try_get::<Option<&str>, _>(5)?,
                row.try_get::<Option<&str>, _>(6)?,
            ))
        };
        let (id, at, user, action, rtype, rid, outcome) = get().map_err(|e| db.classify(e))?;
        out.rows += 1;
        let Some(id) = id else {
            out.skipped += 1;
            continue;
        };
        out.last_id = out.last_id.max(id);
        let (Some(at), Some(user), Some(action)) = (at, user, action) else {
            out.skipped += 1;
            continue;
        };
        each(&Event {
            id,
            at,
            user: UserId(user),
            action,
            resource_type: rtype,
            resource_id: rid,
            allowed: allowed(log, outcome),
        });
    }
    Ok(out)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Streamed {
    pub rows: u64,
    pub skipped: u64,
    pub last_id: i64,
}

/// The customer ids a business relation justifies, per person; None when the mapping
/// names no relations.
pub async fn relations(
    db: &Database,
    r: &Resolved,
) -> Result<Option<HashMap<UserId, HashSet<String>>>> {
    let rel = &r.mapping().relations;
    let maps: Vec<_> = [&rel.tickets, &rel.accounts]
        .into_iter()
        .flatten()
        .collect();
    if maps.is_empty() {
        return Ok(None);
    }
    let mut out: HashMap<UserId, HashSet<String>> = HashMap::new();
    for m in maps {
        let mut qb = QueryBuilder::<MySql>::new("SELECT ");
        push_id(&mut qb, "t", Some(&m.user));
        qb.push(", ");
        push_text(&mut qb, "t", Some(&m.customer));
        qb.push(" FROM ").push(quote(&m.table)).push(" t");
        let mut rows = qb.build().fetch(db.app());
        while let Some(row) = rows.try_next().await.map_err(|e| db.classify(e))? {
            let user: Option<i64> = row.try_get(0).map_err(|e| db.classify(e))?;
            let customer: Option<String> = row.try_get(1).map_err(|e| db.classify(e))?;
            if let (Some(u), Some(c)) = (user, customer) {
                out.entry(UserId(u)).or_default().insert(c);
            }
        }
    }
    Ok(Some(out))
}

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
fn push_filters<'a>(
    qb: &mut QueryBuilder<'a, MySql>,
    log: &'a AccessLogMap,
    s: &Search,
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
        }
        qb.push(")");
    }
    let text = |qb: &mut QueryBuilder<'a, MySql>,
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
        }
        qb.push(")");
    }
    if let Some(t) = s.since {
        qb.push(" AND ")
            .push(col("l", &log.time))
            .push(" >= ")
            .push_bind(t);
    }
    if let Some(t) = s.until {
        qb.push(" AND ")
            .push(col("l", &log.time))
            .push(" < ")
            .push_bind(t);
    }
    Ok(true)
}

/// One page of rows matching `s`, newest first, by keyset on the id: a page deep in the
/// log costs what the first costs. Values are bound; the mapping's identifiers quoted.
pub async fn search(db: &Database, r: &Resolved, s: &Search) -> Result<Vec<LogRow>> {
    let log = log_map(r)?;
    let mut qb = select_rows(log, true);
    if !push_filters(&mut qb, log, s)? {
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
    let rows = qb
        .build()
        .fetch_all(db.app())
        .await
        .map_err(|e| db.classify(e))?;
    rows.iter()
        .filter_map(|row| {
            let get = || -> std::result::Result<_, sqlx::Error> {
                let outcome: Option<String> = row.try_get(6)?;
                Ok(row.try_get::<Option<i64>, _>(0)?.map(|id| LogRow {
                    id,
                    at: row.try_get(1).ok().flatten(),
                    user: row.try_get(2).ok().flatten(),
                    action: row.try_get(3).ok().flatten(),
                    resource_type: row.try_get(4).ok().flatten(),
                    resource_id: row.try_get(5).ok().flatten(),
                    allowed: allowed(log, outcome.as_deref()),
                    outcome,
                    client_address: row.try_get(7).ok().flatten(),
                    user_agent: row.try_get(8).ok().flatten(),
                }))
            };
            get().map_err(|e| db.classify(e)).transpose()
        })
        .collect()
}

/// Where the last scan of `source` stopped: the highest row id it read (0 before any).
pub async fn checkpoint(db: &Database, source: &str) -> Result<i64> {
    let last: Option<i64> =
        sqlx::query_scalar("SELECT last_id FROM warden_log_checkpoints WHERE source = ?")
            .bind(source)
            .fetch_optional(db.gov())
            .await
            .map_err(|e| db.classify(e))?;
    Ok(last.unwrap_or(0))
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
}

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
    let db = change.db();
    let actor = change.actor().to_string();
    let at = Utc::now().naive_utc().trunc_subsecs(6);
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
    .await
    .map_err(|e| db.classify(e))?
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
        let rows: Vec<(String, u64, String)> = qb
            .build_query_as()
            .fetch_all(change.conn())
            .await
            .map_err(|e| db.classify(e))?;
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
        let Some(merged) = merge_evidence(old, &f.evidence) else {
            continue; // the same rows again (a full rescan): nothing new
        };
        extended += 1;
        sqlx::query("UPDATE warden_findings SET evidence = ?, last_seen = ? WHERE id = ?")
            .bind(merged.to_string())
            .bind(at)
            .bind(id)
            .execute(change.conn())
            .await
            .map_err(|e| db.classify(e))?;
    }
    sqlx::query("UPDATE warden_log_scans SET opened = ? WHERE id = ?")
        .bind(fresh.len() as u64)
        .bind(scan)
        .execute(change.conn())
        .await
        .map_err(|e| db.classify(e))?;
    sqlx::query(
        "INSERT INTO warden_log_checkpoints (source, last_id, scan_id, updated_at) \
         VALUES (?, ?, ?, ?) \
         ON DUPLICATE KEY UPDATE last_id = VALUES(last_id), scan_id = VALUES(scan_id), \
         updated_at = VALUES(updated_at)",
    )
    .bind(&meta.source)
    .bind(meta.to_id)
    .bind(scan)
    .bind(at)
    .execute(change.conn())
    .await
    .map_err(|e| db.classify(e))?;
    Ok(Recorded {
        scan,
        opened: fresh.len() as u64,
        extended,
    })
}

/// A known finding's evidence with a new scan's rows added (count and ids, up to the cap),
/// or None when the new scan brings no row the old evidence lacks. An incremental scan
/// (every new row after the old ones) adds its count; a full rescan re-reads the old rows
/// and its count is the whole.
fn merge_evidence(old: &str, new: &serde_json::Value) -> Option<serde_json::Value> {
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
    let count = if incremental {
        old_count + new_count
    } else {
        old_count.max(new_count)
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

/// An audit-log file as imported so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuditFile {
    pub id: u64,
    /// Every line up to this one was imported before.
    pub through_line: u64,
}

/// Within a change: the file whose first event has `first_event` (hex SHA-256), locked for
/// this import; registered with nothing imported when it is new.
pub async fn audit_file(
    change: &mut Change<'_>,
    format: &str,
    first_event: &str,
    path: &str,
) -> Result<AuditFile> {
    let db = change.db();
    let key = hex::decode(first_event).unwrap_or_default();
    let at = Utc::now().naive_utc().trunc_subsecs(6);
    sqlx::query(
        "INSERT INTO warden_db_audit_files (format, first_event, path, through_line, \
         first_import, last_import) VALUES (?, ?, ?, 0, ?, ?) \
         ON DUPLICATE KEY UPDATE path = VALUES(path), last_import = VALUES(last_import)",
    )
    .bind(format)
    .bind(&key)
    .bind(path)
    .bind(at)
    .bind(at)
    .execute(change.conn())
    .await
    .map_err(|e| db.classify(e))?;
    let (id, through_line): (u64, u64) = sqlx::query_as(
        "SELECT id, through_line FROM warden_db_audit_files \
         WHERE format = ? AND first_event = ? FOR UPDATE",
    )
    .bind(format)
    .bind(&key)
    .fetch_one(change.conn())
    .await
    .map_err(|e| db.classify(e))?;
    Ok(AuditFile { id, through_line })
}

/// Within a change: records that `file` is now imported through `line`.
pub async fn audit_file_through(change: &mut Change<'_>, file: u64, line: u64) -> Result<()> {
    let db = change.db();
    sqlx::query(
        "UPDATE warden_db_audit_files SET through_line = GREATEST(through_line, ?) WHERE id = ?",
    )
    .bind(line)
    .bind(file)
    .execute(change.conn())
    .await
    .map_err(|e| db.classify(e))?;
    Ok(())
}

/// Within a change: stores audit-log events of `file`.
pub async fn insert_db_audit_events(
    change: &mut Change<'_>,
    file: u64,
    events: &[warden_core::auditlog::AuditEvent],
) -> Result<()> {
    let db = change.db();
    for chunk in events.chunks(2_000) {
        let mut qb = QueryBuilder::<MySql>::new(
            "INSERT INTO warden_db_audit_events (file_id, line, hash, occurred_at, db_user, \
             client_host, connection_id, query_id, operation, db_name, object, status) ",
        );
        qb.push_values(chunk, |mut b, e| {
            b.push_bind(file)
                .push_bind(e.line)
                .push_bind(hex::decode(&e.hash).unwrap_or_default())
                .push_bind(e.at)
                .push_bind(&e.user)
                .push_bind(&e.host)
                .push_bind(e.connection_id)
                .push_bind(e.query_id)
                .push_bind(&e.operation)
                .push_bind(&e.database)
                .push_bind(&e.object)
                .push_bind(e.status);
        });
        qb.build()
            .execute(change.conn())
            .await
            .map_err(|e| db.classify(e))?;
    }
    Ok(())
}

/// One page of imported audit-log events matching `s` (user → the database account,
/// action → the operation, resource → the schema, client → the client host; allowed means
/// status 0), newest import first, by keyset on the id.
pub async fn search_db_audit(db: &Database, s: &DbAuditSearch) -> Result<Vec<DbAuditRow>> {
    let mut qb = QueryBuilder::<MySql>::new(
        "SELECT e.id, e.occurred_at, e.db_user, e.client_host, e.operation, e.db_name, \
         e.object, e.status, f.format, f.path AS source_file, e.line \
         FROM warden_db_audit_events e JOIN warden_db_audit_files f ON f.id = e.file_id \
         WHERE 1 = 1",
    );
    let eq = |qb: &mut QueryBuilder<'_, MySql>, column: &str, v: &Option<String>| {
        if let Some(v) = v {
            qb.push(" AND ")
                .push(column)
                .push(" = ")
                .push_bind(v.clone());
        }
    };
    eq(&mut qb, "e.db_user", &s.user);
    eq(&mut qb, "e.operation", &s.operation);
    eq(&mut qb, "e.db_name", &s.database);
    eq(&mut qb, "e.client_host", &s.client);
    match s.allowed {
        Some(true) => {
            qb.push(" AND COALESCE(e.status, 0) = 0");
        }
        Some(false) => {
            qb.push(" AND COALESCE(e.status, 0) <> 0");
        }
        None => {}
    }
    if let Some(t) = s.since {
        qb.push(" AND e.occurred_at >= ").push_bind(t);
    }
    if let Some(t) = s.until {
        qb.push(" AND e.occurred_at < ").push_bind(t);
    }
    if let Some(before) = s.before {
        qb.push(" AND e.id < ").push_bind(before);
    }
    qb.push(" ORDER BY e.id DESC LIMIT ").push_bind(s.limit);
    qb.build_query_as()
        .fetch_all(db.gov())
        .await
        .map_err(|e| db.classify(e))
}

#[derive(Debug, Clone, Default)]
pub struct DbAuditSearch {
    pub user: Option<String>,
    pub operation: Option<String>,
    pub database: Option<String>,
    pub client: Option<String>,
    pub allowed: Option<bool>,
    pub since: Option<NaiveDateTime>,
    pub until: Option<NaiveDateTime>,
    pub before: Option<u64>,
    pub limit: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct DbAuditRow {
    pub id: u64,
    pub occurred_at: NaiveDateTime,
    pub db_user: String,
    pub client_host: String,
    pub operation: String,
    pub db_name: Option<String>,
    pub object: Option<String>,
    pub status: Option<i64>,
    pub format: String,
    pub source_file: String,
    pub line: u64,
}

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
    qb.push(" FROM ").push(quote(&log.table)).push(" l");
    if !push_filters(&mut qb, log, s)? {
        return Ok(Vec::new());
    }
    qb.push(" GROUP BY b ORDER BY b");
    qb.build_query_as()
        .fetch_all(db.app())
        .await
        .map_err(|e| db.classify(e))
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
        .push(quote(&log.table))
        .push(" l");
    if !push_filters(&mut qb, log, s)? {
        return Ok(None);
    }
    let (a, b): (Option<NaiveDateTime>, Option<NaiveDateTime>) = qb
        .build_query_as()
        .fetch_one(db.app())
        .await
        .map_err(|e| db.classify(e))?;
    Ok(a.zip(b))
}

/// The newest row id of the application's log, and how many rows lie after `after`.
pub async fn rows_after(db: &Database, r: &Resolved, after: i64) -> Result<(Option<i64>, i64)> {
    let log = log_map(r)?;
    let mut qb = QueryBuilder::<MySql>::new("SELECT CAST(MAX(");
    qb.push(col("l", &log.id))
        .push(") AS SIGNED), COUNT(*) FROM ")
        .push(quote(&log.table))
        .push(" l WHERE ")
        .push(col("l", &log.id))
        .push(" > ")
        .push_bind(after);
    let (newest, count): (Option<i64>, i64) = qb
        .build_query_as()
        .fetch_one(db.app())
        .await
        .map_err(|e| db.classify(e))?;
    Ok((newest, count))
}

/// The newest row id of the application's log (None when it is empty).
pub async fn newest_id(db: &Database, r: &Resolved) -> Result<Option<i64>> {
    let log = log_map(r)?;
    let mut qb = QueryBuilder::<MySql>::new("SELECT CAST(MAX(");
    qb.push(col("l", &log.id))
        .push(") AS SIGNED) FROM ")
        .push(quote(&log.table))
        .push(" l");
    let (newest,): (Option<i64>,) = qb
        .build_query_as()
        .fetch_one(db.app())
        .await
        .map_err(|e| db.classify(e))?;
    Ok(newest)
}
