//! action_log.csv: every event of the audit trail that concerns the campaign, with its
//! hash; read once, it also says what happened to each item.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use warden_core::audit::AuditEvent;
use warden_core::export::{Described, TRAIL_COLUMNS};
use warden_core::review::Verdict;

use super::file::PackFile;
use super::gather::Gathered;
use crate::error::Result;

/// Writes action_log.csv into `dir`; answers it and what it says of the items.
pub(super) async fn write(
    dir: &Path,
    db: &warden_store::Database,
    g: &Gathered,
) -> Result<(Described, History)> {
    let item_ids: HashSet<u64> = g.items.iter().map(|i| i.id).collect();
    let mut history = History::default();
    let mut log = PackFile::create(dir, "action_log.csv", &TRAIL_COLUMNS)?;
    warden_store::governance::stream_audit_events(db, |e, hash| {
        if !concerns(e, g.id, &item_ids) {
            return Ok(());
        }
        history.learn(e);
        log.out.row(warden_core::export::trail_row(e, hash))
    })
    .await?;
    Ok((log.close()?, history))
}

/// Whether an audit event concerns campaign `id`: it names the campaign, or (events
/// written before decisions named theirs) it names one of its items.
fn concerns(e: &AuditEvent, id: u64, items: &HashSet<u64>) -> bool {
    if !e.action.starts_with("review.") {
        return false;
    }
    match &e.details["campaign"] {
        serde_json::Value::Number(n) => n.as_u64() == Some(id),
        serde_json::Value::Array(a) => a.iter().any(|n| n.as_u64() == Some(id)),
        _ => (e.details["items"].as_array()).is_some_and(|a| {
            a.iter()
                .any(|n| n.as_u64().is_some_and(|i| items.contains(&i)))
        }),
    }
}

/// What the action log says of each item: its decision (from the chained `review.decide`
/// events, or the campaign's default at close), who it was reassigned from (last), who
/// applied its remediation, and when the campaign closed.
#[derive(Default)]
pub(super) struct History {
    pub(super) decided: HashMap<u64, Decided>,
    /// The campaign's default, given at close to the items still undecided: the verdict,
    /// who closed, when, and how many items it says it decided.
    pub(super) defaulted: Option<(Decided, u64)>,
    pub(super) reassigned_from: HashMap<u64, String>,
    pub(super) remediated_by: HashMap<u64, String>,
    pub(super) closed_at: Option<String>,
}

/// A decision as the trail recorded it.
#[derive(Debug, Clone)]
pub(super) struct Decided {
    pub(super) verdict: Option<Verdict>,
    pub(super) by: String,
    pub(super) at: chrono::DateTime<chrono::Utc>,
    pub(super) comment: String,
    pub(super) seq: u64,
}

impl Decided {
    fn of(e: &AuditEvent) -> Self {
        Self {
            verdict: e.details["decision"].as_str().and_then(Verdict::parse),
            by: e.actor.clone(),
            at: e.occurred_at,
            comment: e.details["comment"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            seq: e.seq,
        }
    }
}

impl History {
    fn learn(&mut self, e: &AuditEvent) {
        let items =
            || (e.details["items"].as_array().into_iter().flatten()).filter_map(|n| n.as_u64());
        match e.action.as_str() {
            "review.decide" => {
                for item in items() {
                    self.decided.insert(item, Decided::of(e));
                }
            }
            "review.default" => {
                let n = e.details["items"].as_u64().unwrap_or(0);
                let mut d = Decided::of(e);
                d.comment = warden_store::reviews::DEFAULT_COMMENT.to_string();
                let total = self.defaulted.as_ref().map_or(0, |(_, m)| *m) + n;
                self.defaulted = Some((d, total));
            }
            "review.reassign" => {
                for item in items() {
                    let from = e.details["from"][item.to_string()].as_str();
                    self.reassigned_from.insert(
                        item,
                        from.unwrap_or("(not recorded: reassigned before Warden kept it)")
                            .to_string(),
                    );
                }
            }
            "review.remediate" => {
                for item in items() {
                    self.remediated_by.insert(item, e.actor.clone());
                }
            }
            "review.close" => {
                self.closed_at = Some(
                    e.occurred_at
                        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                );
            }
            _ => {}
        }
    }
}
