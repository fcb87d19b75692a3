//! Findings: every place where the directory departs from the policy, each with a
//! severity, the person it concerns, the evidence, the fix, and a fingerprint that stays
//! the same from one check to the next so a finding can be followed over time.
//!
//! Evaluation is pure: the store reads the directory into [`Facts`], [`evaluate`] judges it.

use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap, HashSet};

use chrono::{Duration, NaiveDateTime};
use serde::Serialize;
use serde_json::json;

use crate::directory::{
    DirectGrant, Effective, PermissionId, RoleGrant, RoleId, User, UserId, Via,
};
use crate::policy::{
    Assignment, Decision, JobFunction, Policy, SodSides, Subject, decide_with, sod_conflicts,
};
pub use crate::vocabulary::{FindingKind, FindingStatus, Severity, Triage};

/// One departure from the policy.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    pub kind: FindingKind,
    pub severity: Severity,
    /// The person concerned (their login).
    pub subject: String,
    pub subject_id: UserId,
    pub department: Option<String>,
    /// One line for a list.
    pub detail: String,
    /// The facts behind it, structured.
    pub evidence: serde_json::Value,
    /// What to do about it.
    pub fix: String,
    /// Stable across checks: the kind, the person and what it is about.
    pub fingerprint: String,
    /// From a log scan: how many of the evidence's rows no earlier scan judged (the rest
    /// were re-read for context), which is what a known finding's count grows by. None
    /// for a check's findings.
    #[serde(skip)]
    pub new_rows: Option<u64>,
}

/// The fingerprint of a finding: the same departure gives the same fingerprint on every
/// check, whatever else changed in the directory.
pub fn fingerprint(kind: FindingKind, user: UserId, about: &str) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(b"warden-finding/1\0");
    h.update(kind.as_str().as_bytes());
    h.update(b"\0");
    h.update(user.0.to_string().as_bytes());
    h.update(b"\0");
    h.update(about.as_bytes());
    hex::encode(&h.finalize()[..16])
}

/// Which optional columns the mapping has: a kind is only judged where its facts exist.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Columns {
    pub managers: bool,
    pub mfa: bool,
    pub last_login: bool,
    pub password_hash: bool,
}

/// The directory as the evaluation needs it.
#[derive(Debug, Clone, Copy)]
pub struct Facts<'a> {
    pub users: &'a [User],
    pub role_names: &'a HashMap<RoleId, String>,
    pub permission_keys: &'a HashMap<PermissionId, String>,
    /// Current (unexpired) role grants.
    pub grants: &'a [RoleGrant],
    pub direct: &'a [DirectGrant],
    pub effective: &'a HashMap<UserId, Effective>,
    pub columns: Columns,
    /// The scheme of each user's password hash (`argon2id`, `md5`…), never the hash.
    pub password_schemes: &'a HashMap<UserId, String>,
    /// Users with access-log activity within the dormancy window; None without a log.
    pub active_in_log: Option<&'a HashSet<UserId>>,
    pub now: NaiveDateTime,
}

/// The result of judging a directory against a policy.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Evaluation {
    pub findings: Vec<Finding>,
    /// Active staff judged.
    pub evaluated: usize,
    /// Active staff with no finding.
    pub compliant: usize,
    /// People two job functions match with no priority between them: the policy must
    /// say which applies (login, the job functions).
    pub ambiguous: Vec<(String, Vec<String>)>,
}

/// Password schemes too weak to keep: unsalted or fast hashes, and DES crypt.
pub fn is_weak_scheme(scheme: &str) -> bool {
    const WEAK: &[&str] = &[
        "md5",
        "unsalted_md5",
        "sha1",
        "unsalted_sha1",
        "sha256",
        "crypt",
        "des",
        "1",
        "plain",
        "plaintext",
        "mysql_old_password",
    ];
    WEAK.iter().any(|w| w.eq_ignore_ascii_case(scheme.trim()))
}

/// Judges every person in the directory against the policy.
pub fn evaluate(policy: &Policy, facts: Facts<'_>) -> Evaluation {
    let mut judge = Judge::new(policy, facts);
    let mut eval = Evaluation::default();
    let mut out = Vec::new();
    for user in facts.users {
        let roles = judge.role_names_of(user);
        let s = Subject {
            user,
            roles: &roles,
        };
        if !user.active {
            out.extend(judge.inactive_with_roles(&s));
            continue;
        }
        eval.evaluated += 1;
        let before = out.len();
        if let Assignment::Ambiguous(names) = judge.active(&s, &mut out) {
            eval.ambiguous.push((
                user.login.clone(),
                names.into_iter().map(str::to_string).collect(),
            ));
        }
        if out.len() == before {
            eval.compliant += 1;
        }
    }
    eval.findings = worst_first(out);
    eval
}

/// Highest severity first, then by kind and person, so a report reads the same every time.
fn worst_first(mut findings: Vec<Finding>) -> Vec<Finding> {
    findings.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then(a.kind.cmp(&b.kind))
            .then_with(|| a.subject.cmp(&b.subject))
            .then_with(|| a.fingerprint.cmp(&b.fingerprint))
    });
    findings
}

fn finding(
    kind: FindingKind,
    user: &User,
    about: &str,
    detail: String,
    evidence: serde_json::Value,
    fix: String,
) -> Finding {
    Finding {
        kind,
        severity: kind.severity(),
        subject: user.login.clone(),
        subject_id: user.id,
        department: user.department.clone(),
        detail,
        evidence,
        fix,
        fingerprint: fingerprint(kind, user.id, about),
        new_rows: None,
    }
}

/// What a person holds through grants: a superuser's everything is its own finding.
fn held_through_grants<'e>(user: &User, effective: Option<&'e Effective>) -> Cow<'e, Effective> {
    let Some(effective) = effective else {
        return Cow::Owned(Effective::new());
    };
    if !user.superuser {
        return Cow::Borrowed(effective);
    }
    Cow::Owned(
        effective
            .iter()
            .filter_map(|(p, via)| {
                let via: BTreeSet<Via> = via
                    .iter()
                    .filter(|v| **v != Via::Superuser)
                    .cloned()
                    .collect();
                (!via.is_empty()).then_some((*p, via))
            })
            .collect(),
    )
}

/// The directory indexed for judging, and what judging one person teaches about the next.
struct Judge<'a> {
    policy: &'a Policy,
    facts: Facts<'a>,
    by_id: HashMap<UserId, &'a User>,
    roles_of: HashMap<UserId, Vec<RoleId>>,
    direct_of: HashMap<UserId, Vec<PermissionId>>,
    /// Whether a job function (by address) allows a permission: a directory has few of each,
    /// so every pair is decided once, not once per person.
    allowed: HashMap<(*const JobFunction, PermissionId), bool>,
    /// For each separation-of-duties rule, the permissions meeting each of its patterns.
    sod_sides: SodSides,
}

impl<'a> Judge<'a> {
    fn new(policy: &'a Policy, facts: Facts<'a>) -> Self {
        let mut roles_of: HashMap<UserId, Vec<RoleId>> = HashMap::new();
        for g in facts.grants {
            roles_of.entry(g.user).or_default().push(g.role);
        }
        let mut direct_of: HashMap<UserId, Vec<PermissionId>> = HashMap::new();
        for d in facts.direct {
            direct_of.entry(d.user).or_default().push(d.permission);
        }
        let sod_sides = SodSides::new(
            policy,
            (facts.permission_keys.iter()).map(|(p, k)| (*p, k.as_str())),
        );
        Self {
            policy,
            facts,
            by_id: facts.users.iter().map(|u| (u.id, u)).collect(),
            roles_of,
            direct_of,
            allowed: HashMap::new(),
            sod_sides,
        }
    }

    /// Every kind an active person is judged on, in a fixed order, into `out`; the person's
    /// job function comes back for the caller to report an ambiguous one.
    fn active(&mut self, s: &Subject<'_>, out: &mut Vec<Finding>) -> Assignment<'a> {
        let held = held_through_grants(s.user, self.facts.effective.get(&s.user.id));
        let assignment = self.policy.assign(s);
        match assignment {
            Assignment::One(job) => {
                out.extend(self.excess(s, job, &held));
                out.extend(self.too_many_roles(s, job));
            }
            Assignment::None => out.extend(self.no_job_function(s)),
            Assignment::Ambiguous(_) => {}
        }
        out.extend(self.sod(s, &held));
        out.extend(self.dormancy(s));
        out.extend(self.orphan(s));
        out.extend(self.superuser(s));
        out.extend(self.no_mfa(s));
        out.extend(self.weak_password_hash(s));
        assignment
    }

    fn excepted(&self, kind: FindingKind, s: &Subject<'_>, permission: Option<&str>) -> bool {
        self.policy.accepts(kind, s, permission)
    }

    fn role_name(&self, role: RoleId) -> String {
        self.facts
            .role_names
            .get(&role)
            .cloned()
            .unwrap_or_else(|| format!("#{role}"))
    }

    /// The names of the roles a person holds, sorted, each once.
    fn role_names_of(&self, user: &User) -> Vec<String> {
        let role_ids = self
            .roles_of
            .get(&user.id)
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        let mut names: Vec<String> = role_ids.iter().map(|r| self.role_name(*r)).collect();
        names.sort();
        names.dedup();
        names
    }

    fn via_names(&self, via: &BTreeSet<Via>) -> Vec<String> {
        via.iter()
            .filter_map(|v| match v {
                Via::Role(r) => Some(format!("role {}", self.role_name(*r))),
                Via::Direct => Some("direct grant".into()),
                Via::Superuser => None,
            })
            .collect()
    }

    /// An inactive person who still holds roles or direct grants.
    fn inactive_with_roles(&self, s: &Subject<'_>) -> Option<Finding> {
        let user = s.user;
        let direct: Vec<String> = (self.direct_of.get(&user.id).into_iter().flatten())
            .filter_map(|p| self.facts.permission_keys.get(p).cloned())
            .collect();
        if (s.roles.is_empty() && direct.is_empty())
            || self.excepted(FindingKind::InactiveWithRoles, s, None)
        {
            return None;
        }
        let mut what: Vec<String> = s.roles.iter().map(|r| format!("role {r}")).collect();
        what.extend(direct.iter().map(|k| format!("direct `{k}`")));
        Some(finding(
            FindingKind::InactiveWithRoles,
            user,
            "",
            format!("is {} but still holds {}", user.status, what.join(", ")),
            json!({ "status": user.status, "roles": s.roles, "direct": direct }),
            format!("revoke every role and grant of {}", user.login),
        ))
    }

    /// Each permission held that the person's job function does not allow.
    fn excess(&mut self, s: &Subject<'_>, job: &JobFunction, held: &Effective) -> Vec<Finding> {
        let keys = self.facts.permission_keys;
        let memo = &mut self.allowed;
        let decisions = decide_with(held, |perm| {
            *memo
                .entry((std::ptr::from_ref(job), perm))
                .or_insert_with(|| {
                    keys.get(&perm)
                        .is_some_and(|k| job.allow.iter().any(|g| g.matches(k)))
                })
        });
        decisions
            .into_iter()
            .filter_map(|(perm, decision)| match (decision, keys.get(&perm)) {
                (Decision::Excess { via }, Some(key))
                    if !self.excepted(FindingKind::ExcessPermission, s, Some(key)) =>
                {
                    Some(self.excess_of(s.user, job, key, &via))
                }
                _ => None,
            })
            .collect()
    }

    fn excess_of(&self, user: &User, job: &JobFunction, key: &str, via: &BTreeSet<Via>) -> Finding {
        let sources = self.via_names(via);
        let fix = match sources.as_slice() {
            [one] if one == "direct grant" => format!(
                "revoke the direct grant of `{key}` from {}, or allow it for {} if the job needs it",
                user.login, job.name
            ),
            _ => format!(
                "revoke {} from {} (each gives `{key}`), or allow it for {} if the job needs it",
                sources.join(" and "),
                user.login,
                job.name
            ),
        };
        finding(
            FindingKind::ExcessPermission,
            user,
            key,
            format!(
                "holds `{key}`, which job function {} does not allow, through {}",
                job.name,
                sources.join(", ")
            ),
            json!({ "permission": key, "job_function": job.name, "via": sources }),
            fix,
        )
    }

    /// More roles than the job function's budget.
    fn too_many_roles(&self, s: &Subject<'_>, job: &JobFunction) -> Option<Finding> {
        let max = job.max_roles?;
        if s.roles.len() <= max as usize || self.excepted(FindingKind::TooManyRoles, s, None) {
            return None;
        }
        Some(finding(
            FindingKind::TooManyRoles,
            s.user,
            "",
            format!(
                "holds {} roles; job function {} allows at most {max}",
                s.roles.len(),
                job.name
            ),
            json!({ "roles": s.roles, "max_roles": max, "job_function": job.name }),
            format!(
                "revoke the roles {} does not need, keeping at most {max}",
                s.user.login
            ),
        ))
    }

    /// No job function matches: the person has no baseline to be judged against.
    fn no_job_function(&self, s: &Subject<'_>) -> Option<Finding> {
        if self.excepted(FindingKind::NoJobFunction, s, None) {
            return None;
        }
        let user = s.user;
        Some(finding(
            FindingKind::NoJobFunction,
            user,
            "",
            format!(
                "no job function matches (department {}, title {}): no baseline",
                user.department.as_deref().unwrap_or("none"),
                user.title.as_deref().unwrap_or("none")
            ),
            json!({ "department": user.department, "title": user.title, "roles": s.roles }),
            "add a job function that matches this person, or remove their access".into(),
        ))
    }

    /// Each separation-of-duties rule the person breaks.
    fn sod(&self, s: &Subject<'_>, held: &Effective) -> Vec<Finding> {
        if !self.sod_sides.any_met(held) {
            return Vec::new();
        }
        let keyed: Vec<(&str, &BTreeSet<Via>)> = held
            .iter()
            .filter_map(|(p, via)| self.facts.permission_keys.get(p).map(|k| (k.as_str(), via)))
            .collect();
        let keys: Vec<&str> = keyed.iter().map(|(k, _)| *k).collect();
        let mut out = Vec::new();
        for (rule, sides) in sod_conflicts(self.policy, &keys) {
            if self.excepted(FindingKind::SodConflict, s, None) {
                continue;
            }
            let sides: Vec<serde_json::Value> = sides
                .iter()
                .map(|side| self.sod_side(side, &keyed))
                .collect();
            let summary: Vec<String> = sides.iter().map(sod_side_summary).collect();
            out.push(finding(
                FindingKind::SodConflict,
                s.user,
                &rule.name,
                format!("breaks `{}`: holds {}", rule.name, summary.join(" with ")),
                json!({ "rule": rule.name, "sides": sides }),
                format!(
                    "revoke one side of `{}` from {}: no one may hold both",
                    rule.name, s.user.login
                ),
            ));
        }
        out
    }

    /// One side of a broken rule as evidence: each permission with the ways it is held.
    fn sod_side(&self, side: &[String], keyed: &[(&str, &BTreeSet<Via>)]) -> serde_json::Value {
        serde_json::Value::Array(
            side.iter()
                .map(|k| {
                    let via = keyed
                        .iter()
                        .find(|(key, _)| key == k)
                        .map(|(_, v)| self.via_names(v))
                        .unwrap_or_default();
                    json!({ "permission": k, "via": via })
                })
                .collect(),
        )
    }

    /// No login and no access-log activity for the policy's dormancy days; judged on what
    /// the mapping has (last login, the access log, or both).
    fn dormancy(&self, s: &Subject<'_>) -> Option<Finding> {
        let days = self.policy.dormancy.as_ref().map(|d| d.days)?;
        let log = self.facts.active_in_log;
        if !self.facts.columns.last_login && log.is_none() {
            return None;
        }
        let user = s.user;
        if log.is_some_and(|l| l.contains(&user.id)) {
            return None;
        }
        let cutoff = self.facts.now - Duration::days(i64::from(days));
        let dormant = match user.last_login.filter(|_| self.facts.columns.last_login) {
            Some(t) => t < cutoff,
            // Never logged in: dormant once the account is older than the window.
            None => user.created.is_none_or(|c| c < cutoff),
        };
        if !dormant || self.excepted(FindingKind::DormantAccount, s, None) {
            return None;
        }
        let last = user
            .last_login
            .map_or_else(|| "never".to_string(), |t| t.format("%Y-%m-%d").to_string());
        Some(finding(
            FindingKind::DormantAccount,
            user,
            "",
            format!(
                "no login for {days} days (last: {last}){}",
                if log.is_some() {
                    " and no access-log activity"
                } else {
                    ""
                }
            ),
            json!({ "days": days, "last_login": user.last_login, "access_log_checked": log.is_some() }),
            format!(
                "disable {}'s account, or confirm they still need it",
                user.login
            ),
        ))
    }

    /// No manager, or one who is gone: no one to vouch for the person's access.
    fn orphan(&self, s: &Subject<'_>) -> Option<Finding> {
        if !self.facts.columns.managers || self.excepted(FindingKind::OrphanAccount, s, None) {
            return None;
        }
        let user = s.user;
        let problem = match user.manager_id.map(|m| self.by_id.get(&m).copied()) {
            None => "has no manager".to_string(),
            Some(None) => "has a manager who is not in the directory".to_string(),
            Some(Some(m)) if !m.active => format!("reports to {}, who is {}", m.login, m.status),
            Some(Some(_)) => return None,
        };
        Some(finding(
            FindingKind::OrphanAccount,
            user,
            "",
            problem,
            json!({ "manager": user.manager }),
            format!(
                "give {} an active manager who can vouch for their access",
                user.login
            ),
        ))
    }

    fn superuser(&self, s: &Subject<'_>) -> Option<Finding> {
        let user = s.user;
        if !user.superuser || self.excepted(FindingKind::Superuser, s, None) {
            return None;
        }
        Some(finding(
            FindingKind::Superuser,
            user,
            "",
            "is a superuser, who holds every permission".into(),
            json!({ "department": user.department }),
            format!(
                "remove the superuser flag from {}; grant the roles the job needs",
                user.login
            ),
        ))
    }

    fn no_mfa(&self, s: &Subject<'_>) -> Option<Finding> {
        let user = s.user;
        if !self.facts.columns.mfa
            || user.mfa != Some(false)
            || self.excepted(FindingKind::NoMfa, s, None)
        {
            return None;
        }
        Some(finding(
            FindingKind::NoMfa,
            user,
            "",
            "signs in without multi-factor authentication".into(),
            json!({}),
            format!("require {} to enrol a second factor", user.login),
        ))
    }

    fn weak_password_hash(&self, s: &Subject<'_>) -> Option<Finding> {
        let user = s.user;
        let scheme = self.facts.password_schemes.get(&user.id)?;
        if !is_weak_scheme(scheme) || self.excepted(FindingKind::WeakPasswordHash, s, None) {
            return None;
        }
        Some(finding(
            FindingKind::WeakPasswordHash,
            user,
            "",
            format!("password hashed with {scheme}"),
            json!({ "scheme": scheme }),
            format!(
                "expire {}'s password so it is rehashed with a strong scheme",
                user.login
            ),
        ))
    }
}

/// A side of a broken rule in words: "`refund:request` (role billing)".
fn sod_side_summary(side: &serde_json::Value) -> String {
    side.as_array()
        .into_iter()
        .flatten()
        .map(|p| {
            format!(
                "`{}` ({})",
                p["permission"].as_str().unwrap_or_default(),
                p["via"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|v| v.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })
        .collect::<Vec<_>>()
        .join(" and ")
}

#[cfg(test)]
mod tests;
