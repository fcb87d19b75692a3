//! Ordinary traffic: active support, sales and finance staff at work in office hours on the
//! working days of the last 120 days, each opening only the customers they serve.

use chrono::{Datelike, Duration, NaiveDateTime, Weekday};

use super::{LogRow, ip_of, ua_of};
use crate::rng::Rng;
use crate::seed::company::Company;
use crate::seed::customers::Book;
use crate::seed::time::at_hour;

/// What a row records being done: action, resource type, resource id.
type Work = (&'static str, &'static str, String);

/// Appends `count` rows of ordinary traffic by everyone at work apart from `specials`.
pub(super) fn ordinary(
    log: &mut Vec<LogRow>,
    company: &Company,
    book: &Book,
    specials: &[u64],
    count: u64,
    rng: &mut Rng,
) {
    let now = company.now;
    let actors: Vec<u64> = company
        .users
        .iter()
        .filter(|u| matches!(u.dept, "support" | "sales" | "finance") && u.status == "active")
        .filter(|u| u.last_login.is_some_and(|l| l > now - Duration::days(90)))
        .filter(|u| !specials.contains(&u.id))
        .map(|u| u.id)
        .collect();
    for _ in 0..count {
        let u = company.user(*rng.pick(&actors));
        let at = office_hours(now, rng);
        let own = book
            .customers_of
            .get(&u.id)
            .map(Vec::as_slice)
            .unwrap_or_default();
        let roll = need_to_know(u.dept, own, rng.below(100));
        let (action, rtype, rid) = match u.dept {
            "support" => support_work(roll, own, book, rng),
            "sales" => sales_work(roll, own, book, rng),
            _ => finance_work(roll, book, rng),
        };
        log.push(LogRow {
            at,
            user: u.id,
            action,
            rtype,
            rid,
            allowed: !rng.chance(0.004),
            ip: ip_of(u),
            ua: ua_of(u),
        });
    }
}

/// Office hours on a working day of the last 120 days, before today: the draws are
/// the same at any `now`, only the calendar they land on moves.
fn office_hours(now: NaiveDateTime, rng: &mut Rng) -> NaiveDateTime {
    let mut day = now.date() - Duration::days(rng.range(1, 120));
    match day.weekday() {
        Weekday::Sat => day -= Duration::days(1),
        Weekday::Sun => day -= Duration::days(2),
        _ => {}
    }
    at_hour(day, rng.range(8, 18) as u32) + Duration::seconds(rng.range(0, 3_599))
}

/// Agents and reps open only the customers they serve; one with none (no ticket
/// assigned, no account owned) works on tickets or leads instead: need-to-know
/// holds in ordinary traffic, and only the planted case breaks it.
fn need_to_know(dept: &str, own: &[u64], roll: u64) -> u64 {
    if !own.is_empty() {
        return roll;
    }
    match dept {
        "support" if roll < 50 => 45 + roll % 25,
        "support" => 85 + roll % 15,
        "sales" if roll < 50 => roll % 30,
        "sales" => 70 + roll % 30,
        _ => roll,
    }
}

/// One of the customers served, or any customer for someone who serves none.
fn customer(own: &[u64], book: &Book, rng: &mut Rng) -> String {
    let id = if own.is_empty() {
        rng.range(1, book.customers as i64) as u64
    } else {
        own[rng.below(own.len() as u64) as usize]
    };
    id.to_string()
}

fn support_work(roll: u64, own: &[u64], book: &Book, rng: &mut Rng) -> Work {
    let ticket = |rng: &mut Rng| rng.range(1, book.tickets.len().max(1) as i64).to_string();
    match roll {
        0..=44 => (
            "customer.contact:read",
            "customer",
            customer(own, book, rng),
        ),
        45..=69 => ("ticket:write", "ticket", ticket(rng)),
        70..=84 => ("customer.notes:write", "customer", customer(own, book, rng)),
        _ => ("ticket:read", "ticket", ticket(rng)),
    }
}

fn sales_work(roll: u64, own: &[u64], book: &Book, rng: &mut Rng) -> Work {
    match roll {
        0..=29 => ("lead:write", "lead", rng.range(1, 50_000).to_string()),
        30..=69 => (
            "customer.contact:read",
            "customer",
            customer(own, book, rng),
        ),
        70..=89 => ("order:read", "order", rng.range(1, 400_000).to_string()),
        _ => ("order:write", "order", rng.range(1, 400_000).to_string()),
    }
}

fn finance_work(roll: u64, book: &Book, rng: &mut Rng) -> Work {
    match roll {
        0..=49 => (
            "customer.payment:read",
            "customer",
            rng.range(1, book.customers as i64).to_string(),
        ),
        50..=59 => ("refund:approve", "refund", rng.range(1, 20_000).to_string()),
        _ => ("order:read", "order", rng.range(1, 400_000).to_string()),
    }
}
