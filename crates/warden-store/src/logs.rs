//! The application's access log, read through the mapping: streamed in id order for the
//! detectors (from a checkpoint), searched a page at a time by keyset (never OFFSET), and
//! the business relations that justify access (need-to-know). Also Warden's record of
//! scans and their checkpoints (`warden_log_scans`, `warden_log_checkpoints`).

use std::collections::{HashMap, HashSet};

use chrono::{NaiveDate, NaiveDateTime};
use futures_util::TryStreamExt;
use sqlx::mysql::MySqlRow;
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
use crate::wire::Param;

/// The checkpoint of the application's own access-log table.
pub const APP_SOURCE: &str = "app";

fn log_map(r: &Resolved) -> Result<&AccessLogMap> {
    r.mapping().access_log.as_ref().ok_or_else(|| {
        Error::Input("the mapping has no access log ([access_log]): nothing to read".into())
    })
}

/// `SELECT id, time, user, action, resource type, resource id, outcome, client, agent`
/// of the log, aliased `l`, every column cast to what Warden reads.
fn select_rows(log: &AccessLogMap) -> QueryBuilder<'_, MySql> {
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
    qb.push(", ");
    push_text(&mut qb, "l", log.client_address.as_deref());
    qb.push(", ");
    push_text(&mut qb, "l", log.user_agent.as_deref());
    qb.push(" FROM ").push(quote(&log.table)).push(" l");
    qb
}

/// `SELECT` the log's (`l`) columns as they are, no casts: each is read by its own type
/// ([`Cell`]); NULL where the mapping has none.
fn select_plain<'a>(columns: &[Option<&String>]) -> QueryBuilder<'a, MySql> {
    let mut qb = QueryBuilder::<MySql>::new("SELECT ");
    let mut sep = qb.separated(", ");
    for c in columns {
        match c {
            Some(c) => sep.push(col("l", c)),
            None => sep.push("NULL"),
        };
    }
    qb
}

fn allowed(log: &AccessLogMap, outcome: Option<&[u8]>) -> bool {
    match (&log.outcome, outcome) {
        (None, _) => true,
        (Some(_), Some(o)) => {
            (log.allowed_values.iter()).any(|v| v.as_bytes().eq_ignore_ascii_case(o))
        }
        (Some(_), None) => false,
    }
}

/// Rows handed on per batch by [`stream`].
const BATCH: usize = 4_096;

/// Reads every row with an id above `after`, in id order, and hands them to `send` in
/// batches; `send` answers false to stop early. Rows without an id, time, user or action, or with
/// one that does not read as one (an id that is not an integer, a time that is not a date
/// and time, text that is not UTF-8), are counted as skipped.
///
/// Values are read from the row's bytes by the column's type ([`Cell`]) into a compact
/// batch (one buffer for its text): sqlx's typed decoding, and a row object per row
/// crossing threads, cost more than the detectors. Over a Unix socket the rows are read by
/// [`crate::wire`], without sqlx's per-row machinery; elsewhere (TCP, TLS), or when that
/// reader cannot connect, through sqlx.
pub async fn stream<F, Fut>(
    db: &Database,
    r: &Resolved,
    after: i64,
    mut send: F,
) -> Result<Streamed>
where
    F: FnMut(LogBatch) -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let log = log_map(r)?;
    let mut qb = select_plain(&[
        Some(&log.id),
        Some(&log.time),
        Some(&log.user),
        Some(&log.action),
        log.resource_type.as_ref(),
        log.resource_id.as_ref(),
        log.outcome.as_ref(),
    ]);
    qb.push(" FROM ")
        .push(quote(&log.table))
        .push(" l WHERE ")
        .push(col("l", &log.id))
        .push(" > ")
        .push_bind(after)
        .push(" ORDER BY ")
        .push(col("l", &log.id));
    let mut out = Streamed {
        rows: 0,
        skipped: 0,
        last_id: after,
        by_wire: false,
    };
    let (mut rows, mut skipped, mut last_id) = (0, 0, after);
    out.by_wire = read_rows(
        db,
        qb,
        &[Param::Int(after)],
        true,
        "reading the access log",
        |batch: &mut LogBatch, cells: &[Option<&[u8]>; 7], kinds: &[Cell; 7]| {
            rows += 1;
            if !batch.push(cells, kinds, log, &mut last_id) {
                skipped += 1;
            }
            batch.rows.len() >= BATCH
        },
        &mut send,
    )
    .await?;
    out.rows = rows;
    out.skipped = skipped;
    out.last_id = last_id;
    Ok(out)
}

/// Runs `qb` (its values also given as `params`, in the same order) and hands its rows,
/// as binary-protocol cells with each column's [`Cell`] kind, to `push`, which adds one to
/// a batch and says when the batch is full; each full batch (and the last) goes to `send`,
/// which answers false to stop reading. Rows are read by [`crate::wire`] over a Unix
/// socket when `by_wire`, otherwise (or when it cannot connect) through sqlx. True when
/// read by wire.
async fn read_rows<const N: usize, B, P, F, Fut>(
    db: &Database,
    mut qb: QueryBuilder<'_, MySql>,
    params: &[Param],
    by_wire: bool,
    what: &str,
    mut push: P,
    send: &mut F,
) -> Result<bool>
where
    B: Default,
    P: FnMut(&mut B, &[Option<&[u8]>; N], &[Cell; N]) -> bool,
    F: FnMut(B) -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let mut batch = B::default();
    let mut pending = false;
    let wire = match by_wire {
        true => crate::wire::Wire::connect(db.spec()).await,
        false => Err(crate::wire::Refusal::Unsupported(
            "read through sqlx".into(),
        )),
    };
    match wire {
        Ok(mut wire) => {
            let failed = |e: crate::wire::Refusal| Error::Database(format!("{what}: {e}"));
            let read = async {
                let types = wire.execute(qb.sql(), params).await.map_err(failed)?;
                if types.len() != N {
                    return Err(Error::Database(format!(
                        "{what}: {} columns, not {N}",
                        types.len()
                    )));
                }
                let mut kinds = [Cell::Other; N];
                for (k, t) in kinds.iter_mut().zip(&types) {
                    *k = Cell::named(crate::wire::type_name(*t));
                }
                while let Some(row) = wire.row().await.map_err(failed)? {
                    let mut cells = [None; N];
                    crate::wire::cells(row, &types, &mut cells).map_err(failed)?;
                    pending = true;
                    if push(&mut batch, &cells, &kinds) {
                        pending = false;
                        if !send(std::mem::take(&mut batch)).await {
                            return Ok(false);
                        }
                    }
                }
                Ok(true)
            };
            let finished = read.await;
            if matches!(finished, Ok(true)) {
                wire.quit().await;
            }
            if finished? && pending {
                send(batch).await;
            }
            return Ok(true);
        }
        Err(why) => tracing::debug!(%why, "{what} through sqlx"),
    }
    let mut rows = qb.build().fetch(db.app());
    let mut kinds: Option<[Cell; N]> = None;
    while let Some(row) = rows.try_next().await? {
        let kinds = kinds.get_or_insert_with(|| Cell::of(&row));
        let mut cells = [None; N];
        for (i, c) in cells.iter_mut().enumerate() {
            *c = raw(&row, i)?;
        }
        pending = true;
        if push(&mut batch, &cells, kinds) {
            pending = false;
            if !send(std::mem::take(&mut batch)).await {
                return Ok(false);
            }
        }
    }
    if pending {
        send(batch).await;
    }
    Ok(false)
}

/// How a column's values arrive in a binary-protocol row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cell {
    /// A little-endian integer of this many bytes.
    Int { bytes: usize, unsigned: bool },
    /// A length byte, then year (2 bytes), month, day[, hour, minute, second[, micros (4)]].
    Time,
    /// The value's text (strings, decimals, enums, JSON).
    Text,
    /// A little-endian IEEE float of 4 or 8 bytes.
    Float,
    /// Nothing Warden reads (TIME, bits, NULL).
    Other,
}

impl Cell {
    fn of<const N: usize>(row: &MySqlRow) -> [Cell; N] {
        use sqlx::{Column, TypeInfo};
        let mut cells = [Cell::Other; N];
        for (cell, column) in cells.iter_mut().zip(row.columns()) {
            *cell = Cell::named(column.type_info().name());
        }
        cells
    }

    /// By the type's name as sqlx spells it (`BIGINT UNSIGNED`, `DATETIME`, `VARCHAR`…).
    fn named(name: &str) -> Cell {
        let unsigned = name.ends_with("UNSIGNED");
        match name.trim_end_matches(" UNSIGNED") {
            "BIGINT" => Cell::Int { bytes: 8, unsigned },
            "INT" | "MEDIUMINT" => Cell::Int { bytes: 4, unsigned },
            "SMALLINT" | "YEAR" => Cell::Int { bytes: 2, unsigned },
            "TINYINT" | "BOOLEAN" => Cell::Int { bytes: 1, unsigned },
            "DATETIME" | "TIMESTAMP" | "DATE" => Cell::Time,
            "FLOAT" | "DOUBLE" => Cell::Float,
            "TIME" | "BIT" | "NULL" | "GEOMETRY" => Cell::Other,
            _ => Cell::Text,
        }
    }

    fn int(self, b: &[u8]) -> Option<i64> {
        match self {
            Cell::Int { bytes, unsigned } if b.len() == bytes => {
                let mut le = [0u8; 8];
                le[..bytes].copy_from_slice(b);
                if !unsigned && b[bytes - 1] & 0x80 != 0 {
                    le[bytes..].fill(0xff); // sign-extend
                    return Some(i64::from_le_bytes(le));
                }
                i64::try_from(u64::from_le_bytes(le)).ok()
            }
            Cell::Text => text::int(b),
            _ => None,
        }
    }

    /// Appends the value as text (a time as `YYYY-MM-DD HH:MM:SS[.ffffff]`); false, and
    /// nothing appended, for what has no text here.
    fn write_text(self, b: &[u8], out: &mut Vec<u8>) -> bool {
        use std::io::Write;
        match self {
            Cell::Text => out.extend_from_slice(b),
            Cell::Int { .. } => match self.int(b) {
                Some(n) => out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes()),
                None => return false,
            },
            Cell::Time => match self.time(b) {
                Some(t) => {
                    let _ = write!(out, "{}", t.format("%Y-%m-%d %H:%M:%S%.f"));
                }
                None => return false,
            },
            Cell::Float => match *b {
                [a, b2, c, d] => {
                    let _ = write!(out, "{}", f32::from_le_bytes([a, b2, c, d]));
                }
                _ => match <[u8; 8]>::try_from(b) {
                    Ok(eight) => {
                        let _ = write!(out, "{}", f64::from_le_bytes(eight));
                    }
                    Err(_) => return false,
                },
            },
            Cell::Other => return false,
        }
        true
    }

    fn time(self, b: &[u8]) -> Option<NaiveDateTime> {
        match self {
            Cell::Time => {
                let (&len, v) = b.split_first()?;
                let v = v.get(..usize::from(len))?;
                let at = |i: usize| v.get(i).copied().map_or(0, u32::from);
                let year = i32::from(u16::from_le_bytes([*v.first()?, *v.get(1)?]));
                let micros = match v.get(7..11) {
                    Some(m) => u32::from_le_bytes([m[0], m[1], m[2], m[3]]),
                    None => 0,
                };
                NaiveDate::from_ymd_opt(year, at(2), at(3))?.and_hms_micro_opt(
                    at(4),
                    at(5),
                    at(6),
                    micros,
                )
            }
            Cell::Text => text::datetime(b),
            _ => None,
        }
    }
}

/// Where a text lies in a batch's buffer.
#[derive(Debug, Clone, Copy)]
struct Span(u32, u32);

#[derive(Debug)]
struct BatchRow {
    id: i64,
    at: NaiveDateTime,
    user: i64,
    allowed: bool,
    action: Span,
    resource_type: Option<Span>,
    resource_id: Option<Span>,
}

/// Access-log rows read for the detectors, their text in one buffer, checked to be UTF-8
/// where the batch is judged (once for the whole buffer, on the judging thread).
#[derive(Debug, Default)]
pub struct LogBatch {
    rows: Vec<BatchRow>,
    text: Vec<u8>,
}

impl LogBatch {
    /// Reads one row; false when it lacks what the detectors need (skipped).
    /// Reads one row's cells (id, time, user, action, resource type, resource id,
    /// outcome); false when it lacks what the detectors need (skipped).
    fn push(
        &mut self,
        cells: &[Option<&[u8]>; 7],
        kinds: &[Cell; 7],
        log: &AccessLogMap,
        last_id: &mut i64,
    ) -> bool {
        let Some(id) = cells[0].and_then(|b| kinds[0].int(b)) else {
            return false;
        };
        *last_id = (*last_id).max(id);
        let at = cells[1].and_then(|b| kinds[1].time(b));
        let user = cells[2].and_then(|b| kinds[2].int(b));
        let mark = self.text.len();
        let action = self.keep(cells[3], kinds[3]);
        let (Some(at), Some(user), Some(action)) = (at, user, action) else {
            self.text.truncate(mark);
            return false;
        };
        let row = BatchRow {
            id,
            at,
            user,
            allowed: allowed(log, cells[6]),
            action,
            resource_type: self.keep(cells[4], kinds[4]),
            resource_id: self.keep(cells[5], kinds[5]),
        };
        self.rows.push(row);
        true
    }

    /// Copies a cell's text (an integer as its digits) into the buffer.
    fn keep(&mut self, cell: Option<&[u8]>, kind: Cell) -> Option<Span> {
        let b = cell?;
        let start = self.text.len();
        match kind {
            Cell::Text => self.text.extend_from_slice(b),
            c @ Cell::Int { .. } => match c.int(b) {
                Some(n) => {
                    use std::io::Write;
                    let _ = write!(self.text, "{n}");
                }
                None => return None,
            },
            Cell::Time | Cell::Float | Cell::Other => return None,
        }
        Some(Span(start as u32, (self.text.len() - start) as u32))
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The batch's rows, in the order read, but for those whose action is not UTF-8 (the
    /// caller counts them as skipped: [`LogBatch::len`] less the rows yielded); a
    /// resource type or id that is not UTF-8 is left out of its row.
    pub fn events(&self) -> impl Iterator<Item = Event<'_>> {
        // Valid as a whole and cut at character boundaries means each piece is valid.
        let whole = std::str::from_utf8(&self.text).ok();
        let piece = move |s: Span| -> Option<&str> {
            let range = s.0 as usize..(s.0 + s.1) as usize;
            match whole {
                Some(w) => w.get(range),
                None => (self.text.get(range)).and_then(|b| std::str::from_utf8(b).ok()),
            }
        };
        self.rows.iter().filter_map(move |r| {
            Some(Event {
                id: r.id,
                at: r.at,
                user: UserId(r.user),
                action: piece(r.action)?,
                resource_type: r.resource_type.and_then(piece),
                resource_id: r.resource_id.and_then(piece),
                allowed: r.allowed,
            })
        })
    }
}

/// Cell `i`'s bytes as the protocol sent them; None for NULL.
fn raw(row: &MySqlRow, i: usize) -> Result<Option<&[u8]>> {
    row.try_get_unchecked::<Option<&[u8]>, _>(i)
        .map_err(|e| Error::Database(format!("the access log's column {}: {e}", i + 1)))
}

/// Values as text, for columns of a text type.
mod text {
    use chrono::{NaiveDate, NaiveDateTime};

    pub fn int(b: &[u8]) -> Option<i64> {
        let (neg, digits) = match b.split_first() {
            Some((b'-', rest)) => (true, rest),
            _ => (false, b),
        };
        if digits.is_empty() || digits.len() > 19 {
            return None;
        }
        let mut n: i64 = 0;
        for &d in digits {
            if !d.is_ascii_digit() {
                return None;
            }
            n = n.checked_mul(10)?.checked_add(i64::from(d - b'0'))?;
        }
        Some(if neg { -n } else { n })
    }

    fn digits(b: &[u8]) -> Option<u32> {
        b.iter().try_fold(0u32, |n, &d| {
            d.is_ascii_digit().then(|| n * 10 + u32::from(d - b'0'))
        })
    }

    /// `YYYY-MM-DD HH:MM:SS` with up to six fractional digits.
    pub fn datetime(b: &[u8]) -> Option<NaiveDateTime> {
        if b.len() < 19
            || b[4] != b'-'
            || b[7] != b'-'
            || b[10] != b' '
            || b[13] != b':'
            || b[16] != b':'
        {
            return None;
        }
        let micros = match &b[19..] {
            [] => 0,
            [b'.', frac @ ..] if !frac.is_empty() && frac.len() <= 6 => {
                digits(frac)? * 10u32.pow(6 - frac.len() as u32)
            }
            _ => return None,
        };
        NaiveDate::from_ymd_opt(
            digits(&b[0..4])? as i32,
            digits(&b[5..7])?,
            digits(&b[8..10])?,
        )?
        .and_hms_micro_opt(
            digits(&b[11..13])?,
            digits(&b[14..16])?,
            digits(&b[17..19])?,
            micros,
        )
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn integers_are_read_exactly_and_anything_else_refused() {
            assert_eq!(int(b"0"), Some(0));
            assert_eq!(int(b"-42"), Some(-42));
            assert_eq!(int(b"9223372036854775807"), Some(i64::MAX));
            for bad in [
                &b""[..],
                b"-",
                b"1.5",
                b" 1",
                b"12a",
                b"99999999999999999999",
            ] {
                assert_eq!(int(bad), None, "{:?}", String::from_utf8_lossy(bad));
            }
        }

        #[test]
        fn datetimes_keep_their_fraction_and_refuse_other_shapes() {
            let at = |s: &str| datetime(s.as_bytes()).map(|t| t.to_string());
            assert_eq!(
                at("2026-11-28 09:05:07").as_deref(),
                Some("2026-11-28 09:05:07")
            );
            assert_eq!(
                at("2026-11-28 09:05:07.25").as_deref(),
                Some("2026-11-28 09:05:07.250")
            );
            assert_eq!(
                at("2026-11-28 09:05:07.000001").as_deref(),
                Some("2026-11-28 09:05:07.000001")
            );
            for bad in [
                "2026-11-28",
                "2026-11-28T09:05:07",
                "2026-13-28 09:05:07",
                "2026-11-28 25:05:07",
                "2026-11-28 09:05:07.",
                "2026-11-28 09:05:07.1234567",
                "2026-11-28 09:05:07x",
                "2026-1a-28 09:05:07",
            ] {
                assert_eq!(at(bad), None, "{bad}");
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Streamed {
    pub rows: u64,
    pub skipped: u64,
    pub last_id: i64,
    /// Read by [`crate::wire`] (over a Unix socket) rather than through sqlx.
    pub by_wire: bool,
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
        while let Some(row) = rows.try_next().await? {
            let user: Option<i64> = row.try_get(0)?;
            let customer: Option<String> = row.try_get(1)?;
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
/// The values of [`push_filters`]' `?`s, in order, for [`crate::wire`] (which binds its
/// own values: the query builder's stay with sqlx).
fn push_filters<'a>(
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
                let outcome: Option<String> = row.try_get(6)?;
                Ok(row.try_get::<Option<i64>, _>(0)?.map(|id| LogRow {
                    id,
                    at: row.try_get(1).ok().flatten(),
                    user: row.try_get(2).ok().flatten(),
                    action: row.try_get(3).ok().flatten(),
                    resource_type: row.try_get(4).ok().flatten(),
                    resource_id: row.try_get(5).ok().flatten(),
                    allowed: allowed(log, outcome.as_deref().map(str::as_bytes)),
                    outcome,
                    client_address: row.try_get(7).ok().flatten(),
                    user_agent: row.try_get(8).ok().flatten(),
                }))
            };
            get().transpose()
        })
        .collect::<std::result::Result<Vec<_>, sqlx::Error>>()?)
}

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
    qb.push(" FROM ").push(quote(&log.table)).push(" l");
    let mut params = Vec::new();
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

/// The lowest and highest id of the log (None when empty): where an export newest first
/// stands, for its progress.
pub async fn id_range(db: &Database, r: &Resolved) -> Result<Option<(i64, i64)>> {
    let log = log_map(r)?;
    let mut qb = QueryBuilder::<MySql>::new("SELECT CAST(MIN(");
    qb.push(col("l", &log.id))
        .push(") AS SIGNED), CAST(MAX(")
        .push(col("l", &log.id))
        .push(") AS SIGNED) FROM ")
        .push(quote(&log.table))
        .push(" l");
    let (low, high): (Option<i64>, Option<i64>) = qb.build_query_as().fetch_one(db.app()).await?;
    Ok(low.zip(high))
}

/// Where the last scan of `source` stopped: the highest row id it read (0 before any).
pub async fn checkpoint(db: &Database, source: &str) -> Result<i64> {
    let last: Option<i64> =
        sqlx::query_scalar("SELECT last_id FROM warden_log_checkpoints WHERE source = ?")
            .bind(source)
            .fetch_optional(db.gov())
            .await?;
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
    let actor = change.actor().to_string();
    let at = change.at();
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
        let Some(merged) = merge_evidence(old, &f.evidence) else {
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
    .await?;
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
    let key = hex::decode(first_event).unwrap_or_default();
    let at = change.at();
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
    .await?;
    let (id, through_line): (u64, u64) = sqlx::query_as(
        "SELECT id, through_line FROM warden_db_audit_files \
         WHERE format = ? AND first_event = ? FOR UPDATE",
    )
    .bind(format)
    .bind(&key)
    .fetch_one(change.conn())
    .await?;
    Ok(AuditFile { id, through_line })
}

/// Within a change: records that `file` is now imported through `line`.
pub async fn audit_file_through(change: &mut Change<'_>, file: u64, line: u64) -> Result<()> {
    sqlx::query(
        "UPDATE warden_db_audit_files SET through_line = GREATEST(through_line, ?) WHERE id = ?",
    )
    .bind(line)
    .bind(file)
    .execute(change.conn())
    .await?;
    Ok(())
}

/// Events per stored block (migration 0009): an event's id is `block id * AUDIT_BLOCK +
/// its place in the block`.
pub const AUDIT_BLOCK: usize = 1_024;

/// A block unpacked beyond this size is refused: the length prepended to a body is read
/// before anything is allocated for it.
const MAX_BLOCK_BYTES: usize = 64 << 20;

/// Blocks written per INSERT.
const BLOCKS_PER_INSERT: usize = 4;

/// An event as its block holds it (migration 0009 documents the shape).
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct Stored<'a>(
    u64,
    std::borrow::Cow<'a, str>,
    std::borrow::Cow<'a, str>,
    std::borrow::Cow<'a, str>,
    Option<i64>,
    Option<i64>,
    std::borrow::Cow<'a, str>,
    Option<std::borrow::Cow<'a, str>>,
    Option<std::borrow::Cow<'a, str>>,
    Option<i64>,
    std::borrow::Cow<'a, str>,
);

/// `YYYY-MM-DD HH:MM:SS.ffffff`, the form MySQL and MariaDB write.
fn stamp(t: NaiveDateTime) -> String {
    use chrono::{Datelike, Timelike};
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}.{:06}",
        t.year(),
        t.month(),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        (t.nanosecond() / 1_000).min(999_999)
    )
}

/// A block ready to store: its events in line order, as compressed JSON.
struct Packed {
    first_line: u64,
    last_line: u64,
    first_at: NaiveDateTime,
    last_at: NaiveDateTime,
    events: u32,
    body: Vec<u8>,
}

fn pack(events: &[warden_core::auditlog::AuditEvent]) -> Result<Packed> {
    use std::borrow::Cow::Borrowed;
    let stored: Vec<Stored<'_>> = (events.iter())
        .map(|e| {
            Stored(
                e.line,
                stamp(e.at).into(),
                Borrowed(&e.user),
                Borrowed(&e.host),
                e.connection_id,
                e.query_id,
                Borrowed(&e.operation),
                e.database.as_deref().map(Borrowed),
                e.object.as_deref().map(Borrowed),
                e.status,
                Borrowed(&e.hash),
            )
        })
        .collect();
    let json = serde_json::to_vec(&stored)
        .map_err(|e| Error::Input(format!("an audit-log block: {e}")))?;
    let at = events.iter().map(|e| e.at);
    Ok(Packed {
        first_line: events.iter().map(|e| e.line).min().unwrap_or(0),
        last_line: events.iter().map(|e| e.line).max().unwrap_or(0),
        first_at: at.clone().min().unwrap_or_default(),
        last_at: at.max().unwrap_or_default(),
        events: events.len() as u32,
        body: lz4_flex::compress_prepend_size(&json),
    })
}

/// A stored block's events, in line order.
fn unpack(codec: &str, body: &[u8]) -> Result<Vec<Stored<'static>>> {
    let bad = |why: String| Error::Database(format!("a stored audit-log block: {why}"));
    let json = match codec {
        "json" => std::borrow::Cow::Borrowed(body),
        "lz4" => {
            let (size, packed) = body
                .split_first_chunk::<4>()
                .ok_or_else(|| bad("cut short".into()))?;
            let size = u32::from_le_bytes(*size) as usize;
            if size > MAX_BLOCK_BYTES {
                return Err(bad(format!("claims {size} bytes unpacked")));
            }
            std::borrow::Cow::Owned(
                lz4_flex::decompress(packed, size).map_err(|e| bad(e.to_string()))?,
            )
        }
        other => return Err(bad(format!("unknown codec `{other}`"))),
    };
    // Cow without `#[serde(borrow)]`: read owned, as the rows outlive the body.
    let mut events: Vec<Stored<'static>> =
        serde_json::from_slice(&json).map_err(|e| bad(e.to_string()))?;
    events.sort_by_key(|e| e.0);
    Ok(events)
}

/// Within a change: stores audit-log events of `file` (in line order), in blocks of
/// [`AUDIT_BLOCK`].
pub async fn insert_db_audit_events(
    change: &mut Change<'_>,
    file: u64,
    events: &[warden_core::auditlog::AuditEvent],
) -> Result<()> {
    let packed: Vec<Packed> = events
        .chunks(AUDIT_BLOCK)
        .map(pack)
        .collect::<Result<_>>()?;
    for group in packed.chunks(BLOCKS_PER_INSERT) {
        let mut qb = QueryBuilder::<MySql>::new(
            "INSERT INTO warden_db_audit_blocks (file_id, first_line, last_line, first_at, \
             last_at, events, codec, body) ",
        );
        qb.push_values(group, |mut b, p| {
            b.push_bind(file)
                .push_bind(p.first_line)
                .push_bind(p.last_line)
                .push_bind(p.first_at)
                .push_bind(p.last_at)
                .push_bind(p.events)
                .push_bind("lz4")
                .push_bind(&p.body);
        });
        qb.build().execute(change.conn()).await?;
    }
    Ok(())
}

/// Equal as the server's `utf8mb4_unicode_ci` would mostly say: case aside, trailing
/// spaces aside.
fn same(stored: &str, wanted: &str) -> bool {
    let (a, b) = (stored.trim_end_matches(' '), wanted.trim_end_matches(' '));
    a.eq_ignore_ascii_case(b) || a.to_lowercase() == b.to_lowercase()
}

/// One page of imported audit-log events matching `s` (user → the database account,
/// action → the operation, resource → the schema, client → the client host; allowed means
/// status 0), newest import first, by keyset on the id: blocks are read newest first, a
/// few at a time, and their events filtered here.
pub async fn search_db_audit(db: &Database, s: &DbAuditSearch) -> Result<Vec<DbAuditRow>> {
    const BLOCKS_PER_READ: i64 = 4;
    let block = AUDIT_BLOCK as u64;
    let mut out = Vec::new();
    let mut highest = match s.before {
        Some(0) => return Ok(out),
        Some(before) => (before - 1) / block,
        None => u64::MAX / block,
    };
    loop {
        let mut qb = QueryBuilder::<MySql>::new(
            "SELECT b.id, b.codec, b.body, f.format, f.path \
             FROM warden_db_audit_blocks b JOIN warden_db_audit_files f ON f.id = b.file_id \
             WHERE b.id <= ",
        );
        qb.push_bind(highest);
        if let Some(t) = s.since {
            qb.push(" AND b.last_at >= ").push_bind(t);
        }
        if let Some(t) = s.until {
            qb.push(" AND b.first_at < ").push_bind(t);
        }
        qb.push(" ORDER BY b.id DESC LIMIT ")
            .push_bind(BLOCKS_PER_READ);
        let blocks: Vec<(u64, String, Vec<u8>, String, String)> =
            qb.build_query_as().fetch_all(db.gov()).await?;
        for (id, codec, body, format, path) in &blocks {
            let events = unpack(codec, body)?;
            for (i, e) in events.into_iter().enumerate().rev() {
                let event_id = id * block + i as u64;
                if s.before.is_some_and(|b| event_id >= b) {
                    continue;
                }
                let Some(at) = text::datetime(e.1.as_bytes()) else {
                    return Err(Error::Database(format!(
                        "a stored audit-log event ({path}, line {}) has no time",
                        e.0
                    )));
                };
                let keep = s.since.is_none_or(|t| at >= t)
                    && s.until.is_none_or(|t| at < t)
                    && s.user.as_deref().is_none_or(|u| same(&e.2, u))
                    && s.client.as_deref().is_none_or(|c| same(&e.3, c))
                    && s.operation.as_deref().is_none_or(|o| same(&e.6, o))
                    && (s.database.as_deref())
                        .is_none_or(|d| e.7.as_deref().is_some_and(|x| same(x, d)))
                    && s.allowed.is_none_or(|a| a == (e.9.unwrap_or(0) == 0));
                if !keep {
                    continue;
                }
                out.push(DbAuditRow {
                    id: event_id,
                    occurred_at: at,
                    db_user: e.2.into_owned(),
                    client_host: e.3.into_owned(),
                    operation: e.6.into_owned(),
                    db_name: e.7.map(|c| c.into_owned()),
                    object: e.8.map(|c| c.into_owned()),
                    status: e.9,
                    format: format.clone(),
                    source_file: path.clone(),
                    line: e.0,
                });
                if out.len() >= s.limit as usize {
                    return Ok(out);
                }
            }
        }
        match blocks.last() {
            Some((id, ..)) if blocks.len() as i64 == BLOCKS_PER_READ && *id > 0 => {
                highest = id - 1;
            }
            _ => return Ok(out),
        }
    }
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
        .push(quote(&log.table))
        .push(" l");
    if !push_filters(&mut qb, log, s, &mut Vec::new())? {
        return Ok(None);
    }
    let (a, b): (Option<NaiveDateTime>, Option<NaiveDateTime>) =
        qb.build_query_as().fetch_one(db.app()).await?;
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
    let (newest, count): (Option<i64>, i64) = qb.build_query_as().fetch_one(db.app()).await?;
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
    let (newest,): (Option<i64>,) = qb.build_query_as().fetch_one(db.app()).await?;
    Ok(newest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_integers_are_read_by_their_width_and_sign() {
        let signed = |bytes| Cell::Int {
            bytes,
            unsigned: false,
        };
        let unsigned = |bytes| Cell::Int {
            bytes,
            unsigned: true,
        };
        assert_eq!(signed(8).int(&(-5i64).to_le_bytes()), Some(-5));
        assert_eq!(unsigned(8).int(&42u64.to_le_bytes()), Some(42));
        assert_eq!(unsigned(8).int(&u64::MAX.to_le_bytes()), None, "beyond i64");
        assert_eq!(signed(4).int(&(-7i32).to_le_bytes()), Some(-7));
        assert_eq!(
            unsigned(4).int(&u32::MAX.to_le_bytes()),
            Some(4_294_967_295)
        );
        assert_eq!(signed(2).int(&(-300i16).to_le_bytes()), Some(-300));
        assert_eq!(unsigned(1).int(&[200]), Some(200));
        assert_eq!(signed(1).int(&[200]), Some(-56));
        assert_eq!(signed(4).int(&[1, 2]), None, "a short value");
        assert_eq!(Cell::Text.int(b"123"), Some(123));
        assert_eq!(Cell::Time.int(b"123"), None);
    }

    #[test]
    fn audit_blocks_round_trip_and_refuse_what_is_not_one() {
        let at = NaiveDate::from_ymd_opt(2026, 11, 28)
            .and_then(|d| d.and_hms_micro_opt(9, 5, 7, 250))
            .unwrap();
        let event = |line: u64| warden_core::auditlog::AuditEvent {
            at: at + chrono::Duration::seconds(line as i64),
            user: "app".into(),
            host: "10.0.0.5".into(),
            connection_id: Some(40),
            query_id: None,
            operation: "QUERY".into(),
            database: line.is_multiple_of(2).then(|| "crm".into()),
            object: Some(
                [
                    "SELECT \"x\" FROM t WHERE n = 'it''s' -- ",
                    &line.to_string(),
                ]
                .concat(),
            ),
            status: Some(0),
            line,
            hash: format!("{line:064x}"),
        };
        let events: Vec<_> = [3, 1, 2].into_iter().map(event).collect();
        let packed = pack(&events).unwrap();
        assert_eq!(
            (packed.first_line, packed.last_line, packed.events),
            (1, 3, 3)
        );
        assert_eq!(
            (packed.first_at, packed.last_at),
            (events[1].at, events[0].at)
        );
        let back = unpack("lz4", &packed.body).unwrap();
        assert_eq!(back.iter().map(|e| e.0).collect::<Vec<_>>(), [1, 2, 3]);
        assert_eq!(back[2].1, "2026-11-28 09:05:10.000250");
        assert_eq!(back[2].8.as_deref(), events[0].object.as_deref());
        assert_eq!(back[1].7.as_deref(), Some("crm"));
        assert_eq!(back[0].7, None);

        let mut huge = packed.body.clone();
        huge[..4].copy_from_slice(&u32::MAX.to_le_bytes());
        let refused = unpack("lz4", &huge).unwrap_err().to_string();
        assert!(refused.contains("claims 4294967295 bytes"), "{refused}");
        assert!(unpack("lz4", &packed.body[..2]).is_err(), "cut short");
        assert!(unpack("lz4", &packed.body[..packed.body.len() - 3]).is_err());
        assert!(unpack("zstd", &packed.body).is_err(), "unknown codec");
        assert!(unpack("json", b"[[1, 2]]").is_err(), "not an event");
    }

    #[test]
    fn binary_times_are_read_at_every_length() {
        let t = |b: &[u8]| Cell::Time.time(b).map(|t| t.to_string());
        let date = [4, 0xea, 0x07, 11, 28];
        assert_eq!(t(&date).as_deref(), Some("2026-11-28 00:00:00"));
        let secs = [7, 0xea, 0x07, 11, 28, 9, 5, 7];
        assert_eq!(t(&secs).as_deref(), Some("2026-11-28 09:05:07"));
        let mut micros = vec![11, 0xea, 0x07, 11, 28, 9, 5, 7];
        micros.extend_from_slice(&250_000u32.to_le_bytes());
        assert_eq!(t(&micros).as_deref(), Some("2026-11-28 09:05:07.250"));
        assert_eq!(t(&[0]), None, "the zero date");
        assert_eq!(t(&[7, 0xea, 0x07, 13, 28, 9, 5, 7]), None, "month 13");
        assert_eq!(t(&[7, 0xea, 0x07, 11]), None, "cut short");
        assert_eq!(
            Cell::Text
                .time(b"2026-11-28 09:05:07")
                .map(|t| t.to_string()),
            Some("2026-11-28 09:05:07".into())
        );
    }
}
