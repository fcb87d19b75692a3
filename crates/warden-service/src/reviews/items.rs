//! A campaign's items, built from the directory as it stands at launch: each grant in
//! scope with its reviewer, the context a reviewer needs, and Warden's suggestion.

use std::collections::{BTreeSet, HashMap};

use chrono::NaiveDateTime;
use warden_core::console::same_identity;
use warden_core::directory::{Effective, PermissionId, Role, RoleGrant, RoleId, User, UserId};
use warden_core::policy::{Policy, SodSides, Subject};
use warden_core::review::{self, ReviewerRule, reviewer_for};
use warden_store::directory::Usage;
use warden_store::reviews::NewItem;

use super::launch::Scope;
use crate::directory::Loaded;

/// What a launch decides items by: the policy in force, the scope, and who reviews.
pub(super) struct Rules<'a> {
    pub policy: &'a Policy,
    pub scope: &'a Scope,
    pub rule: ReviewerRule,
    pub fallback: &'a str,
    pub now: NaiveDateTime,
    /// Days without use after which a grant is suggested for revocation.
    pub unused_days: u32,
}

/// Builds items one grant at a time, judging each person once.
pub(super) struct ItemBuilder<'a> {
    rules: Rules<'a>,
    users: HashMap<UserId, &'a User>,
    roles: HashMap<RoleId, &'a Role>,
    keys: HashMap<PermissionId, &'a str>,
    roles_of: HashMap<UserId, Vec<String>>,
    effective: HashMap<UserId, Effective>,
    sides: SodSides,
    /// Each role's permission keys, sorted, once.
    role_keys: HashMap<RoleId, Vec<&'a str>>,
    /// Each person's allowed uses: (action, when last), a handful each.
    used: HashMap<UserId, Vec<(&'a str, NaiveDateTime)>>,
    people: HashMap<UserId, review::Person<'a>>,
    /// The role's keys outside a job function's baseline, once per (job function, role).
    outside: HashMap<(&'a str, RoleId), Vec<String>>,
    /// Everyone who reviews an item built so far.
    pub reviewers: BTreeSet<&'a str>,
    /// Grants (login, role) whose only reviewer would be the person themself: their
    /// manager or owner is missing, inactive or themself, and they are the fallback.
    pub self_reviewed: Vec<(&'a str, &'a str)>,
}

impl<'a> ItemBuilder<'a> {
    pub fn new(
        loaded: &'a Loaded,
        effective: HashMap<UserId, Effective>,
        usage: &'a [Usage],
        rules: Rules<'a>,
    ) -> Self {
        let keys: HashMap<PermissionId, &str> = (loaded.permissions.iter())
            .map(|p| (p.id, p.key.as_str()))
            .collect();
        let mut role_keys: HashMap<RoleId, Vec<&str>> = HashMap::new();
        for r in &loaded.roles {
            let mut k: Vec<&str> = (loaded.model.permissions_of(r.id).iter())
                .filter_map(|p| keys.get(p).copied())
                .collect();
            k.sort_unstable();
            role_keys.insert(r.id, k);
        }
        let mut used: HashMap<UserId, Vec<(&str, NaiveDateTime)>> = HashMap::new();
        for u in usage {
            (used.entry(u.user).or_default()).push((u.action.as_str(), u.last_seen));
        }
        Self {
            sides: SodSides::new(rules.policy, keys.iter().map(|(p, k)| (*p, *k))),
            rules,
            users: loaded.users.iter().map(|u| (u.id, u)).collect(),
            roles: loaded.roles.iter().map(|r| (r.id, r)).collect(),
            keys,
            roles_of: loaded.roles_by_user(),
            effective,
            role_keys,
            used,
            people: HashMap::new(),
            outside: HashMap::new(),
            reviewers: BTreeSet::new(),
            self_reviewed: Vec::new(),
        }
    }

    /// The item for grant `g`, when its person and role exist and it is in scope. Each
    /// person is judged against the policy once, at their first grant.
    pub fn item(&mut self, g: &RoleGrant) -> Option<NewItem> {
        let Self {
            rules,
            users,
            roles,
            keys,
            roles_of,
            effective,
            sides,
            role_keys,
            used,
            people,
            outside,
            reviewers,
            self_reviewed,
        } = self;
        let (user, role) = (*users.get(&g.user)?, *roles.get(&g.role)?);
        let person = people.entry(g.user).or_insert_with(|| {
            let no_roles = Vec::new();
            let s = Subject {
                user,
                roles: roles_of.get(&g.user).unwrap_or(&no_roles),
            };
            let nothing = Effective::new();
            let held = effective.get(&g.user).unwrap_or(&nothing);
            review::Person::holding(rules.policy, &s, held, sides, keys)
        });
        let held_as = g.scope.qualify(&role.name);
        if !in_scope(rules.scope, user, [&role.name, &held_as], person) {
            return None;
        }
        let these_keys = role_keys.get(&g.role).map_or(&[][..], Vec::as_slice);
        let outside = person.job().map(|j| {
            (outside.entry((j.name.as_str(), g.role)))
                .or_insert_with(|| review::outside_baseline(j, these_keys))
                .as_slice()
        });
        let last_used = (used.get(&g.user).into_iter().flatten())
            .filter(|(action, _)| these_keys.binary_search(action).is_ok())
            .map(|(_, at)| *at)
            .max();
        let (now, unused_days) = (rules.now, rules.unused_days);
        let c = review::context_of(
            person,
            user,
            these_keys,
            outside,
            last_used,
            now,
            unused_days,
        );
        let manager = user.manager_id.and_then(|m| users.get(&m).copied());
        let owner = role.owner_id.and_then(|o| users.get(&o).copied());
        let reviewer = reviewer_for(rules.rule, user, manager, owner, rules.fallback);
        if same_identity(reviewer, &user.login) {
            self_reviewed.push((&user.login, &role.name));
        }
        reviewers.insert(reviewer);
        Some(NewItem {
            user_id: user.id.0,
            login: user.login.clone(),
            department: user.department.clone(),
            role_id: g.role.0,
            // A scoped grant is reviewed as `support @ team 7`: one item per scope.
            role: fit(held_as, 190),
            reviewer: reviewer.to_string(),
            granted_at: g.granted_at,
            granted_by: (g.granted_by.and_then(|b| users.get(&b))).map(|b| b.login.clone()),
            baseline: c.baseline,
            outside: fit(c.outside.join(", "), 2000),
            sod: fit(c.sod.join(", "), 1000),
            last_used: c.last_used,
            suggestion: c.suggestion,
            reason: fit(c.reason, 500),
            grant_key: g.key.clone(),
        })
    }
}

/// Whether a grant of `role` to `user` is in the campaign's scope (an empty list does not
/// narrow).
fn in_scope(scope: &Scope, user: &User, role: [&str; 2], person: &review::Person<'_>) -> bool {
    let any = |wanted: &[String], v: &str| wanted.iter().any(|w| w.eq_ignore_ascii_case(v));
    (scope.departments.is_empty()
        || (user.department.as_deref()).is_some_and(|d| any(&scope.departments, d)))
        && (scope.roles.is_empty() || role.iter().any(|r| any(&scope.roles, r)))
        && (scope.job_functions.is_empty()
            || (person.job()).is_some_and(|j| any(&scope.job_functions, &j.name)))
}

/// `text` cut to `max` characters, ending in "…" when cut.
fn fit(text: String, max: usize) -> String {
    if text.chars().count() <= max {
        return text;
    }
    let mut cut: String = text.chars().take(max - 1).collect();
    cut.push('…');
    cut
}
