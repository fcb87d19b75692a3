//! Audit-log file imports run in the background: the page starts one, then asks how far it
//! has come (bytes read of the file's size, events so far) to draw its progress bar.

use std::sync::atomic::Ordering;

use warden_service::logs::{IngestResponse, Progress};

use crate::ipc::ImportStatus;
use crate::jobs::Jobs;

pub type Imports = Jobs<Progress, IngestResponse>;

/// Whether an import has not ended yet.
pub fn running(imports: &Imports) -> bool {
    imports.any(|job| job.outcome.is_none())
}

/// Asks import `id` to stop after the chunk being written; false when there is no such
/// import.
pub fn cancel(imports: &Imports, id: u64) -> bool {
    imports.with(id, |job| job.progress.cancel()).is_some()
}

pub fn status(imports: &Imports, id: u64) -> Option<ImportStatus> {
    imports.with(id, |job| ImportStatus {
        id,
        bytes: job.progress.bytes.load(Ordering::Relaxed),
        total: job.progress.total.load(Ordering::Relaxed),
        events: job.progress.events.load(Ordering::Relaxed),
        cancelling: job.progress.is_cancelled() && job.outcome.is_none(),
        done: job.outcome.is_some(),
        result: job.outcome.as_ref().and_then(|o| o.as_ref().ok().cloned()),
        error: job.outcome.as_ref().and_then(|o| o.as_ref().err().cloned()),
    })
}
