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
    /// Every line up to this one is imported: a rerun of the file goes on after it.
    pub through_line: u64,
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
/// Warden's own table: the file (a regular file, opened without blocking) is read on a
/// worker thread while its events are committed in chunks, each with the line it reached,
/// so memory stays bounded whatever its size, reviewers go on deciding meanwhile (the
/// audit trail's head is locked only for the import's own event, at the end), and a rerun
/// goes on where an interrupted import stopped. A file in another encoding than UTF-8, or
/// an XML file with a DTD, is refused whole, as is one with no readable record at all
/// (nothing is kept); a line that cannot be read is counted, reported by number (the first
/// hundred), and the rest imported.
pub async fn ingest(ctx: &Ctx, format: &str, path: &std::path::Path) -> Result<IngestResponse> {
    ingest_with(ctx, format, path, std::sync::Arc::default()).await
}

/// How far an import has come: bytes of the file read (of `total`), events sent to the
/// database. Read while the import runs, for a progress bar; [`Progress::cancel`] stops it
/// (Ctrl-C, the app's Cancel) after the chunk being written.
#[derive(Debug, Default)]
pub struct Progress {
    pub bytes: std::sync::atomic::AtomicU64,
    pub total: std::sync::atomic::AtomicU64,
    pub events: std::sync::atomic::AtomicU64,
    cancelled: std::sync::atomic::AtomicBool,
    /// The reader is to stop (cancelled, or nobody takes its events any more).
    stop_reading: std::sync::atomic::AtomicBool,
}

impl Progress {
    pub fn cancel(&self) {
        self.cancelled
            .store(true, std::sync::atomic::Ordering::Relaxed);
    }

    pub fn is_cancelled(&self) -> bool {
        self.cancelled.load(std::sync::atomic::Ordering::Relaxed)
    }
}

/// A file whose reads are counted into a [`Progress`], and stop when it is cancelled.
struct Counted {
    file: std::fs::File,
    progress: std::sync::Arc<Progress>,
}

impl std::io::Read for Counted {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        // Not `Interrupted`: the parsers retry that kind, and would spin.
        if self.progress.is_cancelled()
            || self
                .progress
                .stop_reading
                .load(std::sync::atomic::Ordering::Relaxed)
        {
            return Err(std::io::Error::other("the import was stopped"));
        }
        let n = self.file.read(buf)?;
        self.progress
            .bytes
            .fetch_add(n as u64, std::sync::atomic::Ordering::Relaxed);
        Ok(n)
    }
}

/// Opens `path` for reading only if it is a regular file: a FIFO, a device (`/dev/zero`,
/// `/dev/urandom`), a socket or a folder is refused before a byte is read. Opened without
/// blocking, so a FIFO with no writer cannot hang the import; a regular file reads the same
/// either way.
fn open_regular(path: &std::path::Path) -> Result<(std::fs::File, u64)> {
    use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
    let shown = path.display();
    let file = std::fs::OpenOptions::new()
        .read(true)
        // NOCTTY: a terminal named by mistake does not become this process's.
        .custom_flags((rustix::fs::OFlags::NONBLOCK | rustix::fs::OFlags::NOCTTY).bits() as i32)
        .open(path)
        .map_err(|e| Error::Invalid(format!("{shown}: {e}")))?;
    let meta = file
        .metadata()
        .map_err(|e| Error::Invalid(format!("{shown}: {e}")))?;
    let t = meta.file_type();
    let what = if t.is_file() {
        return Ok((file, meta.len()));
    } else if t.is_dir() {
        "a folder"
    } else if t.is_fifo() {
        "a pipe (FIFO)"
    } else if t.is_char_device() || t.is_block_device() {
        "a device"
    } else if t.is_socket() {
        "a socket"
    } else {
        "not a regular file"
    };
    Err(Error::Invalid(format!(
        "{shown} is {what}: only a regular audit-log file is imported; nothing was read"
    )))
}

/// [`ingest`], reporting its progress as it goes. When the host in use is lost the import
/// goes on from its last committed chunk on another host (`crate::retry`), its progress
/// counted again from the start of the file.
pub async fn ingest_with(
    ctx: &Ctx,
    format: &str,
    path: &std::path::Path,
    progress: std::sync::Arc<Progress>,
) -> Result<IngestResponse> {
    let claim = store::ImportClaim::new()?;
    crate::retry::retried(ctx.trail_db(), || {
        ingest_once(ctx, format, path, progress.clone(), &claim)
    })
    .await
}

async fn ingest_once(
    ctx: &Ctx,
    format: &str,
    path: &std::path::Path,
    progress: std::sync::Arc<Progress>,
    claim: &store::ImportClaim,
) -> Result<IngestResponse> {
    use std::sync::atomic::Ordering;
    // Counted afresh by each attempt; a cancelled import is not attempted again.
    if progress.is_cancelled() {
        return Err(Error::Cancelled(format!(
            "the import of {} was cancelled",
            path.display()
        )));
    }
    progress.bytes.store(0, Ordering::Relaxed);
    progress.events.store(0, Ordering::Relaxed);
    progress.stop_reading.store(false, Ordering::Relaxed);
    use warden_core::auditlog::{self, AuditEvent, Refused};
    let o = ctx.as_officer("importing an audit-log file")?;
    let fmt = Format::parse(format).ok_or_else(|| {
        Error::Invalid(format!(
            "`{format}`: expected server-audit, audit-xml or audit-json"
        ))
    })?;
    let shown = path.display().to_string();
    let (file, size) = open_regular(path)?;
    progress.total.store(size, Ordering::Relaxed);
    let counted = Counted {
        file,
        progress: progress.clone(),
    };
    let today = o.clock().today();
    // A DTD anywhere in an XML file refuses it whole: looked for first, over the whole
    // file, before anything is committed (the parser refuses one too, as it reads).
    if fmt == Format::Xml {
        let (scan, _) = open_regular(path)?;
        if let Some(line) = auditlog::find_declaration(std::io::BufReader::new(scan))
            .map_err(|e| Error::Invalid(format!("{shown}: {e}")))?
        {
            return Err(Error::Invalid(format!(
                "{shown}: {}; nothing was imported",
                Refused::Dtd { line }
            )));
        }
    }
    // Batches of whole lines, each with the line every event up to which is read: the
    // checkpoint a chunk commits. A batch ends only where the next event starts a later
    // line (an XML file may hold many records on one line), and the last one ends at the
    // read's own `through` (a record cut short at the end is left, with what shares its
    // line, for the next import).
    let (ready, mut arriving) = tokio::sync::mpsc::channel::<(Vec<AuditEvent>, u64)>(4);
    let reader_progress = progress.clone();
    let reader = tokio::task::spawn_blocking(move || {
        let input = std::io::BufReader::with_capacity(1 << 20, counted);
        let mut batch: Vec<AuditEvent> = Vec::with_capacity(INGEST_BATCH);
        let stop = || {
            reader_progress
                .stop_reading
                .store(true, std::sync::atomic::Ordering::Relaxed)
        };
        let mut send = |e: AuditEvent| {
            if batch.len() >= INGEST_BATCH && batch.last().is_some_and(|l| l.line < e.line) {
                let through = e.line - 1;
                if ready
                    .blocking_send((std::mem::take(&mut batch), through))
                    .is_err()
                {
                    stop();
                }
            }
            batch.push(e);
        };
        let result: std::result::Result<auditlog::Read, Refused> = match fmt {
            Format::ServerAudit => auditlog::read_server_audit(input, today, &mut send),
            Format::Xml => auditlog::read_xml(input, &mut send),
            Format::Json => auditlog::read_json(input, &mut send),
        };
        if let Ok(r) = &result {
            batch.retain(|e| e.line <= r.through);
            if !batch.is_empty() && ready.blocking_send((batch, r.through)).is_err() {
                stop();
            }
        }
        result
    });
    let (mut read, mut imported) = (0u64, 0u64);
    // The file is known by its first event: what an earlier import (of it, or of the file
    // it was rotated from) took is skipped. Each batch is a chunk committed with the line
    // it reached.
    let mut import: Option<store::Import> = None;
    let mut imported_before = 0;
    let written = async {
        while let Some((batch, through)) = arriving.recv().await {
            if batch.is_empty() {
                continue;
            }
            read += batch.len() as u64;
            if import.is_none() {
                let first = &batch[0];
                let at = o.clock().now().naive_utc();
                let begun =
                    store::Import::begin(o.db(), fmt.stored_as(), &first.hash, &shown, at, claim)
                        .await?;
                imported_before = begun.file.through_line;
                import = Some(begun);
            }
            if let Some(import) = import.as_mut() {
                let fresh: Vec<AuditEvent> = batch
                    .into_iter()
                    .filter(|e| e.line > imported_before)
                    .collect();
                import.chunk(&fresh, through).await?;
                imported += fresh.len() as u64;
            }
            progress.events.store(read, Ordering::Relaxed);
            if progress.is_cancelled() {
                break;
            }
        }
        Ok::<(), Error>(())
    }
    .await;
    // Whatever happened, the reader is stopped (its channel closed; after a failure, its
    // reads too) and waited for.
    drop(arriving);
    let cancelled = progress.is_cancelled();
    progress
        .stop_reading
        .store(true, std::sync::atomic::Ordering::Relaxed);
    let result = reader
        .await
        .map_err(|e| Error::Invalid(format!("{shown}: the reader stopped: {e}")));
    let outcome = async {
        written?;
        // Stopped, only the chunks' checkpoints count: the reader may have gone further
        // than what was committed.
        let result = match result? {
            _ if cancelled => None,
            Ok(r) => Some(r),
            Err(e @ (Refused::Dtd { .. } | Refused::Encoding(_))) => {
                return Err(Error::Invalid(format!("{shown}: {e}")));
            }
            Err(Refused::Io(e)) => return Err(Error::Invalid(format!("{shown}: {e}"))),
        };
        if read == 0 && !cancelled {
            let why = match result.as_ref().and_then(|r| r.bad.first()) {
                Some(m) => format!(
                    "{} lines or records could not be read (line {}: {})",
                    result.as_ref().map_or(0, |r| r.malformed),
                    m.line,
                    m.message
                ),
                None => "the file is empty, or holds only an unfinished last line".into(),
            };
            return Err(Error::Invalid(format!(
                "{shown}: no readable {} record: {why}; nothing was imported",
                fmt.stored_as()
            )));
        }
        Ok(result)
    }
    .await;
    // The import's own event: what this run committed, in a change of its own (the only
    // moment it holds the audit trail's head).
    let finished = match outcome {
        Ok(result) => result,
        Err(e) => {
            if let Some(import) = import.take() {
                import.end().await;
                // With the host lost nothing more is written there: the import goes on
                // from its checkpoint on another host, and records itself there.
                if !e.is_host_lost() {
                    record(o, &shown, format, read, imported, None, true).await?;
                }
            }
            return Err(e);
        }
    };
    // The import's claim and connection go back before its event is written (that change
    // needs a connection of the pool too).
    let file = import.as_ref().map(|i| i.file.id);
    if let Some(import) = import.take() {
        import.end().await;
    }
    let through = finished.as_ref().map_or(0, |r| r.through);
    let event = record(
        o,
        &shown,
        format,
        read,
        imported,
        file.filter(|_| finished.is_some()).map(|f| (f, through)),
        cancelled,
    )
    .await?;
    if cancelled {
        return Err(Error::Cancelled(format!(
            "the import of {shown} was stopped: {imported} events are imported and recorded \
             (audit event {}); import the file again to go on where it stopped",
            event.seq
        )));
    }
    let result = finished.unwrap_or_default();
    Ok(IngestResponse {
        file: shown,
        format: format.to_string(),
        read,
        imported,
        duplicates: read - imported,
        malformed: result.malformed,
        problems: result
            .bad
            .into_iter()
            .map(|m| Problem {
                line: m.line,
                message: m.message,
            })
            .collect(),
        through_line: through,
        audit_seq: event.seq,
    })
}

/// The import's audit event, in a change of its own: what was read and imported, whether
/// it was stopped, and (a whole read) the line the file is imported through.
async fn record(
    o: crate::context::Officer<'_>,
    shown: &str,
    format: &str,
    read: u64,
    imported: u64,
    through: Option<(u64, u64)>,
    stopped: bool,
) -> Result<warden_core::audit::AuditEvent> {
    let mut change = o.change().await?;
    if let Some((file, line)) = through {
        store::audit_file_through(&mut change, file, line).await?;
    }
    Ok(change
        .commit(
            "logs.ingest",
            shown,
            serde_json::json!({
                "file": shown, "format": format, "read": read, "imported": imported,
                "duplicates": read - imported, "stopped": stopped,
            }),
        )
        .await?)
}
