//! Exports an auditor can verify (DESIGN.md, Exports and evidence): the CSV is written to
//! a temporary name beside its destination, hashed and counted as it goes, synced and
//! renamed into place, then its manifest the same way; the export is an event on the
//! audit trail, committed once both are in place. An export cut off with the host it read
//! from is made again, whole, on another (`crate::retry`): nothing of the first attempt is
//! left. `verify` re-checks a file against its manifest offline.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;

use serde::Serialize;
use warden_core::export::{CsvOut, Head, MANIFEST_FORMAT, Manifest};
use warden_store::governance::Change;

use crate::context::Ctx;
use crate::error::{Error, Result};

mod access;
mod audit_trail;
mod findings;
mod logs;
mod sheet;
pub(crate) mod staging;
mod verify;

pub use access::access;
pub use audit_trail::audit_trail;
pub use findings::findings;
pub use logs::logs;
use sheet::Syncer;
pub use sheet::{Progress, Sheet};
use staging::Staged;
pub use verify::{VerifyResponse, verify, verify_against_trail};

mod pack;

pub use pack::{PackResponse, campaign};

#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct ExportResponse {
    pub file: String,
    pub manifest: String,
    pub rows: u64,
    pub sha256: String,
    pub audit_seq: u64,
}

/// What a cancelled export answers.
fn cancelled(out: &Path) -> Error {
    Error::Cancelled(format!(
        "the export to {} was cancelled: nothing was written",
        out.display()
    ))
}

/// An error about a file, naming it.
fn file_error(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::Invalid(format!("{}: {e}", path.display()))
}

/// `NAME.csv.manifest.json` beside `NAME.csv`.
pub fn manifest_path(csv: &Path) -> PathBuf {
    let mut name = csv.file_name().unwrap_or_default().to_os_string();
    name.push(".manifest.json");
    csv.with_file_name(name)
}

/// The file an export writes, and what its manifest says of it.
struct Report<'a> {
    kind: &'static str,
    parameters: serde_json::Value,
    population_query: String,
    header: &'a [&'a str],
    out: &'a Path,
    bom: bool,
    progress: &'a Progress,
}

type Out<'p> = Sheet<'p>;

/// Writes `report`: the CSV filled by `fill` under a temporary name, renamed into place
/// when complete; its manifest the same way; then the export's audit event.
async fn write_report(
    ctx: &Ctx,
    db: &warden_store::Database,
    report: Report<'_>,
    fill: impl AsyncFnOnce(&mut Out<'_>) -> Result<()>,
) -> Result<ExportResponse> {
    let out = report.out;
    let io = |e: std::io::Error| file_error(out, e);
    let (head_seq, head_hash) = warden_store::governance::audit_head(db).await?;
    let source = warden_store::governance::server_identity(db).await?;
    // Both names free before anything is written: never a CSV without its manifest.
    let manifest_path = manifest_path(out);
    if manifest_path.exists() {
        return Err(Error::Invalid(format!(
            "{} exists: an export never replaces one; choose another name",
            manifest_path.display()
        )));
    }
    let (staged, file) = Staged::create(out)?;
    let syncer = Syncer::new(&file);
    let csv = CsvOut::new(
        std::io::BufWriter::with_capacity(1 << 20, file),
        report.header,
        report.bom,
    )
    .map_err(io)?;
    let mut sheet = Sheet {
        csv,
        progress: report.progress,
        syncer,
    };
    let filled = fill(&mut sheet).await;
    // Cancelled (whether or not a row noticed): the staged file is removed as it drops.
    if report.progress.is_cancelled() {
        return Err(cancelled(out));
    }
    filled?;
    drop(sheet.syncer);
    let (buffered, written) = sheet.csv.finish().map_err(io)?;
    report.progress.rows.store(written.rows, Ordering::Relaxed);
    let file = buffered.into_inner().map_err(|e| io(e.into_error()))?;
    let csv = (staged, file);

    let file_name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let at = ctx.clock().now();
    let manifest = Manifest {
        format: MANIFEST_FORMAT.into(),
        kind: report.kind.into(),
        parameters: report.parameters,
        population_query: report.population_query,
        source,
        file: file_name.clone(),
        rows: written.rows,
        bytes: written.bytes,
        sha256: written.sha256.clone(),
        bom: report.bom,
        generated_at: at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        generated_by: ctx.actor().login.clone(),
        audit_head: Head {
            seq: head_seq,
            hash: head_hash,
        },
    };
    let (staged, mut file) = Staged::create(&manifest_path)?;
    serde_json::to_writer_pretty(&mut file, &manifest)
        .map_err(|e| file_error(&manifest_path, e))?;
    file.write_all(b"\n").map_err(io)?;
    let manifest_file = (staged, file);

    // The event is written but committed only once both files are in place: an export
    // whose files could not be placed leaves no event, and one whose event could not be
    // committed (the host lost at that moment) leaves no files — made again, it takes the
    // same names.
    let mut change = Change::begin(db, &ctx.actor().login, at).await?;
    let (event, _, _) = change
        .append(
            &format!("export.{}", report.kind),
            &file_name,
            serde_json::json!({
                "file": file_name, "rows": written.rows, "sha256": written.sha256,
                "parameters": manifest.parameters, "audit_head_seq": head_seq,
            }),
        )
        .await?;
    csv.0.commit(csv.1)?;
    if let Err(e) = manifest_file.0.commit(manifest_file.1) {
        let _ = std::fs::remove_file(out);
        return Err(e);
    }
    if let Err(e) = change.finish().await {
        let _ = std::fs::remove_file(out);
        let _ = std::fs::remove_file(&manifest_path);
        return Err(e.into());
    }
    Ok(ExportResponse {
        file: out.display().to_string(),
        manifest: manifest_path.display().to_string(),
        rows: written.rows,
        sha256: written.sha256,
        audit_seq: event.seq,
    })
}

/// An export to start: what to export, where to write it (a path on this machine; a new
/// name: evidence is never overwritten), and whether the CSV begins with a UTF-8
/// byte-order mark (for spreadsheets).
#[derive(Debug, Clone, serde::Deserialize, ts_rs::TS)]
pub struct ExportRequest {
    #[serde(flatten)]
    pub what: ExportKind,
    pub path: String,
    pub bom: bool,
}

/// What an export holds, with the filters of its kind.
#[derive(Debug, Clone, serde::Deserialize, ts_rs::TS)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum ExportKind {
    /// Who holds what now.
    Access,
    /// Warden's audit trail, with its hash chain.
    AuditTrail,
    /// Recorded findings, filtered.
    Findings {
        filters: crate::findings::FindingsRequest,
    },
    /// The access log, searched.
    Logs {
        search: Box<crate::logs::SearchRequest>,
    },
    /// A closed campaign's evidence pack: a folder.
    Campaign { id: u64 },
}

/// Runs the export `req` names (the desktop app's one door to every kind); a pack is
/// answered as its folder, its manifest, its rows in all and the manifest's SHA-256.
pub async fn by_kind(ctx: &Ctx, req: ExportRequest, progress: &Progress) -> Result<ExportResponse> {
    let out = PathBuf::from(req.path.trim());
    let bom = req.bom;
    match req.what {
        ExportKind::Access => access(ctx, &out, bom, progress).await,
        ExportKind::AuditTrail => audit_trail(ctx, &out, bom, progress).await,
        ExportKind::Findings { filters } => findings(ctx, filters, &out, bom, progress).await,
        ExportKind::Logs { search } => logs(ctx, *search, &out, bom, progress).await,
        ExportKind::Campaign { id } => {
            let pack = campaign(ctx, id, &out, progress).await?;
            Ok(ExportResponse {
                manifest: out.join("manifest.json").display().to_string(),
                file: pack.dir,
                rows: pack.files.iter().map(|f| f.rows).sum(),
                sha256: pack.manifest_sha256,
                audit_seq: pack.audit_seq,
            })
        }
    }
}
