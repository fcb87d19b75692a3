//! Access review campaigns (`warden_campaigns`, `warden_review_items`): launched in one
//! change with every item, decided item by item exactly once.

use chrono::{NaiveDate, NaiveDateTime};
use sqlx::{MySql, QueryBuilder};
use warden_core::console::identity;
use warden_core::review::{Baseline, CampaignStatus, Remediated, ReviewerRule, Verdict};

use crate::connect::Database;
use crate::error::{Error, Result};
use crate::governance::Change;

/// Which review items a query sees: every one (officers and auditors read the table), or
/// the session's own, through the definer view the server filters by the account that
/// connected (reviewers hold no privilege on the table; every decision goes this way).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    All,
    Mine,
}

impl Scope {
    /// The table or view, quoted as every identifier is.
    fn items(self) -> String {
        warden_core::ident::quote(match self {
            Self::All => "warden_review_items",
            Self::Mine => warden_core::review_access::MY_ITEMS_VIEW,
        })
    }
}

const BATCH: usize = 500;
/// Items a launch writes per INSERT (measured: 500 beats 4,000 at 300,000 items).
pub const ITEM_BATCH: usize = 500;

#[derive(Debug, Clone)]
pub struct NewCampaign {
    pub name: String,
    /// The scope as JSON (departments, roles, job functions).
    pub scope: String,
    pub reviewer_rule: ReviewerRule,
    pub fallback: String,
    pub undecided: Verdict,
    pub due: NaiveDate,
    pub policy_version: Option<u32>,
}

#[derive(Debug, Clone)]
pub struct NewItem {
    pub user_id: i64,
    pub login: String,
    pub department: Option<String>,
    pub role_id: i64,
    pub role: String,
    pub reviewer: String,
    pub granted_at: Option<NaiveDateTime>,
    pub granted_by: Option<String>,
    pub baseline: Baseline,
    pub outside: String,
    pub sod: String,
    pub last_used: Option<NaiveDateTime>,
    pub suggestion: Verdict,
    pub reason: String,
    /// The grant row's key (JSON), as read at launch: remediation removes that row.
    pub grant_key: Option<String>,
}

/// Within a change: stores a campaign (its items follow with [`insert_items`]); returns
/// the campaign's id.
pub async fn insert_campaign(change: &mut Change<'_>, c: &NewCampaign) -> Result<u64> {
    let actor = change.actor().to_string();
    let id = sqlx::query(
        "INSERT INTO warden_campaigns (name, scope, reviewer_rule, fallback, undecided, due, \
         policy_version, status, created_by, created_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&c.name)
    .bind(&c.scope)
    .bind(c.reviewer_rule)
    .bind(&c.fallback)
    .bind(c.undecided)
    .bind(c.due)
    .bind(c.policy_version)
    .bind(CampaignStatus::Open)
    .bind(&actor)
    .bind(change.at())
    .execute(change.conn())
    .await?
    .last_insert_id();
    Ok(id)
}

/// Adds items to campaign `id`, in the change that inserted it.
pub async fn insert_items(change: &mut Change<'_>, id: u64, items: &[NewItem]) -> Result<()> {
    for chunk in items.chunks(ITEM_BATCH) {
        let mut qb = QueryBuilder::<MySql>::new(
            "INSERT INTO warden_review_items (campaign_id, user_id, login, login_key, department, \
             role_id, role, reviewer, reviewer_key, granted_at, granted_by, baseline, outside, \
             sod, last_used, suggestion, reason, grant_key) ",
        );
        qb.push_values(chunk, |mut b, i| {
            b.push_bind(id)
                .push_bind(i.user_id)
                .push_bind(&i.login)
                .push_bind(identity(&i.login))
                .push_bind(&i.department)
                .push_bind(i.role_id)
                .push_bind(&i.role)
                .push_bind(&i.reviewer)
                .push_bind(identity(&i.reviewer))
                .push_bind(i.granted_at)
                .push_bind(&i.granted_by)
                .push_bind(i.baseline)
                .push_bind(&i.outside)
                .push_bind(&i.sod)
                .push_bind(i.last_used)
                .push_bind(i.suggestion)
                .push_bind(&i.reason)
                .push_bind(&i.grant_key);
        });
        qb.build().execute(change.conn()).await?;
    }
    Ok(())
}

/// A campaign with its progress.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Campaign {
    pub id: u64,
    pub name: String,
    pub scope: String,
    pub reviewer_rule: ReviewerRule,
    pub fallback: String,
    pub undecided: Verdict,
    pub due: NaiveDate,
    pub policy_version: Option<u32>,
    pub status: CampaignStatus,
    pub created_by: String,
    pub created_at: NaiveDateTime,
    pub items: i64,
    pub decided: i64,
}

fn campaign_columns(scope: Scope) -> QueryBuilder<'static, MySql> {
    let mut qb = QueryBuilder::new(
        "SELECT c.id, c.name, c.scope, c.reviewer_rule, c.fallback, \
         c.undecided, c.due, c.policy_version, c.status, c.created_by, c.created_at, \
         COUNT(i.id) AS items, CAST(COALESCE(SUM(i.decision IS NOT NULL), 0) AS SIGNED) AS decided \
         FROM warden_campaigns c LEFT JOIN ",
    );
    qb.push(scope.items()).push(" i ON i.campaign_id = c.id");
    qb
}

/// Every campaign, newest first, with item and decision counts (of the scope's items).
pub async fn campaigns(db: &Database, scope: Scope) -> Result<Vec<Campaign>> {
    let mut qb = campaign_columns(scope);
    qb.push(" GROUP BY c.id ORDER BY c.id DESC");
    Ok(qb.build_query_as().fetch_all(db.gov()).await?)
}

pub async fn campaign(db: &Database, scope: Scope, id: u64) -> Result<Option<Campaign>> {
    let mut qb = campaign_columns(scope);
    qb.push(" WHERE c.id = ")
        .push_bind(id)
        .push(" GROUP BY c.id");
    Ok(qb.build_query_as().fetch_optional(db.gov()).await?)
}

/// Reviewers with undecided items in open campaigns due on or before `by`, per campaign:
/// whom to remind (and, past the due date, who is overdue), with how many items each.
pub async fn reviewers_to_remind(
    db: &Database,
    scope: Scope,
    by: NaiveDate,
) -> Result<std::collections::HashMap<u64, Vec<(String, u64)>>> {
    let rows: Vec<(u64, String, i64)> = sqlx::query_as(&format!(
        "SELECT i.campaign_id, i.reviewer, COUNT(*) FROM {} i \
         JOIN warden_campaigns c ON c.id = i.campaign_id \
         WHERE c.status = ? AND c.due <= ? AND i.decision IS NULL \
         GROUP BY i.campaign_id, i.reviewer ORDER BY i.campaign_id, i.reviewer",
        scope.items()
    ))
    .bind(CampaignStatus::Open)
    .bind(by)
    .fetch_all(db.gov())
    .await?;
    let mut out: std::collections::HashMap<u64, Vec<(String, u64)>> =
        std::collections::HashMap::new();
    for (campaign, reviewer, pending) in rows {
        let pending = u64::try_from(pending).unwrap_or(0);
        out.entry(campaign).or_default().push((reviewer, pending));
    }
    Ok(out)
}

/// One review item as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Item {
    pub id: u64,
    pub campaign_id: u64,
    pub login: String,
    pub department: Option<String>,
    pub role: String,
    pub reviewer: String,
    pub granted_at: Option<NaiveDateTime>,
    pub granted_by: Option<String>,
    pub baseline: Baseline,
    pub outside: String,
    pub sod: String,
    pub last_used: Option<NaiveDateTime>,
    pub suggestion: Verdict,
    pub reason: String,
    pub decision: Option<Verdict>,
    pub decided_by: Option<String>,
    pub decided_at: Option<NaiveDateTime>,
    pub comment: Option<String>,
    pub version: u32,
    pub user_id: i64,
    pub role_id: i64,
    /// What closing the campaign did to the grant, once remediated.
    pub remediation: Option<Remediated>,
}

/// The query of every item's columns, as the evidence pack's manifest states it.
pub const ITEM_COLUMNS: &str = "SELECT id, campaign_id, login, department, role, reviewer, \
     granted_at, granted_by, baseline, outside, sod, last_used, suggestion, reason, decision, \
     decided_by, decided_at, comment, version, user_id, role_id, remediation \
     FROM warden_review_items";

fn item_columns(scope: Scope) -> QueryBuilder<'static, MySql> {
    let head = ITEM_COLUMNS.trim_end_matches("warden_review_items");
    let mut qb = QueryBuilder::new(head);
    qb.push(scope.items());
    qb
}

/// A campaign's items (of the scope), for one reviewer or all, pending only or all.
pub async fn items(
    db: &Database,
    scope: Scope,
    campaign: u64,
    reviewer: Option<&str>,
    pending: bool,
) -> Result<Vec<Item>> {
    let mut qb = item_columns(scope);
    qb.push(" WHERE campaign_id = ").push_bind(campaign);
    if let Some(r) = reviewer {
        qb.push(" AND reviewer_key = ").push_bind(identity(r));
    }
    if pending {
        qb.push(" AND decision IS NULL");
    }
    qb.push(" ORDER BY login, role, id");
    Ok(qb.build_query_as().fetch_all(db.gov()).await?)
}

/// Within a change: items by id (those the scope shows), locked for the change, with their
/// campaign's status.
pub async fn lock_items(
    change: &mut Change<'_>,
    scope: Scope,
    ids: &[u64],
) -> Result<Vec<(Item, CampaignStatus)>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut qb = item_columns(scope);
    qb.push(" WHERE id IN (");
    let mut sep = qb.separated(", ");
    for id in ids {
        sep.push_bind(*id);
    }
    qb.push(") ORDER BY id FOR UPDATE");
    let items: Vec<Item> = qb.build_query_as().fetch_all(change.conn()).await?;
    if items.is_empty() {
        return Ok(Vec::new());
    }
    let mut campaigns: Vec<u64> = items.iter().map(|i| i.campaign_id).collect();
    campaigns.sort_unstable();
    campaigns.dedup();
    let mut qb =
        QueryBuilder::<MySql>::new("SELECT id, status FROM warden_campaigns WHERE id IN (");
    let mut sep = qb.separated(", ");
    for c in &campaigns {
        sep.push_bind(*c);
    }
    qb.push(")");
    let statuses: std::collections::HashMap<u64, CampaignStatus> = qb
        .build_query_as::<(u64, CampaignStatus)>()
        .fetch_all(change.conn())
        .await?
        .into_iter()
        .collect();
    items
        .into_iter()
        .map(|i| match statuses.get(&i.campaign_id) {
            Some(status) => Ok((i, *status)),
            None => Err(Error::Database(format!(
                "review item {} names campaign {}, which is not there",
                i.id, i.campaign_id
            ))),
        })
        .collect()
}

/// Within a change: records one decision on many locked, undecided items at once (each
/// keyed `key:item`), through the view of the actor's own items: the server writes no
/// other. Returns how many were written.
pub async fn record_decisions(
    change: &mut Change<'_>,
    ids: &[u64],
    decision: Verdict,
    comment: &str,
    key: &str,
) -> Result<u64> {
    let actor = change.actor().to_string();
    let at = change.at();
    let mut written = 0;
    for chunk in ids.chunks(BATCH) {
        let mut qb = QueryBuilder::<MySql>::new("UPDATE ");
        qb.push(Scope::Mine.items()).push(" SET decision = ");
        qb.push_bind(decision)
            .push(", decided_by = ")
            .push_bind(actor.clone())
            .push(", decided_at = ")
            .push_bind(at)
            .push(", comment = ")
            .push_bind(comment.to_string())
            .push(", decision_key = CONCAT(")
            .push_bind(key.to_string())
            .push(", ':', id), version = version + 1 WHERE decision IS NULL AND id IN (");
        let mut sep = qb.separated(", ");
        for id in chunk {
            sep.push_bind(*id);
        }
        qb.push(")");
        written += qb
            .build()
            .execute(change.conn())
            .await
            .map_err(|e| match Error::from(e) {
                Error::Conflict(_) => Error::Conflict(format!(
                    "the decision key `{key}` was already used for other items"
                )),
                other => other,
            })?
            .rows_affected();
    }
    Ok(written)
}

/// The key a decision on one of the actor's items was recorded with, if any.
pub async fn decision_key(change: &mut Change<'_>, id: u64) -> Result<Option<String>> {
    Ok(sqlx::query_scalar::<_, Option<String>>(&format!(
        "SELECT decision_key FROM {} WHERE id = ?",
        Scope::Mine.items()
    ))
    .bind(id)
    .fetch_one(change.conn())
    .await?)
}

/// Within a change: hands an undecided item to another reviewer, through the definer
/// routine (the item leaves its reviewer's view, so the view cannot move it). The routine
/// refuses an item that is not the caller's (unless an officer's), is decided, changed
/// since `version`, or concerns the new reviewer.
pub async fn record_reassign(
    change: &mut Change<'_>,
    id: u64,
    version: u32,
    to: &str,
) -> Result<()> {
    sqlx::query(&format!(
        "CALL {}(?, ?, ?, ?)",
        warden_core::ident::quote(warden_core::review_access::REASSIGN_ROUTINE)
    ))
    .bind(id)
    .bind(version)
    .bind(to)
    .bind(identity(to))
    .execute(change.conn())
    .await?;
    Ok(())
}

/// The comment of an item decided by the campaign's default at close (no response).
pub const DEFAULT_COMMENT: &str = "undecided at close: the campaign default";

/// Within a change: gives every undecided item of a campaign the campaign's default.
pub async fn apply_default(
    change: &mut Change<'_>,
    campaign: u64,
    verdict: Verdict,
) -> Result<u64> {
    let done = sqlx::query(
        "UPDATE warden_review_items SET decision = ?, decided_by = ?, decided_at = ?, \
         comment = ?, version = version + 1 \
         WHERE campaign_id = ? AND decision IS NULL",
    )
    .bind(verdict)
    .bind(change.actor().to_string())
    .bind(change.at())
    .bind(DEFAULT_COMMENT)
    .bind(campaign)
    .execute(change.conn())
    .await?;
    Ok(done.rows_affected())
}

mod remediation;
pub use remediation::*;
