//! Reviewers deciding their items, exactly once, and handing them on.

use serde::{Deserialize, Serialize};
use ts_rs::TS;
use warden_core::console::{ConsoleRole, same_identity};
use warden_core::review::{Baseline, CampaignStatus, Verdict};
use warden_store::reviews::{self as store};

use crate::context::Ctx;
use crate::directory::utc;
use crate::error::{Error, Result};

#[derive(Debug, Clone, Serialize, TS)]
pub struct ItemView {
    pub id: u64,
    pub login: String,
    pub department: Option<String>,
    pub role: String,
    pub reviewer: String,
    pub granted_at: Option<String>,
    pub granted_by: Option<String>,
    pub baseline: Baseline,
    pub outside: String,
    pub sod: String,
    pub last_used: Option<String>,
    pub suggestion: Verdict,
    pub reason: String,
    pub decision: Option<Verdict>,
    pub decided_by: Option<String>,
    pub comment: Option<String>,
    /// The optimistic lock a decision must name.
    pub version: u32,
}

impl From<store::Item> for ItemView {
    fn from(i: store::Item) -> Self {
        Self {
            id: i.id,
            login: i.login,
            department: i.department,
            role: i.role,
            reviewer: i.reviewer,
            granted_at: i.granted_at.map(utc),
            granted_by: i.granted_by,
            baseline: i.baseline,
            outside: i.outside,
            sod: i.sod,
            last_used: i.last_used.map(utc),
            suggestion: i.suggestion,
            reason: i.reason,
            decision: i.decision,
            decided_by: i.decided_by,
            comment: i.comment,
            version: i.version,
        }
    }
}

#[derive(Debug, Clone, Deserialize, TS)]
pub struct ItemsRequest {
    pub campaign: u64,
    /// Only this reviewer's items (a reviewer always sees only their own).
    pub reviewer: Option<String>,
    pub pending: bool,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct ItemsResponse {
    pub items: Vec<ItemView>,
}

/// A campaign's items. A reviewer sees only their own; officers and auditors see any.
pub async fn items(ctx: &Ctx, req: ItemsRequest) -> Result<ItemsResponse> {
    let (db, scope, reviewer) = match ctx.role() {
        ConsoleRole::Reviewer => (
            ctx.as_reviewer("reading review items")?.db(),
            store::Scope::Mine,
            None,
        ),
        _ => (
            ctx.as_reader("reading review items")?.db(),
            store::Scope::All,
            req.reviewer.filter(|r| !r.is_empty()),
        ),
    };
    Ok(ItemsResponse {
        items: store::items(db, scope, req.campaign, reviewer.as_deref(), req.pending)
            .await?
            .into_iter()
            .map(ItemView::from)
            .collect(),
    })
}

#[derive(Debug, Clone, Deserialize, TS)]
pub struct DecideRequest {
    pub items: Vec<u64>,
    pub decision: Verdict,
    pub comment: String,
    /// The caller's idempotency key: the same request sent twice records once.
    pub key: String,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct DecideResponse {
    /// Items decided by this request (or by an earlier send of the same request).
    pub decided: Vec<u64>,
    pub audit_seq: Option<u64>,
}

/// Records a decision on each item, all or nothing, in one change with its audit event.
/// Only an item's reviewer decides it, never on their own access, and only once: an item
/// already decided by another request is a conflict naming who decided it.
pub async fn decide(ctx: &Ctx, req: DecideRequest) -> Result<DecideResponse> {
    crate::retry::retried(ctx.trail_db(), || decide_once(ctx, req.clone())).await
}

async fn decide_once(ctx: &Ctx, req: DecideRequest) -> Result<DecideResponse> {
    let reviewer = ctx.as_reviewer("deciding review items")?;
    let verdict = req.decision;
    let comment = crate::input::comment(req.comment.trim())?;
    let key = crate::input::text_field("the decision key", &req.key, 40)?;
    if req.items.is_empty() {
        return Err(Error::Invalid("no items to decide".into()));
    }
    let me = reviewer.actor().login.clone();
    let mut change = reviewer.change().await?;
    // Through the server's view of the actor's own items: another's item is not there.
    let locked = store::lock_items(&mut change, store::Scope::Mine, &req.items).await?;
    if locked.len() != req.items.len() {
        let found: Vec<u64> = locked.iter().map(|(i, _)| i.id).collect();
        let missing: Vec<String> = req
            .items
            .iter()
            .filter(|i| !found.contains(i))
            .map(u64::to_string)
            .collect();
        return Err(Error::Forbidden {
            actor: me,
            role: ctx.role(),
            needed: "the item's reviewer",
            what: not_yours(&missing),
        });
    }
    let mut decided = Vec::new();
    let mut to_write = Vec::new();
    for (item, status) in &locked {
        let item_key = format!("{key}:{}", item.id);
        if *status != CampaignStatus::Open {
            return Err(Error::Store(warden_store::Error::Conflict(format!(
                "item {} belongs to a campaign that is {status}",
                item.id
            ))));
        }
        if same_identity(&item.login, &me) {
            return Err(Error::Forbidden {
                actor: me.clone(),
                role: ctx.role(),
                needed: "someone other than the person reviewed",
                what: "deciding on one's own access",
            });
        }
        if !same_identity(&item.reviewer, &me) {
            return Err(Error::Forbidden {
                actor: me.clone(),
                role: ctx.role(),
                needed: "the item's reviewer",
                what: "deciding another reviewer's item",
            });
        }
        if let Some(done) = &item.decision {
            if store::decision_key(&mut change, item.id).await?.as_deref() == Some(&item_key) {
                decided.push(item.id);
                continue;
            }
            return Err(Error::Store(warden_store::Error::Conflict(format!(
                "item {} was already decided ({done}) by {} at {}",
                item.id,
                item.decided_by.as_deref().unwrap_or("someone"),
                item.decided_at.map(utc).unwrap_or_default()
            ))));
        }
        decided.push(item.id);
        to_write.push(item.id);
    }
    // The items are locked by this change: nobody can decide them in between.
    let written = store::record_decisions(&mut change, &to_write, verdict, comment, &key).await?;
    if written != to_write.len() as u64 {
        return Err(Error::Store(warden_store::Error::Conflict(
            "some items changed while they were being decided: reload and try again".into(),
        )));
    }
    let fresh = to_write.len();
    if fresh == 0 {
        drop(change);
        return Ok(DecideResponse {
            decided,
            audit_seq: None,
        });
    }
    let event = change
        .commit(
            "review.decide",
            &format!("review items {}", summarize_ids(&decided)),
            serde_json::json!({
                "campaign": campaigns_of(&locked), "items": decided,
                "decision": verdict.as_str(), "comment": comment, "key": key,
            }),
        )
        .await?;
    Ok(DecideResponse {
        decided,
        audit_seq: Some(event.seq),
    })
}

/// Why items the server's view did not show cannot be decided: they are another
/// reviewer's, or do not exist (the view cannot tell which, and should not).
fn not_yours(missing: &[String]) -> &'static str {
    match missing.len() {
        1 => "deciding a review item that is not in their queue (another's, or none)",
        _ => "deciding review items that are not in their queue (another's, or none)",
    }
}

/// The campaign of locked items: one number, or a list when they span several.
fn campaigns_of(locked: &[(store::Item, CampaignStatus)]) -> serde_json::Value {
    let ids: std::collections::BTreeSet<u64> = locked.iter().map(|(i, _)| i.campaign_id).collect();
    match ids.len() {
        1 => ids.into_iter().next().into(),
        _ => ids.into_iter().collect::<Vec<_>>().into(),
    }
}

fn summarize_ids(ids: &[u64]) -> String {
    match ids {
        [] => String::new(),
        [one] => one.to_string(),
        [first, .., last] => format!("{first}…{last} ({} items)", ids.len()),
    }
}

#[derive(Debug, Clone, Deserialize, TS)]
pub struct ReassignRequest {
    pub items: Vec<u64>,
    pub to: String,
    pub comment: String,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct ReassignResponse {
    pub reassigned: Vec<u64>,
    pub audit_seq: u64,
}

/// Hands undecided items to another reviewer, with a comment: a reviewer their own items,
/// an officer anyone's. The new reviewer must be a console reviewer or officer and not the
/// person reviewed.
pub async fn reassign(ctx: &Ctx, req: ReassignRequest) -> Result<ReassignResponse> {
    crate::retry::retried(ctx.trail_db(), || reassign_once(ctx, req.clone())).await
}

async fn reassign_once(ctx: &Ctx, req: ReassignRequest) -> Result<ReassignResponse> {
    let reviewer = ctx.as_reviewer("reassigning review items")?;
    let comment = crate::input::comment(req.comment.trim())?;
    if comment.is_empty() {
        return Err(Error::Invalid(
            "a reassignment needs a comment that says why".into(),
        ));
    }
    let to = crate::input::text_field("--to", &req.to, 190)?;
    match warden_store::governance::console_role(reviewer.db(), &to).await? {
        Some(ConsoleRole::Officer | ConsoleRole::Reviewer) => {}
        _ => {
            return Err(Error::Invalid(format!(
                "`{to}` is not a console user with the reviewer or officer role"
            )));
        }
    }
    let me = reviewer.actor().login.clone();
    let officer = ctx.role() == ConsoleRole::Officer;
    let scope = match officer {
        true => store::Scope::All,
        false => store::Scope::Mine,
    };
    let mut change = reviewer.change().await?;
    let locked = store::lock_items(&mut change, scope, &req.items).await?;
    if locked.len() != req.items.len() || locked.is_empty() {
        return Err(Error::NotFound(
            "some of these review items do not exist".into(),
        ));
    }
    for (item, status) in &locked {
        if *status != CampaignStatus::Open || item.decision.is_some() {
            return Err(Error::Store(warden_store::Error::Conflict(format!(
                "item {} is already decided or closed",
                item.id
            ))));
        }
        if same_identity(&item.login, &to) {
            return Err(Error::Invalid(format!(
                "item {} concerns {to}'s own access: it cannot be theirs to review",
                item.id
            )));
        }
        if !officer && !same_identity(&item.reviewer, &me) {
            return Err(Error::Forbidden {
                actor: me.clone(),
                role: ctx.role(),
                needed: "the item's reviewer or an officer",
                what: "reassigning another reviewer's item",
            });
        }
        store::record_reassign(&mut change, item.id, item.version, &to).await?;
    }
    let ids: Vec<u64> = locked.iter().map(|(i, _)| i.id).collect();
    // Who each item was with, for the evidence pack's `reassigned_from`.
    let from: serde_json::Map<String, serde_json::Value> = (locked.iter())
        .map(|(i, _)| (i.id.to_string(), i.reviewer.clone().into()))
        .collect();
    let event = change
        .commit(
            "review.reassign",
            &format!("review items {}", summarize_ids(&ids)),
            serde_json::json!({
                "campaign": campaigns_of(&locked), "items": ids, "to": to,
                "from": from, "comment": comment,
            }),
        )
        .await?;
    Ok(ReassignResponse {
        reassigned: ids,
        audit_seq: event.seq,
    })
}

/// Hands a reviewer's whole pending queue in a campaign to another reviewer (officers).
pub async fn reassign_queue(
    ctx: &Ctx,
    campaign: u64,
    from: &str,
    to: &str,
    comment: &str,
) -> Result<ReassignResponse> {
    let o = ctx.as_officer("reassigning a reviewer's queue")?;
    let items: Vec<u64> = store::items(o.db(), store::Scope::All, campaign, Some(from), true)
        .await?
        .into_iter()
        .map(|i| i.id)
        .collect();
    if items.is_empty() {
        return Err(Error::NotFound(format!(
            "{from} has no pending items in campaign {campaign}"
        )));
    }
    reassign(
        ctx,
        ReassignRequest {
            items,
            to: to.to_string(),
            comment: comment.to_string(),
        },
    )
    .await
}
