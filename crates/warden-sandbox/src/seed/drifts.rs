//! The planted drifts of the default scenario: staff whose roles, grants or records each
//! break the company policy in one way, and the cast of the planted log anomalies.

use chrono::{Duration, NaiveDateTime};

use super::Planted;
use super::catalogue::{perm_id, role_id};
use super::company::{Company, DirectGrant, Grant, StaffUser};
use crate::error::{Error, Result};

/// Who plays each planted case, by staff id; the cases are those of [`Planted`].
pub(super) struct Cast {
    pub(super) excess_role: u64,
    pub(super) sod_conflict: u64,
    pub(super) direct_grant: u64,
    pub(super) too_many_roles: u64,
    pub(super) orphan: u64,
    pub(super) weak_password_hash: u64,
    pub(super) dormant: u64,
    pub(super) dormant_activity: u64,
    pub(super) enumeration: u64,
    pub(super) off_hours: u64,
    pub(super) outside_policy: u64,
    pub(super) no_business_reason: u64,
    pub(super) inactive_with_roles: u64,
    pub(super) expired_grant: u64,
    pub(super) denied_burst: u64,
    pub(super) bulk_export: u64,
    pub(super) superuser_outside_officers: u64,
}

impl Cast {
    /// Plain support agents play most cases, so that nothing but the planted drift sets them
    /// apart; a sales rep, a sales manager and an engineer play the rest.
    fn choose(company: &Company) -> Result<Self> {
        let agents = plain_agents(company);
        let agent = |i: usize| {
            agents.get(i).copied().ok_or_else(|| {
                Error::Input("too few support agents to plant every case; use more --users".into())
            })
        };
        let now = company.now;
        Ok(Self {
            excess_role: agent(0)?,
            sod_conflict: agent(1)?,
            direct_grant: agent(2)?,
            too_many_roles: agent(3)?,
            orphan: agent(4)?,
            weak_password_hash: agent(5)?,
            dormant: agent(6)?,
            dormant_activity: agent(7)?,
            enumeration: agent(8)?,
            off_hours: agent(9)?,
            outside_policy: agent(10)?,
            no_business_reason: agent(11)?,
            inactive_with_roles: agent(12)?,
            expired_grant: agent(13)?,
            denied_burst: first(company, "no sales reps", |u| {
                u.dept == "sales" && !u.lead && u.status == "active" && seen_lately(u, now)
            })?,
            bulk_export: first(company, "no sales manager", |u| u.dept == "sales" && u.lead)?,
            superuser_outside_officers: first(company, "no engineer", |u| {
                u.dept == "engineering" && !u.lead && u.status == "active" && u.manager.is_some()
            })?,
        })
    }

    /// The staff kept out of ticket queues and ordinary traffic, so that the log shows of
    /// them their planted case alone (or, dormant and terminated, nothing).
    pub(super) fn specials(&self) -> Vec<u64> {
        vec![
            self.dormant,
            self.dormant_activity,
            self.enumeration,
            self.off_hours,
            self.outside_policy,
            self.no_business_reason,
            self.inactive_with_roles,
        ]
    }

    pub(super) fn planted(&self, company: &Company) -> Planted {
        let login = |id: u64| company.user(id).login.clone();
        Planted {
            excess_role: login(self.excess_role),
            sod_conflict: login(self.sod_conflict),
            direct_grant: login(self.direct_grant),
            too_many_roles: login(self.too_many_roles),
            inactive_with_roles: login(self.inactive_with_roles),
            orphan: login(self.orphan),
            superuser_outside_officers: login(self.superuser_outside_officers),
            weak_password_hash: login(self.weak_password_hash),
            dormant: login(self.dormant),
            dormant_activity: login(self.dormant_activity),
            enumeration: login(self.enumeration),
            denied_burst: login(self.denied_burst),
            off_hours: login(self.off_hours),
            outside_policy: login(self.outside_policy),
            no_business_reason: login(self.no_business_reason),
            bulk_export: login(self.bulk_export),
            expired_grant: login(self.expired_grant),
        }
    }
}

/// Chooses the cast and plants every drift in the roles, grants and records; the grants
/// twelve days back unless a case says otherwise.
pub(super) fn plant(company: &mut Company) -> Result<Cast> {
    let cast = Cast::choose(company)?;
    let now = company.now;
    let at = now - Duration::days(12);
    let by = Some(company.owner_of("support"));
    company.grant(cast.excess_role, "sales_rep", at, by);
    sod_conflict(company, cast.sod_conflict, at, by);
    company.direct.push(DirectGrant {
        user: cast.direct_grant,
        permission: perm_id("customer.payment:read"),
        at,
        by,
    });
    for role in ["support_billing", "sales_rep", "ops_analyst", "hr_partner"] {
        company.grant(cast.too_many_roles, role, at, by);
    }
    expired_grant(company, cast.expired_grant, by);
    terminated_manager(company, cast.inactive_with_roles, cast.orphan);
    company.user_mut(cast.weak_password_hash).algo = "md5";
    company.user_mut(cast.superuser_outside_officers).superuser = true;
    company.user_mut(cast.dormant).last_login = Some(now - Duration::days(200));
    company.user_mut(cast.dormant_activity).last_login = Some(now - Duration::days(150));
    Ok(cast)
}

/// Support agents who are plain, active, recently seen members: candidates for planting.
fn plain_agents(company: &Company) -> Vec<u64> {
    let now = company.now;
    company
        .users
        .iter()
        .filter(|u| {
            u.dept == "support"
                && !u.lead
                && u.status == "active"
                && u.manager != Some(company.owner_of("support"))
        })
        .filter(|u| seen_lately(u, now))
        .filter(|u| {
            !company
                .grants
                .iter()
                .any(|g| g.user == u.id && g.role == role_id("support_billing"))
        })
        .map(|u| u.id)
        .collect()
}

/// Signed in within 20 days: the cast must look like people at work.
fn seen_lately(u: &StaffUser, now: NaiveDateTime) -> bool {
    u.last_login.is_some_and(|l| l > now - Duration::days(20))
}

/// The first member of staff who fits, in hiring order.
fn first(company: &Company, missing: &str, fits: impl Fn(&StaffUser) -> bool) -> Result<u64> {
    company
        .users
        .iter()
        .find(|u| fits(u))
        .map(|u| u.id)
        .ok_or_else(|| Error::Input(missing.into()))
}

/// Requesting and approving refunds, through two roles that two different owners granted.
fn sod_conflict(company: &mut Company, who: u64, at: NaiveDateTime, by: Option<u64>) {
    company.grant(who, "support_billing", at, by);
    let finance = Some(company.owner_of("finance"));
    company.grant(who, "refund_approver", at, finance);
}

/// Billing for a month, until ten days ago.
fn expired_grant(company: &mut Company, who: u64, by: Option<u64>) {
    let now = company.now;
    company.grants.push(Grant {
        user: who,
        role: role_id("support_billing"),
        at: now - Duration::days(40),
        by,
        expires: Some(now - Duration::days(10)),
    });
}

/// Terminated (last seen six weeks ago) yet still holding a role, and still someone's manager.
fn terminated_manager(company: &mut Company, inactive: u64, orphan: u64) {
    let now = company.now;
    let u = company.user_mut(inactive);
    u.status = "terminated";
    u.last_login = Some(now - Duration::days(45));
    company.user_mut(orphan).manager = Some(inactive);
}
