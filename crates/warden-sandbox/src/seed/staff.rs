//! The staff: a chief executive, a head for each department, then each department's team
//! leads and members, with the odd suspended, terminated or long-absent member.

use std::collections::HashSet;

use chrono::{Duration, NaiveDateTime};

use super::catalogue::{DEPARTMENTS, FIRST, LAST, Rank, title_for};
use super::company::{Company, StaffUser};
use crate::rng::Rng;

/// Hires `size` staff (all drawn from `rng`), the CEO first and the heads next.
pub(super) fn hire(now: NaiveDateTime, size: u32, rng: &mut Rng) -> Company {
    let mut payroll = Payroll {
        now,
        users: Vec::with_capacity(size as usize),
        logins: HashSet::new(),
        rng,
    };
    let ceo = payroll.hire("executive", Rank::Head, None);
    let total = u64::from(size);
    let share_sum: u32 = DEPARTMENTS.iter().map(|d| d.1).sum();
    let mut heads = Vec::new();
    for (dept, _) in DEPARTMENTS {
        heads.push((*dept, payroll.hire(dept, Rank::Head, Some(ceo))));
    }
    // The head of security is the application's one legitimate superuser.
    if let Some((_, sec)) = heads.iter().find(|(d, _)| *d == "security") {
        payroll.users[*sec as usize - 1].superuser = true;
    }
    let remaining = total - payroll.users.len() as u64;
    for (dept, share) in DEPARTMENTS {
        let head = heads.iter().find(|(d, _)| d == dept).map(|(_, id)| *id);
        let count = (remaining * u64::from(*share) / u64::from(share_sum)).max(2);
        payroll.hire_team(dept, head, count, total);
    }
    // Rounding leaves a few places over; they go to support.
    while (payroll.users.len() as u64) < total {
        let manager = heads[0].1;
        payroll.hire("support", Rank::Member, Some(manager));
    }
    Company {
        now,
        users: payroll.users,
        logins: payroll.logins,
        ceo,
        heads,
        grants: Vec::new(),
        direct: Vec::new(),
        extra_roles: Vec::new(),
    }
}

/// The clean scenario is a control group: a company with no drift at all, so every
/// finding on it would be a false positive. Everyone active signs in with MFA and has
/// signed in lately; only active staff hold roles.
pub(super) fn settle_for_control_group(company: &mut Company) {
    let now = company.now;
    for u in company.users.iter_mut().filter(|u| u.status == "active") {
        u.mfa = true;
        if u.last_login.is_none_or(|l| l < now - Duration::days(30)) {
            u.last_login = Some(now - Duration::days(1));
        }
    }
}

/// The staff while it is hired: ids are handed out in order and logins once each.
struct Payroll<'r> {
    now: NaiveDateTime,
    users: Vec<StaffUser>,
    logins: HashSet<String>,
    rng: &'r mut Rng,
}

impl Payroll<'_> {
    /// A department's team: a lead for every ten places, reporting to the head, and members
    /// shared out among the leads in turn; no more than `total` staff in all.
    fn hire_team(&mut self, dept: &'static str, head: Option<u64>, count: u64, total: u64) {
        let leads_needed = (count / 10).max(1);
        let mut leads = Vec::new();
        for i in 0..count {
            if self.users.len() as u64 >= total {
                break;
            }
            if i < leads_needed {
                leads.push(self.hire(dept, Rank::Lead, head));
            } else {
                let manager = leads[(i % leads.len() as u64) as usize];
                self.hire(dept, Rank::Member, Some(manager));
            }
        }
    }

    fn hire(&mut self, dept: &'static str, rank: Rank, manager: Option<u64>) -> u64 {
        let now = self.now;
        let rng = &mut *self.rng;
        let first = *rng.pick(FIRST);
        let last = *rng.pick(LAST);
        let login = unique_login(&mut self.logins, first, last);
        let id = self.users.len() as u64 + 1;
        let created = now - Duration::days(rng.range(130, 2_000));
        let senior = rank != Rank::Member;
        let (status, last_login) = standing(now, senior, rng);
        let algo = match rng.below(100) {
            0..=69 => "argon2id",
            70..=98 => "bcrypt",
            _ => "pbkdf2_sha256",
        };
        let title = title_for(dept, rank, rng);
        self.users.push(StaffUser {
            id,
            login,
            name: format!("{first} {last}"),
            dept,
            title,
            manager,
            status,
            mfa: senior || rng.chance(0.85),
            algo,
            superuser: false,
            last_login,
            created,
            lead: rank == Rank::Lead,
        });
        id
    }
}

/// `first.last`, numbered from 2 on when a namesake has it already.
fn unique_login(logins: &mut HashSet<String>, first: &str, last: &str) -> String {
    let base = format!("{}.{}", first.to_lowercase(), last.to_lowercase());
    let mut login = base.clone();
    let mut n = 1;
    while !logins.insert(login.clone()) {
        n += 1;
        login = format!("{base}{n}");
    }
    login
}

/// Status and last sign-in. Heads and leads are always active; among members a few are
/// suspended or terminated, and a few active ones have not signed in for months.
fn standing(
    now: NaiveDateTime,
    senior: bool,
    rng: &mut Rng,
) -> (&'static str, Option<NaiveDateTime>) {
    let roll = rng.below(100);
    let status = if senior || roll < 93 {
        "active"
    } else if roll < 96 {
        "suspended"
    } else {
        "terminated"
    };
    let last_login = match status {
        "active" if !senior && rng.chance(0.02) => Some(now - Duration::days(rng.range(100, 300))),
        "active" => Some(now - Duration::minutes(rng.range(30, 60 * 24 * 14))),
        _ => Some(now - Duration::days(rng.range(30, 200))),
    };
    (status, last_login)
}
