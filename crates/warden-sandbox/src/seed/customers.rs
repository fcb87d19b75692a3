//! The customers, and who serves them: support tickets assigned to agents and accounts owned
//! by sales reps.

use std::collections::HashMap;

use chrono::{Duration, NaiveDateTime};

use super::catalogue::{FIRST, LAST};
use super::company::Company;
use crate::rng::Rng;

pub(super) struct Customer {
    pub(super) id: u64,
    pub(super) name: String,
    pub(super) email: String,
    pub(super) phone: String,
    pub(super) country: &'static str,
    pub(super) card_last4: Option<String>,
    pub(super) created: NaiveDateTime,
}

pub(super) struct Ticket {
    pub(super) customer: u64,
    pub(super) assignee: u64,
    pub(super) status: &'static str,
    pub(super) opened: NaiveDateTime,
}

pub(super) struct Account {
    pub(super) customer: u64,
    pub(super) owner: u64,
    pub(super) tier: &'static str,
    pub(super) opened: NaiveDateTime,
}

/// Who serves which customer.
pub(super) struct Book {
    /// How many customers there are; their ids run from 1.
    pub(super) customers: u64,
    pub(super) tickets: Vec<Ticket>,
    pub(super) accounts: Vec<Account>,
    /// The customers each agent or rep serves, once per ticket or account: need-to-know.
    pub(super) customers_of: HashMap<u64, Vec<u64>>,
}

/// Five customers for each place on the staff (`staff_size`, hostile testers apart), at
/// least 500; each with up to two tickets for active support agents outside the planted
/// cast (`specials`), and most with an account owned by an active sales rep.
pub(super) fn book(company: &Company, staff_size: u32, specials: &[u64], rng: &mut Rng) -> Book {
    let now = company.now;
    let customers = (u64::from(staff_size) * 5).max(500);
    let seen_lately = |l: Option<NaiveDateTime>| l.is_some_and(|l| l > now - Duration::days(90));
    let support_active: Vec<u64> = company
        .users
        .iter()
        .filter(|u| u.dept == "support" && u.status == "active" && !specials.contains(&u.id))
        .filter(|u| seen_lately(u.last_login))
        .map(|u| u.id)
        .collect();
    let sales_active: Vec<u64> = company
        .users
        .iter()
        .filter(|u| u.dept == "sales" && u.status == "active")
        .filter(|u| seen_lately(u.last_login))
        .map(|u| u.id)
        .collect();
    let mut book = Book {
        customers,
        tickets: Vec::new(),
        accounts: Vec::new(),
        customers_of: HashMap::new(),
    };
    for customer in 1..=customers {
        for _ in 0..rng.range(0, 2) {
            let assignee = *rng.pick(&support_active);
            let status = if rng.chance(0.7) { "closed" } else { "open" };
            let opened = now - Duration::hours(rng.range(1, 24 * 150));
            book.tickets.push(Ticket {
                customer,
                assignee,
                status,
                opened,
            });
            book.customers_of
                .entry(assignee)
                .or_default()
                .push(customer);
        }
        if rng.chance(0.7) {
            let owner = *rng.pick(&sales_active);
            let tier = *rng.pick(&["smb", "mid", "enterprise"]);
            let opened = now - Duration::days(rng.range(10, 900));
            book.accounts.push(Account {
                customer,
                owner,
                tier,
                opened,
            });
            book.customers_of.entry(owner).or_default().push(customer);
        }
    }
    book
}

/// The customers' rows, ids 1 to `count`.
pub(super) fn rows(count: u64, now: NaiveDateTime, rng: &mut Rng) -> Vec<Customer> {
    let countries = ["DE", "FR", "GB", "US", "NL", "SE", "ES", "IT", "PL", "JP"];
    (1..=count)
        .map(|id| {
            let first = *rng.pick(FIRST);
            let last = *rng.pick(LAST);
            let card_last4 = rng.chance(0.6).then(|| format!("{:04}", rng.below(10_000)));
            let phone = format!("+49 30 {:07}", rng.below(10_000_000));
            let country = *rng.pick(&countries);
            let created = now - Duration::days(rng.range(1, 2_500));
            Customer {
                id,
                name: format!("{first} {last}"),
                email: format!(
                    "{}.{}{}@mail.example",
                    first.to_lowercase(),
                    last.to_lowercase(),
                    id
                ),
                phone,
                country,
                card_last4,
                created,
            }
        })
        .collect()
}
