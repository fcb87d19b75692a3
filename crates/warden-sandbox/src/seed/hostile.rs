//! Hostile text as staff: each line becomes a QA tester's name, the next line their title,
//! and, where it can be one, a role of its own that they hold.

use std::collections::HashSet;

use chrono::Duration;

use super::catalogue::{ROLES, role_id};
use super::company::{Company, Grant, StaffUser};

pub(super) fn hire_testers(company: &mut Company, hostile: &[String]) {
    let now = company.now;
    let qa_manager = company.owner_of("engineering");
    let mut role_names: HashSet<String> = ROLES.iter().map(|r| r.name.to_lowercase()).collect();
    for (i, text) in hostile.iter().enumerate() {
        let id = company.users.len() as u64 + 1;
        let login = format!("qa.tester{}", i + 1);
        company.logins.insert(login.clone());
        company.users.push(StaffUser {
            id,
            login,
            name: text.clone(),
            dept: "qa",
            title: hostile[(i + 1) % hostile.len()].clone(),
            manager: Some(qa_manager),
            status: "active",
            mfa: true,
            algo: "argon2id",
            superuser: false,
            last_login: Some(now - Duration::days(1)),
            created: now - Duration::days(30),
            lead: false,
        });
        let at = now - Duration::days(20);
        company.grants.push(Grant::open_ended(
            id,
            role_id("ops_analyst"),
            at,
            Some(qa_manager),
        ));
        // A role name must be unique (case-insensitively) and fit the column.
        if !text.trim().is_empty()
            && text.chars().count() <= 190
            && role_names.insert(text.trim_end().to_lowercase())
        {
            let role = (ROLES.len() + company.extra_roles.len()) as u64 + 1;
            company.extra_roles.push((role, text.clone()));
            company
                .grants
                .push(Grant::open_ended(id, role, at, Some(qa_manager)));
        }
    }
}
