//! Exports run in the background like imports: the page starts one, asks how far it has
//! come (rows written, of about how many) for its progress bar, and may cancel it; a
//! cancelled export removes what it wrote.

use std::sync::atomic::Ordering;

use warden_service::export::{ExportResponse, Progress};

use crate::ipc::ExportStatus;
use crate::jobs::Jobs;

pub type Exports = Jobs<Progress, ExportResponse>;

/// Asks export `id` to stop; false when there is no such export.
pub fn cancel(exports: &Exports, id: u64) -> bool {
    exports.with(id, |job| job.progress.cancel()).is_some()
}

pub fn status(exports: &Exports, id: u64) -> Option<ExportStatus> {
    exports.with(id, |job| ExportStatus {
        id,
        rows: job.progress.rows.load(Ordering::Relaxed),
        total: job.progress.total.load(Ordering::Relaxed),
        cancelling: job.progress.is_cancelled() && job.outcome.is_none(),
        done: job.outcome.is_some(),
        result: job.outcome.as_ref().and_then(|o| o.as_ref().ok().cloned()),
        error: job.outcome.as_ref().and_then(|o| o.as_ref().err().cloned()),
    })
}
