//! Access review campaigns (`warden_campaigns`, `warden_review_items`): launched in one
//! change with every item, decided item by item exactly once.

use chrono::{NaiveDate, NaiveDateTime, SubsecRound, Utc};
use sqlx::{MySql, QueryBuilder, Row};

use crate::connect::Database;
use crate::error::{Error, Result};
use crate::governance::Change;

const BATCH: usize = 500;

#[derive(Debug, Clone)]
pub struct NewCampaign {
    pub name: String,
    /// The scope as JSON (departments, roles, job functions).
    pub scope: String,
    pub reviewer_rule: String,
    pub fallback: String,
    pub undecided: String,
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
    pub baseline: String,
    pub outside: String,
    pub sod: String,
    pub last_used: Option<NaiveDateTime>,
    pub suggestion: String,
    pub reason: String,
}

/// Within a change: stores a campaign and all its items; returns the campaign's id.
pub async fn insert_campaign(
    change: &mut Change<'_>,
    c: &NewCampaign,
    items: &[NewItem],
) -> Result<u64> {
    let db = change.db();
    let actor = change.actor().to_string();
    let id = sqlx::query(
        "INSERT INTO warden_campaigns (name, scope, reviewer_rule, fallback, undecided, due, \
         policy_version, status, created_by, created_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?, 'open', ?, ?)",
    )
    .bind(&c.name)
    .bind(&c.scope)
    .bind(&c.reviewer_rule)
    .bind(&c.fallback)
    .bind(&c.undecided)
    .bind(c.due)
    .bind(c.policy_version)
    .bind(&actor)
    .bind(Utc::now().naive_utc().trunc_subsecs(6))
    .execute(change.conn())
    .await
    .map_err(|e| db.classify(e))?
    .last_insert_id();
    for chunk in items.chunks(BATCH) {
        let mut qb = QueryBuilder::<MySql>::new(
            "INSERT INTO warden_review_items (campaign_id, user_id, login, department, role_id, \
             role, reviewer, granted_at, granted_by, baseline, outside, sod, last_used, \
             suggestion, reason) ",
        );
        qb.push_values(chunk, |mut b, i| {
            b.push_bind(id)
                .push_bind(i.user_id)
                .push_bind(&i.login)
                .push_bind(&i.department)
                .push_bind(i.role_id)
                .push_bind(&i.role)
                .push_bind(&i.reviewer)
                .push_bind(i.granted_at)
                .push_bind(&i.granted_by)
                .push_bind(&i.baseline)
                .push_bind(&i.outside)
                .push_bind(&i.sod)
                .push_bind(i.last_used)
                .push_bind(&i.suggestion)
                .push_bind(&i.reason);
        });
        qb.build()
            .execute(change.conn())
            .await
            .map_err(|e| db.classify(e))?;
    }
    Ok(id)
}

/// A campaign with its progress.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Campaign {
    pub id: u64,
    pub name: String,
    pub scope: String,
    pub reviewer_rule: String,
    pub fallback: String,
    pub undecided: String,
    pub due: NaiveDate,
    pub policy_version: Option<u32>,
    pub status: String,
    pub created_by: String,
    pub created_at: NaiveDateTime,
    pub items: i64,
    pub decided: i64,
}

const CAMPAIGN_COLUMNS: &str = "SELECT c.id, c.name, c.scope, c.reviewer_rule, c.fallback, \
     c.undecided, c.due, c.policy_version, c.status, c.created_by, c.created_at, \
     COUNT(i.id), CAST(COALESCE(SUM(i.decision IS NOT NULL), 0) AS SIGNED) \
     FROM warden_campaigns c LEFT JOIN warden_review_items i ON i.campaign_id = c.id";

fn campaign_from_row(row: &sqlx::mysql::MySqlRow) -> std::result::Result<Campaign, sqlx::Error> {
    Ok(Campaign {
        id: row.try_get(0)?,
        name: row.try_get(1)?,
        scope: row.try_get(2)?,
        reviewer_rule: row.try_get(3)?,
        fallback: row.try_get(4)?,
        undecided: row.try_get(5)?,
        due: row.try_get(6)?,
        policy_version: row.try_get(7)?,
        status: row.try_get(8)?,
        created_by: row.try_get(9)?,
        created_at: row.try_get(10)?,
        items: row.try_get(11)?,
        decided: row.try_get(12)?,
    })
}

/// Every campaign, newest first, with item and decision counts.
pub async fn campaigns(db: &Database) -> Result<Vec<Campaign>> {
    let mut qb = QueryBuilder::<MySql>::new(CAMPAIGN_COLUMNS);
    qb.push(" GROUP BY c.id ORDER BY c.id DESC");
    let rows = qb
        .build()
        .fetch_all(db.gov())
        .await
        .map_err(|e| db.classify(e))?;
    rows.iter()
        .map(campaign_from_row)
        .collect::<std::result::Result<_, _>>()
        .map_err(|e| db.classify(e))
}

pub async fn campaign(db: &Database, id: u64) -> Result<Option<Campaign>> {
    let mut qb = QueryBuilder::<MySql>::new(CAMPAIGN_COLUMNS);
    qb.push(" WHERE c.id = ")
        .push_bind(id)
        .push(" GROUP BY c.id");
    let row = qb
        .build()
        .fetch_optional(db.gov())
        .await
        .map_err(|e| db.classify(e))?;
    row.as_ref()
        .map(campaign_from_row)
        .transpose()
        .map_err(|e| db.classify(e))
}

/// One review item as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub id: u64,
    pub campaign_id: u64,
    pub login: String,
    pub department: Option<String>,
    pub role: String,
    pub reviewer: String,
    pub granted_at: Option<NaiveDateTime>,
    pub granted_by: Option<String>,
    pub baseline: String,
    pub outside: String,
    pub sod: String,
    pub last_used: Option<NaiveDateTime>,
    pub suggestion: String,
    pub reason: String,
    pub decision: Option<String>,
    pub decided_by: Option<String>,
    pub decided_at: Option<NaiveDateTime>,
    pub comment: Option<String>,
    pub version: u32,
}

const ITEM_COLUMNS: &str = "SELECT id, campaign_id, login, department, role, reviewer, \
     granted_at, granted_by, baseline, outside, sod, last_used, suggestion, reason, decision, \
     decided_by, decided_at, comment, version FROM warden_review_items";

fn item_from_row(row: &sqlx::mysql::MySqlRow) -> std::result::Result<Item, sqlx::Error> {
    Ok(Item {
        id: row.try_get(0)?,
        campaign_id: row.try_get(1)?,
        login: row.try_get(2)?,
        department: row.try_get(3)?,
        role: row.try_get(4)?,
        reviewer: row.try_get(5)?,
        granted_at: row.try_get(6)?,
        granted_by: row.try_get(7)?,
        baseline: row.try_get(8)?,
        outside: row.try_get(9)?,
        sod: row.try_get(10)?,
        last_used: row.try_get(11)?,
        suggestion: row.try_get(12)?,
        reason: row.try_get(13)?,
        decision: row.try_get(14)?,
        decided_by: row.try_get(15)?,
        decided_at: row.try_get(16)?,
        comment: row.try_get(17)?,
        version: row.try_get(18)?,
    })
}

/// A campaign's items, for one reviewer or all, pending only or all.
pub async fn items(
    db: &Database,
    campaign: u64,
    reviewer: Option<&str>,
    pending: bool,
) -> Result<Vec<Item>> {
    let mut qb = QueryBuilder::<MySql>::new(ITEM_COLUMNS);
    qb.push(" WHERE campaign_id = ").push_bind(campaign);
    if let Some(r) = reviewer {
        qb.push(" AND reviewer = ").push_bind(r.to_string());
    }
    if pending {
        qb.push(" AND decision IS NULL");
    }
    qb.push(" ORDER BY login, role, id");
    let rows = qb
        .build()
        .fetch_all(db.gov())
        .await
        .map_err(|e| db.classify(e))?;
    rows.iter()
        .map(item_from_row)
        .collect::<std::result::Result<_, _>>()
        .map_err(|e| db.classify(e))
}

/// Within a change: items by id, locked for the change, with their campaign's status.
pub async fn lock_items(change: &mut Change<'_>, ids: &[u64]) -> Result<Vec<(Item, String)>> {
    let db = change.db();
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut qb = QueryBuilder::<MySql>::new(ITEM_COLUMNS);
    qb.push(" WHERE id IN (");
    let mut sep = qb.separated(", ");
    for id in ids {
        sep.push_bind(*id);
    }
    qb.push(") ORDER BY id FOR UPDATE");
    let rows = qb
        .build()
        .fetch_all(change.conn())
        .await
        .map_err(|e| db.classify(e))?;
    let items: Vec<Item> = rows
        .iter()
        .map(item_from_row)
        .collect::<std::result::Result<_, _>>()
        .map_err(|e| db.classify(e))?;
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        let status: String = sqlx::query_scalar("SELECT status FROM warden_campaigns WHERE id = ?")
            .bind(item.campaign_id)
            .fetch_one(change.conn())
            .await
            .map_err(|e| db.classify(e))?;
        out.push((item, status));
    }
    Ok(out)
}

/// The key a decision was recorded with, if any.
pub async fn decision_key(change: &mut Change<'_>, id: u64) -> Result<Option<String>> {
    let db = change.db();
    sqlx::query_scalar::<_, Option<String>>(
        "SELECT decision_key FROM warden_review_items WHERE id = ?",
    )
    .bind(id)
    .fetch_one(change.conn())
    .await
    .map_err(|e| db.classify(e))
}

/// Within a change: records a decision on an item still at `version` and undecided. False
/// when someone else got there first.
pub async fn record_decision(
    change: &mut Change<'_>,
    id: u64,
    version: u32,
    decision: &str,
    comment: &str,
    key: &str,
) -> Result<bool> {
    let db = change.db();
    let actor = change.actor().to_string();
    let done = sqlx::query(
        "UPDATE warden_review_items SET decision = ?, decided_by = ?, decided_at = ?, \
         comment = ?, decision_key = ?, version = version + 1 \
         WHERE id = ? AND version = ? AND decision IS NULL",
    )
    .bind(decision)
    .bind(&actor)
    .bind(Utc::now().naive_utc().trunc_subsecs(6))
    .bind(comment)
    .bind(key)
    .bind(id)
    .bind(version)
    .execute(change.conn())
    .await
    .map_err(|e| match db.classify(e) {
        Error::Conflict(_) => Error::Conflict(format!(
            "the decision key `{key}` was already used for another item"
        )),
        other => other,
    })?;
    Ok(done.rows_affected() == 1)
}

/// Within a change: hands an undecided item to another reviewer.
pub async fn record_reassign(
    change: &mut Change<'_>,
    id: u64,
    version: u32,
    to: &str,
) -> Result<bool> {
    let db = change.db();
    let done = sqlx::query(
        "UPDATE warden_review_items SET reviewer = ?, version = version + 1 \
         WHERE id = ? AND version = ? AND decision IS NULL",
    )
    .bind(to)
    .bind(id)
    .bind(version)
    .execute(change.conn())
    .await
    .map_err(|e| db.classify(e))?;
    Ok(done.rows_affected() == 1)
}
