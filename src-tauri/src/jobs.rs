//! Long work run in the background (audit-log imports, exports): the page starts a job,
//! then asks how far it has come from the progress it reports into, until its outcome.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crate::ipc::IpcError;

/// Jobs reporting into a `P`, each ending with a `T` or an error.
pub struct Jobs<P, T> {
    next: AtomicU64,
    jobs: Mutex<HashMap<u64, Job<P, T>>>,
}

impl<P, T> Default for Jobs<P, T> {
    fn default() -> Self {
        Self {
            next: AtomicU64::new(0),
            jobs: Mutex::new(HashMap::new()),
        }
    }
}

/// A job: the progress it reports into, and its outcome once done.
pub struct Job<P, T> {
    pub progress: Arc<P>,
    pub outcome: Option<Result<T, IpcError>>,
}

impl<P: Default, T> Jobs<P, T> {
    /// A new job: its id, and the progress it reports into.
    pub fn start(&self) -> (u64, Arc<P>) {
        let id = self.next.fetch_add(1, Ordering::Relaxed) + 1;
        let progress = Arc::new(P::default());
        if let Ok(mut jobs) = self.jobs.lock() {
            let job = Job {
                progress: progress.clone(),
                outcome: None,
            };
            jobs.insert(id, job);
        }
        (id, progress)
    }

    pub fn finish(&self, id: u64, outcome: Result<T, IpcError>) {
        if let Ok(mut jobs) = self.jobs.lock()
            && let Some(job) = jobs.get_mut(&id)
        {
            job.outcome = Some(outcome);
        }
    }

    /// Whether any job is as `test` says.
    pub fn any(&self, test: impl Fn(&Job<P, T>) -> bool) -> bool {
        self.jobs
            .lock()
            .map(|jobs| jobs.values().any(test))
            .unwrap_or(false)
    }

    /// What `look` makes of job `id`; None when there is no such job.
    pub fn with<R>(&self, id: u64, look: impl FnOnce(&Job<P, T>) -> R) -> Option<R> {
        let jobs = self.jobs.lock().ok()?;
        jobs.get(&id).map(look)
    }
}
