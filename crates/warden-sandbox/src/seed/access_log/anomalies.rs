//! The planted log anomalies, each played by its own member of the cast. Each case lies on a
//! working day of its own, in working hours, so that it trips its own detector and not
//! off-hours as well; the off-hours case lies on a Sunday night.

use std::collections::HashSet;

use chrono::{Datelike, Duration, Weekday};

use super::{LogRow, ip_of, ua_of};
use crate::seed::catalogue::USER_AGENTS;
use crate::seed::company::Company;
use crate::seed::customers::Book;
use crate::seed::drifts::Cast;
use crate::seed::time::{at_hour, working_day_before};

/// Every planted anomaly's rows.
pub(super) fn planted(company: &Company, book: &Book, cast: &Cast) -> Vec<LogRow> {
    let mut rows = enumeration(company, book, cast.enumeration);
    rows.extend(denied_burst(company, book, cast.denied_burst));
    rows.extend(off_hours(company, book, cast.off_hours));
    rows.extend(dormant_activity(company, book, cast.dormant_activity));
    rows.extend(outside_policy(company, book, cast.outside_policy));
    rows.extend(no_business_reason(company, book, cast.no_business_reason));
    rows.extend(bulk_export(company, cast.bulk_export));
    rows
}

/// A sequential sweep over customer ids within 45 minutes.
fn enumeration(company: &Company, book: &Book, who: u64) -> Vec<LogRow> {
    let u = company.user(who);
    let start = at_hour(working_day_before(company.now, 3), 14);
    let sweep = 1_200.min(book.customers);
    (0..sweep)
        .map(|i| LogRow {
            at: start + Duration::milliseconds((i * 2_250) as i64),
            user: who,
            action: "customer.contact:read",
            rtype: "customer",
            rid: (i + 1).to_string(),
            allowed: true,
            ip: ip_of(u),
            ua: ua_of(u),
        })
        .collect()
}

/// 120 refusals of payment data in 8 minutes.
fn denied_burst(company: &Company, book: &Book, who: u64) -> Vec<LogRow> {
    let u = company.user(who);
    let start = at_hour(working_day_before(company.now, 5), 10);
    (0..120u64)
        .map(|i| LogRow {
            at: start + Duration::seconds((i * 4) as i64),
            user: who,
            action: "customer.payment:read",
            rtype: "customer",
            rid: ((i * 37) % book.customers + 1).to_string(),
            allowed: false,
            ip: ip_of(u),
            ua: ua_of(u),
        })
        .collect()
}

/// A Sunday between 2 and 3 am, a week or two back, among the customers they serve.
fn off_hours(company: &Company, book: &Book, who: u64) -> Vec<LogRow> {
    let u = company.user(who);
    let mut sunday = company.now.date() - Duration::days(7);
    while sunday.weekday() != Weekday::Sun {
        sunday -= Duration::days(1);
    }
    let start = at_hour(sunday, 2);
    let own = book
        .customers_of
        .get(&who)
        .cloned()
        .unwrap_or_else(|| vec![1]);
    (0..40u64)
        .map(|i| LogRow {
            at: start + Duration::seconds((i * 80) as i64),
            user: who,
            action: "customer.contact:read",
            rtype: "customer",
            rid: own[(i as usize) % own.len()].to_string(),
            allowed: true,
            ip: ip_of(u),
            ua: ua_of(u),
        })
        .collect()
}

/// A dormant account suddenly active, from an address and browser not its own.
fn dormant_activity(company: &Company, book: &Book, who: u64) -> Vec<LogRow> {
    let start = at_hour(working_day_before(company.now, 2), 11);
    (0..25u64)
        .map(|i| LogRow {
            at: start + Duration::minutes((i * 7) as i64),
            user: who,
            action: "customer.contact:read",
            rtype: "customer",
            rid: ((i * 101) % book.customers + 1).to_string(),
            allowed: true,
            ip: "203.0.113.77".into(),
            ua: USER_AGENTS[2],
        })
        .collect()
}

/// Allowed reads of payment data by an agent who does not hold it.
fn outside_policy(company: &Company, book: &Book, who: u64) -> Vec<LogRow> {
    let u = company.user(who);
    let start = at_hour(working_day_before(company.now, 9), 15);
    (0..25u64)
        .map(|i| LogRow {
            at: start + Duration::minutes((i * 3) as i64),
            user: who,
            action: "customer.payment:read",
            rtype: "customer",
            rid: ((i * 53) % book.customers + 1).to_string(),
            allowed: true,
            ip: ip_of(u),
            ua: ua_of(u),
        })
        .collect()
}

/// Sixty customers with no ticket of theirs, stepping through the ids from the middle.
fn no_business_reason(company: &Company, book: &Book, who: u64) -> Vec<LogRow> {
    let u = company.user(who);
    let start = at_hour(working_day_before(company.now, 6), 13);
    let mine: HashSet<u64> = book
        .customers_of
        .get(&who)
        .map(|v| v.iter().copied().collect())
        .unwrap_or_default();
    let mut rows = Vec::new();
    let mut k = 0u64;
    let mut cust = book.customers / 2;
    while k < 60 {
        cust = cust % book.customers + 1;
        if !mine.contains(&cust) {
            rows.push(LogRow {
                at: start + Duration::minutes((k * 2) as i64),
                user: who,
                action: "customer.contact:read",
                rtype: "customer",
                rid: cust.to_string(),
                allowed: true,
                ip: ip_of(u),
                ua: ua_of(u),
            });
            k += 1;
        }
        cust += 17;
    }
    rows
}

/// Eight exports of the whole customer list within the hour.
fn bulk_export(company: &Company, who: u64) -> Vec<LogRow> {
    let u = company.user(who);
    let start = at_hour(working_day_before(company.now, 4), 17);
    (0..8u64)
        .map(|i| LogRow {
            at: start + Duration::minutes((i * 6) as i64),
            user: who,
            action: "customer:export",
            rtype: "customer_list",
            rid: "all-customers".into(),
            allowed: true,
            ip: ip_of(u),
            ua: ua_of(u),
        })
        .collect()
}
