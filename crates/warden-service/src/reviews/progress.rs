//! Campaigns and their progress, and the reminders a reviewer is due.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::Serialize;
use ts_rs::TS;
use warden_core::console::{ConsoleRole, same_identity};
use warden_core::review::{CampaignStatus, ReviewerRule, Verdict};
use warden_store::reviews::{self as store};

use crate::context::Ctx;
use crate::directory::utc;
use crate::error::{Error, Result};

#[derive(Debug, Clone, Serialize, TS)]
pub struct CampaignView {
    pub id: u64,
    pub name: String,
    pub status: CampaignStatus,
    pub due: String,
    pub overdue: bool,
    pub reviewer_rule: ReviewerRule,
    pub fallback: String,
    pub undecided: Verdict,
    pub policy_version: Option<u32>,
    pub created_by: String,
    pub created_at: String,
    pub items: u64,
    pub decided: u64,
    /// Reviewers with undecided items when the due date is a week away or past: whom to
    /// remind (overdue, once `overdue` is true).
    pub remind: Vec<String>,
}

/// How many days before the due date reviewers are reminded.
pub const REMIND_DAYS: i64 = 7;

impl CampaignView {
    /// The campaign as it stands on `today` (whether it is overdue).
    fn new(c: store::Campaign, today: NaiveDate) -> Self {
        Self {
            id: c.id,
            overdue: c.status == CampaignStatus::Open && c.due < today && c.decided < c.items,
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

/// The governance database for reading campaigns, and which items the role sees: every
/// console role may see campaigns (reviewers need them to find their queue); a reviewer
/// counts and reads only their own items, through the server's view of them.
fn campaign_reader<'a>(
    ctx: &'a Ctx,
    what: &'static str,
) -> Result<(&'a warden_store::Database, store::Scope)> {
    match ctx.role() {
        ConsoleRole::Reviewer => Ok((ctx.as_reviewer(what)?.db(), store::Scope::Mine)),
        _ => Ok((ctx.as_reader(what)?.db(), store::Scope::All)),
    }
}

/// Every campaign with its progress.
pub async fn list(ctx: &Ctx) -> Result<CampaignList> {
    let (db, scope) = campaign_reader(ctx, "listing access reviews")?;
    let today = ctx.clock().today();
    let soon = today + chrono::Duration::days(REMIND_DAYS);
    let mut remind = store::reviewers_to_remind(db, scope, soon).await?;
    Ok(CampaignList {
        campaigns: store::campaigns(db, scope)
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
    let (db, scope) = campaign_reader(ctx, "reading access-review reminders")?;
    let today = ctx.clock().today();
    let mut pending =
        store::reviewers_to_remind(db, scope, today + chrono::Duration::days(REMIND_DAYS)).await?;
    let me = &ctx.actor().login;
    let officer = ctx.role() == ConsoleRole::Officer;
    let mut out = Vec::new();
    for c in store::campaigns(db, scope).await? {
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
        if let Some((_, n)) = reviewers.iter().find(|(r, _)| same_identity(r, me)) {
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
    let (db, scope) = campaign_reader(ctx, "reading an access review")?;
    let campaign = store::campaign(db, scope, id)
        .await?
        .ok_or_else(|| Error::NotFound(format!("no campaign {id}")))?;
    let campaign = CampaignView::new(campaign, ctx.clock().today());
    let items = store::items(db, scope, id, None, false).await?;
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
