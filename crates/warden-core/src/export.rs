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

/// Counts and hashes what passes through.
struct Hashing<W> {
    inner: W,
    hasher: Sha256,
    bytes: u64,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// A CSV file being written: a header, then rows, every cell guarded.
pub struct CsvOut<W: Write> {
    csv: csv::Writer<Hashing<W>>,
    rows: u64,
}

/// What was written: rows (the header not counted), bytes and their SHA-256.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    pub rows: u64,
    pub bytes: u64,
    pub sha256: String,
}

impl<W: Write> CsvOut<W> {
    pub fn new(inner: W, header: &[&str], bom: bool) -> std::io::Result<Self> {
        let mut hashing = Hashing {
            inner,
            hasher: Sha256::new(),
            bytes: 0,
        };
        if bom {
            hashing.write_all(BOM)?;
        }
        let mut csv = csv::WriterBuilder::new()
            .quote_style(csv::QuoteStyle::Always)
            .terminator(csv::Terminator::CRLF)
            .from_writer(hashing);
        csv.write_record(header).map_err(std::io::Error::other)?;
        Ok(Self { csv, rows: 0 })
    }

    /// Writes one row, each cell guarded against formula injection.
    pub fn row<S: AsRef<str>>(
        &mut self,
        cells: impl IntoIterator<Item = S>,
    ) -> std::io::Result<()> {
        self.csv
            .write_record(
                cells
                    .into_iter()
                    .map(|c| crate::csv_guard::guard(c.as_ref()).into_owned()),
            )
            .map_err(std::io::Error::other)?;
        self.rows += 1;
        Ok(())
    }

    /// Flushes and says what was written; the writer is handed back (to sync and close).
    pub fn finish(self) -> std::io::Result<(W, Written)> {
        let rows = self.rows;
        let hashing = self
            .csv
            .into_inner()
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        let written = Written {
            rows,
            bytes: hashing.bytes,
            sha256: hex::encode(hashing.hasher.finalize()),
        };
        Ok((hashing.inner, written))
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

/// What differs between a CSV file and its manifest; empty when it is intact.
pub fn verify(csv_bytes: &[u8], manifest: &Manifest) -> Vec<String> {
    let mut problems = Vec::new();
    if manifest.format != MANIFEST_FORMAT {
        problems.push(format!(
            "the manifest is of format {:?}, not {MANIFEST_FORMAT:?}",
            manifest.format
        ));
    }
    let sha256 = hex::encode(Sha256::digest(csv_bytes));
    if sha256 != manifest.sha256 {
        problems.push(format!(
            "{}: its SHA-256 is {sha256}, the manifest says {} (the file was altered)",
            manifest.file, manifest.sha256
        ));
    }
    if csv_bytes.len() as u64 != manifest.bytes {
        problems.push(format!(
            "{}: {} bytes, the manifest says {}",
            manifest.file,
            csv_bytes.len(),
            manifest.bytes
        ));
    }
    let body = csv_bytes.strip_prefix(BOM).unwrap_or(csv_bytes);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(body);
    let mut rows = 0u64;
    for (i, record) in reader.records().enumerate() {
        match record {
            Ok(_) => rows += 1,
            Err(e) => {
                problems.push(format!("{}: row {}: {e}", manifest.file, i + 1));
                return problems;
            }
        }
    }
    if rows != manifest.rows {
        problems.push(format!(
            "{}: {rows} rows, the manifest says {}",
            manifest.file, manifest.rows
        ));
    }
    problems
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
            kind: "audit-trail".into(),
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
}
