//! Reading the log for an export, newest first: the fast path and its fallback.

use chrono::NaiveDateTime;
use sqlx::{MySql, QueryBuilder};
use warden_core::mapping::AccessLogMap;

use super::search::{Search, push_filters};
use super::stream::{BATCH, Cell, Span, read_rows};
use super::{allowed, log_map, select_plain};
use crate::connect::Database;
use crate::error::{Error, Result};
use crate::mapped::PushSource;
use crate::mapped::col;
use crate::schema::Resolved;
use crate::wire::Param;

/// Access-log rows read for an export, their text in one buffer.
#[derive(Debug, Default)]
pub struct ExportBatch {
    rows: Vec<ExportRow>,
    text: Vec<u8>,
}

#[derive(Debug)]
struct ExportRow {
    id: i64,
    at: Option<NaiveDateTime>,
    user: Option<i64>,
    allowed: bool,
    /// Action, resource type, resource id, outcome, client address, user agent.
    text: [Option<Span>; 6],
}

/// One exported row: its text cells as the database gave them (UTF-8 when
/// [`ExportBatch::is_utf8`]), numbers and times as text.
#[derive(Debug, Clone, Copy)]
pub struct ExportedRow<'a> {
    pub id: i64,
    pub at: Option<NaiveDateTime>,
    pub user: Option<i64>,
    pub allowed: bool,
    /// Action, resource type, resource id, outcome, client address, user agent.
    pub text: [Option<&'a [u8]>; 6],
    /// No text cell holds a `"` (checked over the row or its batch at once; false when it
    /// may).
    pub quote_free: bool,
}

impl ExportBatch {
    /// Reads one row (id, time, user, then the six text columns); a row without an id is
    /// left out, as the search leaves it out.
    fn push(&mut self, cells: &[Option<&[u8]>; 9], kinds: &[Cell; 9], log: &AccessLogMap) {
        let Some(id) = cells[0].and_then(|b| kinds[0].int(b)) else {
            return;
        };
        let mut text = [None; 6];
        for (t, i) in text.iter_mut().zip(3..9) {
            *t = cells[i].and_then(|b| {
                let start = self.text.len();
                kinds[i]
                    .write_text(b, &mut self.text)
                    .then(|| Span(start as u32, (self.text.len() - start) as u32))
            });
        }
        self.rows.push(ExportRow {
            id,
            at: cells[1].and_then(|b| kinds[1].time(b)),
            user: cells[2].and_then(|b| kinds[2].int(b)),
            allowed: allowed(log, cells[6]),
            text,
        });
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Whether all of the batch's text is UTF-8 (checked at once: then each cell is).
    pub fn is_utf8(&self) -> bool {
        std::str::from_utf8(&self.text).is_ok()
    }

    /// Whether any of the batch's text holds `byte` (checked at once).
    pub fn contains(&self, byte: u8) -> bool {
        memchr::memchr(byte, &self.text).is_some()
    }

    pub fn rows(&self) -> impl Iterator<Item = ExportedRow<'_>> {
        let piece = |s: Span| self.text.get(s.0 as usize..(s.0 + s.1) as usize);
        let quote_free = !self.contains(b'"');
        self.rows.iter().map(move |r| ExportedRow {
            id: r.id,
            at: r.at,
            user: r.user,
            allowed: r.allowed,
            text: r.text.map(|s| s.and_then(piece)),
            quote_free,
        })
    }
}

/// Every row matching `s` (its page ignored), newest first, in batches handed to `send`
/// (false to stop): one statement whose rows stream as the server reads them, so memory
/// is a batch's whatever the log's size. Values are bound; the mapping's identifiers
/// quoted. True when read by [`crate::wire`].
pub async fn export<F, Fut>(db: &Database, r: &Resolved, s: &Search, mut send: F) -> Result<bool>
where
    F: FnMut(ExportBatch) -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let log = log_map(r)?;
    let Some((qb, params)) = export_query(log, s)? else {
        return Ok(false);
    };
    if db.spec().socket.is_some() {
        let spec = db.spec().clone();
        let read = export_by_wire(spec, qb.sql().to_string(), params.clone(), log.clone());
        if read_beside(read, &mut send).await? {
            return Ok(true);
        }
    }
    read_rows(
        db,
        qb,
        &params,
        false,
        "exporting the access log",
        |batch: &mut ExportBatch, cells: &[Option<&[u8]>; 9], kinds: &[Cell; 9]| {
            batch.push(cells, kinds, log);
            batch.rows.len() >= BATCH
        },
        &mut send,
    )
    .await
}

/// An export's statement and its values: the nine columns Warden reads, every filter of
/// `s`, newest first; None when nothing can match.
fn export_query<'a>(
    log: &'a AccessLogMap,
    s: &Search,
) -> Result<Option<(QueryBuilder<'a, MySql>, Vec<Param>)>> {
    let mut qb = select_plain(&[
        Some(&log.id),
        Some(&log.time),
        Some(&log.user),
        Some(&log.action),
        log.resource_type.as_ref(),
        log.resource_id.as_ref(),
        log.outcome.as_ref(),
        log.client_address.as_ref(),
        log.user_agent.as_ref(),
    ]);
    qb.push(" FROM ")
        .push_source(&log.table, &log.filter)
        .push(" l");
    let mut params = super::filter_params(log);
    if !push_filters(&mut qb, log, s, &mut params)? {
        return Ok(None);
    }
    qb.push(" ORDER BY ").push(col("l", &log.id)).push(" DESC");
    Ok(Some((qb, params)))
}

/// Where an exported row's text cell lies: in the row as read, or (a number, a time,
/// written out) in a buffer beside it.
#[derive(Clone, Copy)]
enum Piece {
    Cell(usize),
    Written(usize, usize),
}

/// Every row matching `s` (its page ignored), newest first, handed to `each` as it comes
/// off the socket (`each` answers false to stop): no batch, no second thread, so that
/// this thread reads and writes while the server works on the other core, neither
/// waiting on the other. By [`crate::wire`] only: None when it cannot connect (then
/// [`export`]). The rows handed on, otherwise.
pub async fn export_each(
    db: &Database,
    r: &Resolved,
    s: &Search,
    mut each: impl FnMut(&ExportedRow<'_>) -> bool,
) -> Result<Option<u64>> {
    let log = log_map(r)?;
    let Some((qb, params)) = export_query(log, s)? else {
        return Ok(Some(0));
    };
    let mut wire = match crate::wire::Wire::connect(db.spec()).await {
        Ok(w) => w,
        // Not a server a password may go to: not through sqlx either.
        Err(crate::wire::Refusal::Untrusted(reason)) => {
            return Err(Error::Unavailable {
                target: db.target().to_string(),
                reason,
            });
        }
        Err(why) => {
            tracing::debug!(%why, "exporting the access log another way");
            return Ok(None);
        }
    };
    let failed =
        |e: crate::wire::Refusal| Error::Database(format!("exporting the access log: {e}"));
    let types = wire.execute(qb.sql(), &params).await.map_err(failed)?;
    if types.len() != 9 {
        return Err(Error::Database(format!(
            "exporting the access log: {} columns, not 9",
            types.len()
        )));
    }
    let mut kinds = [Cell::Other; 9];
    for (k, t) in kinds.iter_mut().zip(&types) {
        *k = Cell::named(crate::wire::type_name(*t));
    }
    let mut written = Vec::with_capacity(256);
    let mut rows = 0u64;
    loop {
        let Some(row) = wire.row().await.map_err(failed)? else {
            break;
        };
        let mut cells = [None; 9];
        crate::wire::cells(row, &types, &mut cells).map_err(failed)?;
        let Some(id) = cells[0].and_then(|b| kinds[0].int(b)) else {
            continue;
        };
        written.clear();
        let mut pieces = [None; 6];
        for (piece, i) in pieces.iter_mut().zip(3..9) {
            *piece = cells[i].and_then(|b| match kinds[i] {
                Cell::Text => Some(Piece::Cell(i)),
                kind => {
                    let start = written.len();
                    let ok = kind.write_text(b, &mut written);
                    ok.then_some(Piece::Written(start, written.len()))
                }
            });
        }
        let exported = ExportedRow {
            id,
            at: cells[1].and_then(|b| kinds[1].time(b)),
            user: cells[2].and_then(|b| kinds[2].int(b)),
            allowed: allowed(log, cells[6]),
            text: pieces.map(|p| {
                p.and_then(|p| match p {
                    Piece::Cell(i) => cells[i],
                    Piece::Written(a, b) => written.get(a..b),
                })
            }),
            // Over the whole row at once: a `"` in a number's bytes only costs a check.
            quote_free: memchr::memchr(b'"', row).is_none(),
        };
        rows += 1;
        if !each(&exported) {
            // Stopped: the connection is dropped, and the server stops the statement.
            return Ok(Some(rows));
        }
    }
    wire.quit().await;
    Ok(Some(rows))
}

/// What a reader thread ends with: done, or could not connect (read another way), or
/// failed midway.
enum Beside {
    Done,
    NoConnection(String),
    Failed(String),
}

/// A reader on a thread of its own, with its batches arriving and its outcome to come.
struct Reader<B> {
    batches: tokio::sync::mpsc::Receiver<B>,
    outcome: tokio::sync::oneshot::Receiver<Beside>,
}

/// Hands the batches of a reader on its own thread to `send` (false: stop), then says
/// whether the reader did it all (false: it could not connect; nothing was sent).
async fn read_beside<B, F, Fut>(reader: Result<Reader<B>>, send: &mut F) -> Result<bool>
where
    F: FnMut(B) -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let Reader {
        mut batches,
        outcome,
    } = reader?;
    while let Some(batch) = batches.recv().await {
        if !send(batch).await {
            break;
        }
    }
    // Stopped early: the reader's next send fails and it ends.
    drop(batches);
    match outcome.await {
        Ok(Beside::Done) => Ok(true),
        Ok(Beside::NoConnection(why)) => {
            tracing::debug!(%why, "exporting the access log through sqlx");
            Ok(false)
        }
        Ok(Beside::Failed(why)) => Err(Error::Database(why)),
        Err(_) => Err(Error::Database(
            "exporting the access log: the reader stopped".into(),
        )),
    }
}

/// Reads an export's rows by [`crate::wire`] on a thread of its own (with a runtime of
/// its own), so that reading overlaps the caller's writing: the server produces rows on
/// one core while the file is written on the other.
fn export_by_wire(
    spec: crate::connect::ConnectSpec,
    sql: String,
    params: Vec<Param>,
    log: AccessLogMap,
) -> Result<Reader<ExportBatch>> {
    let (tx, batches) = tokio::sync::mpsc::channel::<ExportBatch>(4);
    let (done, outcome) = tokio::sync::oneshot::channel();
    let read = async move {
        let mut wire = match crate::wire::Wire::connect(&spec).await {
            Ok(w) => w,
            // Not a server a password may go to: the export stops, no other way tried.
            Err(e @ crate::wire::Refusal::Untrusted(_)) => return Beside::Failed(e.to_string()),
            Err(e) => return Beside::NoConnection(e.to_string()),
        };
        let failed =
            |e: crate::wire::Refusal| Beside::Failed(format!("exporting the access log: {e}"));
        let types = match wire.execute(&sql, &params).await {
            Ok(t) if t.len() == 9 => t,
            Ok(t) => {
                return Beside::Failed(format!("exporting the access log: {} columns", t.len()));
            }
            Err(e) => return failed(e),
        };
        let mut kinds = [Cell::Other; 9];
        for (k, t) in kinds.iter_mut().zip(&types) {
            *k = Cell::named(crate::wire::type_name(*t));
        }
        let mut batch = ExportBatch::default();
        loop {
            let row = match wire.row().await {
                Ok(Some(row)) => row,
                Ok(None) => break,
                Err(e) => return failed(e),
            };
            let mut cells = [None; 9];
            if let Err(e) = crate::wire::cells(row, &types, &mut cells) {
                return failed(e);
            }
            batch.push(&cells, &kinds, &log);
            if batch.rows.len() >= BATCH && tx.send(std::mem::take(&mut batch)).await.is_err() {
                return Beside::Done; // the caller stopped
            }
        }
        if !batch.rows.is_empty() {
            let _ = tx.send(batch).await;
        }
        wire.quit().await;
        Beside::Done
    };
    std::thread::Builder::new()
        .name("warden-export-reader".into())
        .spawn(move || {
            let outcome = match tokio::runtime::Builder::new_current_thread()
                .enable_io()
                .enable_time()
                .build()
            {
                Ok(rt) => rt.block_on(read),
                Err(e) => Beside::NoConnection(format!("no runtime for the reader: {e}")),
            };
            let _ = done.send(outcome);
        })
        .map_err(|e| Error::Database(format!("starting the export's reader: {e}")))?;
    Ok(Reader { batches, outcome })
}
