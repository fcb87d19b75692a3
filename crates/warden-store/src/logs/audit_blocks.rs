//! Events imported from database audit-log files, kept in LZ4-compressed blocks, and
//! searched like the application's log.

use chrono::NaiveDateTime;
use sqlx::{MySql, QueryBuilder};

use super::stream::text;
use crate::connect::Database;
use crate::error::{Error, Result};
use crate::governance::Change;

/// An audit-log file as imported so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuditFile {
    pub id: u64,
    /// Every line up to this one was imported before.
    pub through_line: u64,
}

/// An import of one audit-log file in progress: its events are committed in chunks, each
/// with the line it reached (the checkpoint a rerun resumes from), outside the audit
/// trail's head lock, so reviewers and other changes go on while a large file imports.
/// The import's own audit event is a separate, final change. One import of a file runs at
/// a time: the file's row names the import that claims it ([`ImportClaim`]) from
/// [`Import::begin`] to [`Import::end`], renewed with every chunk (a server lock would be
/// one node's own, and a Galera node refuses `GET_LOCK`).
pub struct Import {
    conn: sqlx::pool::PoolConnection<MySql>,
    claim: ImportClaim,
    pub file: AuditFile,
}

/// Who imports a file: chosen once per import from the OS's random source, and kept when
/// the import moves to another host, so its own claim does not stop it there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportClaim(String);

impl ImportClaim {
    pub fn new() -> Result<Self> {
        let mut bytes = [0u8; 16];
        getrandom::fill(&mut bytes)
            .map_err(|e| Error::Config(format!("the OS random source failed: {e}")))?;
        Ok(Self(hex::encode(bytes)))
    }
}

impl Import {
    /// Registers the file whose first event has `first_event` (hex SHA-256), or finds it,
    /// and claims it for this import: what earlier imports took is `file.through_line`.
    /// Another import's live claim is a conflict.
    pub async fn begin(
        db: &crate::connect::Database,
        format: &str,
        first_event: &str,
        path: &str,
        at: chrono::NaiveDateTime,
        claim: &ImportClaim,
    ) -> Result<Self> {
        let mut conn = db.gov().acquire().await?;
        let mut tx = sqlx::Connection::begin(&mut *conn).await?;
        let (file, held_by) = audit_file(&mut tx, format, first_event, path, at).await?;
        if held_by.as_ref().is_some_and(|other| other != &claim.0) {
            return Err(crate::Error::Conflict(format!(
                "{path} is being imported by someone else right now: wait for that import to end"
            )));
        }
        sqlx::query(
            "UPDATE warden_db_audit_files SET claimed_by = ?, claimed_at = UTC_TIMESTAMP(6) \
             WHERE id = ?",
        )
        .bind(&claim.0)
        .bind(file.id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Self {
            conn,
            claim: claim.clone(),
            file,
        })
    }

    /// Commits `events` (those of lines after what was imported before) and moves the
    /// checkpoint to `through` (every line up to it is now imported), in one transaction
    /// that renews the claim — or stops, when another import took the claim over.
    pub async fn chunk(
        &mut self,
        events: &[warden_core::auditlog::AuditEvent],
        through: u64,
    ) -> Result<()> {
        let mut tx = sqlx::Connection::begin(&mut *self.conn).await?;
        insert_db_audit_events(&mut tx, self.file.id, events).await?;
        let renewed = sqlx::query(
            "UPDATE warden_db_audit_files \
             SET through_line = GREATEST(through_line, ?), claimed_at = UTC_TIMESTAMP(6) \
             WHERE id = ? AND claimed_by = ?",
        )
        .bind(through)
        .bind(self.file.id)
        .bind(&self.claim.0)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if renewed == 0 {
            return Err(crate::Error::Conflict(
                "another import took this file over (this one went ten minutes without a \
                 sign of life): stopped; run the import again"
                    .into(),
            ));
        }
        tx.commit().await?;
        Ok(())
    }

    /// Lets the next import of this file begin. When the host no longer answers, the claim
    /// stays until this import runs again (on another host) or ten minutes pass.
    pub async fn end(mut self) {
        let released = sqlx::query(
            "UPDATE warden_db_audit_files SET claimed_by = NULL, claimed_at = NULL \
             WHERE id = ? AND claimed_by = ?",
        )
        .bind(self.file.id)
        .bind(&self.claim.0)
        .execute(&mut *self.conn)
        .await;
        if let Err(e) = released {
            tracing::debug!(error = %e, "the import's claim stays until it runs again");
        }
    }
}

/// The file whose first event has `first_event` (hex SHA-256), locked for this
/// transaction; registered with nothing imported when it is new. Answered with the import
/// whose claim on it is live, if any.
async fn audit_file(
    conn: &mut sqlx::MySqlConnection,
    format: &str,
    first_event: &str,
    path: &str,
    at: chrono::NaiveDateTime,
) -> Result<(AuditFile, Option<String>)> {
    let key = hex::decode(first_event).unwrap_or_default();
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
    .execute(&mut *conn)
    .await?;
    let (id, through_line, held_by): (u64, u64, Option<String>) = sqlx::query_as(
        "SELECT id, through_line, \
         IF(claimed_at > UTC_TIMESTAMP(6) - INTERVAL 10 MINUTE, claimed_by, NULL) \
         FROM warden_db_audit_files WHERE format = ? AND first_event = ? FOR UPDATE",
    )
    .bind(format)
    .bind(&key)
    .fetch_one(&mut *conn)
    .await?;
    Ok((AuditFile { id, through_line }, held_by))
}

/// Within a change: records that `file` is now imported through `line`.
pub async fn audit_file_through(change: &mut Change<'_>, file: u64, line: u64) -> Result<()> {
    through(change.conn(), file, line).await
}

async fn through(conn: &mut sqlx::MySqlConnection, file: u64, line: u64) -> Result<()> {
    sqlx::query(
        "UPDATE warden_db_audit_files SET through_line = GREATEST(through_line, ?) WHERE id = ?",
    )
    .bind(line)
    .bind(file)
    .execute(conn)
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
async fn insert_db_audit_events(
    conn: &mut sqlx::MySqlConnection,
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
        qb.build().execute(&mut *conn).await?;
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

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;

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
}
