//! MySQL Enterprise / Percona XML audit logs, read with the parser's intake bounded and
//! every DTD refused.

use std::io::BufRead;

use super::*;

/// The deepest nesting of XML elements read (an audit log's is three).
const MAX_DEPTH: usize = 16;

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
    pub(super) static LOOKED_AT: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
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
pub(super) fn declaration(bytes: &[u8]) -> Option<usize> {
    let at = |i: usize, marker: &[u8]| {
        bytes
            .get(i..i + marker.len())
            .is_some_and(|w| w.eq_ignore_ascii_case(marker))
    };
    memchr::memchr_iter(b'<', bytes).find(|&i| at(i, b"<!DOCTYPE") || at(i, b"<!ENTITY"))
}

pub(super) fn count_newlines(bytes: &[u8]) -> u64 {
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
