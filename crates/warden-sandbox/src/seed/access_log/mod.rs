//! The access log over the last 120 days: ordinary traffic, in which need-to-know holds, and
//! the planted anomalies of the default scenario.

mod anomalies;
mod traffic;

use chrono::NaiveDateTime;

use super::catalogue::USER_AGENTS;
use super::company::{Company, StaffUser};
use super::customers::Book;
use super::drifts::Cast;
use crate::rng::Rng;

pub(super) struct LogRow {
    pub(super) at: NaiveDateTime,
    pub(super) user: u64,
    pub(super) action: &'static str,
    pub(super) rtype: &'static str,
    pub(super) rid: String,
    pub(super) allowed: bool,
    pub(super) ip: String,
    pub(super) ua: &'static str,
}

/// `count` rows in all (more if the planted anomalies alone exceed it), in time order. The
/// planted cast (`specials`) take no part in ordinary traffic.
pub(super) fn rows(
    company: &Company,
    book: &Book,
    cast: Option<&Cast>,
    specials: &[u64],
    count: u64,
    rng: &mut Rng,
) -> Vec<LogRow> {
    let planted = cast
        .map(|cast| anomalies::planted(company, book, cast))
        .unwrap_or_default();
    let mut log = Vec::with_capacity(count as usize);
    let ordinary = count.saturating_sub(planted.len() as u64);
    traffic::ordinary(&mut log, company, book, specials, ordinary, rng);
    log.extend(planted);
    log.sort_by_key(|r| (r.at, r.user));
    log
}

/// The same address for a member of staff every time, and apart from everyone else's.
fn ip_of(u: &StaffUser) -> String {
    format!(
        "10.{}.{}.{}",
        20 + u.dept.len(),
        (u.id / 250) % 250,
        u.id % 250 + 1
    )
}

/// Each member of staff always uses the same browser or app.
fn ua_of(u: &StaffUser) -> &'static str {
    USER_AGENTS[(u.id % USER_AGENTS.len() as u64) as usize]
}
