//! The console audit trail as evidence.

use std::path::Path;
use std::sync::atomic::Ordering;

use super::{ExportResponse, Out, Progress, Report, write_report};
use crate::context::Ctx;
use crate::error::Result;

/// The console audit trail as CSV, one row per event with its hash (officers and
/// auditors).
pub async fn audit_trail(
    ctx: &Ctx,
    out: &Path,
    bom: bool,
    progress: &Progress,
) -> Result<ExportResponse> {
    crate::retry::retried(ctx.trail_db(), || audit_trail_once(ctx, out, bom, progress)).await
}

async fn audit_trail_once(
    ctx: &Ctx,
    out: &Path,
    bom: bool,
    progress: &Progress,
) -> Result<ExportResponse> {
    let r = ctx.as_reader("exporting the audit trail")?;
    let db = r.db();
    let (head, _) = warden_store::governance::audit_head(db).await?;
    progress.total.store(head, Ordering::Relaxed);
    let report = Report {
        kind: "audit-trail",
        parameters: serde_json::json!({ "bom": bom }),
        population_query: warden_store::governance::AUDIT_EVENTS.into(),
        header: &warden_core::export::TRAIL_COLUMNS,
        out,
        bom,
        progress,
    };
    write_report(ctx, db, report, async |csv: &mut Out| {
        warden_store::governance::stream_audit_events(db, |e, hash| {
            csv.row(warden_core::export::trail_row(e, hash))
        })
        .await?;
        Ok(())
    })
    .await
}
