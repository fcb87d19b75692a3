//! Audit evidence as CSV an auditor can re-check offline (DESIGN.md, Exports and
//! evidence): RFC 4180 with every field quoted, formula triggers neutralised
//! ([`crate::csv_guard`]), hashed and counted as it is written, and a manifest beside it
//! that [`verify`] checks the file against.

use std::io::Write;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The manifest's own format, for readers of older or newer exports.
pub const MANIFEST_FORMAT: &str = "warden-export/1";

/// The UTF-8 byte-order mark some spreadsheets want before they read UTF-8.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// A CSV file being written: a header, then rows, every cell quoted and guarded.
///
/// Written by hand rather than through the `csv` crate (which reads them back, in
/// [`verify`]): with every field quoted, RFC 4180 asks only that a quote inside a field be
/// doubled, and a ten-million-row export spends its time in exactly this loop. Rows
/// collect in a buffer that is hashed and handed on a megabyte at a time.
pub struct CsvOut<W: Write> {
    inner: W,
    buf: Vec<u8>,
    hasher: Sha256,
    bytes: u64,
    rows: u64,
}

/// What was written: rows (the header not counted), bytes and their SHA-256.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    pub rows: u64,
    pub bytes: u64,
    pub sha256: String,
}

/// The buffer is handed on past this size.
const CHUNK: usize = 1 << 20;

impl<W: Write> CsvOut<W> {
    pub fn new(inner: W, header: &[&str], bom: bool) -> std::io::Result<Self> {
        let mut out = Self {
            inner,
            buf: Vec::with_capacity(CHUNK + (64 << 10)),
            hasher: Sha256::new(),
            bytes: 0,
            rows: 0,
        };
        if bom {
            out.buf.extend_from_slice(BOM);
        }
        out.record(header.iter().map(|h| h.as_bytes()))?;
        Ok(out)
    }

    /// Appends one quoted, guarded field.
    #[inline]
    fn field(&mut self, cell: &[u8]) {
        self.buf.push(b'"');
        if crate::csv_guard::needs_guard_bytes(cell) {
            self.buf.push(b'\'');
        }
        // Most cells are short: a plain loop beats memchr's dispatch there.
        let quote = |b: &[u8]| match b.len() {
            0..32 => b.iter().position(|&c| c == b'"'),
            _ => memchr::memchr(b'"', b),
        };
        let mut rest = cell;
        while let Some(at) = quote(rest) {
            self.buf.extend_from_slice(&rest[..=at]);
            self.buf.push(b'"');
            rest = &rest[at + 1..];
        }
        self.buf.extend_from_slice(rest);
        self.buf.push(b'"');
    }

    fn record<'c>(&mut self, cells: impl IntoIterator<Item = &'c [u8]>) -> std::io::Result<()> {
        for (i, cell) in cells.into_iter().enumerate() {
            if i > 0 {
                self.buf.push(b',');
            }
            self.field(cell);
        }
        self.buf.extend_from_slice(b"\r\n");
        if self.buf.len() >= CHUNK {
            self.hand_on()?;
        }
        Ok(())
    }

    /// Hashes, counts and writes what is buffered.
    fn hand_on(&mut self) -> std::io::Result<()> {
        self.hasher.update(&self.buf);
        self.bytes += self.buf.len() as u64;
        self.inner.write_all(&self.buf)?;
        self.buf.clear();
        Ok(())
    }

    /// Writes one row, each cell guarded against formula injection.
    pub fn row<S: AsRef<str>>(
        &mut self,
        cells: impl IntoIterator<Item = S>,
    ) -> std::io::Result<()> {
        for (i, cell) in cells.into_iter().enumerate() {
            if i > 0 {
                self.buf.push(b',');
            }
            self.field(cell.as_ref().as_bytes());
        }
        self.buf.extend_from_slice(b"\r\n");
        if self.buf.len() >= CHUNK {
            self.hand_on()?;
        }
        self.rows += 1;
        Ok(())
    }

    /// Writes one row of cells given as bytes (UTF-8 text), each guarded: for rows read
    /// straight from the database, without a `String` per cell.
    pub fn row_bytes(&mut self, cells: &[&[u8]]) -> std::io::Result<()> {
        self.record(cells.iter().copied())?;
        self.rows += 1;
        Ok(())
    }

    /// [`CsvOut::row_bytes`] of cells the caller knows hold no `"` (none to double): for
    /// batches of rows checked at once.
    pub fn row_bytes_unquoted(&mut self, cells: &[&[u8]]) -> std::io::Result<()> {
        for (i, cell) in cells.iter().enumerate() {
            debug_assert!(!cell.contains(&b'"'));
            if i > 0 {
                self.buf.push(b',');
            }
            self.buf.push(b'"');
            if crate::csv_guard::needs_guard_bytes(cell) {
                self.buf.push(b'\'');
            }
            self.buf.extend_from_slice(cell);
            self.buf.push(b'"');
        }
        self.buf.extend_from_slice(b"\r\n");
        if self.buf.len() >= CHUNK {
            self.hand_on()?;
        }
        self.rows += 1;
        Ok(())
    }

    /// Bytes handed on so far (what is still buffered not counted).
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Rows written so far (the header not counted).
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Flushes and says what was written; the writer is handed back (to sync and close).
    pub fn finish(mut self) -> std::io::Result<(W, Written)> {
        self.hand_on()?;
        self.inner.flush()?;
        let written = Written {
            rows: self.rows,
            bytes: self.bytes,
            sha256: hex::encode(self.hasher.finalize()),
        };
        Ok((self.inner, written))
    }
}

/// Where the data came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Source {
    /// `@@server_uuid` (MySQL); MariaDB has none.
    pub server_uuid: Option<String>,
    pub server_id: Option<u64>,
    pub version: String,
    /// GTID position (`@@gtid_executed` on MySQL, `@@gtid_current_pos` on MariaDB).
    pub position: Option<String>,
}

/// The audit trail's head when the export was made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Head {
    pub seq: u64,
    pub hash: String,
}

/// `NAME.csv.manifest.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    /// access | findings | logs | audit-trail
    pub kind: String,
    pub parameters: serde_json::Value,
    /// The query the rows came from, without its values (they are in `parameters`).
    pub population_query: String,
    pub source: Source,
    /// The CSV's file name, beside the manifest.
    pub file: String,
    pub rows: u64,
    pub bytes: u64,
    pub sha256: String,
    pub bom: bool,
    pub generated_at: String,
    pub generated_by: String,
    pub audit_head: Head,
}

/// What differs between a CSV file and its manifest; empty when it is intact. An export of
/// the audit trail is also re-chained: see [`verify_trail`].
pub fn verify(csv_bytes: &[u8], manifest: &Manifest) -> Vec<String> {
    let mut problems =
        verify_described(csv_bytes, manifest).unwrap_or_else(|e| vec![e.to_string()]);
    if manifest.kind == "audit-trail" && problems.is_empty() {
        problems.extend(verify_trail(csv_bytes, &manifest.audit_head));
    }
    problems
}

/// [`verify`] but for the audit trail's re-chaining, of a file as it streams.
pub fn verify_described(
    input: impl std::io::Read,
    manifest: &Manifest,
) -> std::io::Result<Vec<String>> {
    let mut problems = Vec::new();
    if manifest.format != MANIFEST_FORMAT {
        problems.push(format!(
            "the manifest is of format {:?}, not {MANIFEST_FORMAT:?}",
            manifest.format
        ));
    }
    let described = Described {
        file: manifest.file.clone(),
        rows: manifest.rows,
        bytes: manifest.bytes,
        sha256: manifest.sha256.clone(),
    };
    problems.extend(described.check_reader(input)?);
    Ok(problems)
}

/// A file as a manifest describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Described {
    pub file: String,
    pub rows: u64,
    pub bytes: u64,
    pub sha256: String,
}

impl Described {
    pub fn of(file: &str, w: &Written) -> Self {
        Self {
            file: file.into(),
            rows: w.rows,
            bytes: w.bytes,
            sha256: w.sha256.clone(),
        }
    }

    /// What differs between `bytes` and this description: hash, length, rows (a CSV that
    /// does not parse is named at its first bad row).
    pub fn check(&self, bytes: &[u8]) -> Vec<String> {
        self.check_reader(bytes)
            .unwrap_or_else(|e| vec![format!("{}: {e}", self.file)])
    }

    /// [`Described::check`] of a file read as it streams (an export of millions of rows
    /// is never held whole): hashed and counted as the rows are counted.
    pub fn check_reader(&self, input: impl std::io::Read) -> std::io::Result<Vec<String>> {
        let mut hashing = HashingReader {
            inner: input,
            hasher: Sha256::new(),
            bytes: 0,
        };
        // The csv crate skips a leading byte-order mark.
        let counted = {
            let mut reader = csv::ReaderBuilder::new()
                .has_headers(true)
                .from_reader(&mut hashing);
            let mut record = csv::ByteRecord::new();
            let mut rows = 0u64;
            loop {
                match reader.read_byte_record(&mut record) {
                    Ok(true) => rows += 1,
                    Ok(false) => break Ok(rows),
                    Err(e) => break Err(format!("row {}: {e}", rows + 1)),
                }
            }
        };
        // Whatever the reader left unread (after a bad row) still counts.
        std::io::copy(&mut hashing, &mut std::io::sink())?;
        let mut problems = Vec::new();
        let sha256 = hex::encode(hashing.hasher.finalize());
        if sha256 != self.sha256 {
            problems.push(format!(
                "{}: its SHA-256 is {sha256}, the manifest says {} (the file was altered)",
                self.file, self.sha256
            ));
        }
        if hashing.bytes != self.bytes {
            problems.push(format!(
                "{}: {} bytes, the manifest says {}",
                self.file, hashing.bytes, self.bytes
            ));
        }
        match counted {
            Ok(rows) if rows != self.rows => problems.push(format!(
                "{}: {rows} rows, the manifest says {}",
                self.file, self.rows
            )),
            Ok(_) => {}
            Err(e) => problems.push(format!("{}: {e}", self.file)),
        }
        Ok(problems)
    }
}

/// Hashes and counts what is read through it.
struct HashingReader<R> {
    inner: R,
    hasher: Sha256,
    bytes: u64,
}

impl<R: std::io::Read> std::io::Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }
}

/// A CSV file's header and rows, each cell with its guard removed.
pub type Table = (Vec<String>, Vec<Vec<String>>);

/// Reads a CSV file Warden wrote back into its header and unguarded cells.
pub fn read_table(bytes: &[u8]) -> Result<Table, String> {
    let body = bytes.strip_prefix(BOM).unwrap_or(bytes);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(body);
    let header = reader
        .headers()
        .map_err(|e| format!("the header: {e}"))?
        .iter()
        .map(str::to_string)
        .collect();
    let rows = (reader.records().enumerate())
        .map(|(i, r)| {
            r.map(|r| {
                r.iter()
                    .map(|c| crate::csv_guard::unguard(c).to_string())
                    .collect()
            })
            .map_err(|e| format!("row {}: {e}", i + 1))
        })
        .collect::<Result<_, _>>()?;
    Ok((header, rows))
}

/// The columns of an audit-trail export, in order.
pub const TRAIL_COLUMNS: [&str; 8] = [
    "seq",
    "occurred_at",
    "actor",
    "db_account",
    "action",
    "target",
    "details",
    "hash",
];

/// An audit event as a row of [`TRAIL_COLUMNS`], with its hash: what [`verify_trail`]
/// reads back.
pub fn trail_row(e: &crate::audit::AuditEvent, hash: &str) -> [String; 8] {
    [
        e.seq.to_string(),
        e.occurred_at
            .to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        e.actor.clone(),
        e.db_account.clone(),
        e.action.clone(),
        e.target.clone(),
        e.details.to_string(),
        hash.to_string(),
    ]
}

/// Re-chains an audit-trail export offline: every event's hash is recomputed from the
/// one before it (the first from the genesis hash) and compared with the hash written
/// beside it, and the event at the manifest's head must carry the head's hash. Names the
/// first event that does not hold.
pub fn verify_trail(csv_bytes: &[u8], head: &Head) -> Vec<String> {
    let (header, rows) = match read_table(csv_bytes) {
        Ok(t) => t,
        Err(e) => return vec![format!("the audit trail: {e}")],
    };
    if header != TRAIL_COLUMNS {
        return vec![format!(
            "the audit trail's columns are {header:?}, not {TRAIL_COLUMNS:?}"
        )];
    }
    let mut previous = crate::audit::GENESIS_HASH.to_string();
    let mut head_seen = head.seq == 0;
    for (i, row) in rows.iter().enumerate() {
        let line = i + 1;
        let event = (|| {
            Some(crate::audit::AuditEvent {
                seq: row[0].parse().ok()?,
                occurred_at: chrono::DateTime::parse_from_rfc3339(&row[1])
                    .ok()?
                    .with_timezone(&chrono::Utc),
                actor: row[2].clone(),
                db_account: row[3].clone(),
                action: row[4].clone(),
                target: row[5].clone(),
                details: serde_json::from_str(&row[6]).ok()?,
            })
        })();
        let Some(event) = event else {
            return vec![format!(
                "the audit trail: row {line} does not read as an event"
            )];
        };
        if event.seq != line as u64 {
            return vec![format!(
                "the audit trail: row {line} holds event {}, not event {line}",
                event.seq
            )];
        }
        let hash = event.chain_hash(&previous);
        if hash != row[7] {
            return vec![format!(
                "the audit trail: event {} does not chain (its content or an earlier event was altered)",
                event.seq
            )];
        }
        if event.seq == head.seq {
            if hash != head.hash {
                return vec![format!(
                    "the audit trail: event {} is not the head the manifest records",
                    event.seq
                )];
            }
            head_seen = true;
        }
        previous = hash;
    }
    if !head_seen {
        return vec![format!(
            "the audit trail ends before event {}, the head the manifest records",
            head.seq
        )];
    }
    Vec::new()
}

/// A campaign evidence pack's `manifest.json` (DESIGN.md, Exports and evidence).
pub const PACK_FORMAT: &str = "warden-pack/1";

/// The files of a pack, in the order they are listed.
pub const PACK_FILES: [&str; 4] = [
    "review_items.csv",
    "access_before.csv",
    "access_after.csv",
    "action_log.csv",
];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PackManifest {
    pub format: String,
    pub campaign: serde_json::Value,
    /// How the population was chosen, and the query it was read with.
    pub scope: serde_json::Value,
    pub population_query: String,
    pub source: Source,
    pub totals: serde_json::Value,
    pub files: Vec<Described>,
    /// The officer's sign-off: the audit-trail event that records it, whole, so that its
    /// hash can be recomputed here and compared with the trail's.
    pub sign_off: crate::audit::AuditEvent,
    pub sign_off_previous_hash: String,
    pub sign_off_hash: String,
    pub generated_at: String,
    pub generated_by: String,
}

impl PackManifest {
    /// SHA-256 of everything the manifest says but its sign-off, as canonical JSON: the
    /// sign-off event attests it, so no word of the manifest can change unnoticed.
    pub fn body_sha256(&self) -> String {
        let mut body = serde_json::to_value(self).unwrap_or_default();
        if let Some(fields) = body.as_object_mut() {
            for signed in ["sign_off", "sign_off_previous_hash", "sign_off_hash"] {
                fields.remove(signed);
            }
        }
        hex::encode(Sha256::digest(body.to_string().as_bytes()))
    }
}

/// What differs between a pack's files and its manifest; empty when it is intact.
/// `read` gives a file of the pack's folder by name; `present` lists the folder.
pub fn verify_pack(
    manifest: &PackManifest,
    read: impl Fn(&str) -> Option<Vec<u8>>,
    present: &[String],
) -> Vec<String> {
    let mut problems = Vec::new();
    if manifest.format != PACK_FORMAT {
        problems.push(format!(
            "manifest.json is of format {:?}, not {PACK_FORMAT:?}",
            manifest.format
        ));
    }
    for name in PACK_FILES {
        if !manifest.files.iter().any(|f| f.file == name) {
            problems.push(format!("manifest.json does not describe {name}"));
        }
    }
    for f in &manifest.files {
        match read(&f.file) {
            Some(bytes) => problems.extend(f.check(&bytes)),
            None => problems.push(format!("{}: missing from the pack", f.file)),
        }
    }
    // Hidden files (a file manager's `.DS_Store`) are not evidence, and not counted.
    for name in present.iter().filter(|n| !n.starts_with('.')) {
        if name != "manifest.json" && !manifest.files.iter().any(|f| &f.file == name) {
            problems.push(format!("{name}: in the pack but not in its manifest"));
        }
    }
    // The sign-off event: its hash, and the file hashes it attests.
    let s = &manifest.sign_off;
    if s.chain_hash(&manifest.sign_off_previous_hash) != manifest.sign_off_hash {
        problems.push(format!(
            "manifest.json: the sign-off (audit event {}) does not match its hash (the manifest was altered)",
            s.seq
        ));
    }
    if s.details["manifest_sha256"].as_str() != Some(manifest.body_sha256().as_str()) {
        problems.push(format!(
            "manifest.json: altered since the sign-off (audit event {}): its content does not \
             match the digest the sign-off attests",
            s.seq
        ));
    }
    for f in &manifest.files {
        let attested = s.details["files"][&f.file].as_str();
        if attested != Some(f.sha256.as_str()) {
            problems.push(format!(
                "manifest.json: the sign-off attests {} as {}, the manifest lists {}",
                f.file,
                attested.unwrap_or("nothing"),
                f.sha256
            ));
        }
    }
    if problems.is_empty() {
        let acknowledged = manifest.totals["held_again"].as_u64().unwrap_or(0);
        let held = revocations_done(&read);
        // A revoked grant held again when the pack was made (granted anew since the close)
        // is counted in the totals, which the sign-off attests: the pack says so itself.
        if held.len() as u64 != acknowledged {
            problems.extend(held);
            problems.push(format!(
                "manifest.json counts {acknowledged} revoked grants held again; access_after.csv shows otherwise"
            ));
        }
    }
    problems
}

/// Every item remediated as revoked is absent from `access_after.csv`: the pack proves
/// its own revocations.
fn revocations_done(read: &impl Fn(&str) -> Option<Vec<u8>>) -> Vec<String> {
    let table = |name: &str| {
        read(name)
            .ok_or_else(|| format!("{name}: missing"))
            .and_then(|b| read_table(&b).map_err(|e| format!("{name}: {e}")))
    };
    let (items, after) = match (table("review_items.csv"), table("access_after.csv")) {
        (Ok(i), Ok(a)) => (i, a),
        (Err(e), _) | (_, Err(e)) => return vec![e],
    };
    let column = |t: &Table, name: &str| t.0.iter().position(|h| h == name);
    let (Some(iu), Some(ir), Some(ix)) = (
        column(&items, "user_id"),
        column(&items, "role"),
        column(&items, "result"),
    ) else {
        return vec!["review_items.csv: no user_id, role or result column".into()];
    };
    let (Some(au), Some(ar)) = (column(&after, "user_id"), column(&after, "role")) else {
        return vec!["access_after.csv: no user_id or role column".into()];
    };
    let held: std::collections::HashSet<(&str, &str)> = (after.1.iter())
        .map(|r| (r[au].as_str(), r[ar].as_str()))
        .collect();
    (items.1.iter())
        .filter(|r| r[ix] == "revoked" && held.contains(&(r[iu].as_str(), r[ir].as_str())))
        .map(|r| {
            format!(
                "access_after.csv: user {} still holds {}, which review_items.csv says was revoked",
                r[iu], r[ir]
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written(rows: &[[&str; 2]], bom: bool) -> (Vec<u8>, Written) {
        let mut out = CsvOut::new(Vec::new(), &["login", "comment"], bom).unwrap();
        for r in rows {
            out.row(r.iter()).unwrap();
        }
        out.finish().unwrap()
    }

    fn manifest(w: &Written, bom: bool) -> Manifest {
        Manifest {
            format: MANIFEST_FORMAT.into(),
            kind: "findings".into(),
            parameters: serde_json::json!({}),
            population_query: "SELECT …".into(),
            source: Source {
                server_uuid: None,
                server_id: Some(1),
                version: "10.11".into(),
                position: None,
            },
            file: "trail.csv".into(),
            rows: w.rows,
            bytes: w.bytes,
            sha256: w.sha256.clone(),
            bom,
            generated_at: "2026-11-29T00:00:00Z".into(),
            generated_by: "olivia".into(),
            audit_head: Head {
                seq: 3,
                hash: "ab".into(),
            },
        }
    }

    #[test]
    fn every_field_is_quoted_guarded_hashed_and_read_back_as_written() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/corpora/csv/payloads.txt"
        );
        let corpus = std::fs::read_to_string(path).expect("the CSV corpus");
        let payloads: Vec<&str> = corpus.lines().filter(|l| !l.is_empty()).collect();
        let rows: Vec<[&str; 2]> = payloads.iter().map(|p| ["alice", *p]).collect();
        for bom in [false, true] {
            let (bytes, w) = written(&rows, bom);
            assert_eq!(w.rows, payloads.len() as u64);
            assert_eq!(w.bytes, bytes.len() as u64);
            assert_eq!(w.sha256, hex::encode(Sha256::digest(&bytes)));
            assert_eq!(bytes.starts_with(BOM), bom);
            let body = bytes.strip_prefix(BOM).unwrap_or(&bytes);
            assert!(body.starts_with(b"\"login\",\"comment\"\r\n"));
            let mut r = csv::Reader::from_reader(body);
            for (record, payload) in r.records().zip(&payloads) {
                let record = record.unwrap();
                let cell = &record[1];
                assert!(
                    !cell.starts_with(['=', '+', '-', '@', '\t', '\r', '\n']),
                    "{cell:?}"
                );
                assert_eq!(crate::csv_guard::unguard(cell), *payload);
            }
            assert!(verify(&bytes, &manifest(&w, bom)).is_empty());
        }
    }

    #[test]
    fn rows_of_bytes_are_written_as_rows_of_text_are() {
        let corpus = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/corpora/csv/payloads.txt"
        ))
        .expect("the CSV corpus");
        let mut cells: Vec<&str> = corpus.lines().collect();
        cells.extend(["", "'", "''=x", "a \"quoted\" word", "\"", "line\r\nbreak"]);
        let write = |how: u8| {
            let mut out = CsvOut::new(Vec::new(), &["a", "b"], false).unwrap();
            for c in &cells {
                let row = [c.as_bytes(), b"x"];
                match how {
                    0 => out.row([*c, "x"]).unwrap(),
                    1 => out.row_bytes(&row).unwrap(),
                    _ if !c.contains('"') => out.row_bytes_unquoted(&row).unwrap(),
                    _ => out.row_bytes(&row).unwrap(),
                }
            }
            out.finish().unwrap()
        };
        let (text, w) = write(0);
        assert_eq!(write(1), (text.clone(), w.clone()));
        assert_eq!(write(2), (text.clone(), w));
        let mut r = csv::Reader::from_reader(&text[..]);
        for (record, cell) in r.records().zip(&cells) {
            assert_eq!(crate::csv_guard::unguard(&record.unwrap()[0]), *cell);
        }
    }

    #[test]
    fn any_byte_altered_or_a_row_removed_is_named() {
        let (bytes, w) = written(&[["alice", "ok"], ["bob", "fine"]], false);
        let m = manifest(&w, false);
        for i in 0..bytes.len() {
            let mut altered = bytes.clone();
            altered[i] ^= 0x01;
            let problems = verify(&altered, &m);
            assert!(
                problems.iter().any(|p| p.contains("SHA-256")),
                "byte {i}: {problems:?}"
            );
        }
        let cut = &bytes[..bytes.len() - b"\"bob\",\"fine\"\r\n".len()];
        let problems = verify(cut, &m);
        assert!(
            problems
                .iter()
                .any(|p| p.contains("1 rows, the manifest says 2")),
            "{problems:?}"
        );
    }

    fn event(seq: u64, actor: &str) -> crate::audit::AuditEvent {
        crate::audit::AuditEvent {
            seq,
            occurred_at: chrono::DateTime::from_timestamp(1_790_000_000 + seq as i64, 123_456_000)
                .unwrap(),
            actor: actor.into(),
            db_account: "warden@%".into(),
            action: "policy.apply".into(),
            target: "=cmd|' /C calc'!A0".into(),
            details: serde_json::json!({ "version": seq, "note": "-1+1" }),
        }
    }

    /// An audit-trail export of `events`, with the hashes of the chain.
    fn trail_csv(events: &[crate::audit::AuditEvent]) -> (Vec<u8>, Head) {
        let mut out = CsvOut::new(Vec::new(), &TRAIL_COLUMNS, false).unwrap();
        let mut previous = crate::audit::GENESIS_HASH.to_string();
        for e in events {
            let hash = e.chain_hash(&previous);
            out.row(trail_row(e, &hash)).unwrap();
            previous = hash;
        }
        let (bytes, _) = out.finish().unwrap();
        let head = Head {
            seq: events.len() as u64,
            hash: previous,
        };
        (bytes, head)
    }

    #[test]
    fn a_trail_export_is_rechained_offline_to_its_head() {
        let events: Vec<_> = (1..=4).map(|i| event(i, "-olivia")).collect();
        let (bytes, head) = trail_csv(&events);
        assert_eq!(verify_trail(&bytes, &head), Vec::<String>::new());
        // An event rewritten with a hash recomputed for it alone breaks the next link.
        let mut forged = events.clone();
        forged[1].actor = "mallory".into();
        let (rewritten, _) = trail_csv(&forged[..2]);
        let (tail, _) = trail_csv(&events);
        let mut spliced = rewritten.clone();
        let rest = tail
            .split(|&b| b == b'\n')
            .skip(3)
            .collect::<Vec<_>>()
            .join(&b'\n');
        spliced.extend_from_slice(&rest);
        let problems = verify_trail(&spliced, &head);
        assert!(
            problems[0].contains("event 3 does not chain"),
            "{problems:?}"
        );
        // An event dropped from the end: the head is not reached.
        let (short, _) = trail_csv(&events[..3]);
        let problems = verify_trail(&short, &head);
        assert!(problems[0].contains("ends before event 4"), "{problems:?}");
        // A row removed from the middle.
        let gap: Vec<_> = [events[0].clone(), events[2].clone()].to_vec();
        let (gapped, _) = trail_csv(&gap);
        let problems = verify_trail(&gapped, &head);
        assert!(problems[0].contains("row 2 holds event 3"), "{problems:?}");
    }

    fn pack_with(
        after_rows: &[[&str; 7]],
        totals: serde_json::Value,
    ) -> (PackManifest, std::collections::HashMap<String, Vec<u8>>) {
        let mut files = std::collections::HashMap::new();
        let mut described = Vec::new();
        let mut put = |name: &str, header: &[&str], rows: Vec<Vec<&str>>| {
            let mut out = CsvOut::new(Vec::new(), header, false).unwrap();
            for r in rows {
                out.row(r).unwrap();
            }
            let (bytes, w) = out.finish().unwrap();
            described.push(Described::of(name, &w));
            files.insert(name.to_string(), bytes);
        };
        let access = [
            "user_id",
            "login",
            "department",
            "role",
            "granted_at",
            "granted_by",
            "item_id",
        ];
        put(
            "review_items.csv",
            &["item_id", "user_id", "role", "decision", "result"],
            vec![
                vec!["1", "7", "refund_approver", "revoke", "revoked"],
                vec!["2", "7", "support_agent", "keep", ""],
            ],
        );
        put("access_before.csv", &access, vec![]);
        put(
            "access_after.csv",
            &access,
            after_rows.iter().map(|r| r.to_vec()).collect(),
        );
        put("action_log.csv", &TRAIL_COLUMNS, vec![]);
        let mut m = PackManifest {
            format: PACK_FORMAT.into(),
            campaign: serde_json::json!({ "id": 1 }),
            scope: serde_json::json!({}),
            population_query: "…".into(),
            source: Source {
                server_uuid: None,
                server_id: Some(1),
                version: "10.11".into(),
                position: None,
            },
            totals,
            files: described,
            sign_off: event(9, "olivia"),
            sign_off_previous_hash: "ab".into(),
            sign_off_hash: String::new(),
            generated_at: "2026-11-29T00:00:00Z".into(),
            generated_by: "olivia".into(),
        };
        let attested: serde_json::Map<_, _> = m
            .files
            .iter()
            .map(|f| (f.file.clone(), f.sha256.clone().into()))
            .collect();
        m.sign_off.details =
            serde_json::json!({ "files": attested, "manifest_sha256": m.body_sha256() });
        m.sign_off_hash = m.sign_off.chain_hash("ab");
        (m, files)
    }

    #[test]
    fn a_pack_proves_its_revocations_from_its_own_files() {
        let kept = ["7", "amy", "support", "support_agent", "", "", "2"];
        let none = || serde_json::json!({ "held_again": 0 });
        let (m, files) = pack_with(&[kept], none());
        let mut names: Vec<String> = files.keys().cloned().collect();
        assert_eq!(
            verify_pack(&m, |n| files.get(n).cloned(), &names),
            Vec::<String>::new()
        );
        // A hidden file beside them is no evidence, and no problem.
        names.push(".DS_Store".into());
        assert!(verify_pack(&m, |n| files.get(n).cloned(), &names).is_empty());
        // A pack whose "after" still holds the revoked grant, unsaid, does not verify;
        // said in its totals (granted anew since the close), it does.
        let regranted = ["7", "amy", "support", "refund_approver", "", "", "1"];
        let (m, files) = pack_with(&[kept, regranted], none());
        let problems = verify_pack(&m, |n| files.get(n).cloned(), &names);
        assert!(
            problems[0].contains("still holds refund_approver"),
            "{problems:?}"
        );
        let said = serde_json::json!({ "held_again": 1 });
        let (m, files) = pack_with(&[kept, regranted], said);
        assert!(verify_pack(&m, |n| files.get(n).cloned(), &names).is_empty());
        // A file missing, and the sign-off's own hash broken.
        let (mut m, mut files) = pack_with(&[kept], none());
        files.remove("action_log.csv");
        m.sign_off.actor = "mallory".into();
        let problems = verify_pack(&m, |n| files.get(n).cloned(), &names);
        assert!(
            problems
                .iter()
                .any(|p| p.contains("action_log.csv: missing")),
            "{problems:?}"
        );
        assert!(
            problems
                .iter()
                .any(|p| p.contains("does not match its hash")),
            "{problems:?}"
        );
    }
}
