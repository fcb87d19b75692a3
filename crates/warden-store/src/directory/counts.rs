//! Counts for the dashboard, aggregated by the server.

use chrono::NaiveDateTime;
use sqlx::{MySql, QueryBuilder};
use warden_core::mapping::Mapping;

use crate::connect::Database;
use crate::error::Result;
use crate::mapped::PushSource;
use crate::mapped::{
    col, push_active_condition, push_not_expired, push_superuser_condition, push_text,
};
use crate::schema::Resolved;

/// Per department (the job-function column; one group when the mapping has none): staff,
/// active staff, distinct roles held and current grants. Aggregated by the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DepartmentCounts {
    pub department: Option<String>,
    pub staff: i64,
    pub active: i64,
    pub roles: i64,
    pub grants: i64,
}

fn push_department(qb: &mut QueryBuilder<'_, MySql>, m: &Mapping) {
    push_text(qb, "u", m.users.department.as_deref());
}

/// Staff, active staff, and the roles and grants current at `at`, per department.
pub async fn department_counts(
    db: &Database,
    r: &Resolved,
    at: NaiveDateTime,
) -> Result<Vec<DepartmentCounts>> {
    let m = r.mapping();
    let mut qb = QueryBuilder::<MySql>::new("SELECT ");
    push_department(&mut qb, m);
    qb.push(" AS dept, COUNT(*), CAST(SUM(");
    push_active_condition(&mut qb, m, "u");
    qb.push(") AS SIGNED) FROM ")
        .push_source(&m.users.table, &m.users.filter)
        .push(" u GROUP BY dept");
    let staff: Vec<(Option<String>, i64, Option<i64>)> =
        qb.build_query_as().fetch_all(db.app()).await?;

    let ur = &m.user_roles;
    let mut qb = QueryBuilder::<MySql>::new("SELECT ");
    push_department(&mut qb, m);
    qb.push(" AS dept, COUNT(DISTINCT ")
        .push(col("ur", &ur.role))
        .push("), COUNT(*) FROM ")
        .push_source(&ur.table, &ur.filter)
        .push(" ur JOIN ")
        .push_source(&m.users.table, &m.users.filter)
        .push(" u ON ")
        .push(col("u", &m.users.id))
        .push(" = ")
        .push(col("ur", &ur.user))
        .push(" WHERE 1 = 1");
    crate::mapped::push_refers_to(&mut qb, "ur", &ur.role, crate::mapped::roles_of(m));
    push_not_expired(&mut qb, m, "ur", at);
    qb.push(" GROUP BY dept");
    let grants: Vec<(Option<String>, i64, i64)> = qb.build_query_as().fetch_all(db.app()).await?;
    Ok(staff
        .into_iter()
        .map(|(department, staff, active)| {
            let (roles, grants) = grants
                .iter()
                .find(|(d, _, _)| *d == department)
                .map_or((0, 0), |(_, r, g)| (*r, *g));
            DepartmentCounts {
                department,
                staff,
                active: active.unwrap_or(0),
                roles,
                grants,
            }
        })
        .collect())
}

/// Headline counts over all staff: (active superusers, active staff without MFA when the
/// mapping knows MFA).
pub async fn headline_counts(db: &Database, r: &Resolved) -> Result<(i64, Option<i64>)> {
    let m = r.mapping();
    let mut qb = QueryBuilder::<MySql>::new("SELECT CAST(COALESCE(SUM((");
    push_active_condition(&mut qb, m, "u");
    qb.push(") AND (");
    push_superuser_condition(&mut qb, m, "u");
    qb.push(")), 0) AS SIGNED), ");
    match &m.users.mfa {
        Some(mfa) => {
            qb.push("CAST(COALESCE(SUM((");
            push_active_condition(&mut qb, m, "u");
            qb.push(") AND ")
                .push(col("u", mfa))
                .push(" = 0), 0) AS SIGNED)");
        }
        None => {
            qb.push("CAST(NULL AS SIGNED)");
        }
    }
    qb.push(" FROM ")
        .push_source(&m.users.table, &m.users.filter)
        .push(" u");
    let (superusers, without_mfa): (i64, Option<i64>) =
        qb.build_query_as().fetch_one(db.app()).await?;
    Ok((superusers, without_mfa))
}
