//! Searching the access logs a page at a time: the application's log and imported
//! audit events, merged newest first with a cursor that keeps each source's place.

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};
use ts_rs::TS;
use warden_store::directory::{self as directory_store, UserFilter};
use warden_store::logs::{self as store, Search};

use crate::context::Ctx;
use crate::directory::utc;
use crate::error::{Error, Result};

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
pub(super) struct Filters {
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
    pub(super) fn parse(req: &SearchRequest) -> Result<Self> {
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
    pub(super) async fn app_search(
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

/// The people of a page's application rows, by id.
async fn people_on(
    db: &warden_store::Database,
    app_log: Option<&warden_store::Resolved>,
    rows: &[store::LogRow],
) -> Result<HashMap<i64, warden_core::directory::User>> {
    let ids: Vec<i64> = (rows.iter().filter_map(|r| r.user))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    Ok(match app_log {
        Some(m) if !ids.is_empty() => {
            let filter = UserFilter {
                ids: Some(ids),
                ..UserFilter::default()
            };
            (directory_store::users(db, m, &filter).await?.into_iter())
                .map(|u| (u.id.0, u))
                .collect()
        }
        _ => HashMap::new(),
    })
}

impl LogRowView {
    /// A row of the application's log, with its person's login and department.
    fn app(row: store::LogRow, who: Option<&warden_core::directory::User>) -> Self {
        Self {
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
        }
    }

    /// An event imported from an audit-log file, with the file and line it came from.
    fn imported(e: store::DbAuditRow) -> Self {
        Self {
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
        }
    }
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

    let people = people_on(db, app_log, &app_rows).await?;

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
            rows.push(LogRowView::app(row, who));
        } else {
            let Some(e) = d.next() else { break };
            last_audit = Some(e.id as i64);
            rows.push(LogRowView::imported(e));
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
