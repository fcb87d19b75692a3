//! A change refused for a concurrent one is made again, whole (issue 18): on a Galera
//! cluster two nodes may each lock the trail's head and commit, and the second to reach
//! certification is refused (error 1213 at COMMIT); on one server, a deadlock or a lock
//! wait ends the same way. The use case runs again from the start — its checks made again
//! on what is there now — a few times, a little apart, before the refusal is reported.

use std::hash::{BuildHasher, Hasher};
use std::time::Duration;

use crate::error::{Error, Result};

/// How many times a use case runs before a contended change is reported.
const ATTEMPTS: u32 = 12;

impl Error {
    /// Whether a concurrent change won: made again, this one may succeed.
    pub fn is_contended(&self) -> bool {
        matches!(self, Self::Store(warden_store::Error::Contended(_)))
    }
}

/// Runs `once` until it is not refused for a concurrent change, at most [`ATTEMPTS`]
/// times: between attempts a pause that doubles (from 5 ms, at most 400 ms) with a random
/// part, so writers refused together do not meet again.
pub(crate) async fn retried<T, F, Fut>(mut once: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T>>,
{
    let mut pause = Duration::from_millis(5);
    let mut attempt = 1;
    loop {
        match once().await {
            Err(e) if e.is_contended() && attempt < ATTEMPTS => {
                tracing::debug!(attempt, "a concurrent change won; making this one again");
                let jitter = std::collections::hash_map::RandomState::new()
                    .build_hasher()
                    .finish()
                    % (pause.as_millis() as u64 + 1);
                tokio::time::sleep(pause + Duration::from_millis(jitter)).await;
                pause = (pause * 2).min(Duration::from_millis(400));
                attempt += 1;
            }
            done => return done,
        }
    }
}
