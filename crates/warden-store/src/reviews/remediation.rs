//! Closing a campaign: its revocations, the grant table they are carried out on (by the
//! definer routines, row by row), the removed rows kept for undo, and the campaign marked
//! closed.

use chrono::NaiveDateTime;
use sqlx::{MySql, QueryBuilder};
use warden_core::mapping::{Mapping, RowFilter};
use warden_core::remediation::GrantKey;
use warden_core::review::{CampaignStatus, Verdict};

use crate::connect::Database;
use crate::error::{Error, Result};
use crate::governance::Change;
use crate::mapped::PushSource;

/// One grant a campaign revokes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revocation {
    pub item: u64,
    pub user_id: i64,
    pub login: String,
    pub role_id: i64,
    pub role: String,
    /// When the grant was made, as recorded at launch.
    pub granted_at: Option<NaiveDateTime>,
    /// The grant row's key (JSON), as read at launch.
    pub grant_key: Option<String>,
}

/// Items decided `revoke` and not yet remediated, by user.
pub async fn pending_revocations(db: &Database, campaign: u64) -> Result<Vec<Revocation>> {
    revocations_where(db, campaign, Some(Verdict::Revoke)).await
}

/// Undecided items, as the revocations a default of `revoke` makes them, by user.
pub async fn undecided_as_revocations(db: &Database, campaign: u64) -> Result<Vec<Revocation>> {
    revocations_where(db, campaign, None).await
}

/// The items of `campaign` decided `decided` and not yet remediated, or undecided (None).
async fn revocations_where(
    db: &Database,
    campaign: u64,
    decided: Option<Verdict>,
) -> Result<Vec<Revocation>> {
    type Row = (
        u64,
        i64,
        String,
        i64,
        String,
        Option<NaiveDateTime>,
        Option<String>,
    );
    let mut qb = QueryBuilder::<MySql>::new(
        "SELECT id, user_id, login, role_id, role, granted_at, grant_key FROM warden_review_items \
         WHERE campaign_id = ",
    );
    qb.push_bind(campaign);
    match decided {
        Some(d) => qb
            .push(" AND decision = ")
            .push_bind(d)
            .push(" AND remediation IS NULL"),
        None => qb.push(" AND decision IS NULL"),
    };
    qb.push(" ORDER BY user_id, role_id, id");
    let rows: Vec<Row> = qb.build_query_as().fetch_all(db.gov()).await?;
    Ok(rows
        .into_iter()
        .map(
            |(item, user_id, login, role_id, role, granted_at, grant_key)| Revocation {
                item,
                user_id,
                login,
                role_id,
                role,
                granted_at,
                grant_key,
            },
        )
        .collect())
}

/// Where the application's user-role grants live: the database, the table, its user and
/// role columns, and every column of a row (to keep it whole for undo). Every name is
/// checked and comes from the resolved mapping or information_schema.
#[derive(Debug, Clone)]
pub struct GrantTable {
    pub database: String,
    pub table: String,
    pub user: String,
    pub role: String,
    /// When the grant was made, if the mapping names it.
    pub granted_at: Option<String>,
    pub columns: Vec<String>,
    /// The mapping's `user_roles.where`: no row outside it is touched.
    pub filter: RowFilter,
    /// The mapping's `user_roles.scope`: where a grant holds.
    pub scope: Vec<String>,
    /// The columns that name one grant, as `warden migrate` recorded them ([`keyed`]):
    /// None until then.
    ///
    /// [`keyed`]: GrantTable::keyed
    pub key: Option<GrantKey>,
}

impl GrantTable {
    pub async fn of(db: &Database, r: &crate::schema::Resolved) -> Result<Self> {
        let ur = &r.mapping().user_roles;
        let database: String = sqlx::query_scalar("SELECT DATABASE()")
            .fetch_one(db.app())
            .await?;
        let columns: Vec<String> = sqlx::query_scalar(
            "SELECT CAST(COLUMN_NAME AS CHAR) FROM information_schema.COLUMNS \
             WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION",
        )
        .bind(&ur.table)
        .fetch_all(db.app())
        .await?;
        for name in std::iter::once(&database).chain(&columns) {
            warden_core::ident::check(name)
                .map_err(|e| Error::Config(format!("grant table name {name:?} {e}")))?;
        }
        Ok(Self {
            database,
            table: ur.table.clone(),
            user: ur.user.clone(),
            role: ur.role.clone(),
            granted_at: ur.granted_at.clone(),
            columns,
            filter: ur.filter.clone(),
            scope: ur.scope.clone(),
            key: None,
        })
    }

    /// This table with the key `warden migrate` recorded for it.
    pub fn keyed(self, key: Option<GrantKey>) -> Self {
        Self { key, ..self }
    }

    /// The key's columns, or why no key names one grant (remediation is then refused).
    pub fn key_columns(&self) -> std::result::Result<&[String], String> {
        match &self.key {
            Some(GrantKey::Columns(c)) => Ok(c),
            Some(GrantKey::None(why)) => Err(why.clone()),
            None => Err(format!("no key is recorded for `{}`", self.table)),
        }
    }

    fn qualified(&self) -> String {
        let mut s = warden_core::ident::quote(&self.database);
        s.push('.');
        s.push_str(&warden_core::ident::quote(&self.table));
        s
    }

    /// The grant `r` names: its user and role (and time of grant), its row's key and the
    /// table's filter. Answers the bound values, as text, for a preview.
    fn push_where(&self, qb: &mut QueryBuilder<'_, MySql>, r: &Revocation) -> Vec<String> {
        let mut bound = vec![r.user_id.to_string(), r.role_id.to_string()];
        qb.push(" WHERE ")
            .push(warden_core::ident::quote(&self.user))
            .push(" = ")
            .push_bind(r.user_id)
            .push(" AND ")
            .push(warden_core::ident::quote(&self.role))
            .push(" = ")
            .push_bind(r.role_id);
        if let Some(granted_at) = &self.granted_at {
            qb.push(" AND ")
                .push(warden_core::ident::quote(granted_at))
                .push(" <=> ")
                .push_bind(r.granted_at);
            bound.push(
                r.granted_at
                    .map_or("NULL".into(), |t| t.format("%Y-%m-%d %H:%M:%S").to_string()),
            );
        }
        // An item launched before its table's key was recorded keeps none: its key is its
        // user and role, as the server's routine reads it.
        let key: serde_json::Map<String, serde_json::Value> = match r.grant_key.as_deref() {
            Some(k) => serde_json::from_str(k).unwrap_or_default(),
            None => [
                (self.user.clone(), r.user_id.into()),
                (self.role.clone(), r.role_id.into()),
            ]
            .into_iter()
            .collect(),
        };
        for column in self.key_columns().unwrap_or(&[]) {
            let value = key.get(column).cloned().unwrap_or(serde_json::Value::Null);
            qb.push(" AND ")
                .push(warden_core::ident::quote(column))
                .push(" <=> ");
            bound.push(push_json_value(qb, &value));
        }
        for (column, value) in &self.filter.0 {
            qb.push(" AND ")
                .push(warden_core::ident::quote(column))
                .push(" IN (");
            for (i, v) in value.values().iter().enumerate() {
                if i > 0 {
                    qb.push(", ");
                }
                bound.push(crate::mapped::push_scalar(qb, v));
            }
            qb.push(")");
        }
        bound
    }

    fn keep_query(&self, r: &Revocation) -> (QueryBuilder<'static, MySql>, Vec<String>) {
        let mut qb = QueryBuilder::<MySql>::new("SELECT CAST(JSON_OBJECT(");
        let mut bound = Vec::new();
        let mut sep = qb.separated(", ");
        for c in &self.columns {
            sep.push_bind(c.clone());
            sep.push(warden_core::ident::quote(c));
            bound.push(format!("'{c}'"));
        }
        qb.push(") AS CHAR) FROM ").push(self.qualified());
        bound.extend(self.push_where(&mut qb, r));
        qb.push(" FOR UPDATE");
        (qb, bound)
    }

    fn delete_query(&self, r: &Revocation) -> (QueryBuilder<'static, MySql>, Vec<String>) {
        let mut qb = QueryBuilder::<MySql>::new("DELETE FROM ");
        qb.push(self.qualified());
        let bound = self.push_where(&mut qb, r);
        (qb, bound)
    }

    /// The statements a user's remediation runs (inside the definer's routine
    /// `warden_grant_remove`), as text with their bound values shown.
    pub fn preview(&self, login: &str, revocations: &[Revocation]) -> Vec<String> {
        let mut out = vec![
            format!(
                "-- {login}: revoke {}",
                revocations
                    .iter()
                    .map(|r| format!("{} (item {})", r.role, r.item))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            "START TRANSACTION;".to_string(),
        ];
        for r in revocations {
            let (keep, bound) = self.keep_query(r);
            out.push(format!(
                "{}; -- keeps the row for undo; bound: {}",
                keep.sql(),
                bound.join(", ")
            ));
            let (delete, bound) = self.delete_query(r);
            out.push(format!("{}; -- bound: {}", delete.sql(), bound.join(", ")));
        }
        out.push("COMMIT;".to_string());
        out
    }
}

/// Within a change: removes one grant from the application, keeping the row for undo, and
/// records the item as remediated, all through the definer routine (no console account may
/// delete from the grant table itself). Returns whether a row was there to remove.
pub async fn remediate(change: &mut Change<'_>, r: &Revocation) -> Result<bool> {
    let at = change.at();
    sqlx::query(&format!(
        "CALL {}(?, ?, @warden_kept)",
        warden_core::ident::quote(warden_core::remediation::REMOVE_ROUTINE)
    ))
    .bind(r.item)
    .bind(at)
    .execute(change.conn())
    .await?;
    let kept: Option<i64> = sqlx::query_scalar("SELECT CAST(@warden_kept AS SIGNED)")
        .fetch_one(change.conn())
        .await?;
    Ok(kept.unwrap_or(0) > 0)
}

/// The audit event that signed off campaign `id`'s evidence pack, if one did.
pub async fn signed_off(db: &Database, id: u64) -> Result<Option<u64>> {
    Ok(sqlx::query_scalar(
        "SELECT MIN(seq) FROM warden_audit_events WHERE action = 'review.sign_off' AND target = ?",
    )
    .bind(format!("campaign {id}"))
    .fetch_one(db.gov())
    .await?)
}

/// Within a change: marks a campaign closed.
pub async fn mark_closed(change: &mut Change<'_>, campaign: u64) -> Result<()> {
    sqlx::query("UPDATE warden_campaigns SET status = ?, closed_at = ? WHERE id = ?")
        .bind(CampaignStatus::Closed)
        .bind(change.at())
        .bind(campaign)
        .execute(change.conn())
        .await?;
    Ok(())
}

/// When a campaign's remediation removed an item's grant, and when that was undone.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Remediation {
    pub item: u64,
    pub removed_at: NaiveDateTime,
    pub undone_at: Option<NaiveDateTime>,
}

pub async fn remediations(db: &Database, campaign: u64) -> Result<Vec<Remediation>> {
    Ok(sqlx::query_as(
        "SELECT item_id AS item, removed_at, undone_at FROM warden_remediations \
         WHERE campaign_id = ? ORDER BY id",
    )
    .bind(campaign)
    .fetch_all(db.gov())
    .await?)
}

/// A removed row still to put back.
#[derive(Debug, Clone)]
pub struct Removed {
    pub id: u64,
    pub item: u64,
    pub user_id: i64,
    pub role_id: i64,
    pub row: String,
}

pub async fn removed_rows(db: &Database, campaign: u64) -> Result<Vec<Removed>> {
    let rows: Vec<(u64, u64, i64, i64, String)> = sqlx::query_as(
        "SELECT id, item_id, user_id, role_id, removed_row FROM warden_remediations \
         WHERE campaign_id = ? AND undone_at IS NULL ORDER BY user_id, id",
    )
    .bind(campaign)
    .fetch_all(db.gov())
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, item, user_id, role_id, row)| Removed {
            id,
            item,
            user_id,
            role_id,
            row,
        })
        .collect())
}

/// Whether the application holds the removed row's grant again: a row of its user and role
/// in its scope (whenever granted, whatever its own key: a grant made again has a new id),
/// inside the table's filter.
pub async fn grant_held(db: &Database, grants: &GrantTable, removed: &Removed) -> Result<bool> {
    let row: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(&removed.row).unwrap_or_default();
    let mut qb = QueryBuilder::<MySql>::new("SELECT COUNT(*) FROM ");
    qb.push(grants.qualified())
        .push(" WHERE ")
        .push(warden_core::ident::quote(&grants.user))
        .push(" = ")
        .push_bind(removed.user_id)
        .push(" AND ")
        .push(warden_core::ident::quote(&grants.role))
        .push(" = ")
        .push_bind(removed.role_id);
    for column in &grants.scope {
        let value = row.get(column).cloned().unwrap_or(serde_json::Value::Null);
        qb.push(" AND ")
            .push(warden_core::ident::quote(column))
            .push(" <=> ");
        push_json_value(&mut qb, &value);
    }
    if !grants.filter.is_empty() {
        qb.push(" AND ");
        crate::mapped::push_filter(&mut qb, &grants.filter, None);
    }
    let n: i64 = qb.build_query_scalar().fetch_one(db.app()).await?;
    Ok(n > 0)
}

/// Binds a JSON value read from a grant row as the SQL value it was; answers it as text.
fn push_json_value(qb: &mut QueryBuilder<'_, MySql>, value: &serde_json::Value) -> String {
    use serde_json::Value;
    match value {
        Value::Null => {
            qb.push("NULL");
            "NULL".into()
        }
        Value::Bool(b) => {
            qb.push_bind(*b);
            b.to_string()
        }
        Value::Number(n) => {
            match (n.as_i64(), n.as_u64()) {
                (Some(i), _) => qb.push_bind(i),
                (None, Some(u)) => qb.push_bind(u),
                // A decimal: bound as its text, which the server reads as exactly that.
                _ => qb.push_bind(n.to_string()),
            };
            n.to_string()
        }
        Value::String(s) => {
            qb.push_bind(s.clone());
            format!("'{}'", s.replace('\'', "''"))
        }
        other => {
            qb.push_bind(other.to_string());
            other.to_string()
        }
    }
}

/// Where an application user stands now, for an undo that must not give access back to
/// someone who has left.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserNow {
    Active,
    Inactive,
    Gone,
}

pub async fn user_now(db: &Database, m: &Mapping, user: i64) -> Result<UserNow> {
    // An unknown status (NULL) is not active.
    let mut qb = QueryBuilder::<MySql>::new("SELECT CAST(COALESCE(");
    crate::mapped::push_active_condition(&mut qb, m, "u");
    qb.push(", 0) AS SIGNED) FROM ")
        .push_source(&m.users.table, &m.users.filter)
        .push(" u WHERE ")
        .push(crate::mapped::col("u", &m.users.id))
        .push(" = ")
        .push_bind(user);
    let active: Option<i64> = qb.build_query_scalar().fetch_optional(db.app()).await?;
    Ok(match active {
        None => UserNow::Gone,
        Some(0) => UserNow::Inactive,
        Some(_) => UserNow::Active,
    })
}

/// Within a change: puts a removed row back, column by column as it was, through the
/// definer routine.
pub async fn restore(change: &mut Change<'_>, removed: &Removed) -> Result<()> {
    let at = change.at();
    sqlx::query(&format!(
        "CALL {}(?, ?)",
        warden_core::ident::quote(warden_core::remediation::RESTORE_ROUTINE)
    ))
    .bind(removed.id)
    .bind(at)
    .execute(change.conn())
    .await?;
    Ok(())
}
