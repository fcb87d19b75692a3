//! The company as it is built, part by part, before any row is written.

use std::collections::HashSet;

use chrono::NaiveDateTime;

use super::catalogue::role_id;

/// A member of staff; `id` is their place in [`Company::users`], counted from 1.
#[derive(Debug, Clone)]
pub(super) struct StaffUser {
    pub(super) id: u64,
    pub(super) login: String,
    pub(super) name: String,
    pub(super) dept: &'static str,
    pub(super) title: String,
    pub(super) manager: Option<u64>,
    pub(super) status: &'static str,
    pub(super) mfa: bool,
    pub(super) algo: &'static str,
    pub(super) superuser: bool,
    pub(super) last_login: Option<NaiveDateTime>,
    pub(super) created: NaiveDateTime,
    pub(super) lead: bool,
}

/// A role held by a member of staff.
pub(super) struct Grant {
    pub(super) user: u64,
    pub(super) role: u64,
    pub(super) at: NaiveDateTime,
    pub(super) by: Option<u64>,
    pub(super) expires: Option<NaiveDateTime>,
}

impl Grant {
    /// A grant without an end date.
    pub(super) fn open_ended(user: u64, role: u64, at: NaiveDateTime, by: Option<u64>) -> Self {
        Self {
            user,
            role,
            at,
            by,
            expires: None,
        }
    }
}

/// A permission held directly, outside any role.
pub(super) struct DirectGrant {
    pub(super) user: u64,
    pub(super) permission: u64,
    pub(super) at: NaiveDateTime,
    pub(super) by: Option<u64>,
}

pub(super) struct Company {
    /// [`super::SeedOptions::now`] to the second.
    pub(super) now: NaiveDateTime,
    pub(super) users: Vec<StaffUser>,
    /// Every login handed out, so that none is handed out twice.
    pub(super) logins: HashSet<String>,
    pub(super) ceo: u64,
    /// Each department's head, in the order of [`super::catalogue::DEPARTMENTS`].
    pub(super) heads: Vec<(&'static str, u64)>,
    /// In the order granted: where a user holds a role twice, the first grant is the one kept.
    pub(super) grants: Vec<Grant>,
    pub(super) direct: Vec<DirectGrant>,
    /// Roles named after hostile text, numbered on from the catalogue's.
    pub(super) extra_roles: Vec<(u64, String)>,
}

impl Company {
    pub(super) fn user(&self, id: u64) -> &StaffUser {
        &self.users[id as usize - 1]
    }

    pub(super) fn user_mut(&mut self, id: u64) -> &mut StaffUser {
        &mut self.users[id as usize - 1]
    }

    pub(super) fn head_of(&self, dept: &str) -> Option<u64> {
        self.heads
            .iter()
            .find(|(d, _)| *d == dept)
            .map(|(_, id)| *id)
    }

    /// Who owns a department's roles and signs its grants: its head, or else the CEO.
    pub(super) fn owner_of(&self, dept: &str) -> u64 {
        self.head_of(dept).unwrap_or(self.ceo)
    }

    /// Grants a catalogue role without an end date.
    pub(super) fn grant(&mut self, user: u64, role: &str, at: NaiveDateTime, by: Option<u64>) {
        self.grants
            .push(Grant::open_ended(user, role_id(role), at, by));
    }
}
