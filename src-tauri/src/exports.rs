//! Exports run in the background like imports: the page starts one, asks how far it has
//! come (rows written, of about how many) for its progress bar, and may cancel it; a
//! cancelled export removes what it wrote.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use warden_service::export::{ExportResponse, Progress};

use crate::ipc::{ExportStatus, IpcError};

#[derive(Default)]
pub struct Exports {
    next: AtomicU64,
    jobs: Mutex<HashMap<u64, Job>>,
}

struct Job {
    progress: Arc<Progress>,
    outcome: Option<Result<ExportResponse, IpcError>>,
}

impl Exports {
    /// A new export: its id, and the progress it reports into.
    pub fn start(&self) -> (u64, Arc<Progress>) {
        let id = self.next.fetch_add(1, Ordering::Relaxed) + 1;
        let progress = Arc::new(Progress::default());
        if let Ok(mut jobs) = self.jobs.lock() {
            jobs.insert(
                id,
                Job {
                    progress: progress.clone(),
                    outcome: None,
                },
            );
        }
        (id, progress)
    }

    pub fn finish(&self, id: u64, outcome: Result<ExportResponse, IpcError>) {
        if let Ok(mut jobs) = self.jobs.lock()
            && let Some(job) = jobs.get_mut(&id)
        {
            job.outcome = Some(outcome);
        }
    }

    /// Asks export `id` to stop; false when there is no such export.
    pub fn cancel(&self, id: u64) -> bool {
        let Ok(jobs) = self.jobs.lock() else {
            return false;
        };
        match jobs.get(&id) {
            Some(job) => {
                job.progress.cancel();
                true
            }
            None => false,
        }
    }

    pub fn status(&self, id: u64) -> Option<ExportStatus> {
        let jobs = self.jobs.lock().ok()?;
        let job = jobs.get(&id)?;
        let (result, error) = match &job.outcome {
            Some(Ok(r)) => (Some(r.clone()), None),
            Some(Err(e)) => (None, Some(e.clone())),
            None => (None, None),
        };
        Some(ExportStatus {
            id,
            rows: job.progress.rows.load(Ordering::Relaxed),
            total: job.progress.total.load(Ordering::Relaxed),
            cancelling: job.progress.is_cancelled() && job.outcome.is_none(),
            done: job.outcome.is_some(),
            result,
            error,
        })
    }
}
