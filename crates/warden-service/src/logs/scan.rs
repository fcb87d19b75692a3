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
    /// Log rows read.
    pub scanned: u64,
    /// Rows without an id, time, user or action: counted, not judged.
    pub skipped: u64,
    /// Hits, new or known.
    pub found: u64,
    /// Known findings this scan added rows to.
    pub extended: u64,
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
    let mut from_id = if full {
        0
    } else {
        store::checkpoint(db, APP_SOURCE).await?
    };
    // A checkpoint past the log's newest row means the table was emptied or re-created
    // (its ids started again): reading after the checkpoint would miss every new row.
    let restarted = from_id > 0 && store::newest_id(db, m).await?.is_none_or(|n| n < from_id);
    if restarted {
        tracing::warn!(
            checkpoint = from_id,
            "the access log is behind the checkpoint: scanning it from the start"
        );
        from_id = 0;
    }
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
    let mut unreadable = 0;
    let mut streamed = store::stream(db, m, from_id, |batch| {
        let mut judged = 0;
        for e in batch.events() {
            detectors.push(&e);
            judged += 1;
        }
        unreadable += (batch.len() - judged) as u64;
        std::future::ready(true)
    })
    .await?;
    let findings = detectors.finish();
    streamed.skipped += unreadable;
    tracing::info!(
        rows = streamed.rows,
        by_wire = streamed.by_wire,
        directory_ms = read.as_millis() as u64,
        scan_ms = (t.elapsed() - read).as_millis() as u64,
        found = findings.len(),
        "access log scanned"
    );
    let mut change = o.change().await?;
    let recorded = store::record_scan(
        &mut change,
        &ScanMeta {
            source: APP_SOURCE.into(),
            full,
            from_id,
            to_id: streamed.last_id,
            scanned: streamed.rows,
            skipped: streamed.skipped,
            policy_version: stored.version,
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
                "to_id": streamed.last_id, "scanned": streamed.rows,
                "found": findings.len(), "opened": recorded.opened,
                "policy_version": stored.version,
            }),
        )
        .await?;
    Ok(ScanResponse {
        new_findings: recorded.opened,
        scanned: streamed.rows,
        skipped: streamed.skipped,
        found: findings.len() as u64,
        extended: recorded.extended,
        from_id,
        to_id: streamed.last_id,
        full,
        restarted,
        scan: recorded.scan,
        policy_version: stored.version,
        audit_seq: event.seq,
    })
}
