//! The CSV an export writes: guarded, hashed and counted as it goes, synced in the
//! background, with progress a caller can read and a cancel it can send.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use warden_core::export::CsvOut;

/// How far an export has come, and whether it was asked to stop: read and set from
/// another task (the CLI's progress bar and Ctrl-C, the app's progress and Cancel).
#[derive(Debug, Default)]
pub struct Progress {
    /// Rows written so far.
    pub rows: AtomicU64,
    /// About how many rows there will be; 0 when not known in advance.
    pub total: AtomicU64,
    cancelled: AtomicBool,
}

impl Progress {
    /// Asks the export to stop: it removes what it wrote and answers
    /// [`Error::Cancelled`].
    pub fn cancel(&self) {
        self.cancelled.store(true, Ordering::Relaxed);
    }

    pub fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::Relaxed)
    }
}

/// The CSV an export fills, counting its rows into the export's [`Progress`] and
/// stopping it when cancelled (a row refused with [`std::io::ErrorKind::Interrupted`]).
pub struct Sheet<'p> {
    pub(super) csv: CsvOut<std::io::BufWriter<std::fs::File>>,
    pub(super) progress: &'p Progress,
    pub(super) syncer: Syncer,
}

/// Writes what an export has written so far to disk beside it, on a thread of its own, so
/// that the sync that makes the file durable before its rename finds little left to do
/// (a large export's dirty pages would otherwise all be flushed at the end, in line).
pub(super) struct Syncer {
    wake: Option<std::sync::mpsc::SyncSender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
    synced_at: u64,
}

/// Bytes written between two background syncs.
const SYNC_EVERY: u64 = 64 << 20;

impl Syncer {
    pub(super) fn new(file: &std::fs::File) -> Self {
        let (wake, woken) = std::sync::mpsc::sync_channel::<()>(1);
        let thread = file.try_clone().ok().and_then(|file| {
            std::thread::Builder::new()
                .name("warden-export-sync".into())
                .spawn(move || {
                    while woken.recv().is_ok() {
                        let _ = file.sync_data();
                    }
                })
                .ok()
        });
        Self {
            wake: Some(wake),
            thread,
            synced_at: 0,
        }
    }

    /// Asks for a sync once another [`SYNC_EVERY`] bytes are written (never waits: a sync
    /// still running takes the next request in its stride).
    fn written(&mut self, bytes: u64) {
        if bytes >= self.synced_at + SYNC_EVERY {
            self.synced_at = bytes;
            if let Some(wake) = &self.wake {
                let _ = wake.try_send(());
            }
        }
    }
}

impl Drop for Syncer {
    fn drop(&mut self) {
        self.wake = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Rows between two updates of [`Progress::rows`].
const PROGRESS_EVERY: u64 = 4_096;

impl Sheet<'_> {
    fn check(&mut self) -> std::io::Result<()> {
        let rows = self.csv.rows();
        if rows.is_multiple_of(PROGRESS_EVERY) {
            self.progress.rows.store(rows, Ordering::Relaxed);
            self.syncer.written(self.csv.bytes());
            if self.progress.is_cancelled() {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::Interrupted,
                    "cancelled",
                ));
            }
        }
        Ok(())
    }

    pub fn row<S: AsRef<str>>(
        &mut self,
        cells: impl IntoIterator<Item = S>,
    ) -> std::io::Result<()> {
        self.check()?;
        self.csv.row(cells)
    }

    pub fn row_bytes(&mut self, cells: &[&[u8]]) -> std::io::Result<()> {
        self.check()?;
        self.csv.row_bytes(cells)
    }

    /// [`Sheet::row_bytes`] of cells known to hold no `"`.
    pub fn row_bytes_unquoted(&mut self, cells: &[&[u8]]) -> std::io::Result<()> {
        self.check()?;
        self.csv.row_bytes_unquoted(cells)
    }
}
