//! A change refused for a concurrent one, or cut off with the host it was made on, is made
//! again, whole (issue 18). On a Galera cluster two nodes may each lock the trail's head
//! and commit, and the second to reach certification is refused (error 1213 at COMMIT); on
//! one server, a deadlock or a lock wait ends the same way. A node killed, or a primary
//! lost, takes its open transaction with it (nothing of it was committed, or all of it:
//! the server decides, never half). Either way the use case runs again from the start — its
//! checks made again on what is there now, so what an earlier attempt committed is not
//! made twice — a few times, a little apart, after moving to a host that serves, before
//! the failure is reported.

use std::hash::{BuildHasher, Hasher};
use std::time::Duration;

use warden_store::Database;

use crate::error::{Error, Result};

/// How many times a use case runs before a contended change is reported.
const ATTEMPTS: u32 = 12;

/// How many times a use case moves to another host before a lost host is reported.
const MOVES: u32 = 3;

impl Error {
    /// Whether a concurrent change won: made again, this one may succeed.
    pub fn is_contended(&self) -> bool {
        matches!(self, Self::Store(warden_store::Error::Contended(_)))
    }

    /// Whether the host stopped answering (killed, restarted, cut off, out of the primary
    /// component): on another host, this one may succeed.
    pub fn is_host_lost(&self) -> bool {
        matches!(self, Self::Store(warden_store::Error::Unavailable { .. }))
    }
}

/// Runs `once` until it is not refused for a concurrent change, at most [`ATTEMPTS`]
/// times: between attempts a pause that doubles (from 5 ms, at most 400 ms) with a random
/// part, so writers refused together do not meet again. When the host in use stops
/// answering, `db` moves to one that does, and `once` runs again there (at most [`MOVES`]
/// times); when none answers, the first failure is reported.
pub(crate) async fn retried<T, F, Fut>(db: &Database, mut once: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T>>,
{
    let mut pause = Duration::from_millis(5);
    let (mut attempt, mut moves) = (1, 0);
    loop {
        match once().await {
            Err(e) if e.is_host_lost() && moves < MOVES => {
                let lost = db.host();
                if let Err(none) = db.reconnect().await {
                    tracing::warn!(host = lost, error = %none, "no other host answers");
                    return Err(e);
                }
                tracing::warn!(host = lost, error = %e, to = db.host(), "the host was lost; making this change again");
                moves += 1;
            }
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
