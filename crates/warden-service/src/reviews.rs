//! Access reviews: launching a campaign over every grant in scope, and reviewers deciding
//! their items exactly once.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use ts_rs::TS;
use warden_core::console::ConsoleRole;
use warden_core::directory::{PermissionId, RoleId, User, UserId};
use warden_core::policy::{Policy, Subject};
use warden_core::review::{self, ReviewerRule, Verdict, reviewer_for};
use warden_store::reviews::{self as store, NewCampaign, NewItem};

use crate::context::Ctx;
use crate::directory::{load, utc};
use crate::error::{Error, Result};

/// Which grants a campaign reviews; an empty list does not narrow.
#[derive(Debug, Clone, Default, Serialize, Deserialize, TS)]
pub struct Scope {
    pub departments: Vec<String>,
    pub roles: Vec<String>,
    pub job_functions: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, TS)]
pub struct StartRequest {
    pub name: String,
    /// `YYYY-MM-DD`.
    pub due: String,
    pub scope: Scope,
    /// `manager` or `owner`.
    pub reviewer: String,
    /// Reviews what the rule cannot (no manager, no owner, or the person themself).
    pub fallback: String,
    /// What undecided items become at close: `keep` or `revoke`.
    pub undecided: String,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct Started {
    pub campaign: u64,
    pub items: u64,
    pub reviewers: u64,
    pub policy_version: u32,
    pub audit_seq: u64,
}

/// Launches a campaign: every (user, role) grant in scope becomes an item, with the
/// reviewer the rule picks (never the person themself), the context a reviewer needs, and
/// Warden's suggestion, pinned to the policy in force. One change with its audit event.
pub async fn start(ctx: &Ctx, req: StartRequest) -> Result<Started> {
    let o = ctx.as_officer("launching an access review")?;
    let name = crate::input::text_field("the campaign name", &req.name, 190)?;
    let due = NaiveDate::parse_from_str(req.due.trim(), "%Y-%m-%d")
        .map_err(|_| Error::Invalid(format!("--due `{}`: expected YYYY-MM-DD", req.due)))?;
    if due < o.clock().today() {
        return Err(Error::Invalid(format!("--due {due} is in the past")));
    }
    let rule = ReviewerRule::parse(&req.reviewer).ok_or_else(|| {
        Error::Invalid(format!(
            "--reviewer `{}`: expected manager or owner",
            req.reviewer
        ))
    })?;
    let undecided = Verdict::parse(&req.undecided).ok_or_else(|| {
        Error::Invalid(format!(
            "--undecided `{}`: expected keep or revoke",
            req.undecided
        ))
    })?;
    let fallback = crate::input::text_field("the fallback reviewer", &req.fallback, 190)?;
    match warden_store::governance::console_role(o.db(), &fallback).await? {
        Some(ConsoleRole::Officer | ConsoleRole::Reviewer) => {}
        _ => {
            return Err(Error::Invalid(format!(
                "the fallback reviewer `{fallback}` is not a console user with the reviewer or officer role"
            )));
        }
    }
    let stored = warden_store::governance::policy_version(o.db(), None)
        .await?
        .ok_or_else(|| {
            Error::Invalid("a campaign is pinned to the policy in force: apply one first".into())
        })?;
    let policy = Policy::parse(&stored.body)
        .map_err(|e| Error::Invalid(format!("stored policy v{}: {e}", stored.version)))?;

    let r = crate::Reader::from(o);
    let (db, m) = (r.db(), r.mapping()?);
    let t = std::time::Instant::now();
    let now = r.clock().now_naive();
    let unused_days = policy.dormancy.as_ref().map_or(90, |d| d.days);
    let since = now - chrono::Duration::days(i64::from(unused_days.max(365)));
    let (loaded, usage) = futures_util::try_join!(load(&r), async {
        Ok(warden_store::directory::usage_since(db, m, since).await?)
    })?;
    let read_ms = t.elapsed().as_millis() as u64;
    let effective = loaded.effective(m.mapping().semantics);
    let users: HashMap<UserId, &User> = loaded.users.iter().map(|u| (u.id, u)).collect();
    let roles: HashMap<RoleId, &warden_core::directory::Role> =
        loaded.roles.iter().map(|r| (r.id, r)).collect();
    let keys: HashMap<PermissionId, &str> = loaded
        .permissions
        .iter()
        .map(|p| (p.id, p.key.as_str()))
        .collect();
    let roles_of = loaded.roles_by_user();
    // Each role's permission keys, once.
    let mut role_keys: HashMap<RoleId, Vec<&str>> = HashMap::new();
    for r in &loaded.roles {
        let mut k: Vec<&str> = (loaded.model.permissions_of(r.id).iter())
            .filter_map(|p| keys.get(p).copied())
            .collect();
        k.sort_unstable();
        role_keys.insert(r.id, k);
    }
    // Each person's allowed uses: (action, when last), a handful each.
    let mut used: HashMap<UserId, Vec<(&str, chrono::NaiveDateTime)>> = HashMap::new();
    for u in usage.iter().flatten() {
        used.entry(u.user)
            .or_default()
            .push((u.action.as_str(), u.last_seen));
    }
    let in_scope = |user: &User, role: &str, person: &review::Person<'_>| {
        let any = |wanted: &[String], v: &str| wanted.iter().any(|w| w.eq_ignore_ascii_case(v));
        (req.scope.departments.is_empty()
            || user
                .department
                .as_deref()
                .is_some_and(|d| any(&req.scope.departments, d)))
            && (req.scope.roles.is_empty() || any(&req.scope.roles, role))
            && (req.scope.job_functions.is_empty()
                || person
                    .job()
                    .is_some_and(|j| any(&req.scope.job_functions, &j.name)))
    };

    let no_roles = Vec::new();
    let nothing = warden_core::directory::Effective::new();
    let sides = warden_core::policy::SodSides::new(&policy, keys.iter().map(|(p, k)| (*p, *k)));
    let mut people: HashMap<UserId, review::Person<'_>> = HashMap::new();
    // The role's keys outside a job function's baseline, once per (job function, role).
    let mut outside: HashMap<(&str, RoleId), Vec<String>> = HashMap::new();
    let scope = serde_json::to_string(&req.scope).unwrap_or_default();
    let mut change = o.change().await?;
    let id = store::insert_campaign(
        &mut change,
        &NewCampaign {
            name: name.clone(),
            scope,
            reviewer_rule: rule.as_str().into(),
            fallback: fallback.clone(),
            undecided: undecided.as_str().into(),
            due,
            policy_version: Some(stored.version),
        },
    )
    .await?;
    // Items are built in batches while the previous batch is being written: the database
    // inserts on one core while Warden builds on the other.
    let (ready, mut arriving) = tokio::sync::mpsc::channel::<Vec<NewItem>>(2);
    let build = async {
        let ready = ready;
        let mut reviewers = std::collections::BTreeSet::new();
        let mut batch = Vec::with_capacity(store::ITEM_BATCH);
        let mut built = 0;
        for g in &loaded.grants {
            let (Some(user), Some(role)) = (users.get(&g.user), roles.get(&g.role)) else {
                continue;
            };
            let person = people.entry(g.user).or_insert_with(|| {
                let s = Subject {
                    user,
                    roles: roles_of.get(&g.user).unwrap_or(&no_roles),
                };
                let held = effective.get(&g.user).unwrap_or(&nothing);
                review::Person::holding(&policy, &s, held, &sides, &keys)
            });
            if !in_scope(user, &role.name, person) {
                continue;
            }
            let these_keys = role_keys.get(&g.role).map_or(&[][..], Vec::as_slice);
            let outside = person.job().map(|j| {
                outside
                    .entry((j.name.as_str(), g.role))
                    .or_insert_with(|| review::outside_baseline(j, these_keys))
                    .as_slice()
            });
            let last_used = (used.get(&g.user).into_iter().flatten())
                .filter(|(action, _)| these_keys.binary_search(action).is_ok())
                .map(|(_, at)| *at)
                .max();
            let c = review::context_of(
                person,
                user,
                these_keys,
                outside,
                last_used,
                now,
                unused_days,
            );
            let manager = user.manager_id.and_then(|m| users.get(&m).copied());
            let owner = role.owner_id.and_then(|o| users.get(&o).copied());
            let reviewer = reviewer_for(rule, user, manager, owner, &fallback);
            reviewers.insert(reviewer);
            batch.push(NewItem {
                user_id: user.id.0,
                login: user.login.clone(),
                department: user.department.clone(),
                role_id: g.role.0,
                role: role.name.clone(),
                reviewer: reviewer.to_string(),
                granted_at: g.granted_at,
                granted_by: g
                    .granted_by
                    .and_then(|b| users.get(&b))
                    .map(|b| b.login.clone()),
                baseline: c.baseline.to_string(),
                outside: fit(c.outside.join(", "), 2000),
                sod: fit(c.sod.join(", "), 1000),
                last_used: c.last_used,
                suggestion: c.suggestion.as_str().to_string(),
                reason: fit(c.reason, 500),
            });
            if batch.len() == store::ITEM_BATCH {
                built += batch.len();
                if ready.send(std::mem::take(&mut batch)).await.is_err() {
                    break; // the writer failed: its error is the launch's
                }
            }
        }
        built += batch.len();
        if !batch.is_empty() {
            let _ = ready.send(batch).await;
        }
        drop(ready);
        (built, reviewers.len() as u64)
    };
    let write = async {
        let mut written = 0;
        while let Some(batch) = arriving.recv().await {
            store::insert_items(&mut change, id, &batch).await?;
            written += batch.len();
        }
        Ok::<_, Error>(written)
    };
    let ((built, reviewers), written) = futures_util::join!(build, write);
    let written = written?;
    debug_assert_eq!(built, written);
    if written == 0 {
        return Err(Error::Invalid(
            "nothing is in scope: no grant matches these departments, roles and job functions"
                .into(),
        ));
    }
    tracing::info!(
        items = written,
        read_ms,
        built_and_stored_ms = t.elapsed().as_millis() as u64 - read_ms,
        "campaign launched"
    );
    let event = change
        .commit(
            "review.start",
            &format!("campaign {id}"),
            serde_json::json!({
                "campaign": id, "name": name, "items": written, "due": due.to_string(),
                "reviewer": rule.as_str(), "fallback": fallback, "undecided": undecided.as_str(),
                "policy_version": stored.version,
            }),
        )
        .await?;
    Ok(Started {
        campaign: id,
        items: written as u64,
        reviewers,
        policy_version: stored.version,
        audit_seq: event.seq,
    })
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct CampaignView {
    pub id: u64,
    pub name: String,
    pub status: String,
    pub due: String,
    pub overdue: bool,
    pub reviewer_rule: String,
    pub fallback: String,
    pub undecided: String,
    pub policy_version: Option<u32>,
    pub created_by: String,
    pub created_at: String,
    pub items: u64,
    pub decided: u64,
    /// Reviewers with undecided items when the due date is a week away or past: whom to
    /// remind (overdue, once `overdue` is true).
    pub remind: Vec<String>,
}

/// `text` cut to `max` characters, ending in "…" when cut.
fn fit(text: String, max: usize) -> String {
    if text.chars().count() <= max {
        return text;
    }
    let mut cut: String = text.chars().take(max - 1).collect();
    cut.push('…');
    cut
}

/// How many days before the due date reviewers are reminded.
pub const REMIND_DAYS: i64 = 7;

impl CampaignView {
    /// The campaign as it stands on `today` (whether it is overdue).
    fn new(c: store::Campaign, today: NaiveDate) -> Self {
        Self {
            id: c.id,
            overdue: c.status == "open" && c.due < today && c.decided < c.items,
            name: c.name,
            status: c.status,
            due: c.due.to_string(),
            reviewer_rule: c.reviewer_rule,
            fallback: c.fallback,
            undecided: c.undecided,
            policy_version: c.policy_version,
            created_by: c.created_by,
            created_at: utc(c.created_at),
            items: u64::try_from(c.items).unwrap_or(0),
            decided: u64::try_from(c.decided).unwrap_or(0),
            remind: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct CampaignList {
    pub campaigns: Vec<CampaignView>,
}

/// The governance database for reading campaigns: every console role may see campaigns
/// and their progress (reviewers need them to find their queue); items stay per reviewer.
fn campaign_reader<'a>(ctx: &'a Ctx, what: &'static str) -> Result<&'a warden_store::Database> {
    match ctx.role() {
        ConsoleRole::Reviewer => Ok(ctx.as_reviewer(what)?.db()),
        _ => Ok(ctx.as_reader(what)?.db()),
    }
}

/// Every campaign with its progress.
pub async fn list(ctx: &Ctx) -> Result<CampaignList> {
    let db = campaign_reader(ctx, "listing access reviews")?;
    let today = ctx.clock().today();
    let soon = today + chrono::Duration::days(REMIND_DAYS);
    let mut remind = store::reviewers_to_remind(db, soon).await?;
    Ok(CampaignList {
        campaigns: store::campaigns(db)
            .await?
            .into_iter()
            .map(|c| {
                let id = c.id;
                let mut view = CampaignView::new(c, today);
                view.remind = (remind.remove(&id).unwrap_or_default().into_iter())
                    .map(|(reviewer, _)| reviewer)
                    .collect();
                view
            })
            .collect(),
    })
}

/// A reminder for the signed-in console user; the desktop app shows each as a desktop
/// notification. `title` is Warden's own words; `body` names the campaign (user text).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct Reminder {
    pub campaign: u64,
    pub title: String,
    pub body: String,
}

/// What the signed-in console user should be reminded of now: their own undecided items
/// in open campaigns due within [`REMIND_DAYS`] days or overdue and, for an officer, every
/// overdue campaign with items still undecided.
pub async fn reminders(ctx: &Ctx) -> Result<Vec<Reminder>> {
    let db = campaign_reader(ctx, "reading access-review reminders")?;
    let today = ctx.clock().today();
    let mut pending =
        store::reviewers_to_remind(db, today + chrono::Duration::days(REMIND_DAYS)).await?;
    let me = &ctx.actor().login;
    let officer = ctx.role() == ConsoleRole::Officer;
    let mut out = Vec::new();
    for c in store::campaigns(db).await? {
        let Some(reviewers) = pending.remove(&c.id) else {
            continue;
        };
        let days = (c.due - today).num_days();
        let when = match days {
            ..0 => format!("was due {} and is overdue", c.due),
            0 => "is due today".to_string(),
            1 => "is due tomorrow".to_string(),
            n => format!("is due in {n} days ({})", c.due),
        };
        if let Some((_, n)) = reviewers.iter().find(|(r, _)| r.eq_ignore_ascii_case(me)) {
            out.push(Reminder {
                campaign: c.id,
                title: format!(
                    "Access review: {n} item{} to decide",
                    if *n == 1 { "" } else { "s" }
                ),
                body: format!("“{}” {when}.", c.name),
            });
        }
        if officer && days < 0 {
            let items: u64 = reviewers.iter().map(|(_, n)| n).sum();
            out.push(Reminder {
                campaign: c.id,
                title: "Access review overdue".to_string(),
                body: format!(
                    "“{}” {when}: {} {} {items} item{} to decide.",
                    c.name,
                    reviewers.len(),
                    if reviewers.len() == 1 {
                        "reviewer still has"
                    } else {
                        "reviewers still have"
                    },
                    if items == 1 { "" } else { "s" },
                ),
            });
        }
    }
    Ok(out)
}

/// Progress of one reviewer or department.
#[derive(Debug, Clone, Serialize, TS)]
pub struct Progress {
    pub name: String,
    pub items: u64,
    pub decided: u64,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct CampaignDetail {
    pub campaign: CampaignView,
    pub by_reviewer: Vec<Progress>,
    pub by_department: Vec<Progress>,
    /// Reviewers with items still pending, when the campaign is overdue.
    pub overdue_reviewers: Vec<String>,
}

/// One campaign with its progress per reviewer and per department.
pub async fn show(ctx: &Ctx, id: u64) -> Result<CampaignDetail> {
    let db = campaign_reader(ctx, "reading an access review")?;
    let campaign = store::campaign(db, id)
        .await?
        .ok_or_else(|| Error::NotFound(format!("no campaign {id}")))?;
    let campaign = CampaignView::new(campaign, ctx.clock().today());
    let items = store::items(db, id, None, false).await?;
    let tally = |key: &dyn Fn(&store::Item) -> String| {
        let mut m: BTreeMap<String, (u64, u64)> = BTreeMap::new();
        for i in &items {
            let e = m.entry(key(i)).or_default();
            e.0 += 1;
            e.1 += u64::from(i.decision.is_some());
        }
        m.into_iter()
            .map(|(name, (items, decided))| Progress {
                name,
                items,
                decided,
            })
            .collect::<Vec<_>>()
    };
    let by_reviewer = tally(&|i| i.reviewer.clone());
    let by_department = tally(&|i| i.department.clone().unwrap_or_else(|| "(none)".into()));
    let overdue_reviewers = if campaign.overdue {
        by_reviewer
            .iter()
            .filter(|p| p.decided < p.items)
            .map(|p| p.name.clone())
            .collect()
    } else {
        Vec::new()
    };
    Ok(CampaignDetail {
        campaign,
        by_reviewer,
        by_department,
        overdue_reviewers,
    })
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct ItemView {
    pub id: u64,
    pub login: String,
    pub department: Option<String>,
    pub role: String,
    pub reviewer: String,
    pub granted_at: Option<String>,
    pub granted_by: Option<String>,
    pub baseline: String,
    pub outside: String,
    pub sod: String,
    pub last_used: Option<String>,
    pub suggestion: String,
    pub reason: String,
    pub decision: Option<String>,
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
    let reviewer = match ctx.role() {
        ConsoleRole::Reviewer => Some(ctx.actor().login.clone()),
        _ => req.reviewer.filter(|r| !r.is_empty()),
    };
    let db = match ctx.role() {
        ConsoleRole::Reviewer => ctx.as_reviewer("reading review items")?.db(),
        _ => ctx.as_reader("reading review items")?.db(),
    };
    Ok(ItemsResponse {
        items: store::items(db, req.campaign, reviewer.as_deref(), req.pending)
            .await?
            .into_iter()
            .map(ItemView::from)
            .collect(),
    })
}

#[derive(Debug, Clone, Deserialize, TS)]
pub struct DecideRequest {
    pub items: Vec<u64>,
    /// `approve` (keep) or `revoke`.
    pub decision: String,
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
    let reviewer = ctx.as_reviewer("deciding review items")?;
    let verdict = Verdict::parse(&req.decision).ok_or_else(|| {
        Error::Invalid(format!(
            "unknown decision `{}`: expected approve or revoke",
            req.decision
        ))
    })?;
    let comment = crate::input::comment(req.comment.trim())?;
    let key = crate::input::text_field("the decision key", &req.key, 40)?;
    if req.items.is_empty() {
        return Err(Error::Invalid("no items to decide".into()));
    }
    let me = reviewer.actor().login.clone();
    let mut change = reviewer.change().await?;
    let locked = store::lock_items(&mut change, &req.items).await?;
    if locked.len() != req.items.len() {
        let found: Vec<u64> = locked.iter().map(|(i, _)| i.id).collect();
        let missing: Vec<String> = req
            .items
            .iter()
            .filter(|i| !found.contains(i))
            .map(u64::to_string)
            .collect();
        return Err(Error::NotFound(format!(
            "no review item {}",
            missing.join(", ")
        )));
    }
    let mut decided = Vec::new();
    let mut to_write = Vec::new();
    for (item, status) in &locked {
        let item_key = format!("{key}:{}", item.id);
        if status != "open" {
            return Err(Error::Store(warden_store::Error::Conflict(format!(
                "item {} belongs to a campaign that is {status}",
                item.id
            ))));
        }
        if item.login.eq_ignore_ascii_case(&me) {
            return Err(Error::Forbidden {
                actor: me.clone(),
                role: ctx.role(),
                needed: "someone other than the person reviewed",
                what: "deciding on one's own access",
            });
        }
        if !item.reviewer.eq_ignore_ascii_case(&me) {
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
    let written =
        store::record_decisions(&mut change, &to_write, verdict.as_str(), comment, &key).await?;
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

/// The campaign of locked items: one number, or a list when they span several.
fn campaigns_of(locked: &[(store::Item, String)]) -> serde_json::Value {
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
    let mut change = reviewer.change().await?;
    let locked = store::lock_items(&mut change, &req.items).await?;
    if locked.len() != req.items.len() || locked.is_empty() {
        return Err(Error::NotFound(
            "some of these review items do not exist".into(),
        ));
    }
    for (item, status) in &locked {
        if status != "open" || item.decision.is_some() {
            return Err(Error::Store(warden_store::Error::Conflict(format!(
                "item {} is already decided or closed",
                item.id
            ))));
        }
        if item.login.eq_ignore_ascii_case(&to) {
            return Err(Error::Invalid(format!(
                "item {} concerns {to}'s own access: it cannot be theirs to review",
                item.id
            )));
        }
        if !officer && !item.reviewer.eq_ignore_ascii_case(&me) {
            return Err(Error::Forbidden {
                actor: me.clone(),
                role: ctx.role(),
                needed: "the item's reviewer or an officer",
                what: "reassigning another reviewer's item",
            });
        }
        if !store::record_reassign(&mut change, item.id, item.version, &to).await? {
            return Err(Error::Store(warden_store::Error::Conflict(format!(
                "item {} changed while it was being reassigned: reload and try again",
                item.id
            ))));
        }
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

#[derive(Debug, Clone, Serialize, TS)]
pub struct RevocationView {
    pub item: u64,
    pub login: String,
    pub role: String,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct CloseResponse {
    pub campaign: u64,
    pub dry_run: bool,
    /// Undecided items given the campaign's default (would be, in a dry run).
    pub defaulted: u64,
    pub default: String,
    pub revocations: Vec<RevocationView>,
    /// The statements, per user, that remediation runs (in a dry run) or ran.
    pub sql: Vec<String>,
    /// Users whose grants were revoked by this run.
    pub remediated_users: u64,
    pub closed: bool,
}

/// Closes a campaign: undecided items take the campaign's default, then every revocation
/// is applied to the application's user-role table, one transaction per user with its
/// audit event, keeping each removed row for undo. A dry run changes nothing and returns
/// the exact statements. Re-running after a failure finishes what is left: a user is
/// either wholly remediated or untouched.
pub async fn close(ctx: &Ctx, id: u64, dry_run: bool) -> Result<CloseResponse> {
    let o = ctx.as_officer("closing an access review")?;
    let campaign = store::campaign(o.db(), id)
        .await?
        .ok_or_else(|| Error::NotFound(format!("no campaign {id}")))?;
    let default = Verdict::parse(&campaign.undecided).unwrap_or(Verdict::Keep);
    let undecided = u64::try_from(campaign.items - campaign.decided).unwrap_or(0);
    let r = crate::Reader::from(o);
    let grants = store::GrantTable::of(r.db(), r.mapping()?).await?;

    if !dry_run && undecided > 0 {
        let mut change = o.change().await?;
        let n = store::apply_default(&mut change, id, default.as_str()).await?;
        change
            .commit(
                "review.default",
                &format!("campaign {id}"),
                serde_json::json!({ "campaign": id, "items": n, "decision": default.as_str() }),
            )
            .await?;
    }
    let mut pending = store::pending_revocations(o.db(), id).await?;
    if dry_run && default == Verdict::Revoke {
        // Undecided items would be revoked too: show them.
        for i in store::items(o.db(), id, None, true).await? {
            pending.push(store::Revocation {
                item: i.id,
                user_id: i.user_id,
                login: i.login,
                role_id: i.role_id,
                role: i.role,
            });
        }
    }
    let mut by_user: BTreeMap<(i64, String), Vec<store::Revocation>> = BTreeMap::new();
    for rv in &pending {
        by_user
            .entry((rv.user_id, rv.login.clone()))
            .or_default()
            .push(rv.clone());
    }
    let mut sql = Vec::new();
    let mut remediated_users = 0;
    for ((_, login), revs) in &by_user {
        sql.extend(grants.preview(login, revs));
        if dry_run {
            continue;
        }
        let mut change = o.change().await?;
        let mut removed = 0;
        for rv in revs {
            removed += u32::from(store::remediate(&mut change, &grants, id, rv).await?);
        }
        change
            .commit(
                "review.remediate",
                &format!("user {login}"),
                serde_json::json!({
                    "campaign": id,
                    "items": revs.iter().map(|r| r.item).collect::<Vec<_>>(),
                    "roles": revs.iter().map(|r| r.role.clone()).collect::<Vec<_>>(),
                    "rows_removed": removed,
                }),
            )
            .await?;
        remediated_users += 1;
    }
    let closed = !dry_run;
    if closed && campaign.status != "closed" {
        let mut change = o.change().await?;
        store::mark_closed(&mut change, id).await?;
        change
            .commit(
                "review.close",
                &format!("campaign {id}"),
                serde_json::json!({ "campaign": id, "revoked": pending.len(), "users": by_user.len() }),
            )
            .await?;
    }
    Ok(CloseResponse {
        campaign: id,
        dry_run,
        defaulted: undecided,
        default: default.as_str().into(),
        revocations: pending
            .iter()
            .map(|r| RevocationView {
                item: r.item,
                login: r.login.clone(),
                role: r.role.clone(),
            })
            .collect(),
        sql,
        remediated_users,
        closed,
    })
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct UndoResponse {
    pub campaign: u64,
    pub restored_rows: u64,
    pub users: u64,
}

/// Puts back every row a campaign's remediation removed, exactly as it was, one
/// transaction per user with its audit event.
pub async fn undo_remediation(ctx: &Ctx, id: u64) -> Result<UndoResponse> {
    let o = ctx.as_officer("undoing a remediation")?;
    store::campaign(o.db(), id)
        .await?
        .ok_or_else(|| Error::NotFound(format!("no campaign {id}")))?;
    let r = crate::Reader::from(o);
    let grants = store::GrantTable::of(r.db(), r.mapping()?).await?;
    let removed = store::removed_rows(o.db(), id).await?;
    let mut by_user: BTreeMap<i64, Vec<store::Removed>> = BTreeMap::new();
    for rm in removed {
        by_user.entry(rm.user_id).or_default().push(rm);
    }
    let mut restored = 0;
    for (user, rows) in &by_user {
        let mut change = o.change().await?;
        for rm in rows {
            store::restore(&mut change, &grants, rm).await?;
        }
        change
            .commit(
                "review.undo",
                &format!("user {user}"),
                serde_json::json!({
                    "campaign": id,
                    "items": rows.iter().map(|r| r.item).collect::<Vec<_>>(),
                }),
            )
            .await?;
        restored += rows.len() as u64;
    }
    Ok(UndoResponse {
        campaign: id,
        restored_rows: restored,
        users: by_user.len() as u64,
    })
}

/// Launches the next campaign from an earlier one (a template): the same scope, reviewer
/// rule, fallback and default, a new due date, and a name.
pub async fn start_like(ctx: &Ctx, template: u64, name: &str, due: &str) -> Result<Started> {
    let o = ctx.as_officer("launching an access review")?;
    let c = store::campaign(o.db(), template)
        .await?
        .ok_or_else(|| Error::NotFound(format!("no campaign {template}")))?;
    let scope: Scope = serde_json::from_str(&c.scope)
        .map_err(|e| Error::Invalid(format!("campaign {template} has an unreadable scope: {e}")))?;
    start(
        ctx,
        StartRequest {
            name: name.to_string(),
            due: due.to_string(),
            scope,
            reviewer: c.reviewer_rule,
            fallback: c.fallback,
            undecided: c.undecided,
        },
    )
    .await
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
    let items: Vec<u64> = store::items(o.db(), campaign, Some(from), true)
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
