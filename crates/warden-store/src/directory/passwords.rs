//! Password hash schemes, read without reading a hash.

use std::collections::HashMap;

use sqlx::{MySql, QueryBuilder, Row};
use warden_core::directory::UserId;

use super::fetch::fetch_mapped;
use crate::connect::Database;
use crate::error::Result;
use crate::mapped::PushSource;
use crate::mapped::{col, push_id};
use crate::schema::Resolved;

/// The scheme of each user's password hash, read as its first `$`-separated field
/// (`pbkdf2_sha256$…` → `pbkdf2_sha256`, `$2b$…` → `2b`, a bare scheme column as is).
/// Only those few characters leave the database, never a hash. Empty without the column.
pub async fn password_schemes(db: &Database, r: &Resolved) -> Result<HashMap<UserId, String>> {
    let m = r.mapping();
    let Some(hash) = &m.users.password_hash else {
        return Ok(HashMap::new());
    };
    let h = col("u", hash);
    let mut qb = QueryBuilder::<MySql>::new("SELECT ");
    push_id(&mut qb, "u", Some(&m.users.id));
    qb.push(" AS id, CAST(LEFT(CASE WHEN LEFT(")
        .push(h.as_str())
        .push(", 1) = '$' THEN SUBSTRING_INDEX(SUBSTRING_INDEX(")
        .push(h.as_str())
        .push(", '$', 2), '$', -1) ELSE SUBSTRING_INDEX(")
        .push(h.as_str())
        .push(", '$', 1) END, 32) AS CHAR) AS scheme")
        .push(" FROM ")
        .push_source(&m.users.table, &m.users.filter)
        .push(" u");
    let rows = fetch_mapped(db, qb, |row| {
        Ok((
            UserId(row.try_get("id")?),
            row.try_get::<Option<String>, _>("scheme")?,
        ))
    })
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(u, s)| s.map(|s| (u, s)))
        .collect())
}
