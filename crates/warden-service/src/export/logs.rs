//! Access-log search results: the application's log and imported audit events, merged
//! newest first.

use std::path::Path;
use std::sync::atomic::Ordering;

use super::{ExportResponse, Out, Progress, Report, file_error, write_report};
use crate::context::Ctx;
use crate::error::{Error, Result};

/// Access-log search results: every row `req`'s search matches (its page size and cursor
/// ignored), newest first, both sources merged as the search merges them. Memory is a
/// batch, a page and the directory's logins, whatever the log's size.
///
/// The application's log is one statement, read by one of two paths (the fast path is
/// fenced here, and `export::a_log_export_holds_what_the_search_pages_hold_by_socket_and_over_tcp`
/// checks both give what the search pages give):
/// - [`straight`], when no imported event matches (nothing to merge): each row goes from
///   the socket into the file on this thread while the server works on the other core.
///   Only Warden's own wire reader does this, over a Unix socket; when it cannot connect,
/// - [`merged`]: rows arrive in batches from a reader on a thread of its own (the wire
///   reader, or sqlx over TCP and TLS), and imported events, read a page at a time, are
///   written between them in time order.
pub async fn logs(
    ctx: &Ctx,
    req: crate::logs::SearchRequest,
    out: &Path,
    bom: bool,
    progress: &Progress,
) -> Result<ExportResponse> {
    crate::retry::retried(ctx.trail_db(), || {
        logs_once(ctx, req.clone(), out, bom, progress)
    })
    .await
}

async fn logs_once(
    ctx: &Ctx,
    req: crate::logs::SearchRequest,
    out: &Path,
    bom: bool,
    progress: &Progress,
) -> Result<ExportResponse> {
    let r = ctx.as_reader("exporting access-log search results")?;
    let db = r.db();
    let mut parameters =
        serde_json::to_value(&req).map_err(|e| Error::Invalid(format!("the search: {e}")))?;
    if let Some(p) = parameters.as_object_mut() {
        p.remove("limit");
        p.remove("after");
        p.insert("bom".into(), bom.into());
    }
    let plan = crate::logs::plan(&r, &req).await?;
    let people = People::of(db, plan.app.as_ref().map(|(m, _)| *m)).await?;
    let unfiltered = req_is_unfiltered(&req);
    let report = Report {
        kind: "logs",
        parameters,
        population_query: "warden logs search with these parameters: the application's \
            access log through the mapping (one statement, newest id first) and the imported \
            audit-log events (keyset pages), merged newest first"
            .into(),
        header: &LOG_COLUMNS,
        out,
        bom,
        progress,
    };
    write_report(ctx, db, report, async |sheet: &mut Out| {
        let mut imported = ImportedEvents {
            db,
            search: plan.audit.clone(),
            page: std::collections::VecDeque::new(),
        };
        if let Some((m, search)) = &plan.app {
            // Unfiltered, the log's id range is about its size (ids are dense).
            if unfiltered && let Some((low, high)) = warden_store::logs::id_range(db, m).await? {
                let about = u64::try_from(high - low + 1).unwrap_or(0);
                progress.total.store(about, Ordering::Relaxed);
            }
            let app = AppLog {
                db,
                m,
                search,
                people: &people,
                out,
            };
            if !(imported.is_done().await? && straight(&app, sheet).await?) {
                merged(&app, sheet, &mut imported).await?;
            }
        }
        while let Some(e) = imported.next_after(chrono::NaiveDateTime::MIN).await? {
            sheet
                .row(imported_cells(&e))
                .map_err(|e| file_error(out, e))?;
        }
        Ok(())
    })
    .await
}

/// Logins and departments by id: the directory, not the log, bounds this.
struct People {
    by_id: std::collections::HashMap<
        i64,
        (String, String),
        std::hash::BuildHasherDefault<warden_core::detectors::Fx>,
    >,
    /// Whether any login or department holds a `"` (then every row is checked for one).
    quoted: bool,
}

impl People {
    async fn of(db: &warden_store::Database, app: Option<&warden_store::Resolved>) -> Result<Self> {
        let mut by_id = std::collections::HashMap::default();
        if let Some(m) = app {
            let filter = warden_store::directory::UserFilter::default();
            for u in warden_store::directory::users(db, m, &filter).await? {
                by_id.insert(u.id.0, (u.login, u.department.unwrap_or_default()));
            }
        }
        let quoted =
            (by_id.values()).any(|(l, d): &(String, String)| l.contains('"') || d.contains('"'));
        Ok(Self { by_id, quoted })
    }

    fn write(
        &self,
        sheet: &mut Out<'_>,
        row: &warden_store::logs::ExportedRow<'_>,
    ) -> std::io::Result<()> {
        let person = row.user.and_then(|u| self.by_id.get(&u));
        app_row(sheet, row, person, self.quoted)
    }
}

/// The application's log as an export reads it.
struct AppLog<'a> {
    db: &'a warden_store::Database,
    m: &'a warden_store::Resolved,
    search: &'a warden_store::logs::Search,
    people: &'a People,
    out: &'a Path,
}

/// Each row straight from the socket into the file; false when the wire reader could not
/// connect (nothing was written: read the other way).
async fn straight(app: &AppLog<'_>, sheet: &mut Out<'_>) -> Result<bool> {
    let mut failure = None;
    let each = warden_store::logs::export_each(app.db, app.m, app.search, |row| {
        match app.people.write(sheet, row) {
            Ok(()) => true,
            Err(e) => {
                failure = Some(e);
                false
            }
        }
    })
    .await?;
    if let Some(e) = failure {
        return Err(file_error(app.out, e));
    }
    Ok(each.is_some())
}

/// Batches from a reader on its own thread, with imported events written between them.
async fn merged(
    app: &AppLog<'_>,
    sheet: &mut Out<'_>,
    imported: &mut ImportedEvents<'_>,
) -> Result<()> {
    let fail = |e: std::io::Error| file_error(app.out, e);
    let (tx, rx) = tokio::sync::mpsc::channel::<warden_store::logs::ExportBatch>(2);
    let read = async move {
        let read = warden_store::logs::export(app.db, app.m, app.search, |batch| {
            let tx = tx.clone();
            async move { tx.send(batch).await.is_ok() }
        })
        .await;
        drop(tx);
        read
    };
    let written = async {
        // Owned here: when writing stops (an error, a cancel), the reader's next send fails
        // and it ends, rather than waiting on a full channel for good.
        let mut rx = rx;
        while let Some(batch) = rx.recv().await {
            for row in batch.rows() {
                while imported.pending()
                    && let Some(e) = imported.next_after(row.at.unwrap_or_default()).await?
                {
                    sheet.row(imported_cells(&e)).map_err(fail)?;
                }
                app.people.write(sheet, &row).map_err(fail)?;
            }
        }
        Ok::<_, Error>(())
    };
    let (read, written) = tokio::join!(read, written);
    written?;
    read?;
    Ok(())
}

/// Whether a log search has no filter at all (every row is exported).
fn req_is_unfiltered(req: &crate::logs::SearchRequest) -> bool {
    let crate::logs::SearchRequest {
        source: _,
        user,
        department,
        action,
        resource_type,
        resource_id,
        outcome,
        since,
        until,
        client_address,
        limit: _,
        after: _,
    } = req;
    [
        user,
        department,
        action,
        resource_type,
        resource_id,
        outcome,
        since,
        until,
        client_address,
    ]
    .iter()
    .all(|f| f.is_none())
}

/// The columns of a log export: both sources' rows, as `logs search` shows them.
const LOG_COLUMNS: [&str; 14] = [
    "source",
    "id",
    "at",
    "user_id",
    "login",
    "department",
    "action",
    "resource_type",
    "resource_id",
    "outcome",
    "client_address",
    "user_agent",
    "statement",
    "origin",
];

/// Imported audit-log events matching a search, newest first, a page at a time.
struct ImportedEvents<'a> {
    db: &'a warden_store::Database,
    /// None once every page is read (or when the search does not apply to them).
    search: Option<warden_store::logs::DbAuditSearch>,
    page: std::collections::VecDeque<warden_store::logs::DbAuditRow>,
}

impl ImportedEvents<'_> {
    /// Whether any event may still come.
    fn pending(&self) -> bool {
        self.search.is_some() || !self.page.is_empty()
    }

    /// Whether no event will come (the first page is read to know).
    async fn is_done(&mut self) -> Result<bool> {
        self.fill().await?;
        Ok(!self.pending())
    }

    /// Reads the next page when this one is used up.
    async fn fill(&mut self) -> Result<()> {
        if self.page.is_empty()
            && let Some(search) = &mut self.search
        {
            search.limit = crate::logs::MAX_PAGE;
            let page = warden_store::logs::search_db_audit(self.db, search).await?;
            match page.last() {
                Some(last) if page.len() == search.limit as usize => search.before = Some(last.id),
                _ => self.search = None,
            }
            self.page.extend(page);
        }
        Ok(())
    }

    /// The next event if it happened after `at` (the search's order: an application row
    /// goes first when at the same time or later).
    async fn next_after(
        &mut self,
        at: chrono::NaiveDateTime,
    ) -> Result<Option<warden_store::logs::DbAuditRow>> {
        self.fill().await?;
        Ok(match self.page.front() {
            Some(e) if e.occurred_at > at => self.page.pop_front(),
            _ => None,
        })
    }
}

fn imported_cells(e: &warden_store::logs::DbAuditRow) -> [String; 14] {
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    [
        "db-audit".into(),
        e.id.to_string(),
        crate::directory::utc(e.occurred_at),
        String::new(),
        e.db_user.clone(),
        String::new(),
        e.operation.clone(),
        text(&e.db_name),
        String::new(),
        e.status.map(|s| s.to_string()).unwrap_or_default(),
        e.client_host.clone(),
        String::new(),
        text(&e.object),
        format!("{}:{}", e.source_file, e.line),
    ]
}

/// One application-log row being written: its numbers and time as text in buffers
/// reused from row to row, its text cells borrowed from the batch.
#[derive(Default)]
struct LogLine<'b> {
    id: Short,
    user: Short,
    at: Short,
    person: Option<&'b (String, String)>,
    text: [std::borrow::Cow<'b, [u8]>; 6],
}

/// A short text (a number, a time) in a buffer of its own.
#[derive(Default)]
struct Short([u8; 20], usize);

impl Short {
    fn bytes(&self) -> &[u8] {
        &self.0[..self.1]
    }

    fn number(&mut self, n: Option<i64>) {
        let mut digits = itoa::Buffer::new();
        let text = n.map_or(&b""[..], |n| digits.format(n).as_bytes());
        self.0[..text.len()].copy_from_slice(text);
        self.1 = text.len();
    }
}

impl<'b> LogLine<'b> {
    fn app(
        &mut self,
        row: &warden_store::logs::ExportedRow<'b>,
        person: Option<&'b (String, String)>,
        utf8: bool,
    ) {
        self.id.number(Some(row.id));
        self.user.number(row.user);
        self.at.1 = row.at.map_or(0, |t| iso_utc(t, &mut self.at.0));
        self.person = person;
        for (out, cell) in self.text.iter_mut().zip(row.text) {
            let bytes = cell.unwrap_or_default();
            *out = match utf8 {
                true => std::borrow::Cow::Borrowed(bytes),
                // The batch holds text that is not UTF-8: each cell of it is mended.
                false => match String::from_utf8_lossy(bytes) {
                    std::borrow::Cow::Borrowed(_) => std::borrow::Cow::Borrowed(bytes),
                    std::borrow::Cow::Owned(s) => std::borrow::Cow::Owned(s.into_bytes()),
                },
            };
        }
    }

    fn cells(&self) -> [&[u8]; 14] {
        let (login, department) = match self.person {
            Some((l, d)) => (l.as_bytes(), d.as_bytes()),
            None => (&b""[..], &b""[..]),
        };
        [
            b"app",
            self.id.bytes(),
            self.at.bytes(),
            self.user.bytes(),
            login,
            department,
            &self.text[0],
            &self.text[1],
            &self.text[2],
            &self.text[3],
            &self.text[4],
            &self.text[5],
            b"",
            b"",
        ]
    }
}

/// Writes one row of the application's log: its cells as the search shows them, checked
/// for UTF-8 (a cell that is not is mended) and, unless the row is known to hold no `"`,
/// for quotes to double.
fn app_row(
    sheet: &mut Out<'_>,
    row: &warden_store::logs::ExportedRow<'_>,
    person: Option<&(String, String)>,
    quoted_people: bool,
) -> std::io::Result<()> {
    let utf8 = (row.text.iter().flatten()).all(|c| c.is_ascii() || std::str::from_utf8(c).is_ok());
    let mut line = LogLine::default();
    line.app(row, person, utf8);
    match row.quote_free && !quoted_people {
        true => sheet.row_bytes_unquoted(&line.cells()),
        false => sheet.row_bytes(&line.cells()),
    }
}

/// `YYYY-MM-DDTHH:MM:SSZ` (as the search shows times) into `out`; its length. Written by
/// hand: chrono's formatter, once per row of a ten-million-row export, costs seconds.
fn iso_utc(t: chrono::NaiveDateTime, out: &mut [u8; 20]) -> usize {
    use chrono::{Datelike, Timelike};
    let year = t.year();
    if !(0..=9999).contains(&year) {
        let text = crate::directory::utc(t);
        let n = text.len().min(out.len());
        out[..n].copy_from_slice(&text.as_bytes()[..n]);
        return n;
    }
    let two = |out: &mut [u8], v: u32| {
        out[0] = b'0' + (v / 10) as u8;
        out[1] = b'0' + (v % 10) as u8;
    };
    two(&mut out[0..2], year as u32 / 100);
    two(&mut out[2..4], year as u32 % 100);
    out[4] = b'-';
    two(&mut out[5..7], t.month());
    out[7] = b'-';
    two(&mut out[8..10], t.day());
    out[10] = b'T';
    two(&mut out[11..13], t.hour());
    out[13] = b':';
    two(&mut out[14..16], t.minute());
    out[16] = b':';
    two(&mut out[17..19], t.second());
    out[19] = b'Z';
    20
}
