//! Every user with just enough to name them: the index the effective-permission lists
//! name their holders from.

use sqlx::mysql::MySqlRow;
use sqlx::{MySql, QueryBuilder, Row};
use warden_core::directory::UserId;
use warden_core::mapping::Mapping;

use super::fetch::fetch_mapped;
use crate::connect::Database;
use crate::error::Result;
use crate::mapped::PushSource;
use crate::mapped::{push_active_condition, push_id, push_superuser_condition, push_text};
use crate::schema::Resolved;

/// A user holding something, with just enough to name them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    pub user: UserId,
    pub login: String,
    pub active: bool,
    pub superuser: bool,
}

/// id, login, and the flags active (1) and superuser (2) in one column: every cell decoded
/// costs, and these lists run to the whole staff.
fn push_holder_columns<'a>(qb: &mut QueryBuilder<'a, MySql>, m: &'a Mapping) {
    push_id(qb, "u", Some(&m.users.id));
    qb.push(" AS id, ");
    push_text(qb, "u", Some(&m.users.login));
    qb.push(" AS login, CAST((");
    push_active_condition(qb, m, "u");
    qb.push(") + 2 * (");
    push_superuser_condition(qb, m, "u");
    qb.push(") AS SIGNED) AS flags");
}

fn holder_from_row(row: &MySqlRow) -> std::result::Result<Holder, sqlx::Error> {
    let flags = row.try_get::<Option<i64>, _>("flags")?.unwrap_or(0);
    Ok(Holder {
        user: UserId(row.try_get("id")?),
        login: row
            .try_get::<Option<String>, _>("login")?
            .unwrap_or_default(),
        active: flags & 1 != 0,
        superuser: flags & 2 != 0,
    })
}

/// Every user with just enough to name them and apply the application's semantics, in one
/// sequential scan. Cheaper than joining grants to users row by row when many hold a
/// permission, and it yields the superusers in the same pass.
pub async fn user_index(db: &Database, r: &Resolved) -> Result<Vec<Holder>> {
    let m = r.mapping();
    let mut qb = QueryBuilder::<MySql>::new("SELECT ");
    push_holder_columns(&mut qb, m);
    qb.push(" FROM ")
        .push_source(&m.users.table, &m.users.filter)
        .push(" u");
    holders(db, qb).await
}

async fn holders(db: &Database, qb: QueryBuilder<'_, MySql>) -> Result<Vec<Holder>> {
    fetch_mapped(db, qb, holder_from_row).await
}
