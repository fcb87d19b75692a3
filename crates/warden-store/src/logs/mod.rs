//! The application's access log, read through the mapping: streamed in id order for the
//! detectors (from a checkpoint), searched a page at a time by keyset (never OFFSET), and
//! the business relations that justify access (need-to-know). Also Warden's record of
//! scans and their checkpoints (`warden_log_scans`, `warden_log_checkpoints`).

use sqlx::{MySql, QueryBuilder};
use warden_core::mapping::AccessLogMap;

use crate::error::{Error, Result};
use crate::mapped::PushSource;
use crate::mapped::{col, push_id, push_text, push_time};
use crate::schema::Resolved;

mod audit_blocks;
mod export;
mod relations;
mod scans;
mod search;
mod stream;
mod timeline;

pub use audit_blocks::*;
pub use export::*;
pub use relations::*;
pub use scans::*;
pub use search::*;
pub use stream::*;
pub use timeline::*;

/// The checkpoint of the application's own access-log table.
pub const APP_SOURCE: &str = "app";

/// The values a filtered log's derived table binds (`where`), in order, for
/// [`crate::wire`]: they come first, as the table comes before every other value.
fn filter_params(log: &AccessLogMap) -> Vec<crate::wire::Param> {
    use crate::wire::Param;
    use warden_core::mapping::Scalar;
    (log.filter.0.values().flat_map(|v| v.values()))
        .map(|v| match v {
            Scalar::Int(i) => Param::Int(*i),
            Scalar::Bool(b) => Param::Int(i64::from(*b)),
            Scalar::Text(t) => Param::Text(t.clone()),
        })
        .collect()
}

fn log_map(r: &Resolved) -> Result<&AccessLogMap> {
    r.mapping().access_log.as_ref().ok_or_else(|| {
        Error::Input("the mapping has no access log ([access_log]): nothing to read".into())
    })
}

/// `SELECT id, time, user, action, resource type, resource id, outcome, client, agent`
/// of the log, aliased `l`, every column cast to what Warden reads.
fn select_rows(log: &AccessLogMap) -> QueryBuilder<'_, MySql> {
    let mut qb = QueryBuilder::<MySql>::new("SELECT ");
    push_id(&mut qb, "l", Some(&log.id));
    qb.push(" AS id, ");
    push_time(&mut qb, "l", Some(&log.time));
    qb.push(" AS at, ");
    push_id(&mut qb, "l", Some(&log.user));
    qb.push(" AS user, ");
    push_text(&mut qb, "l", Some(&log.action));
    qb.push(" AS action, ");
    push_text(&mut qb, "l", log.resource_type.as_deref());
    qb.push(" AS resource_type, ");
    push_text(&mut qb, "l", log.resource_id.as_deref());
    qb.push(" AS resource_id, ");
    push_text(&mut qb, "l", log.outcome.as_deref());
    qb.push(" AS outcome, ");
    push_text(&mut qb, "l", log.client_address.as_deref());
    qb.push(" AS client_address, ");
    push_text(&mut qb, "l", log.user_agent.as_deref());
    qb.push(" AS user_agent FROM ")
        .push_source(&log.table, &log.filter)
        .push(" l");
    qb
}

/// `SELECT` the log's (`l`) columns as they are, no casts: each is read by its own type
/// ([`Cell`]); NULL where the mapping has none.
fn select_plain<'a>(columns: &[Option<&String>]) -> QueryBuilder<'a, MySql> {
    let mut qb = QueryBuilder::<MySql>::new("SELECT ");
    let mut sep = qb.separated(", ");
    for c in columns {
        match c {
            Some(c) => sep.push(col("l", c)),
            None => sep.push("NULL"),
        };
    }
    qb
}

fn allowed(log: &AccessLogMap, outcome: Option<&[u8]>) -> bool {
    match (&log.outcome, outcome) {
        (None, _) => true,
        (Some(_), Some(o)) => {
            (log.allowed_values.iter()).any(|v| v.as_bytes().eq_ignore_ascii_case(o))
        }
        (Some(_), None) => false,
    }
}
