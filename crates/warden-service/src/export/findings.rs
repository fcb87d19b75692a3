//! Recorded findings with their evidence.

use std::path::Path;
use std::sync::atomic::Ordering;

use super::{ExportResponse, Out, Progress, Report, file_error, write_report};
use crate::context::Ctx;
use crate::error::{Error, Result};

/// Recorded findings matching `req` (the `findings` filters), most severe first, with
/// their evidence as JSON (officers and auditors). Findings are one per account and issue,
/// so they are bounded by the directory, not the log: they are read in one query.
pub async fn findings(
    ctx: &Ctx,
    req: crate::findings::FindingsRequest,
    out: &Path,
    bom: bool,
    progress: &Progress,
) -> Result<ExportResponse> {
    crate::retry::retried(ctx.trail_db(), || {
        findings_once(ctx, req.clone(), out, bom, progress)
    })
    .await
}

async fn findings_once(
    ctx: &Ctx,
    req: crate::findings::FindingsRequest,
    out: &Path,
    bom: bool,
    progress: &Progress,
) -> Result<ExportResponse> {
    let r = ctx.as_reader("exporting findings")?;
    let db = r.db();
    let mut parameters =
        serde_json::to_value(&req).map_err(|e| Error::Invalid(format!("the filters: {e}")))?;
    if let Some(p) = parameters.as_object_mut() {
        p.insert("bom".into(), bom.into());
    }
    let report = Report {
        kind: "findings",
        parameters,
        population_query: [
            warden_store::findings::FINDING_COLUMNS,
            " WHERE the parameters' filters ORDER BY severity (high first), kind, subject, id",
        ]
        .concat(),
        header: &[
            "id",
            "kind",
            "severity",
            "status",
            "subject",
            "department",
            "detail",
            "fix",
            "evidence",
            "fingerprint",
            "first_seen",
            "last_seen",
            "resolved_at",
        ],
        out,
        bom,
        progress,
    };
    write_report(ctx, db, report, async |csv: &mut Out| {
        let found = crate::findings::findings(ctx, req).await?.findings;
        progress.total.store(found.len() as u64, Ordering::Relaxed);
        for f in found {
            let text = |v: Option<String>| v.unwrap_or_default();
            csv.row([
                f.id.map(|i| i.to_string()).unwrap_or_default(),
                f.kind.as_str().into(),
                f.severity.as_str().into(),
                f.status.as_str().into(),
                f.subject,
                text(f.department),
                f.detail,
                f.fix,
                f.evidence.to_string(),
                f.fingerprint,
                text(f.first_seen),
                text(f.last_seen),
                text(f.resolved_at),
            ])
            .map_err(|e| file_error(out, e))?;
        }
        Ok(())
    })
    .await
}
