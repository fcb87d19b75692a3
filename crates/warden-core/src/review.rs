//! Access reviews (DESIGN.md, Access reviews): who reviews each grant, what the reviewer
//! is told about it, and what Warden suggests. Pure: the store gathers the facts.

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};

use std::collections::HashMap;

use crate::console::same_identity;
use crate::directory::{Effective, PermissionId, User};
use crate::policy::{Assignment, JobFunction, Policy, SodRule, SodSides, Subject};

/// Who reviews a grant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "lowercase")]
pub enum ReviewerRule {
    /// The person's manager.
    Manager,
    /// The role's owner.
    Owner,
}

impl ReviewerRule {
    pub const ALL: [ReviewerRule; 2] = [Self::Manager, Self::Owner];

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == text)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Manager => "manager",
            Self::Owner => "owner",
        }
    }
}

/// Keep or revoke: a suggestion, a decision, or what undecided items become at close.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Keep,
    Revoke,
}

impl Verdict {
    pub const ALL: [Verdict; 2] = [Self::Keep, Self::Revoke];

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "keep" | "approve" => Some(Self::Keep),
            "revoke" => Some(Self::Revoke),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Keep => "keep",
            Self::Revoke => "revoke",
        }
    }
}

/// Where a campaign stands: open for decisions, or closed (undecided items took the
/// campaign's default and revocations were applied).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "lowercase")]
pub enum CampaignStatus {
    Open,
    Closed,
}

impl CampaignStatus {
    pub const ALL: [CampaignStatus; 2] = [Self::Open, Self::Closed];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Closed => "closed",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == text)
    }
}

/// How a grant's role compares with the person's baseline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "lowercase")]
pub enum Baseline {
    /// The role gives only what the baseline allows.
    Match,
    /// The role gives something the baseline does not allow.
    Excess,
    /// No job function matches the person, so nothing is allowed.
    None,
}

impl Baseline {
    pub const ALL: [Baseline; 3] = [Self::Match, Self::Excess, Self::None];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Match => "match",
            Self::Excess => "excess",
            Self::None => "none",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == text)
    }
}

/// What closing a campaign did to a revoked item's grant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "lowercase")]
pub enum Remediated {
    /// The grant was removed from the application's tables.
    Revoked,
    /// The grant was already gone.
    Absent,
    /// A revocation undone: the grant was put back.
    Restored,
}

impl Remediated {
    pub const ALL: [Remediated; 3] = [Self::Revoked, Self::Absent, Self::Restored];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Revoked => "revoked",
            Self::Absent => "absent",
            Self::Restored => "restored",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == text)
    }
}

crate::named::by_name! {
    ReviewerRule => "reviewer rule",
    Verdict => "verdict",
    CampaignStatus => "campaign status",
    Baseline => "baseline",
    Remediated => "remediation",
}

/// Who reviews a grant to `user` of a role owned by `owner`: the rule's choice, unless it
/// is missing, inactive, or the person themself, in which case the fallback reviewer.
pub fn reviewer_for<'a>(
    rule: ReviewerRule,
    user: &User,
    manager: Option<&'a User>,
    owner: Option<&'a User>,
    fallback: &'a str,
) -> &'a str {
    let chosen = match rule {
        ReviewerRule::Manager => manager,
        ReviewerRule::Owner => owner,
    };
    match chosen {
        Some(r) if r.active && r.id != user.id && !same_identity(&r.login, &user.login) => &r.login,
        _ => fallback,
    }
}

/// What the reviewer is told about one grant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Context {
    pub baseline: Baseline,
    /// Permissions of the role outside the baseline.
    pub outside: Vec<String>,
    /// Separation-of-duties rules the person breaks with this role among the sides.
    pub sod: Vec<String>,
    /// The person's last allowed access using a permission of this role.
    pub last_used: Option<NaiveDateTime>,
    pub suggestion: Verdict,
    pub reason: String,
}

/// What a grant's context needs to know of the person, worked out once per person and
/// shared by all their grants: the job function that gives them a baseline (none when no
/// job function, or several, match) and the separation-of-duties rules they break.
#[derive(Debug, Clone)]
pub struct Person<'p> {
    job: Option<&'p JobFunction>,
    sod: Vec<(&'p SodRule, Vec<Vec<String>>)>,
}

impl<'p> Person<'p> {
    /// `held_keys`: every permission key the person holds, through any role or directly.
    pub fn new(policy: &'p Policy, s: &Subject<'_>, held_keys: &[&str]) -> Self {
        Self {
            job: Self::job_of(policy, s),
            sod: crate::policy::sod_conflicts(policy, held_keys),
        }
    }

    /// [`Person::new`] for someone holding `held`, with `keys` naming its permissions:
    /// keys are looked up and matched only when `sides` says a rule may be broken.
    pub fn holding(
        policy: &'p Policy,
        s: &Subject<'_>,
        held: &Effective,
        sides: &SodSides,
        keys: &HashMap<PermissionId, &str>,
    ) -> Self {
        if !sides.any_met(held) {
            return Self {
                job: Self::job_of(policy, s),
                sod: Vec::new(),
            };
        }
        let held_keys: Vec<&str> = held.keys().filter_map(|p| keys.get(p).copied()).collect();
        Self::new(policy, s, &held_keys)
    }

    fn job_of(policy: &'p Policy, s: &Subject<'_>) -> Option<&'p JobFunction> {
        match policy.assign(s) {
            Assignment::One(job) => Some(job),
            Assignment::None | Assignment::Ambiguous(_) => None,
        }
    }

    /// The job function whose baseline applies, if exactly one does.
    pub fn job(&self) -> Option<&'p JobFunction> {
        self.job
    }
}

/// The permission keys of a role that a job function's baseline does not allow.
pub fn outside_baseline(job: &JobFunction, role_keys: &[&str]) -> Vec<String> {
    role_keys
        .iter()
        .filter(|k| !job.allow.iter().any(|g| g.matches(k)))
        .map(|k| k.to_string())
        .collect()
}

/// The reviewer's context and Warden's suggestion for a grant of a role (with its
/// permission keys) to a person, under a policy. `unused_days`: how long without use makes
/// a grant worth revoking.
pub fn context(
    policy: &Policy,
    s: &Subject<'_>,
    role_keys: &[&str],
    held_keys: &[&str],
    last_used: Option<NaiveDateTime>,
    now: NaiveDateTime,
    unused_days: u32,
) -> Context {
    let person = Person::new(policy, s, held_keys);
    let outside = person.job().map(|j| outside_baseline(j, role_keys));
    context_of(
        &person,
        s.user,
        role_keys,
        outside.as_deref(),
        last_used,
        now,
        unused_days,
    )
}

/// [`context`] from what is shared between grants: the [`Person`], and the role's keys
/// outside their job function's baseline (`None` when they have no baseline).
pub fn context_of(
    person: &Person<'_>,
    user: &User,
    role_keys: &[&str],
    outside: Option<&[String]>,
    last_used: Option<NaiveDateTime>,
    now: NaiveDateTime,
    unused_days: u32,
) -> Context {
    let (baseline, outside) = match outside {
        Some([]) => (Baseline::Match, Vec::new()),
        Some(o) => (Baseline::Excess, o.to_vec()),
        None => (Baseline::None, Vec::new()),
    };
    let sod: Vec<String> = person
        .sod
        .iter()
        .filter(|(_, sides)| {
            sides
                .iter()
                .flatten()
                .any(|k| role_keys.contains(&k.as_str()))
        })
        .map(|(rule, _)| rule.name.clone())
        .collect();
    let stale = last_used.is_none_or(|t| t < now - chrono::Duration::days(i64::from(unused_days)));
    let (suggestion, reason) = if !user.active {
        (Verdict::Revoke, format!("the account is {}", user.status))
    } else if let Some(rule) = sod.first() {
        (
            Verdict::Revoke,
            format!("breaks separation of duties `{rule}`"),
        )
    } else if baseline == Baseline::None {
        (
            Verdict::Revoke,
            "no job function matches this person: no baseline allows it".to_string(),
        )
    } else if baseline == Baseline::Excess {
        (
            Verdict::Revoke,
            format!("gives {} outside the baseline", outside.join(", ")),
        )
    } else if stale && !role_keys.is_empty() {
        (
            Verdict::Revoke,
            match last_used {
                Some(t) => format!("not used since {}", t.format("%Y-%m-%d")),
                None => format!("not used in the last {unused_days} days"),
            },
        )
    } else {
        (
            Verdict::Keep,
            match last_used {
                Some(t) => format!("within the baseline; used {}", t.format("%Y-%m-%d")),
                None => "within the baseline".to_string(),
            },
        )
    };
    Context {
        baseline,
        outside,
        sod,
        last_used,
        suggestion,
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::directory::UserId;

    fn person(id: i64, login: &str, dept: &str, active: bool) -> User {
        User {
            id: UserId(id),
            login: login.into(),
            name: None,
            email: None,
            department: Some(dept.into()),
            title: None,
            manager_id: None,
            manager: None,
            status: if active { "active" } else { "terminated" }.into(),
            active,
            superuser: false,
            mfa: None,
            last_login: None,
            created: None,
        }
    }

    const POLICY: &str = r#"
[[job_function]]
name = "support"
match = { department = "support" }
allow = ["ticket:*", "refund:request"]

[[separation_of_duties]]
name = "refund four-eyes"
conflict = ["refund:request", "refund:approve"]
"#;

    fn now() -> NaiveDateTime {
        chrono::NaiveDate::from_ymd_opt(2026, 11, 1)
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap()
    }

    #[test]
    fn nobody_reviews_their_own_access() {
        let ada = person(1, "ada", "support", true);
        let boss = person(2, "boss", "support", true);
        let gone = person(3, "gone", "support", false);
        use ReviewerRule::*;
        assert_eq!(
            reviewer_for(Manager, &ada, Some(&boss), None, "olivia"),
            "boss"
        );
        assert_eq!(
            reviewer_for(Manager, &ada, Some(&gone), None, "olivia"),
            "olivia"
        );
        assert_eq!(reviewer_for(Manager, &ada, None, None, "olivia"), "olivia");
        assert_eq!(
            reviewer_for(Owner, &ada, Some(&boss), Some(&ada), "olivia"),
            "olivia"
        );
        assert_eq!(
            reviewer_for(Owner, &boss, None, Some(&ada), "olivia"),
            "ada"
        );
    }

    #[test]
    fn suggestions_say_why() {
        let p = Policy::parse(POLICY).unwrap();
        let ada = person(1, "ada", "support", true);
        let s = Subject {
            user: &ada,
            roles: &[],
        };
        let recent = Some(now() - chrono::Duration::days(3));
        let c = context(
            &p,
            &s,
            &["ticket:read"],
            &["ticket:read"],
            recent,
            now(),
            90,
        );
        assert_eq!((c.baseline, c.suggestion), (Baseline::Match, Verdict::Keep));
        assert!(c.reason.contains("used 2026-10-29"), "{}", c.reason);

        let c = context(&p, &s, &["lead:write"], &["lead:write"], recent, now(), 90);
        assert_eq!(
            (c.baseline, c.suggestion),
            (Baseline::Excess, Verdict::Revoke)
        );
        assert_eq!(c.outside, ["lead:write"]);

        let held = ["refund:request", "refund:approve", "ticket:read"];
        let c = context(&p, &s, &["refund:request"], &held, recent, now(), 90);
        assert_eq!(c.sod, ["refund four-eyes"]);
        assert_eq!(c.suggestion, Verdict::Revoke);
        // The conflict concerns the roles on its sides, not every role the person holds.
        let c = context(&p, &s, &["ticket:read"], &held, recent, now(), 90);
        assert!(c.sod.is_empty());

        let old = Some(now() - chrono::Duration::days(200));
        let c = context(&p, &s, &["ticket:read"], &["ticket:read"], old, now(), 90);
        assert_eq!(c.suggestion, Verdict::Revoke);
        assert!(c.reason.contains("not used since"));

        let gone = person(2, "gone", "support", false);
        let s = Subject {
            user: &gone,
            roles: &[],
        };
        let c = context(&p, &s, &["ticket:read"], &[], recent, now(), 90);
        assert_eq!(
            (c.suggestion, c.reason.as_str()),
            (Verdict::Revoke, "the account is terminated")
        );

        let eng = person(3, "eve", "engineering", true);
        let s = Subject {
            user: &eng,
            roles: &[],
        };
        let c = context(
            &p,
            &s,
            &["ticket:read"],
            &["ticket:read"],
            recent,
            now(),
            90,
        );
        assert_eq!(
            (c.baseline, c.suggestion),
            (Baseline::None, Verdict::Revoke)
        );
    }

    #[test]
    fn a_person_judged_on_permission_ids_breaks_the_same_rules_as_on_keys() {
        let p = Policy::parse(POLICY).unwrap();
        let keys: HashMap<PermissionId, &str> = [
            (PermissionId(1), "refund:request"),
            (PermissionId(2), "refund:approve"),
            (PermissionId(3), "ticket:read"),
        ]
        .into();
        let sides = SodSides::new(&p, keys.iter().map(|(id, k)| (*id, *k)));
        let ada = person(1, "ada", "support", true);
        let s = Subject {
            user: &ada,
            roles: &[],
        };
        let holding = |ids: &[i64]| -> Effective {
            ids.iter()
                .map(|i| (PermissionId(*i), [crate::directory::Via::Direct].into()))
                .collect()
        };
        for held in [&[1, 2, 3][..], &[1, 3], &[2], &[]] {
            let effective = holding(held);
            let held_keys: Vec<&str> = held.iter().map(|i| keys[&PermissionId(*i)]).collect();
            let by_ids = Person::holding(&p, &s, &effective, &sides, &keys);
            let by_keys = Person::new(&p, &s, &held_keys);
            let role = ["refund:request"];
            let outside = by_ids.job().map(|j| outside_baseline(j, &role));
            assert_eq!(
                outside.as_deref(),
                Some(&[][..]),
                "refund:request is in the baseline"
            );
            assert_eq!(
                context_of(&by_ids, &ada, &role, outside.as_deref(), None, now(), 90),
                context_of(&by_keys, &ada, &role, outside.as_deref(), None, now(), 90),
                "{held:?}"
            );
            assert_eq!(sides.any_met(&effective), held.len() == 3);
        }
    }
}
