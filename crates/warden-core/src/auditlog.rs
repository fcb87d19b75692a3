//! Database audit-log files (DESIGN.md, Access logs): MariaDB `server_audit` lines (plain
//! or syslog-prefixed), MySQL Enterprise / Percona audit logs in XML (new style with
//! elements, old style with attributes, a file still being written included) and JSON.
//! Pure parsing: the store keeps what is read, with its file, line and hash.
//!
//! Hostile input: an XML document with a DTD (`<!DOCTYPE`, and so any `<!ENTITY`) is
//! refused before anything after it is read, so no entity is expanded, no file read and no
//! connection opened; a document in another encoding than UTF-8 (UTF-16, UTF-32, a
//! declared legacy encoding) is refused whole, with what to convert it with; memory is
//! bounded before it is allocated (a record or line over [`MAX_RECORD`] is never read
//! whole, whatever the file holds); a record or line that cannot be read is counted and
//! reported with its line number (the first [`KEPT_MALFORMED`]) and the rest goes on.

use std::io::BufRead;

use chrono::{Datelike, NaiveDate, NaiveDateTime};
use sha2::{Digest, Sha256};

mod encoding;
mod xml;

pub use encoding::check_encoding;
#[cfg(test)]
use xml::LOOKED_AT;
use xml::{count_newlines, declaration};
pub use xml::{find_declaration, read_xml};

/// One event of the database's own audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    pub at: NaiveDateTime,
    pub user: String,
    pub host: String,
    pub connection_id: Option<i64>,
    pub query_id: Option<i64>,
    /// CONNECT, QUERY, READ, WRITE… (server_audit), or the record's name (Query, Connect…).
    pub operation: String,
    pub database: Option<String>,
    /// The statement or table: text, never run.
    pub object: Option<String>,
    pub status: Option<i64>,
    /// 1-based line where the event starts, in its file.
    pub line: u64,
    /// SHA-256 of the event's raw text: the same event imported twice is one row.
    pub hash: String,
}

/// A line or record that could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Malformed {
    pub line: u64,
    pub message: String,
}

/// Why a whole file is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error(
        "line {line}: a DTD (`<!DOCTYPE …>`) is refused: audit logs never carry one, and Warden reads no entity declaration, so nothing in it is expanded or fetched"
    )]
    Dtd { line: u64 },
    /// Not UTF-8: what the file is, and how to convert it.
    #[error("{0}")]
    Encoding(String),
    #[error("{0}")]
    Io(String),
}

/// What reading a file gave besides its events.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Read {
    /// The first [`KEPT_MALFORMED`] lines and records that could not be read, by line.
    pub bad: Vec<Malformed>,
    /// How many could not be read, in all.
    pub malformed: u64,
    /// Every line up to this one is read whole: an unfinished last line or record (a file
    /// still being written) lies after it and is left for the next import.
    pub through: u64,
}

/// The longest record or line read; anything longer is malformed (bounded memory).
pub const MAX_RECORD: usize = 4 << 20;

/// How many unreadable lines or records are kept to report; the rest are only counted.
pub const KEPT_MALFORMED: usize = 100;

/// Unreadable lines and records as they are found (in line order): counted, the first
/// [`KEPT_MALFORMED`] kept.
#[derive(Debug, Default)]
struct Bad {
    kept: Vec<Malformed>,
    count: u64,
}

impl Bad {
    fn push(&mut self, m: Malformed) {
        self.count += 1;
        if self.kept.len() < KEPT_MALFORMED {
            self.kept.push(m);
        }
    }

    fn read(self, through: u64) -> Read {
        Read {
            bad: self.kept,
            malformed: self.count,
            through,
        }
    }
}

fn hash(raw: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let digest = Sha256::digest(raw);
    let mut out = String::with_capacity(64);
    for b in digest {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 0xf)]));
    }
    out
}

/// `YYYYMMDD HH:MM:SS`, server_audit's own timestamp, read by hand: chrono's
/// format-string parser cost more than the rest of a line.
fn audit_stamp(t: &[u8]) -> Option<NaiveDateTime> {
    let [
        y0,
        y1,
        y2,
        y3,
        mo0,
        mo1,
        d0,
        d1,
        b' ',
        h0,
        h1,
        b':',
        mi0,
        mi1,
        b':',
        s0,
        s1,
    ] = *t
    else {
        return None;
    };
    let n = |digits: &[u8]| -> Option<u32> {
        digits.iter().try_fold(0u32, |n, &d| {
            d.is_ascii_digit().then(|| n * 10 + u32::from(d - b'0'))
        })
    };
    NaiveDate::from_ymd_opt(
        i32::try_from(n(&[y0, y1, y2, y3])?).ok()?,
        n(&[mo0, mo1])?,
        n(&[d0, d1])?,
    )?
    .and_hms_opt(n(&[h0, h1])?, n(&[mi0, mi1])?, n(&[s0, s1])?)
}

/// Splits a server_audit line on commas outside single quotes; inside quotes a backslash
/// escapes the next character. Quoted fields come back unquoted and unescaped.
fn split_quoted(line: &str) -> Result<Vec<String>, String> {
    let mut fields = Vec::new();
    let mut cur = String::new();
    let mut chars = line.chars();
    let mut quoted = false;
    let mut was_quoted = false;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '\\') => match chars.next() {
                Some('n') => cur.push('\n'),
                Some('r') => cur.push('\r'),
                Some('t') => cur.push('\t'),
                Some(e) => cur.push(e),
                None => return Err("a backslash at the end of the line".into()),
            },
            (true, '\'') => quoted = false,
            (false, '\'') if cur.is_empty() && !was_quoted => {
                quoted = true;
                was_quoted = true;
            }
            (false, ',') => {
                fields.push(std::mem::take(&mut cur));
                was_quoted = false;
            }
            (_, c) => cur.push(c),
        }
    }
    if quoted {
        return Err("a quoted field is not closed".into());
    }
    fields.push(cur);
    Ok(fields)
}

/// The syslog prefix `Mon DD HH:MM:SS host ident: ` of a server_audit line sent to syslog:
/// its time (the year is the one that puts it on or before `today`) and the rest.
fn syslog_prefix(line: &str, today: NaiveDate) -> Option<(NaiveDateTime, &str)> {
    let (stamp, rest) = (line.get(..15)?, line.get(15..)?);
    let mut year = today.year();
    let parse =
        |y: i32| NaiveDateTime::parse_from_str(&format!("{y} {stamp}"), "%Y %b %e %H:%M:%S").ok();
    let mut at = parse(year)?;
    if at.date() > today {
        year -= 1;
        at = parse(year)?;
    }
    // ` host ident: fields`
    let rest = rest.trim_start();
    let (_, after_host) = rest.split_once(' ')?;
    let (_, fields) = after_host.split_once(": ")?;
    Some((at, fields.trim_start()))
}

/// One server_audit line (`line` is its 1-based number); `today` dates syslog lines.
pub fn server_audit_line(raw: &str, line: u64, today: NaiveDate) -> Result<AuditEvent, Malformed> {
    let bad = |message: String| Malformed { line, message };
    let text = raw.trim_end_matches(['\r', '\n']);
    let (at, fields_text) = match audit_stamp(text.as_bytes().get(..17).unwrap_or_default()) {
        Some(at) => (at, text.get(18..).unwrap_or("")),
        None => syslog_prefix(text, today).ok_or_else(|| {
            bad(
                "expected a server_audit line: `YYYYMMDD HH:MM:SS,host,user,…` or a syslog line"
                    .into(),
            )
        })?,
    };
    let f = split_quoted(fields_text).map_err(bad)?;
    // host, user, client host, connection id, query id, operation, database, object, retcode
    if f.len() < 9 {
        return Err(bad(format!("expected 10 fields, found {}", f.len() + 1)));
    }
    let number = |i: usize, what: &str| -> Result<Option<i64>, Malformed> {
        let v = f[i].trim();
        if v.is_empty() {
            return Ok(None);
        }
        v.parse()
            .map(Some)
            .map_err(|_| bad(format!("{what} `{v}` is not a number")))
    };
    let n = f.len();
    // The object may itself have held commas outside quotes (a table list): what lies
    // between the database and the last field is the object.
    let object = f[7..n - 1].join(",");
    Ok(AuditEvent {
        at,
        user: f[1].clone(),
        host: f[2].clone(),
        connection_id: number(3, "the connection id")?,
        query_id: number(4, "the query id")?,
        operation: f[5].clone(),
        database: Some(f[6].clone()).filter(|d| !d.is_empty()),
        object: Some(object).filter(|o| !o.is_empty()),
        status: number(n - 1, "the return code")?,
        line,
        hash: hash(text.as_bytes()),
    })
}

/// Reads server_audit lines: the events, and every line that could not be read.
pub fn read_server_audit(
    mut input: impl BufRead,
    today: NaiveDate,
    mut each: impl FnMut(AuditEvent),
) -> Result<Read, Refused> {
    check_encoding(&mut input)?;
    for_lines(input, |n, text, bad| {
        if text.trim().is_empty() {
            return;
        }
        match server_audit_line(text, n, today) {
            Ok(e) => each(e),
            Err(m) => bad.push(m),
        }
    })
}

/// Calls `each` with every whole line (1-based number, text); lines longer than
/// [`MAX_RECORD`] or not UTF-8 are malformed; a last line without its newline is still
/// being written, and is left for the next import.
fn for_lines(
    mut input: impl BufRead,
    mut each: impl FnMut(u64, &str, &mut Bad),
) -> Result<Read, Refused> {
    let mut bad = Bad::default();
    let mut buf = Vec::new();
    let mut n = 0u64;
    loop {
        buf.clear();
        let read = <&mut _ as std::io::Read>::take(&mut input, MAX_RECORD as u64 + 1)
            .read_until(b'\n', &mut buf)
            .map_err(|e| Refused::Io(e.to_string()))?;
        if read == 0 {
            return Ok(bad.read(n));
        }
        n += 1;
        if !buf.ends_with(b"\n") && buf.len() <= MAX_RECORD {
            // The end of the file, mid-line.
            return Ok(bad.read(n - 1));
        }
        if buf.len() > MAX_RECORD && !buf.ends_with(b"\n") {
            bad.push(Malformed {
                line: n,
                message: format!("longer than {MAX_RECORD} bytes"),
            });
            // Skip to the end of this line.
            loop {
                buf.clear();
                let r = <&mut _ as std::io::Read>::take(&mut input, 1 << 16)
                    .read_until(b'\n', &mut buf)
                    .map_err(|e| Refused::Io(e.to_string()))?;
                if r == 0 || buf.ends_with(b"\n") {
                    break;
                }
            }
            continue;
        }
        match std::str::from_utf8(&buf) {
            Ok(text) => each(n, text, &mut bad),
            Err(_) => bad.push(Malformed {
                line: n,
                message: "not UTF-8".into(),
            }),
        }
    }
}

/// Reads a JSON audit log: one JSON object a line, either MySQL Enterprise's records (in
/// an array, one a line) or Percona's `{"audit_record": {…}}`.
pub fn read_json(
    mut input: impl BufRead,
    mut each: impl FnMut(AuditEvent),
) -> Result<Read, Refused> {
    check_encoding(&mut input)?;
    for_lines(input, |n, text, bad| {
        let t = text.trim();
        let t = t.strip_prefix('[').unwrap_or(t).trim();
        let t = t.strip_suffix(']').unwrap_or(t).trim();
        let t = t.strip_suffix(',').unwrap_or(t).trim();
        if t.is_empty() {
            return;
        }
        let parsed = serde_json::from_str::<serde_json::Value>(t)
            .map_err(|e| format!("not a JSON object: {e}"))
            .and_then(|v| json_event(&v, n, t));
        match parsed {
            Ok(e) => each(e),
            Err(message) => bad.push(Malformed { line: n, message }),
        }
    })
}

fn json_event(v: &serde_json::Value, line: u64, raw: &str) -> Result<AuditEvent, String> {
    let s = |v: &serde_json::Value| -> Option<String> {
        match v {
            serde_json::Value::String(s) => Some(s.clone()),
            serde_json::Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    };
    let int = |v: &serde_json::Value| -> Option<i64> {
        v.as_i64()
            .or_else(|| v.as_str().and_then(|t| t.trim().parse().ok()))
    };
    if let Some(r) = v.get("audit_record") {
        // Percona: name, timestamp, connection_id, status, sqltext, user, host, ip, db
        let at = r.get("timestamp").and_then(s).ok_or("no timestamp")?;
        return Ok(AuditEvent {
            at: parse_time(&at)?,
            user: r.get("user").and_then(s).unwrap_or_default(),
            host: r
                .get("ip")
                .and_then(s)
                .filter(|i| !i.is_empty())
                .or_else(|| r.get("host").and_then(s))
                .unwrap_or_default(),
            connection_id: r.get("connection_id").and_then(int),
            query_id: None,
            operation: r.get("name").and_then(s).ok_or("no name")?,
            database: r.get("db").and_then(s).filter(|d| !d.is_empty()),
            object: r.get("sqltext").and_then(s).filter(|q| !q.is_empty()),
            status: r.get("status").and_then(int),
            line,
            hash: hash(raw.as_bytes()),
        });
    }
    // MySQL Enterprise: timestamp, class, event, connection_id, account{user,host},
    // login{ip}, general_data{command, query, status}
    let at = v.get("timestamp").and_then(s).ok_or("no timestamp")?;
    let general = v.get("general_data");
    let operation = general
        .and_then(|g| g.get("command"))
        .and_then(s)
        .or_else(|| v.get("event").and_then(s))
        .or_else(|| v.get("class").and_then(s))
        .ok_or("no class or event")?;
    Ok(AuditEvent {
        at: parse_time(&at)?,
        user: v
            .pointer("/account/user")
            .and_then(s)
            .or_else(|| v.pointer("/login/user").and_then(s))
            .unwrap_or_default(),
        host: v
            .pointer("/login/ip")
            .and_then(s)
            .filter(|i| !i.is_empty())
            .or_else(|| v.pointer("/account/host").and_then(s))
            .unwrap_or_default(),
        connection_id: v.get("connection_id").and_then(int),
        query_id: v.get("id").and_then(int),
        operation,
        database: v.pointer("/login/db").and_then(s).filter(|d| !d.is_empty()),
        object: general
            .and_then(|g| g.get("query"))
            .and_then(s)
            .filter(|q| !q.is_empty()),
        status: general.and_then(|g| g.get("status")).and_then(int),
        line,
        hash: hash(raw.as_bytes()),
    })
}

/// The timestamps audit logs write: `2026-11-29T10:00:00 UTC`, `2026-11-29T10:00:00Z`,
/// `2026-11-29 10:00:00`, with or without fractions.
fn parse_time(text: &str) -> Result<NaiveDateTime, String> {
    let t = text.trim().trim_end_matches(" UTC").trim_end_matches('Z');
    ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(t, f).ok())
        .ok_or_else(|| format!("timestamp `{text}` is not a date and time"))
}

#[cfg(test)]
mod tests;
