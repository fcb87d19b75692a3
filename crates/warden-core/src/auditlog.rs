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

/// The deepest nesting of XML elements read (an audit log's is three).
const MAX_DEPTH: usize = 16;

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

/// Reads the start of `input` to say whether it is UTF-8 (a byte-order mark is skipped),
/// and refuses anything else as a whole: UTF-16 or UTF-32 (by their byte-order marks, or
/// by the zero bytes ASCII text has in them), or an XML declaration naming another
/// encoding. A DTD in such a document is named as the reason (it is refused for that
/// whatever its encoding).
pub fn check_encoding(input: &mut impl BufRead) -> Result<(), Refused> {
    let head = input.fill_buf().map_err(|e| Refused::Io(e.to_string()))?;
    if head.starts_with(&[0xEF, 0xBB, 0xBF]) {
        input.consume(3);
        return check_declared_encoding(input);
    }
    // By the byte-order mark, else by where ASCII text has its zero bytes.
    let wide = match head {
        [0xFF, 0xFE, 0, 0, ..] => Some(("UTF-32LE", 4, true)),
        [0, 0, 0xFE, 0xFF, ..] => Some(("UTF-32BE", 4, false)),
        [0xFF, 0xFE, ..] => Some(("UTF-16LE", 2, true)),
        [0xFE, 0xFF, ..] => Some(("UTF-16BE", 2, false)),
        [a, 0, 0, 0, ..] if *a != 0 => Some(("UTF-32LE", 4, true)),
        [0, 0, 0, a, ..] if *a != 0 => Some(("UTF-32BE", 4, false)),
        [a, 0, b, 0, ..] if *a != 0 && *b != 0 => Some(("UTF-16LE", 2, true)),
        [0, a, 0, b, ..] if *a != 0 && *b != 0 => Some(("UTF-16BE", 2, false)),
        _ => None,
    };
    let Some((name, width, little)) = wide else {
        return check_declared_encoding(input);
    };
    // What the document says, in ASCII: enough to find a DTD in it.
    let narrow: Vec<u8> = head
        .chunks_exact(width)
        .map(|c| if little { c[0] } else { c[width - 1] })
        .filter(|b| b.is_ascii())
        .collect();
    if let Some(at) = declaration(&narrow) {
        let line = 1 + count_newlines(&narrow[..at]);
        return Err(Refused::Dtd { line });
    }
    Err(Refused::Encoding(format!(
        "the file is {name}, not UTF-8 (as the servers write audit logs): nothing was \
         imported; convert it first, e.g. `iconv -f {name} -t UTF-8 FILE > FILE.utf8`"
    )))
}

/// An XML declaration at the start that names an encoding other than UTF-8 (or its ASCII
/// subset) is refused: the bytes would be read as something they are not.
fn check_declared_encoding(input: &mut impl BufRead) -> Result<(), Refused> {
    let head = input.fill_buf().map_err(|e| Refused::Io(e.to_string()))?;
    let Some(decl) = head.strip_prefix(b"<?xml") else {
        return Ok(());
    };
    let end = memchr::memmem::find(decl, b"?>").unwrap_or(decl.len().min(256));
    let decl = String::from_utf8_lossy(&decl[..end]).to_ascii_lowercase();
    // The pseudo-attribute `encoding`, XML whitespace around its `=`, its quoted value.
    let xml_space = [' ', '\t', '\r', '\n'];
    let value = decl.match_indices("encoding").find_map(|(at, word)| {
        let rest = decl[at + word.len()..].trim_start_matches(xml_space);
        let rest = rest.strip_prefix('=')?.trim_start_matches(xml_space);
        let quote = rest.chars().next().filter(|q| *q == '"' || *q == '\'')?;
        Some(
            rest[1..]
                .split(quote)
                .next()
                .unwrap_or_default()
                .to_string(),
        )
    });
    let Some(name) = value else {
        return Ok(());
    };
    if ["utf-8", "utf8", "us-ascii", "ascii"].contains(&name.as_str()) {
        return Ok(());
    }
    // A DTD is the reason to name, whatever the encoding.
    let head = input.fill_buf().map_err(|e| Refused::Io(e.to_string()))?;
    if let Some(at) = declaration(head) {
        return Err(Refused::Dtd {
            line: 1 + count_newlines(&head[..at]),
        });
    }
    Err(Refused::Encoding(format!(
        "the XML declares encoding `{name}`, not UTF-8: nothing was imported; convert it \
         first, e.g. `iconv -f {name} -t UTF-8 FILE > FILE.utf8`"
    )))
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

/// Reads an XML audit log (`<AUDIT><AUDIT_RECORD>…`): new-style records with one element
/// per field, or old-style with attributes. A document with a DTD is refused at once; a
/// file still being written (no `</AUDIT>`, a record cut short) gives every whole record.
pub fn read_xml(
    mut input: impl BufRead,
    mut each: impl FnMut(AuditEvent),
) -> Result<Read, Refused> {
    use quick_xml::events::Event;
    check_encoding(&mut input)?;
    let mut reader = Lines::xml_reader(input);
    let mut buf = Vec::new();
    let mut bad = Bad::default();
    // The record being read: its fields, its start line, its raw text for the hash.
    let mut record: Option<(Vec<(String, String)>, u64)> = None;
    let mut field: Option<String> = None;
    let mut text = String::new();
    let mut size = 0usize;
    let mut broken: Option<String> = None;
    // Elements open: the parser keeps each one's name, so their nesting is bounded too.
    let mut depth = 0usize;
    loop {
        buf.clear();
        let before = reader.buffer_position();
        // The line the next event starts on.
        let line = reader.get_ref().newlines + 1;
        // Outside a record each event may hold MAX_RECORD bytes; inside one, the record.
        if record.is_none() {
            reader.get_mut().mark();
        }
        let ev = reader.read_event_into(&mut buf);
        if let Some(line) = reader.get_ref().declaration {
            return Err(Refused::Dtd { line });
        }
        let ev = match ev {
            Ok(ev) => ev,
            Err(e) => {
                let start = record.as_ref().map(|(_, start)| *start);
                if reader.get_ref().over_budget {
                    return Ok(stop(bad, too_long(start.unwrap_or(line))));
                }
                return Ok(stop(bad, unreadable(start, line, &e)));
            }
        };
        size += (reader.buffer_position() - before) as usize;
        match &ev {
            Event::Start(_) => depth += 1,
            Event::End(_) => depth = depth.saturating_sub(1),
            _ => {}
        }
        if depth > MAX_DEPTH {
            return Ok(stop(
                bad,
                Malformed {
                    line,
                    message: format!(
                        "elements nested deeper than {MAX_DEPTH}: not an audit log; the rest of \
                         the file is not read"
                    ),
                },
            ));
        }
        match ev {
            Event::DocType(_) => return Err(Refused::Dtd { line }),
            Event::Eof => {
                return Ok(match record {
                    Some((_, start)) => stop(bad, cut_short_at_end(start)),
                    None => bad.read(line - 1),
                });
            }
            Event::Start(e) if e.local_name().as_ref() == "AUDIT_RECORD" => {
                size = 0;
                record = Some((record_attributes(&e, &mut broken), line));
            }
            Event::Empty(e) if e.local_name().as_ref() == "AUDIT_RECORD" => {
                size = 0;
                record = Some((record_attributes(&e, &mut broken), line));
                finish_record(&mut record, &mut broken, &mut bad, &mut each);
            }
            Event::Start(e) if record.is_some() => {
                field = Some(e.local_name().as_ref().to_uppercase());
                text.clear();
            }
            Event::Text(t) if field.is_some() => text.push_str(&t.xml10_content()),
            Event::CData(t) if field.is_some() => text.push_str(&t.into_inner()),
            Event::GeneralRef(r) if field.is_some() => {
                if let Err(problem) = push_reference(&r, &mut text) {
                    broken = Some(problem);
                }
            }
            Event::End(e) if e.local_name().as_ref() == "AUDIT_RECORD" => {
                finish_record(&mut record, &mut broken, &mut bad, &mut each);
            }
            Event::End(_) if field.is_some() => {
                if let (Some(name), Some((fields, _))) = (field.take(), record.as_mut()) {
                    fields.push((name, std::mem::take(&mut text)));
                }
            }
            _ => {}
        }
        if size > MAX_RECORD
            && let Some((_, start)) = record
        {
            return Ok(stop(bad, too_long(start)));
        }
    }
}

/// A read that stops at `at`: everything before its line is read, nothing after.
fn stop(mut bad: Bad, at: Malformed) -> Read {
    let through = at.line - 1;
    bad.push(at);
    bad.read(through)
}

/// The last record of a file that ends inside it: left for the next import.
fn cut_short_at_end(start: u64) -> Malformed {
    Malformed {
        line: start,
        message:
            "the last record is cut short (a file still being written?): left for the next import"
                .into(),
    }
}

/// A record (or text outside any) over [`MAX_RECORD`]: the rest of the file is not read.
fn too_long(start: u64) -> Malformed {
    Malformed {
        line: start,
        message: format!(
            "a record or text longer than {MAX_RECORD} bytes: the rest of the file is not read"
        ),
    }
}

/// Where an XML read stops at a parse error. Inside a record it is most likely the end of
/// a file still being written; outside one, nothing after it can be trusted.
fn unreadable(record_start: Option<u64>, line: u64, e: &quick_xml::Error) -> Malformed {
    match record_start {
        // The end of a file still being written, most likely.
        Some(start) => Malformed {
            line: start,
            message: format!("a record cut short ({e}): left for the next import"),
        },
        None => Malformed {
            line,
            message: format!("not well-formed XML: {e}: the rest of the file is not read"),
        },
    }
}

/// Appends what a reference (`&amp;`, `&#233;`) stands for to a field's text. Only XML's
/// own entities and character references resolve: a document declares no others, since
/// one with a DTD is refused.
fn push_reference(r: &quick_xml::events::BytesRef<'_>, text: &mut String) -> Result<(), String> {
    let name = r.xml10_content();
    match name.as_ref() {
        "amp" => text.push('&'),
        "lt" => text.push('<'),
        "gt" => text.push('>'),
        "quot" => text.push('"'),
        "apos" => text.push('\''),
        _ => match r.resolve_char_ref() {
            Ok(Some(c)) => text.push(c),
            _ => {
                return Err(format!(
                    "the entity `&{name};` is not declared (and never will be)"
                ));
            }
        },
    }
    Ok(())
}

/// A reader that counts the newlines consumed (the line each XML event starts on), bounds
/// what the parser may take in since [`Lines::mark`], and watches for `<!DOCTYPE` and
/// `<!ENTITY` in the raw bytes, malformed or not, so a declaration is refused even where
/// the parser would stop at a syntax error first. Each byte is looked at once: the
/// look-ahead goes over bytes not scanned yet, and a marker split between two buffers is
/// caught at the seam when it is consumed.
struct Lines<R> {
    inner: R,
    newlines: u64,
    /// The line of the first declaration seen.
    declaration: Option<u64>,
    /// The last bytes consumed, for a marker split between two buffers.
    tail: [u8; SEAM],
    tail_len: usize,
    /// Bytes at the front of the inner buffer already looked over.
    scanned: usize,
    /// Bytes consumed since the last mark, and whether the parser asked for more than the
    /// budget allows.
    since_mark: usize,
    over_budget: bool,
}

#[cfg(test)]
thread_local! {
    /// Bytes the look-ahead has scanned on this thread: a test's proof that each byte is
    /// looked at about once.
    static LOOKED_AT: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// Longer than either marker: enough of the previous buffer to see one split across.
const SEAM: usize = 9;

/// What the parser may take in since a mark: a record (or one event outside a record) and
/// the one buffer it was reading when it went over.
const BUDGET: usize = MAX_RECORD + (1 << 20);

/// The line of the first `<!DOCTYPE` or `<!ENTITY` in a whole document (any case), read in
/// buffers with the seam between two looked at: a first pass, so that a document with a
/// DTD anywhere is refused before anything of it is kept.
pub fn find_declaration(mut input: impl BufRead) -> Result<Option<u64>, Refused> {
    let mut newlines = 0u64;
    let mut tail: Vec<u8> = Vec::with_capacity(2 * SEAM);
    loop {
        let buf = input.fill_buf().map_err(|e| Refused::Io(e.to_string()))?;
        if buf.is_empty() {
            return Ok(None);
        }
        // The seam: the end of the last buffer and the start of this one.
        let head = buf.len().min(SEAM);
        let mut seam = std::mem::take(&mut tail);
        seam.extend_from_slice(&buf[..head]);
        let before = seam.len() - head;
        if let Some(at) = declaration(&seam).filter(|at| *at < before) {
            return Ok(Some(newlines + 1 - count_newlines(&seam[at..before])));
        }
        if let Some(at) = declaration(buf) {
            return Ok(Some(newlines + 1 + count_newlines(&buf[..at])));
        }
        newlines += count_newlines(buf);
        tail = buf[buf.len() - buf.len().min(SEAM)..].to_vec();
        let n = buf.len();
        input.consume(n);
    }
}

/// Where the first `<!DOCTYPE` or `<!ENTITY` starts in `bytes`, in any case.
fn declaration(bytes: &[u8]) -> Option<usize> {
    let at = |i: usize, marker: &[u8]| {
        bytes
            .get(i..i + marker.len())
            .is_some_and(|w| w.eq_ignore_ascii_case(marker))
    };
    memchr::memchr_iter(b'<', bytes).find(|&i| at(i, b"<!DOCTYPE") || at(i, b"<!ENTITY"))
}

fn count_newlines(bytes: &[u8]) -> u64 {
    memchr::memchr_iter(b'\n', bytes).count() as u64
}

impl<R: BufRead> Lines<R> {
    /// An XML reader over `input` that counts its lines and watches for declarations.
    fn xml_reader(input: R) -> quick_xml::Reader<Self> {
        let mut reader = quick_xml::Reader::from_reader(Lines {
            inner: input,
            newlines: 0,
            declaration: None,
            tail: [0; SEAM],
            tail_len: 0,
            scanned: 0,
            since_mark: 0,
            over_budget: false,
        });
        reader.config_mut().check_end_names = true;
        reader
    }
}

impl<R> Lines<R> {
    /// From here, the parser may take in at most [`BUDGET`] bytes.
    fn mark(&mut self) {
        self.since_mark = 0;
    }

    /// Notes bytes the parser took: `len` of them, `newlines` in them, their first and
    /// last [`SEAM`] bytes (all of them when fewer). A marker that began in the bytes taken
    /// before and ends in these is a declaration too.
    fn took(&mut self, len: usize, newlines: u64, first: &[u8], last: &[u8]) {
        if self.declaration.is_none() && self.tail_len > 0 {
            let mut seam = [0u8; 2 * SEAM];
            seam[..self.tail_len].copy_from_slice(&self.tail[..self.tail_len]);
            seam[self.tail_len..self.tail_len + first.len()].copy_from_slice(first);
            let seam = &seam[..self.tail_len + first.len()];
            if let Some(at) = declaration(seam).filter(|at| *at < self.tail_len) {
                let after = count_newlines(&seam[at..self.tail_len]);
                self.declaration = Some(self.newlines + 1 - after);
            }
        }
        self.newlines += newlines;
        self.since_mark += len;
        // The last SEAM bytes taken, across calls.
        let mut joined = [0u8; 2 * SEAM];
        let keep = SEAM.saturating_sub(last.len()).min(self.tail_len);
        joined[..keep].copy_from_slice(&self.tail[self.tail_len - keep..self.tail_len]);
        joined[keep..keep + last.len()].copy_from_slice(last);
        self.tail_len = keep + last.len();
        self.tail[..self.tail_len].copy_from_slice(&joined[..self.tail_len]);
    }
}

impl<R: BufRead> std::io::Read for Lines<R> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let n = {
            let available = self.fill_buf()?;
            let n = available.len().min(out.len());
            out[..n].copy_from_slice(&available[..n]);
            n
        };
        self.consume(n);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Lines<R> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        if self.since_mark > BUDGET {
            self.over_budget = true;
            return Err(std::io::Error::other(format!(
                "more than {MAX_RECORD} bytes in one record"
            )));
        }
        let ahead = self.inner.fill_buf()?;
        // Look ahead over what is new: the parser may fail on a declaration before
        // consuming it.
        if self.declaration.is_none() && ahead.len() > self.scanned {
            let from = self.scanned.saturating_sub(SEAM);
            #[cfg(test)]
            LOOKED_AT.with(|n| n.set(n.get() + (ahead.len() - from) as u64));
            if let Some(at) = declaration(&ahead[from..]) {
                self.declaration = Some(self.newlines + 1 + count_newlines(&ahead[..from + at]));
            }
        }
        self.scanned = self.scanned.max(ahead.len());
        Ok(ahead)
    }

    fn consume(&mut self, amt: usize) {
        let (mut first, mut last) = ([0u8; SEAM], [0u8; SEAM]);
        let (len, newlines, f, l) = match self.inner.fill_buf() {
            Ok(buf) => {
                let taken = &buf[..amt.min(buf.len())];
                let f = taken.len().min(SEAM);
                first[..f].copy_from_slice(&taken[..f]);
                last[..f].copy_from_slice(&taken[taken.len() - f..]);
                (taken.len(), count_newlines(taken), f, f)
            }
            Err(_) => (0, 0, 0, 0),
        };
        self.took(len, newlines, &first[..f], &last[..l]);
        self.inner.consume(amt);
        self.scanned = self.scanned.saturating_sub(amt);
    }
}

/// An old-style record's fields, from its attributes.
fn record_attributes(
    e: &quick_xml::events::BytesStart<'_>,
    broken: &mut Option<String>,
) -> Vec<(String, String)> {
    let mut fields = Vec::new();
    for a in e.attributes() {
        let value = a.map_err(|err| err.to_string()).and_then(|a| {
            let v = a
                .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .map_err(|err| err.to_string())?;
            Ok((a.key.local_name().as_ref().to_uppercase(), v.to_string()))
        });
        match value {
            Ok(f) => fields.push(f),
            Err(err) => *broken = Some(format!("an attribute that cannot be read: {err}")),
        }
    }
    fields
}

fn finish_record(
    record: &mut Option<(Vec<(String, String)>, u64)>,
    broken: &mut Option<String>,
    bad: &mut Bad,
    each: &mut impl FnMut(AuditEvent),
) {
    let Some((fields, line)) = record.take() else {
        return;
    };
    if let Some(message) = broken.take() {
        bad.push(Malformed { line, message });
        return;
    }
    let get = |k: &str| fields.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let raw: String = fields
        .iter()
        .map(|(k, v)| format!("{k}={v}\u{1f}"))
        .collect();
    let event = (|| -> Result<AuditEvent, String> {
        let at = get("TIMESTAMP").ok_or("no TIMESTAMP")?;
        let user = get("USER").or_else(|| get("PRIV_USER")).unwrap_or_default();
        Ok(AuditEvent {
            at: parse_time(&at)?,
            user,
            host: get("IP")
                .filter(|i| !i.is_empty())
                .or_else(|| get("HOST"))
                .unwrap_or_default(),
            connection_id: get("CONNECTION_ID").and_then(|v| v.trim().parse().ok()),
            query_id: None,
            operation: get("NAME").ok_or("no NAME")?,
            database: get("DB").filter(|d| !d.is_empty()),
            object: get("SQLTEXT").filter(|q| !q.is_empty()),
            status: get("STATUS").and_then(|v| v.trim().parse().ok()),
            line,
            hash: hash(raw.as_bytes()),
        })
    })();
    match event {
        Ok(e) => each(e),
        Err(message) => bad.push(Malformed { line, message }),
    }
}

#[cfg(test)]
mod tests;
