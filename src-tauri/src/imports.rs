//! Audit-log file imports run in the background: the page starts one, then asks how far it
//! has come (bytes read of the file's size, events so far) to draw its progress bar.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use warden_service::logs::{IngestResponse, Progress};

use crate::ipc::{ImportStatus, IpcError};

#[derive(Default)]
pub struct Imports {
    next: AtomicU64,
    jobs: Mutex<HashMap<u64, Job>>,
}

struct Job {
    progress: Arc<Progress>,
    outcome: Option<Result<IngestResponse, IpcError>>,
}

impl Imports {
    /// A new import: its id, and the progress it reports into.
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

    pub fn finish(&self, id: u64, outcome: Result<IngestResponse, IpcError>) {
        if let Ok(mut jobs) = self.jobs.lock()
            && let Some(job) = jobs.get_mut(&id)
        {
            job.outcome = Some(outcome);
        }
    }

    pub fn status(&self, id: u64) -> Option<ImportStatus> {
        let jobs = self.jobs.lock().ok()?;
        let job = jobs.get(&id)?;
        let (result, error) = match &job.outcome {
            Some(Ok(r)) => (Some(r.clone()), None),
            Some(Err(e)) => (None, Some(e.clone())),
            None => (None, None),
        };
        Some(ImportStatus {
            id,
            bytes: job.progress.bytes.load(Ordering::Relaxed),
            total: job.progress.total.load(Ordering::Relaxed),
            events: job.progress.events.load(Ordering::Relaxed),
            done: job.outcome.is_some(),
            result,
            error,
        })
    }
}
