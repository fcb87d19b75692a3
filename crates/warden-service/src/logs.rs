//! Access-log review (DESIGN.md, Access logs): scanning the application's log with the
//! detectors from the last checkpoint, and searching it a page at a time.

use std::collections::{HashMap, HashSet};

use chrono::{NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};
use ts_rs::TS;
use warden_core::detectors::{Facts, Scan};
use warden_core::directory::UserId;
use warden_core::policy::Policy;
use warden_store::directory::{self as directory_store, UserFilter};
use warden_store::governance::Change;
use warden_store::logs::{self as store, APP_SOURCE, ScanMeta, Search};

use crate::context::Ctx;
use crate::directory::{load, utc};
use crate::error::{Error, Result};

#[derive(Debug, Clone, Serialize, TS)]
pub struct ScanResponse {
    /// Findings not seen before.
    pub new_findings: u64,
    /// Log rows read.
    pub scanned: u64,
    /// Rows without an id, time, user or action: counted, not judged.
    pub skipped: u64,
    /// Hits, new or known.
    pub found: u64,
    /// Known findings this scan added rows to.
    pub extended: u64,
    /// Rows with `from_id < id <= to_id` were read.
    pub from_id: i64,
    pub to_id: i64,
    pub full: bool,
    pub scan: u64,
    pub policy_version: u32,
    pub audit_seq: u64,
}

/// Runs the detectors over the application's access log: from the checkpoint (rows added
/// since the last scan), or over every row with `full`. Hits are recorded as findings
/// (new fingerprints opened, known ones extended) and the checkpoint moves, in one change
/// with its audit event. Judged with the policy in force, whose `[detectors]` section
/// holds the thresholds.
pub async fn scan(ctx: &Ctx, full: bool) -> Result<ScanResponse> {
    let o = ctx.as_officer("scanning the access log")?;
    let stored = warden_store::governance::policy_version(o.db(), None)
        .await?
        .ok_or_else(|| {
            Error::Invalid("the detectors judge by the policy in force: apply one first".into())
        })?;
    let policy = Policy::parse(&stored.body)
        .map_err(|e| Error::Invalid(format!("stored policy v{}: {e}", stored.version)))?;
    let r = crate::Reader::from(o);
    let (db, m) = (r.db(), r.mapping()?);
    let from_id = if full {
        0
    } else {
        store::checkpoint(db, APP_SOURCE).await?
    };
    let t = std::time::Instant::now();
    let (loaded, relations) =
        futures_util::try_join!(load(&r), async { Ok(store::relations(db, m).await?) })?;
    let roles = loaded.roles_by_user();
    let keys: HashMap<_, &str> = (loaded.permissions.iter())
        .map(|p| (p.id, p.key.as_str()))
        .collect();
    let held: HashMap<UserId, HashSet<String>> = loaded
        .effective(m.mapping().semantics)
        .into_iter()
        .map(|(u, e)| {
            let k = e.keys().filter_map(|p| keys.get(p)).map(|k| k.to_string());
            (u, k.collect())
        })
        .collect();
    let mut detectors = Scan::new(Facts {
        policy: &policy,
        users: &loaded.users,
        roles: &roles,
        held: &held,
        relations: relations.as_ref(),
    })
    .map_err(|e| Error::Invalid(format!("stored policy v{}: detectors.{e}", stored.version)))?;
    let read = t.elapsed();
    let streamed = store::stream(db, m, from_id, |e| detectors.push(e)).await?;
    let streamed_at = t.elapsed();
    let findings = detectors.finish();
    tracing::info!(
        rows = streamed.rows,
        directory_ms = read.as_millis() as u64,
        stream_ms = (streamed_at - read).as_millis() as u64,
        finish_ms = (t.elapsed() - streamed_at).as_millis() as u64,
        found = findings.len(),
        "access log scanned"
    );
    let mut change = Change::begin(o.db(), &o.actor().login).await?;
    let recorded = store::record_scan(
        &mut change,
        &ScanMeta {
            source: APP_SOURCE.into(),
            full,
            from_id,
            to_id: streamed.last_id,
            scanned: streamed.rows,
            skipped: streamed.skipped,
            policy_version: stored.version,
        },
        &findings,
    )
    .await?;
    let event = change
        .commit(
            "logs.scan",
            &format!("scan {}", recorded.scan),
            serde_json::json!({
                "scan": recorded.scan, "full": full, "from_id": from_id,
                "to_id": streamed.last_id, "scanned": streamed.rows,
                "found": findings.len(), "opened": recorded.opened,
                "policy_version": stored.version,
            }),
        )
        .await?;
    Ok(ScanResponse {
        new_findings: recorded.opened,
        scanned: streamed.rows,
        skipped: streamed.skipped,
        found: findings.len() as u64,
        extended: recorded.extended,
        from_id,
        to_id: streamed.last_id,
        full,
        scan: recorded.scan,
        policy_version: stored.version,
        audit_seq: event.seq,
    })
}

/// A search of the access log. Times are UTC, `YYYY-MM-DD` or `YYYY-MM-DDTHH:MM[:SS]`;
/// `after` is the `next` cursor of the previous page.
#[derive(Debug, Clone, Default, Deserialize, TS)]
#[serde(default)]
pub struct SearchRequest {
    pub user: Option<String>,
    pub department: Option<String>,
    pub action: Option<String>,
    pub resource_type: Option<String>,
    pub resource_id: Option<String>,
    /// `allowed` or `denied`.
    pub outcome: Option<String>,
    pub since: Option<String>,
    pub until: Option<String>,
    pub client_address: Option<String>,
    pub limit: Option<u32>,
    pub after: Option<String>,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct LogRowView {
    pub id: i64,
    pub at: Option<String>,
    pub user_id: Option<i64>,
    pub login: Option<String>,
    pub department: Option<String>,
    pub action: Option<String>,
    pub resource_type: Option<String>,
    pub resource_id: Option<String>,
    pub outcome: Option<String>,
    pub allowed: bool,
    pub client_address: Option<String>,
    pub user_agent: Option<String>,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct SearchResponse {
    pub rows: Vec<LogRowView>,
    /// The cursor of the next page (older rows), or null on the last page.
    pub next: Option<String>,
}

/// The most rows a page may have.
pub const MAX_PAGE: u32 = 1_000;

const CURSOR_PREFIX: &str = "v1.";

fn cursor(id: i64) -> String {
    format!("{CURSOR_PREFIX}{id}")
}

fn parse_cursor(text: &str) -> Result<i64> {
    text.strip_prefix(CURSOR_PREFIX)
        .and_then(|id| id.parse().ok())
        .ok_or_else(|| {
            Error::Invalid(format!(
                "--after `{text}` is not a cursor: pass the `next` of the previous page"
            ))
        })
}

fn parse_time(flag: &str, text: &str) -> Result<NaiveDateTime> {
    let t = text.trim();
    if let Ok(d) = NaiveDate::parse_from_str(t, "%Y-%m-%d") {
        return Ok(d.and_time(chrono::NaiveTime::MIN));
    }
    [
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
    ]
    .iter()
    .find_map(|f| NaiveDateTime::parse_from_str(t.trim_end_matches('Z'), f).ok())
    .ok_or_else(|| {
        Error::Invalid(format!(
            "{flag} `{text}`: expected YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS] (UTC)"
        ))
    })
}

/// One page of the application's access log, newest first, with the next page's cursor.
/// Pages are keyset-paginated on the log's id: page 100,000 costs what page 1 costs.
pub async fn search(ctx: &Ctx, req: SearchRequest) -> Result<SearchResponse> {
    let r = ctx.as_reader("searching the access log")?;
    let (db, m) = (r.db(), r.mapping()?);
    let limit = req.limit.unwrap_or(100);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(Error::Invalid(format!(
            "--limit {limit}: expected 1 to {MAX_PAGE}"
        )));
    }
    let allowed = match req.outcome.as_deref() {
        None => None,
        Some("allowed") => Some(true),
        Some("denied") => Some(false),
        Some(other) => {
            return Err(Error::Invalid(format!(
                "--outcome `{other}`: expected allowed or denied"
            )));
        }
    };
    let text = |what: &str, v: Option<String>| -> Result<Option<String>> {
        v.map(|v| crate::input::text_field(what, &v, 512))
            .transpose()
    };
    // People, by login or department, become the ids the log refers to.
    let mut user_ids: Option<Vec<i64>> = None;
    if req.user.is_some() || req.department.is_some() {
        let filter = UserFilter {
            login: text("--user", req.user)?,
            department: text("--department", req.department)?,
            ..UserFilter::default()
        };
        let people = directory_store::users(db, m, &filter).await?;
        user_ids = Some(people.iter().map(|u| u.id.0).collect());
    }
    let search = Search {
        user_ids,
        action: text("--action", req.action)?,
        resource_type: text("--resource", req.resource_type)?,
        resource_id: text("--resource-id", req.resource_id)?,
        allowed,
        since: req
            .since
            .as_deref()
            .map(|t| parse_time("--since", t))
            .transpose()?,
        until: req
            .until
            .as_deref()
            .map(|t| parse_time("--until", t))
            .transpose()?,
        client_address: text("--client", req.client_address)?,
        before: req.after.as_deref().map(parse_cursor).transpose()?,
        limit,
    };
    let rows = store::search(db, m, &search).await?;
    let ids: Vec<i64> = rows
        .iter()
        .filter_map(|r| r.user)
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let people: HashMap<i64, warden_core::directory::User> = directory_store::users(
        db,
        m,
        &UserFilter {
            ids: Some(ids),
            ..UserFilter::default()
        },
    )
    .await?
    .into_iter()
    .map(|u| (u.id.0, u))
    .collect();
    let next = (rows.len() == limit as usize)
        .then(|| rows.last().map(|r| cursor(r.id)))
        .flatten();
    Ok(SearchResponse {
        rows: rows
            .into_iter()
            .map(|row| {
                let who = row.user.and_then(|u| people.get(&u));
                LogRowView {
                    id: row.id,
                    at: row.at.map(utc),
                    user_id: row.user,
                    login: who.map(|u| u.login.clone()),
                    department: who.and_then(|u| u.department.clone()),
                    action: row.action,
                    resource_type: row.resource_type,
                    resource_id: row.resource_id,
                    outcome: row.outcome,
                    allowed: row.allowed,
                    client_address: row.client_address,
                    user_agent: row.user_agent,
                }
            })
            .collect(),
        next,
    })
}

/// What an import of an audit-log file did.
#[derive(Debug, Clone, Serialize, TS)]
pub struct IngestResponse {
    pub file: String,
    pub format: String,
    /// Events read from the file.
    pub read: u64,
    /// Events not imported before.
    pub imported: u64,
    /// Events already imported (the same file again, or a rotated copy).
    pub duplicates: u64,
    /// Lines or records that could not be read: how many, and the first hundred.
    pub malformed: u64,
    pub problems: Vec<Problem>,
    pub audit_seq: u64,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct Problem {
    pub line: u64,
    pub message: String,
}

/// The formats `warden logs ingest` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    ServerAudit,
    Xml,
    Json,
}

impl Format {
    fn parse(text: &str) -> Option<Self> {
        match text {
            "server-audit" => Some(Self::ServerAudit),
            "audit-xml" => Some(Self::Xml),
            "audit-json" => Some(Self::Json),
            _ => None,
        }
    }

    fn stored_as(self) -> &'static str {
        match self {
            Self::ServerAudit => "server_audit",
            Self::Xml => "audit_xml",
            Self::Json => "audit_json",
        }
    }
}

/// Events go from the reader to the database in batches of this many.
const INGEST_BATCH: usize = 1_000;

/// Imports a database audit-log file (`server-audit`, `audit-xml`, `audit-json`) into
/// Warden's own table, in one change with its audit event: the file is read on a worker
/// thread while batches are written, so memory stays bounded whatever its size. An XML
/// file with a DTD is refused whole (nothing is kept); a line that cannot be read is
/// reported by number and the rest imported.
pub async fn ingest(ctx: &Ctx, format: &str, path: &std::path::Path) -> Result<IngestResponse> {
    use warden_core::auditlog::{self, AuditEvent, Malformed, Refused};
    let o = ctx.as_officer("importing an audit-log file")?;
    let fmt = Format::parse(format).ok_or_else(|| {
        Error::Invalid(format!(
            "`{format}`: expected server-audit, audit-xml or audit-json"
        ))
    })?;
    let shown = path.display().to_string();
    let file = std::fs::File::open(path).map_err(|e| Error::Invalid(format!("{shown}: {e}")))?;
    let today = chrono::Utc::now().date_naive();
    let (ready, mut arriving) = tokio::sync::mpsc::channel::<Vec<AuditEvent>>(4);
    let reader = tokio::task::spawn_blocking(move || {
        let input = std::io::BufReader::with_capacity(1 << 20, file);
        let mut batch = Vec::with_capacity(INGEST_BATCH);
        let mut send = |e: AuditEvent| {
            batch.push(e);
            if batch.len() == INGEST_BATCH {
                let _ = ready.blocking_send(std::mem::take(&mut batch));
            }
        };
        let result: std::result::Result<Vec<Malformed>, Refused> = match fmt {
            Format::ServerAudit => auditlog::read_server_audit(input, today, &mut send),
            Format::Xml => auditlog::read_xml(input, &mut send),
            Format::Json => auditlog::read_json(input, &mut send),
        };
        if !batch.is_empty() {
            let _ = ready.blocking_send(batch);
        }
        result
    });
    let mut change = Change::begin(o.db(), &o.actor().login).await?;
    let (mut read, mut imported) = (0u64, 0u64);
    while let Some(batch) = arriving.recv().await {
        read += batch.len() as u64;
        imported +=
            store::insert_db_audit_events(&mut change, fmt.stored_as(), &shown, &batch).await?;
    }
    let malformed = reader
        .await
        .map_err(|e| Error::Invalid(format!("{shown}: the reader stopped: {e}")))?
        .map_err(|e| Error::Invalid(format!("{shown}: {e}")))?;
    let event = change
        .commit(
            "logs.ingest",
            &shown,
            serde_json::json!({
                "file": shown, "format": format, "read": read, "imported": imported,
                "duplicates": read - imported, "malformed": malformed.len(),
            }),
        )
        .await?;
    Ok(IngestResponse {
        file: shown,
        format: format.to_string(),
        read,
        imported,
        duplicates: read - imported,
        malformed: malformed.len() as u64,
        problems: malformed
            .into_iter()
            .take(100)
            .map(|m| Problem {
                line: m.line,
                message: m.message,
            })
            .collect(),
        audit_seq: event.seq,
    })
}
