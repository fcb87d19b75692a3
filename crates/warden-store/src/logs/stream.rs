//! The log streamed in id order for the detectors, from a checkpoint: values read from
//! each row's bytes by the column's type into compact batches.

use chrono::{NaiveDate, NaiveDateTime};
use futures_util::TryStreamExt;
use sqlx::mysql::MySqlRow;
use sqlx::{MySql, QueryBuilder, Row};
use warden_core::detectors::Event;
use warden_core::directory::UserId;
use warden_core::mapping::AccessLogMap;

use super::{allowed, log_map, select_plain};
use crate::connect::Database;
use crate::error::{Error, Result};
use crate::mapped::PushSource;
use crate::mapped::col;
use crate::schema::Resolved;
use crate::wire::Param;

/// Rows handed on per batch by [`stream`].
pub(super) const BATCH: usize = 4_096;

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
        .push_source(&log.table, &log.filter)
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
        &[super::filter_params(log), vec![Param::Int(after)]].concat(),
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
pub(super) async fn read_rows<const N: usize, B, P, F, Fut>(
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
        // Not a server a password may go to: not through sqlx either.
        Err(crate::wire::Refusal::Untrusted(reason)) => {
            return Err(Error::Unavailable {
                target: db.target().to_string(),
                reason,
            });
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
pub(super) enum Cell {
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
    pub(super) fn of<const N: usize>(row: &MySqlRow) -> [Cell; N] {
        use sqlx::{Column, TypeInfo};
        let mut cells = [Cell::Other; N];
        for (cell, column) in cells.iter_mut().zip(row.columns()) {
            *cell = Cell::named(column.type_info().name());
        }
        cells
    }

    /// By the type's name as sqlx spells it (`BIGINT UNSIGNED`, `DATETIME`, `VARCHAR`…).
    pub(super) fn named(name: &str) -> Cell {
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

    pub(super) fn int(self, b: &[u8]) -> Option<i64> {
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
    pub(super) fn write_text(self, b: &[u8], out: &mut Vec<u8>) -> bool {
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

    pub(super) fn time(self, b: &[u8]) -> Option<NaiveDateTime> {
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
pub(super) struct Span(pub(super) u32, pub(super) u32);

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
                fresh: true,
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
pub(super) mod text {
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
