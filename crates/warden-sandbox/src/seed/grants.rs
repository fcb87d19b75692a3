//! The roles each member of staff holds for their job, granted by their department's owner
//! within ten days of joining.

use chrono::Duration;

use super::Scenario;
use super::catalogue::role_id;
use super::company::{Company, Grant, StaffUser};
use crate::rng::Rng;

/// Every job's roles, in staff order; a few support agents also handle billing and a few in
/// finance approve refunds. In the clean scenario only active staff hold roles.
pub(super) fn by_job(company: &Company, scenario: Scenario, rng: &mut Rng) -> Vec<Grant> {
    let mut grants = Vec::new();
    for u in &company.users {
        if u.status == "terminated" || (scenario == Scenario::Clean && u.status != "active") {
            continue;
        }
        let role = job_role(company, u);
        let at = u.created + Duration::days(rng.range(0, 10));
        let by = if u.id == company.ceo {
            None
        } else {
            Some(company.owner_of(u.dept))
        };
        grants.push(Grant::open_ended(u.id, role_id(role), at, by));
        if u.dept == "support" && !u.lead && rng.chance(0.08) {
            grants.push(Grant::open_ended(u.id, role_id("support_billing"), at, by));
        }
        if u.dept == "finance" && rng.chance(0.3) {
            grants.push(Grant::open_ended(u.id, role_id("refund_approver"), at, by));
        }
    }
    grants
}

/// Leads, heads and a department's owner hold its senior role where it has one.
fn job_role(company: &Company, u: &StaffUser) -> &'static str {
    let senior = u.lead || u.title.starts_with("Head") || u.id == company.owner_of(u.dept);
    match (u.dept, senior) {
        ("support", true) => "support_lead",
        ("support", false) => "support_agent",
        ("sales", true) => "sales_manager",
        ("sales", false) => "sales_rep",
        ("finance", _) => "finance_analyst",
        ("engineering", _) => "engineer",
        ("security", _) => "security_officer",
        ("hr", _) => "hr_partner",
        ("operations", _) => "ops_analyst",
        _ => "executive",
    }
}
