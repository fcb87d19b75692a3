//! Importing database audit-log files (server_audit, XML, JSON): what an earlier import
//! of the file or its rotated copy took is skipped.

use serde::Serialize;
use ts_rs::TS;
use warden_store::logs::{self as store};

use crate::context::Ctx;
use crate::error::{Error, Result};

/// What an import of an audit-log file did.
#[derive(Debug, Clone, Serialize, TS)]
pub struct IngestResponse {
    pub file: String,
    pub format: String,
    /// Events read from the file.
    pub read: u64,
    /// Events not imported before.
    pub imported: u64,
    /// Events already imported (the same file again, or a rotated copy).
    pub duplicates: u64,
    /// Lines or records that could not be read: how many, and the first hundred.
    pub malformed: u64,
    pub problems: Vec<Problem>,
    pub audit_seq: u64,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct Problem {
    pub line: u64,
    pub message: String,
}

/// The formats `warden logs ingest` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    ServerAudit,
    Xml,
    Json,
}

impl Format {
    fn parse(text: &str) -> Option<Self> {
        match text {
            "server-audit" => Some(Self::ServerAudit),
            "audit-xml" => Some(Self::Xml),
            "audit-json" => Some(Self::Json),
            _ => None,
        }
    }

    fn stored_as(self) -> &'static str {
        match self {
            Self::ServerAudit => "server_audit",
            Self::Xml => "audit_xml",
            Self::Json => "audit_json",
        }
    }
}

/// Events go from the reader to the database in batches of this many: whole blocks.
const INGEST_BATCH: usize = 4 * store::AUDIT_BLOCK;

/// Imports a database audit-log file (`server-audit`, `audit-xml`, `audit-json`) into
/// Warden's own table, in one change with its audit event: the file is read on a worker
/// thread while batches are written, so memory stays bounded whatever its size. An XML
/// file with a DTD is refused whole (nothing is kept); a line that cannot be read is
/// reported by number and the rest imported.
pub async fn ingest(ctx: &Ctx, format: &str, path: &std::path::Path) -> Result<IngestResponse> {
    ingest_with(ctx, format, path, std::sync::Arc::default()).await
}

/// How far an import has come: bytes of the file read (of `total`), events sent to the
/// database. Read while the import runs, for a progress bar.
#[derive(Debug, Default)]
pub struct Progress {
    pub bytes: std::sync::atomic::AtomicU64,
    pub total: std::sync::atomic::AtomicU64,
    pub events: std::sync::atomic::AtomicU64,
}

/// A file whose reads are counted into a [`Progress`].
struct Counted {
    file: std::fs::File,
    progress: std::sync::Arc<Progress>,
}

impl std::io::Read for Counted {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.file.read(buf)?;
        self.progress
            .bytes
            .fetch_add(n as u64, std::sync::atomic::Ordering::Relaxed);
        Ok(n)
    }
}

/// [`ingest`], reporting its progress as it goes.
pub async fn ingest_with(
    ctx: &Ctx,
    format: &str,
    path: &std::path::Path,
    progress: std::sync::Arc<Progress>,
) -> Result<IngestResponse> {
    use std::sync::atomic::Ordering;
    use warden_core::auditlog::{self, AuditEvent, Malformed, Refused};
    let o = ctx.as_officer("importing an audit-log file")?;
    let fmt = Format::parse(format).ok_or_else(|| {
        Error::Invalid(format!(
            "`{format}`: expected server-audit, audit-xml or audit-json"
        ))
    })?;
    let shown = path.display().to_string();
    let file = std::fs::File::open(path).map_err(|e| Error::Invalid(format!("{shown}: {e}")))?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    progress.total.store(size, Ordering::Relaxed);
    let counted = Counted {
        file,
        progress: progress.clone(),
    };
    let today = o.clock().today();
    let (ready, mut arriving) = tokio::sync::mpsc::channel::<Vec<AuditEvent>>(4);
    let reader = tokio::task::spawn_blocking(move || {
        let input = std::io::BufReader::with_capacity(1 << 20, counted);
        let mut batch = Vec::with_capacity(INGEST_BATCH);
        let mut send = |e: AuditEvent| {
            batch.push(e);
            if batch.len() == INGEST_BATCH {
                let _ = ready.blocking_send(std::mem::take(&mut batch));
            }
        };
        let result: std::result::Result<auditlog::Read, Refused> = match fmt {
            Format::ServerAudit => auditlog::read_server_audit(input, today, &mut send),
            Format::Xml => auditlog::read_xml(input, &mut send),
            Format::Json => auditlog::read_json(input, &mut send),
        };
        if !batch.is_empty() {
            let _ = ready.blocking_send(batch);
        }
        result
    });
    let mut change = o.change().await?;
    let (mut read, mut imported) = (0u64, 0u64);
    // The file is known by its first event: what an earlier import (of it, or of the file
    // it was rotated from) took is skipped.
    let mut file: Option<store::AuditFile> = None;
    while let Some(batch) = arriving.recv().await {
        read += batch.len() as u64;
        progress.events.store(read, Ordering::Relaxed);
        let known = match file {
            Some(f) => f,
            None => {
                let Some(first) = batch.first() else { continue };
                let f =
                    store::audit_file(&mut change, fmt.stored_as(), &first.hash, &shown).await?;
                file = Some(f);
                f
            }
        };
        let fresh: Vec<AuditEvent> = batch
            .into_iter()
            .filter(|e| e.line > known.through_line)
            .collect();
        imported += fresh.len() as u64;
        store::insert_db_audit_events(&mut change, known.id, &fresh).await?;
    }
    let result = reader
        .await
        .map_err(|e| Error::Invalid(format!("{shown}: the reader stopped: {e}")))?
        .map_err(|e| Error::Invalid(format!("{shown}: {e}")))?;
    if let Some(f) = file {
        store::audit_file_through(&mut change, f.id, result.through).await?;
    }
    let malformed: Vec<Malformed> = result.bad;
    let event = change
        .commit(
            "logs.ingest",
            &shown,
            serde_json::json!({
                "file": shown, "format": format, "read": read, "imported": imported,
                "duplicates": read - imported, "malformed": malformed.len(),
            }),
        )
        .await?;
    Ok(IngestResponse {
        file: shown,
        format: format.to_string(),
        read,
        imported,
        duplicates: read - imported,
        malformed: malformed.len() as u64,
        problems: malformed
            .into_iter()
            .take(100)
            .map(|m| Problem {
                line: m.line,
                message: m.message,
            })
            .collect(),
        audit_seq: event.seq,
    })
}
