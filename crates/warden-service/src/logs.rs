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
    /// The log was behind the checkpoint (emptied or re-created), so it was read from the
    /// start.
    pub restarted: bool,
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
    let mut from_id = if full {
        0
    } else {
        store::checkpoint(db, APP_SOURCE).await?
    };
    // A checkpoint past the log's newest row means the table was emptied or re-created
    // (its ids started again): reading after the checkpoint would miss every new row.
    let restarted = from_id > 0 && store::newest_id(db, m).await?.is_none_or(|n| n < from_id);
    if restarted {
        tracing::warn!(
            checkpoint = from_id,
            "the access log is behind the checkpoint: scanning it from the start"
        );
        from_id = 0;
    }
    let t = std::time::Instant::now();
    let (loaded, relations) =
        futures_util::try_join!(load(&r), async { Ok(store::relations(db, m).await?) })?;
    let read = t.elapsed();
    // The detectors judge each batch as it is read. (On a thread of their own they were no
    // faster: the server producing the rows is the limit, and a third busy thread on two
    // cores only took time from it.)
    let semantics = m.mapping().semantics;
    let roles = loaded.roles_by_user();
    let keys: HashMap<_, &str> = (loaded.permissions.iter())
        .map(|p| (p.id, p.key.as_str()))
        .collect();
    let held: HashMap<UserId, HashSet<String>> = loaded
        .effective(semantics)
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
    let mut unreadable = 0;
    let mut streamed = store::stream(db, m, from_id, |batch| {
        let mut judged = 0;
        for e in batch.events() {
            detectors.push(&e);
            judged += 1;
        }
        unreadable += (batch.len() - judged) as u64;
        std::future::ready(true)
    })
    .await?;
    let findings = detectors.finish();
    streamed.skipped += unreadable;
    tracing::info!(
        rows = streamed.rows,
        by_wire = streamed.by_wire,
        directory_ms = read.as_millis() as u64,
        scan_ms = (t.elapsed() - read).as_millis() as u64,
        found = findings.len(),
        "access log scanned"
    );
    let mut change = o.change().await?;
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
                "scan": recorded.scan, "full": full, "restarted": restarted, "from_id": from_id,
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
        restarted,
        scan: recorded.scan,
        policy_version: stored.version,
        audit_seq: event.seq,
    })
}

/// A search of the access logs. Times are UTC, `YYYY-MM-DD` or `YYYY-MM-DDTHH:MM[:SS]`;
/// `after` is the `next` cursor of the previous page. `source`: `app` (the application's
/// log, through the mapping), `db-audit` (events imported from audit-log files) or `all`
/// (the default: both, merged newest first).
#[derive(Debug, Clone, Default, Serialize, Deserialize, TS)]
#[serde(default)]
pub struct SearchRequest {
    pub source: Option<String>,
    /// A login in the application's log; the database account in imported events.
    pub user: Option<String>,
    /// People of this department (the application's log only).
    pub department: Option<String>,
    /// The permission key; the operation (QUERY, Connect…) in imported events.
    pub action: Option<String>,
    /// The resource type; the schema in imported events.
    pub resource_type: Option<String>,
    /// The resource id (the application's log only).
    pub resource_id: Option<String>,
    /// `allowed` or `denied` (a non-zero status, in imported events).
    pub outcome: Option<String>,
    pub since: Option<String>,
    pub until: Option<String>,
    pub client_address: Option<String>,
    pub limit: Option<u32>,
    pub after: Option<String>,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct LogRowView {
    /// `app` or `db-audit`.
    pub source: String,
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
    /// The statement of an imported event: text, never run.
    pub statement: Option<String>,
    /// Where an imported event came from: `file:line`.
    pub origin: Option<String>,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct SearchResponse {
    pub rows: Vec<LogRowView>,
    /// The cursor of the next page (older rows), or null on the last page.
    pub next: Option<String>,
}

/// The most rows a page may have.
pub const MAX_PAGE: u32 = 1_000;

/// Where each source of a search stands: not started, before an id, or done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mark {
    Start,
    Before(i64),
    Done,
}

impl Mark {
    fn text(self) -> String {
        match self {
            Mark::Start => "-".into(),
            Mark::Before(id) => id.to_string(),
            Mark::Done => "x".into(),
        }
    }

    fn parse(text: &str) -> Option<Self> {
        match text {
            "-" => Some(Mark::Start),
            "x" => Some(Mark::Done),
            n => n.parse().ok().map(Mark::Before),
        }
    }

    fn before(self) -> Option<i64> {
        match self {
            Mark::Before(id) => Some(id),
            _ => None,
        }
    }
}

/// A cursor: `v2.<app>.<db-audit>`, each a [`Mark`].
fn cursor(app: Mark, audit: Mark) -> String {
    format!("v2.{}.{}", app.text(), audit.text())
}

fn parse_cursor(text: &str) -> Result<(Mark, Mark)> {
    let bad = || {
        Error::Invalid(format!(
            "--after `{text}` is not a cursor: pass the `next` of the previous page"
        ))
    };
    let mut parts = text.strip_prefix("v2.").ok_or_else(bad)?.split('.');
    let (Some(a), Some(d), None) = (parts.next(), parts.next(), parts.next()) else {
        return Err(bad());
    };
    Ok((
        Mark::parse(a).ok_or_else(bad)?,
        Mark::parse(d).ok_or_else(bad)?,
    ))
}

pub(crate) fn parse_time(flag: &str, text: &str) -> Result<NaiveDateTime> {
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

/// A search's filters, checked once for every source.
#[derive(Clone)]
struct Filters {
    allowed: Option<bool>,
    user: Option<String>,
    department: Option<String>,
    action: Option<String>,
    resource: Option<String>,
    resource_id: Option<String>,
    client: Option<String>,
    since: Option<NaiveDateTime>,
    until: Option<NaiveDateTime>,
}

impl Filters {
    fn parse(req: &SearchRequest) -> Result<Self> {
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
        let text = |what: &str, v: &Option<String>| -> Result<Option<String>> {
            v.as_deref()
                .map(|v| crate::input::text_field(what, v, 512))
                .transpose()
        };
        let time =
            |what: &str, v: &Option<String>| v.as_deref().map(|t| parse_time(what, t)).transpose();
        Ok(Self {
            allowed,
            user: text("--user", &req.user)?,
            department: text("--department", &req.department)?,
            action: text("--action", &req.action)?,
            resource: text("--resource", &req.resource_type)?,
            resource_id: text("--resource-id", &req.resource_id)?,
            client: text("--client", &req.client_address)?,
            since: time("--since", &req.since)?,
            until: time("--until", &req.until)?,
        })
    }

    /// The application log's search: people by login or department become their ids.
    async fn app_search(
        self,
        db: &warden_store::Database,
        m: &warden_store::schema::Resolved,
    ) -> Result<Search> {
        let mut user_ids: Option<Vec<i64>> = None;
        if self.user.is_some() || self.department.is_some() {
            let filter = UserFilter {
                login: self.user,
                department: self.department,
                ..UserFilter::default()
            };
            let people = directory_store::users(db, m, &filter).await?;
            user_ids = Some(people.iter().map(|u| u.id.0).collect());
        }
        Ok(Search {
            user_ids,
            action: self.action,
            resource_type: self.resource,
            resource_id: self.resource_id,
            allowed: self.allowed,
            since: self.since,
            until: self.until,
            client_address: self.client,
            before: None,
            limit: 0,
        })
    }
}

/// What a search reads from each source, its page aside: the application's log through
/// the mapping, with people resolved to ids (None when the search cannot apply to it),
/// and the imported audit-log events (likewise).
pub(crate) struct Plan<'m> {
    pub app: Option<(&'m warden_store::schema::Resolved, Search)>,
    pub audit: Option<store::DbAuditSearch>,
}

/// Checks `req`'s filters and source, and plans each source's part.
pub(crate) async fn plan<'r>(r: &'r crate::Reader<'_>, req: &SearchRequest) -> Result<Plan<'r>> {
    let filters = Filters::parse(req)?;
    let (want_app, want_audit) = match req.source.as_deref().unwrap_or("all") {
        "all" => (true, true),
        "app" => (true, false),
        "db-audit" => (false, true),
        other => {
            return Err(Error::Invalid(format!(
                "--source `{other}`: expected app, db-audit or all"
            )));
        }
    };
    // A source the search cannot apply to is left out: imported events have no
    // department or resource id, and a mapping may have no access log.
    let m = if want_app && !want_audit {
        Some(r.mapping()?)
    } else {
        r.mapping().ok()
    };
    let app_log = m.filter(|m| m.mapping().access_log.is_some());
    if want_app && !want_audit && app_log.is_none() {
        return Err(Error::Invalid(
            "the mapping has no access log ([access_log]): nothing to search".into(),
        ));
    }
    let audit =
        (want_audit && filters.department.is_none() && filters.resource_id.is_none()).then(|| {
            store::DbAuditSearch {
                user: filters.user.clone(),
                operation: filters.action.clone(),
                database: filters.resource.clone(),
                client: filters.client.clone(),
                allowed: filters.allowed,
                since: filters.since,
                until: filters.until,
                before: None,
                limit: 0,
            }
        });
    let app = match app_log.filter(|_| want_app) {
        Some(m) => Some((m, filters.app_search(r.db(), m).await?)),
        None => None,
    };
    Ok(Plan { app, audit })
}

/// One page of the access logs, newest first, with the next page's cursor. Each source is
/// paged by keyset on its id: page 100,000 costs what page 1 costs.
pub async fn search(ctx: &Ctx, req: SearchRequest) -> Result<SearchResponse> {
    let r = ctx.as_reader("searching the access log")?;
    let db = r.db();
    let limit = req.limit.unwrap_or(100);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(Error::Invalid(format!(
            "--limit {limit}: expected 1 to {MAX_PAGE}"
        )));
    }
    let plan = plan(&r, &req).await?;
    let (mut app_mark, mut audit_mark) = match &req.after {
        Some(c) => parse_cursor(c)?,
        None => (Mark::Start, Mark::Start),
    };
    if plan.app.is_none() {
        app_mark = Mark::Done;
    }
    if plan.audit.is_none() {
        audit_mark = Mark::Done;
    }
    let app_log = plan.app.as_ref().map(|(m, _)| *m);
    let mut app_rows = Vec::new();
    if let (Some((m, search)), false) = (&plan.app, app_mark == Mark::Done) {
        let search = Search {
            before: app_mark.before(),
            limit,
            ..search.clone()
        };
        app_rows = store::search(db, m, &search).await?;
    }
    let mut audit_rows = Vec::new();
    if let (Some(audit), false) = (&plan.audit, audit_mark == Mark::Done) {
        let audit = store::DbAuditSearch {
            before: audit_mark.before().map(|b| b.max(0) as u64),
            limit,
            ..audit.clone()
        };
        audit_rows = store::search_db_audit(db, &audit).await?;
    }
    let (app_more, audit_more) = (
        app_rows.len() == limit as usize,
        audit_rows.len() == limit as usize,
    );

    // People on the page, by id.
    let ids: Vec<i64> = (app_rows.iter().filter_map(|r| r.user))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let people: HashMap<i64, warden_core::directory::User> = match app_log {
        Some(m) if !ids.is_empty() => directory_store::users(
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
        .collect(),
        _ => HashMap::new(),
    };

    // Newest first across both sources; each advances by what it gave.
    let mut rows = Vec::with_capacity(limit as usize);
    let (mut a, mut d) = (
        app_rows.into_iter().peekable(),
        audit_rows.into_iter().peekable(),
    );
    let (mut last_app, mut last_audit) = (None, None);
    while rows.len() < limit as usize {
        let take_app = match (a.peek(), d.peek()) {
            (Some(x), Some(y)) => x.at.unwrap_or_default() >= y.occurred_at,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (None, None) => break,
        };
        if take_app {
            let Some(row) = a.next() else { break };
            last_app = Some(row.id);
            let who = row.user.and_then(|u| people.get(&u));
            rows.push(LogRowView {
                source: "app".into(),
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
                statement: None,
                origin: None,
            });
        } else {
            let Some(e) = d.next() else { break };
            last_audit = Some(e.id as i64);
            rows.push(LogRowView {
                source: "db-audit".into(),
                id: e.id as i64,
                at: Some(utc(e.occurred_at)),
                user_id: None,
                login: Some(e.db_user),
                department: None,
                action: Some(e.operation),
                resource_type: e.db_name,
                resource_id: None,
                outcome: e.status.map(|s| s.to_string()),
                allowed: e.status.unwrap_or(0) == 0,
                client_address: Some(e.client_host),
                user_agent: None,
                statement: e.object,
                origin: Some(format!("{}:{}", e.source_file, e.line)),
            });
        }
    }
    // Each source: past what it gave; done when it gave all it had.
    let advance = |mark: Mark, last: Option<i64>, rest: bool, more: bool| match (last, rest || more)
    {
        (_, false) => Mark::Done,
        (Some(id), true) => Mark::Before(id),
        (None, true) => mark,
    };
    let next_app = if app_mark == Mark::Done {
        Mark::Done
    } else {
        advance(app_mark, last_app, a.peek().is_some(), app_more)
    };
    let next_audit = if audit_mark == Mark::Done {
        Mark::Done
    } else {
        advance(audit_mark, last_audit, d.peek().is_some(), audit_more)
    };
    let next =
        (next_app != Mark::Done || next_audit != Mark::Done).then(|| cursor(next_app, next_audit));
    Ok(SearchResponse { rows, next })
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

/// Events go from the reader to the database in batches of this many: whole blocks.
const INGEST_BATCH: usize = 4 * store::AUDIT_BLOCK;

/// Imports a database audit-log file (`server-audit`, `audit-xml`, `audit-json`) into
/// Warden's own table, in one change with its audit event: the file is read on a worker
/// thread while batches are written, so memory stays bounded whatever its size. An XML
/// file with a DTD is refused whole (nothing is kept); a line that cannot be read is
/// reported by number and the rest imported.
pub async fn ingest(ctx: &Ctx, format: &str, path: &std::path::Path) -> Result<IngestResponse> {
    ingest_with(ctx, format, path, std::sync::Arc::default()).await
}

/// How far an import has come: bytes of the file read (of `total`), events sent to the
/// database. Read while the import runs, for a progress bar.
#[derive(Debug, Default)]
pub struct Progress {
    pub bytes: std::sync::atomic::AtomicU64,
    pub total: std::sync::atomic::AtomicU64,
    pub events: std::sync::atomic::AtomicU64,
}

/// A file whose reads are counted into a [`Progress`].
struct Counted {
    file: std::fs::File,
    progress: std::sync::Arc<Progress>,
}

impl std::io::Read for Counted {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.file.read(buf)?;
        self.progress
            .bytes
            .fetch_add(n as u64, std::sync::atomic::Ordering::Relaxed);
        Ok(n)
    }
}

/// [`ingest`], reporting its progress as it goes.
pub async fn ingest_with(
    ctx: &Ctx,
    format: &str,
    path: &std::path::Path,
    progress: std::sync::Arc<Progress>,
) -> Result<IngestResponse> {
    use std::sync::atomic::Ordering;
    use warden_core::auditlog::{self, AuditEvent, Malformed, Refused};
    let o = ctx.as_officer("importing an audit-log file")?;
    let fmt = Format::parse(format).ok_or_else(|| {
        Error::Invalid(format!(
            "`{format}`: expected server-audit, audit-xml or audit-json"
        ))
    })?;
    let shown = path.display().to_string();
    let file = std::fs::File::open(path).map_err(|e| Error::Invalid(format!("{shown}: {e}")))?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    progress.total.store(size, Ordering::Relaxed);
    let counted = Counted {
        file,
        progress: progress.clone(),
    };
    let today = o.clock().today();
    let (ready, mut arriving) = tokio::sync::mpsc::channel::<Vec<AuditEvent>>(4);
    let reader = tokio::task::spawn_blocking(move || {
        let input = std::io::BufReader::with_capacity(1 << 20, counted);
        let mut batch = Vec::with_capacity(INGEST_BATCH);
        let mut send = |e: AuditEvent| {
            batch.push(e);
            if batch.len() == INGEST_BATCH {
                let _ = ready.blocking_send(std::mem::take(&mut batch));
            }
        };
        let result: std::result::Result<auditlog::Read, Refused> = match fmt {
            Format::ServerAudit => auditlog::read_server_audit(input, today, &mut send),
            Format::Xml => auditlog::read_xml(input, &mut send),
            Format::Json => auditlog::read_json(input, &mut send),
        };
        if !batch.is_empty() {
            let _ = ready.blocking_send(batch);
        }
        result
    });
    let mut change = o.change().await?;
    let (mut read, mut imported) = (0u64, 0u64);
    // The file is known by its first event: what an earlier import (of it, or of the file
    // it was rotated from) took is skipped.
    let mut file: Option<store::AuditFile> = None;
    while let Some(batch) = arriving.recv().await {
        read += batch.len() as u64;
        progress.events.store(read, Ordering::Relaxed);
        let known = match file {
            Some(f) => f,
            None => {
                let Some(first) = batch.first() else { continue };
                let f =
                    store::audit_file(&mut change, fmt.stored_as(), &first.hash, &shown).await?;
                file = Some(f);
                f
            }
        };
        let fresh: Vec<AuditEvent> = batch
            .into_iter()
            .filter(|e| e.line > known.through_line)
            .collect();
        imported += fresh.len() as u64;
        store::insert_db_audit_events(&mut change, known.id, &fresh).await?;
    }
    let result = reader
        .await
        .map_err(|e| Error::Invalid(format!("{shown}: the reader stopped: {e}")))?
        .map_err(|e| Error::Invalid(format!("{shown}: {e}")))?;
    if let Some(f) = file {
        store::audit_file_through(&mut change, f.id, result.through).await?;
    }
    let malformed: Vec<Malformed> = result.bad;
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
