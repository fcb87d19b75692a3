//! Scanning the application's log with the detectors from the last checkpoint.

use std::collections::{HashMap, HashSet};

use serde::Serialize;
use ts_rs::TS;
use warden_core::detectors::{Facts, Scan};
use warden_core::directory::UserId;
use warden_core::policy::Policy;
use warden_store::logs::{self as store, APP_SOURCE, ScanMeta};

use crate::context::Ctx;
use crate::directory::load;
use crate::error::{Error, Result};

#[derive(Debug, Clone, Serialize, TS)]
pub struct ScanResponse {
    /// Findings not seen before.
    pub new_findings: u64,
    /// Log rows judged for the first time (the overlap re-read is `reread`).
    pub scanned: u64,
    /// Rows without an id, time, user or action: counted, not judged.
    pub skipped: u64,
    /// Hits, new or known.
    pub found: u64,
    /// Known findings this scan added rows to.
    pub extended: u64,
    /// Of the rows read, those an earlier scan judged, re-read for context: the trailing
    /// overlap that judges late rows and windows straddling two scans whole.
    pub reread: u64,
    /// Rows with `from_id < id <= to_id` were read.
    pub from_id: i64,
    pub to_id: i64,
    pub full: bool,
    /// The log was behind the checkpoint (emptied or re-created), so it was read from the
    /// start.
    pub restarted: bool,
    pub scan: u64,
    pub policy_version: u32,
    pub audit_seq: u64,
}

/// Runs the detectors over the application's access log: from the checkpoint (rows added
/// since the last scan), or over every row with `full`. Hits are recorded as findings
/// (new fingerprints opened, known ones extended) and the checkpoint moves, in one change
/// with its audit event. Judged with the policy in force, whose `[detectors]` section
/// holds the thresholds.
pub async fn scan(ctx: &Ctx, full: bool) -> Result<ScanResponse> {
    let o = ctx.as_officer("scanning the access log")?;
    let stored = warden_store::governance::policy_version(o.db(), None)
        .await?
        .ok_or_else(|| {
            Error::Invalid("the detectors judge by the policy in force: apply one first".into())
        })?;
    let policy = Policy::parse(&stored.body)
        .map_err(|e| Error::Invalid(format!("stored policy v{}: {e}", stored.version)))?;
    let r = crate::Reader::from(o);
    let (db, m) = (r.db(), r.mapping()?);
    let judged = match full {
        true => None,
        false => Some(store::judged(db, APP_SOURCE).await?),
    };
    let checkpoint = judged.as_ref().map_or(0, |j| j.through);
    // A checkpoint past the log's newest row means the table was emptied or re-created
    // (its ids started again): reading after the checkpoint would miss every new row.
    let restarted = checkpoint > 0
        && store::newest_id(db, m)
            .await?
            .is_none_or(|n| n < checkpoint);
    if restarted {
        tracing::warn!(
            checkpoint,
            "the access log is behind the checkpoint: scanning it from the start"
        );
    }
    // From the checkpoint, reaching back over a trailing overlap: a row committed after
    // the last scan read past its id, and a window that began before the checkpoint, are
    // judged whole; rows judged before count as context (`Judged`), not twice.
    let judged = judged.filter(|_| !restarted);
    let from_id = match &judged {
        Some(j) => store::overlap_start(db, m, j.through, lookback(&policy)).await?,
        None => 0,
    };
    let t = std::time::Instant::now();
    let (loaded, relations) =
        futures_util::try_join!(load(&r), async { Ok(store::relations(db, m).await?) })?;
    let read = t.elapsed();
    // The detectors judge each batch as it is read. (On a thread of their own they were no
    // faster: the server producing the rows is the limit, and a third busy thread on two
    // cores only took time from it.)
    let semantics = m.mapping().semantics;
    let roles = loaded.roles_by_user();
    let keys: HashMap<_, &str> = (loaded.permissions.iter())
        .map(|p| (p.id, p.key.as_str()))
        .collect();
    let held: HashMap<UserId, HashSet<String>> = loaded
        .effective(semantics)
        .into_iter()
        .map(|(u, e)| {
            let k = e.keys().filter_map(|p| keys.get(p)).map(|k| k.to_string());
            (u, k.collect())
        })
        .collect();
    let mut detectors = Scan::new(Facts {
        policy: &policy,
        users: &loaded.users,
        roles: &roles,
        held: &held,
        relations: relations.as_ref(),
    })
    .map_err(|e| Error::Invalid(format!("stored policy v{}: detectors.{e}", stored.version)))?;
    if let Some(j) = &judged {
        detectors.resume(j.clone());
    }
    let mut unreadable = 0;
    let mut reread = 0;
    let mut gaps = Gaps::after(from_id);
    let mut streamed = store::stream(db, m, from_id, |batch| {
        let mut read = 0;
        for e in batch.events() {
            gaps.saw(e.id);
            reread += u64::from(judged.as_ref().is_some_and(|j| !j.is_new(e.id)));
            detectors.push(&e);
            read += 1;
        }
        unreadable += (batch.len() - read) as u64;
        std::future::ready(true)
    })
    .await?;
    // A hit made only of rows judged before is not new grounds: those rows were judged,
    // with the context they had then.
    let mut findings = detectors.finish();
    let judged_now = streamed.rows - reread;
    findings.retain(|f| f.new_rows != Some(0));
    // The checkpoint never moves back (the overlap re-read ends where the last scan did).
    let to_id = match &judged {
        Some(j) => streamed.last_id.max(j.through),
        None => streamed.last_id,
    };
    streamed.skipped += unreadable;
    tracing::info!(
        rows = judged_now,
        reread,
        by_wire = streamed.by_wire,
        directory_ms = read.as_millis() as u64,
        scan_ms = (t.elapsed() - read).as_millis() as u64,
        found = findings.len(),
        "access log scanned"
    );
    // An id a filtered log leaves out is another service's row, not a transaction still
    // in flight: no gap.
    let mut gaps = gaps.into_newest();
    let outside = store::ids_outside_filter(db, m, &gaps).await?;
    gaps.retain(|id| !outside.contains(id));
    let mut change = o.change().await?;
    let recorded = store::record_scan(
        &mut change,
        &ScanMeta {
            source: APP_SOURCE.into(),
            full,
            from_id,
            to_id,
            scanned: judged_now,
            skipped: streamed.skipped,
            policy_version: stored.version,
            resumed_after: judged.as_ref().map(|j| j.through),
            gaps,
        },
        &findings,
    )
    .await?;
    let event = change
        .commit(
            "logs.scan",
            &format!("scan {}", recorded.scan),
            serde_json::json!({
                "scan": recorded.scan, "full": full, "restarted": restarted, "from_id": from_id,
                "to_id": to_id, "scanned": judged_now, "reread": reread,
                "found": findings.len(), "opened": recorded.opened,
                "policy_version": stored.version,
            }),
        )
        .await?;
    Ok(ScanResponse {
        new_findings: recorded.opened,
        scanned: judged_now,
        skipped: streamed.skipped,
        found: findings.len() as u64,
        extended: recorded.extended,
        reread,
        from_id,
        to_id,
        full,
        restarted,
        scan: recorded.scan,
        policy_version: stored.version,
        audit_seq: event.seq,
    })
}

/// How far back a resumed scan re-reads before its checkpoint: two of the longest window a
/// detector judges (the enumeration and denied-burst windows); per-day detectors reach back
/// to the day's start besides (`store::overlap_start`).
fn lookback(policy: &Policy) -> chrono::Duration {
    let d = &policy.detectors;
    let longest = d
        .enumeration
        .window_minutes
        .max(d.denied_burst.window_minutes);
    chrono::Duration::minutes(2 * i64::from(longest))
}

/// The ids missing from what a scan read (rows read in id order): a transaction that had
/// not committed when the scan passed its id. The newest [`store::MAX_GAPS`] are kept.
struct Gaps {
    /// The last id seen (None before the first row of a scan from the start, whose ids
    /// below the first are no gap).
    last: Option<i64>,
    missing: std::collections::VecDeque<i64>,
}

impl Gaps {
    fn after(id: i64) -> Self {
        Self {
            last: (id > 0).then_some(id),
            missing: std::collections::VecDeque::new(),
        }
    }

    fn saw(&mut self, id: i64) {
        let Some(last) = self.last.filter(|last| id > *last) else {
            self.last = Some(self.last.map_or(id, |last| last.max(id)));
            return;
        };
        // A long run of missing ids (rows deleted, ids skipped) is not a transaction in
        // flight: only its newest ids matter.
        let from = (last + 1).max(id - store::MAX_GAPS as i64);
        for missing in from..id {
            if self.missing.len() == store::MAX_GAPS {
                self.missing.pop_front();
            }
            self.missing.push_back(missing);
        }
        self.last = Some(id);
    }

    fn into_newest(self) -> Vec<i64> {
        self.missing.into()
    }
}
