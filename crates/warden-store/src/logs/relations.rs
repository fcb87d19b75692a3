//! The business relations that justify access to a resource (need-to-know).

use std::collections::{HashMap, HashSet};

use futures_util::TryStreamExt;
use sqlx::{MySql, QueryBuilder, Row};
use warden_core::directory::UserId;

use crate::connect::Database;
use crate::error::Result;
use crate::mapped::PushSource;
use crate::mapped::{push_id, push_text};
use crate::schema::Resolved;

/// The customer ids a business relation justifies, per person; None when the mapping
/// names no relations.
pub async fn relations(
    db: &Database,
    r: &Resolved,
) -> Result<Option<HashMap<UserId, HashSet<String>>>> {
    let rel = &r.mapping().relations;
    let maps: Vec<_> = [&rel.tickets, &rel.accounts]
        .into_iter()
        .flatten()
        .collect();
    if maps.is_empty() {
        return Ok(None);
    }
    let mut out: HashMap<UserId, HashSet<String>> = HashMap::new();
    for m in maps {
        let mut qb = QueryBuilder::<MySql>::new("SELECT ");
        push_id(&mut qb, "t", Some(&m.user));
        qb.push(" AS user, ");
        push_text(&mut qb, "t", Some(&m.customer));
        qb.push(" AS customer FROM ")
            .push_source(&m.table, &m.filter)
            .push(" t");
        let mut rows = qb.build().fetch(db.app());
        while let Some(row) = rows.try_next().await? {
            let user: Option<i64> = row.try_get("user")?;
            let customer: Option<String> = row.try_get("customer")?;
            if let (Some(u), Some(c)) = (user, customer) {
                out.entry(UserId(u)).or_default().insert(c);
            }
        }
    }
    Ok(Some(out))
}
