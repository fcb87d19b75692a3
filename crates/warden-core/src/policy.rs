//! Least-privilege policies as code (DESIGN.md, Policies): job functions with their allowed
//! permissions, a role budget, separation-of-duties rules, and a dormancy threshold.
//! Parsing gives errors with line and column; evaluation is pure and deny-over-allow.

use std::collections::BTreeSet;

use serde::Deserialize;

use crate::directory::{Effective, PermissionId, User, Via};
use crate::glob::Glob;
use crate::vocabulary::{Detectors, FindingKind};

/// A whole policy document.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    #[serde(default)]
    pub dormancy: Option<Dormancy>,
    #[serde(default)]
    pub job_function: Vec<JobFunction>,
    #[serde(default)]
    pub separation_of_duties: Vec<SodRule>,
    /// Accepted risks: findings of a kind that the policy expects for some people.
    #[serde(default)]
    pub exception: Vec<Exception>,
    /// The access-log detectors' thresholds (heuristics; defaults when absent).
    #[serde(default)]
    pub detectors: Detectors,
}

/// A finding the policy accepts, with the reason an auditor will read: the head of
/// security may be a superuser; the chief executive has no manager.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Exception {
    pub kind: FindingKind,
    #[serde(rename = "match")]
    pub matches: Match,
    /// For `excess_permission` and `sod_conflict`: only these permissions are accepted.
    #[serde(default)]
    pub permission: Option<Glob>,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dormancy {
    pub days: u32,
}

/// Who a job function applies to; every key given must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Match {
    pub department: Option<String>,
    /// Member of this role.
    pub role: Option<String>,
    /// A glob over logins (`*` within a segment, `**` across).
    pub login: Option<Glob>,
    pub title: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobFunction {
    pub name: String,
    #[serde(rename = "match")]
    pub matches: Match,
    pub allow: Vec<Glob>,
    #[serde(default)]
    pub max_roles: Option<u32>,
    /// Breaks a tie when two job functions match the same person (higher wins).
    #[serde(default)]
    pub priority: Option<i32>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SodRule {
    pub name: String,
    /// Patterns no one may hold together (two or more).
    pub conflict: Vec<Glob>,
}

/// A policy that does not parse or does not make sense, with where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyError {
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub message: String,
}

impl std::fmt::Display for PolicyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.line, self.column) {
            (Some(l), Some(c)) => write!(f, "policy: line {l}, column {c}: {}", self.message),
            _ => write!(f, "policy: {}", self.message),
        }
    }
}

/// Line and column (1-based) of a byte offset.
fn position(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

impl Policy {
    /// Parses and validates a policy document.
    pub fn parse(text: &str) -> Result<Self, PolicyError> {
        let policy: Policy = toml::from_str(text).map_err(|e| {
            let (line, column) = e.span().map(|s| position(text, s.start)).unzip();
            PolicyError {
                line,
                column,
                message: e.message().trim().to_string(),
            }
        })?;
        policy.validate(text)?;
        Ok(policy)
    }

    fn validate(&self, text: &str) -> Result<(), PolicyError> {
        // Point at the first mention of the offending name, as the parser would.
        let at = |needle: &str, message: String| {
            let (line, column) = text.find(needle).map(|o| position(text, o)).unzip();
            PolicyError {
                line,
                column,
                message,
            }
        };
        let mut names = BTreeSet::new();
        for jf in &self.job_function {
            if jf.name.trim().is_empty() {
                return Err(at("[[job_function]]", "a job function needs a name".into()));
            }
            if !names.insert(jf.name.as_str()) {
                return Err(at(
                    &jf.name,
                    format!("two job functions are named `{}`", jf.name),
                ));
            }
            let m = &jf.matches;
            if m.is_empty() {
                return Err(at(
                    &jf.name,
                    format!(
                        "job function `{}`: `match` needs at least one of department, role, login, title",
                        jf.name
                    ),
                ));
            }
        }
        for rule in &self.separation_of_duties {
            if rule.conflict.len() < 2 {
                return Err(at(
                    &rule.name,
                    format!(
                        "separation-of-duties rule `{}`: `conflict` needs at least two patterns",
                        rule.name
                    ),
                ));
            }
        }
        for ex in &self.exception {
            let kind = ex.kind.as_str();
            if !ex.kind.is_policy_kind() {
                return Err(at(
                    kind,
                    format!(
                        "`{kind}` is found in the access log, not by a policy: it cannot be an exception"
                    ),
                ));
            }
            if ex.reason.trim().is_empty() {
                return Err(at(
                    kind,
                    format!("the exception for `{kind}` needs a `reason` an auditor can read"),
                ));
            }
            let m = &ex.matches;
            if m.is_empty() {
                return Err(at(
                    kind,
                    format!(
                        "the exception for `{kind}`: `match` needs at least one of department, role, login, title"
                    ),
                ));
            }
        }
        self.detectors
            .validate()
            .map_err(|e| at("[detectors", format!("detectors.{e}")))?;
        Ok(())
    }

    /// Every pattern the policy names, with where it is written: for the warning that a
    /// pattern matches no permission in the directory.
    pub fn patterns(&self) -> Vec<(&'static str, &str, &Glob)> {
        let mut out = Vec::new();
        for jf in &self.job_function {
            out.extend(
                jf.allow
                    .iter()
                    .map(|g| ("job function", jf.name.as_str(), g)),
            );
        }
        for rule in &self.separation_of_duties {
            out.extend(
                rule.conflict
                    .iter()
                    .map(|g| ("separation-of-duties rule", rule.name.as_str(), g)),
            );
        }
        for ex in &self.exception {
            out.extend(
                ex.permission
                    .iter()
                    .map(|g| ("exception", ex.kind.as_str(), g)),
            );
        }
        out
    }
}

/// Something in a policy that is legal but probably not meant, with where it is written.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PolicyWarning {
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub message: String,
}

impl std::fmt::Display for PolicyWarning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.line, self.column) {
            (Some(l), Some(c)) => write!(f, "line {l}, column {c}: {}", self.message),
            _ => f.write_str(&self.message),
        }
    }
}

/// Patterns that match none of `keys` (the directory's permissions): a typo, or a
/// permission the application does not have (yet).
pub fn unmatched_patterns(policy: &Policy, text: &str, keys: &[&str]) -> Vec<PolicyWarning> {
    let mut seen = BTreeSet::new();
    policy
        .patterns()
        .into_iter()
        .filter(|(_, _, g)| !keys.iter().any(|k| g.matches(k)))
        .filter(|(what, name, g)| seen.insert((*what, *name, g.as_str())))
        .map(|(what, name, g)| {
            let quoted = format!("\"{}\"", g.as_str());
            let (line, column) = text.find(&quoted).map(|o| position(text, o + 1)).unzip();
            PolicyWarning {
                line,
                column,
                message: format!("{what} `{name}`: `{g}` matches no permission in the directory"),
            }
        })
        .collect()
}

/// The SHA-256 of a policy document, hex encoded: what a version is identified by.
pub fn sha256(text: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// How a rule changed between two versions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeKind {
    Added,
    Removed,
    Changed,
}

/// One rule that differs between two policies, with what changed in it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RuleChange {
    pub change: ChangeKind,
    /// `job function support`, `separation of duties refund four-eyes`, `dormancy`…
    pub rule: String,
    pub details: Vec<String>,
}

impl Match {
    /// `department = support, role = support_lead`.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        for (key, value) in [
            ("department", self.department.as_deref()),
            ("role", self.role.as_deref()),
            ("login", self.login.as_ref().map(Glob::as_str)),
            ("title", self.title.as_deref()),
        ] {
            if let Some(v) = value {
                parts.push(format!("{key} = {v}"));
            }
        }
        parts.join(", ")
    }
}

fn list_delta(what: &str, old: &[&str], new: &[&str]) -> Vec<String> {
    let mut out: Vec<String> = new
        .iter()
        .filter(|n| !old.contains(n))
        .map(|n| format!("{what} + {n}"))
        .collect();
    out.extend(
        old.iter()
            .filter(|o| !new.contains(o))
            .map(|o| format!("{what} − {o}")),
    );
    out
}

fn value_delta<T: PartialEq + std::fmt::Debug>(
    what: &str,
    old: &Option<T>,
    new: &Option<T>,
) -> Option<String> {
    let show = |v: &Option<T>| v.as_ref().map_or("none".to_string(), |v| format!("{v:?}"));
    (old != new).then(|| format!("{what}: {} → {}", show(old), show(new)))
}

/// Keyed rules of one section, compared by key.
fn compare<T>(
    out: &mut Vec<RuleChange>,
    section: &str,
    old: &[T],
    new: &[T],
    key: impl Fn(&T) -> String,
    describe: impl Fn(&T) -> Vec<String>,
    delta: impl Fn(&T, &T) -> Vec<String>,
) {
    for o in old {
        match new.iter().find(|n| key(n) == key(o)) {
            None => out.push(RuleChange {
                change: ChangeKind::Removed,
                rule: format!("{section} {}", key(o)),
                details: describe(o),
            }),
            Some(n) => {
                let details = delta(o, n);
                if !details.is_empty() {
                    out.push(RuleChange {
                        change: ChangeKind::Changed,
                        rule: format!("{section} {}", key(o)),
                        details,
                    });
                }
            }
        }
    }
    for n in new.iter().filter(|n| !old.iter().any(|o| key(o) == key(n))) {
        out.push(RuleChange {
            change: ChangeKind::Added,
            rule: format!("{section} {}", key(n)),
            details: describe(n),
        });
    }
}

fn globs(g: &[Glob]) -> Vec<&str> {
    g.iter().map(Glob::as_str).collect()
}

/// The rules that differ from `old` to `new`: what a reviewer reads before a version is
/// applied, rule by rule rather than line by line.
pub fn diff(old: &Policy, new: &Policy) -> Vec<RuleChange> {
    let mut out = Vec::new();
    let days = |p: &Policy| p.dormancy.as_ref().map(|d| d.days);
    if let Some(d) = value_delta("days", &days(old), &days(new)) {
        out.push(RuleChange {
            change: match (days(old), days(new)) {
                (None, _) => ChangeKind::Added,
                (_, None) => ChangeKind::Removed,
                _ => ChangeKind::Changed,
            },
            rule: "dormancy".into(),
            details: vec![d],
        });
    }
    compare(
        &mut out,
        "job function",
        &old.job_function,
        &new.job_function,
        |j| j.name.clone(),
        |j| {
            let mut d = vec![format!("match {}", j.matches.describe())];
            d.push(format!("allow {}", globs(&j.allow).join(", ")));
            d.extend(j.max_roles.map(|m| format!("max_roles {m}")));
            d.extend(j.priority.map(|p| format!("priority {p}")));
            d
        },
        |o, n| {
            let mut d = Vec::new();
            if o.matches != n.matches {
                d.push(format!(
                    "match: {} → {}",
                    o.matches.describe(),
                    n.matches.describe()
                ));
            }
            d.extend(list_delta("allow", &globs(&o.allow), &globs(&n.allow)));
            d.extend(value_delta("max_roles", &o.max_roles, &n.max_roles));
            d.extend(value_delta("priority", &o.priority, &n.priority));
            d
        },
    );
    compare(
        &mut out,
        "separation of duties",
        &old.separation_of_duties,
        &new.separation_of_duties,
        |r| r.name.clone(),
        |r| vec![format!("conflict {}", globs(&r.conflict).join(" × "))],
        |o, n| list_delta("conflict", &globs(&o.conflict), &globs(&n.conflict)),
    );
    compare(
        &mut out,
        "exception",
        &old.exception,
        &new.exception,
        |e| {
            let perm = e
                .permission
                .as_ref()
                .map(|p| format!(" on {p}"))
                .unwrap_or_default();
            format!("{} for {}{perm}", e.kind, e.matches.describe())
        },
        |e| vec![format!("reason: {}", e.reason)],
        |o, n| {
            (o.reason != n.reason)
                .then(|| format!("reason: {} → {}", o.reason, n.reason))
                .into_iter()
                .collect()
        },
    );
    out
}

/// What the evaluator knows of one person.
#[derive(Debug, Clone)]
pub struct Subject<'a> {
    pub user: &'a User,
    /// Names of the roles the person holds.
    pub roles: &'a [String],
}

impl Match {
    /// No key given: it would select everyone, which the policy must say explicitly.
    pub fn is_empty(&self) -> bool {
        self.department.is_none()
            && self.role.is_none()
            && self.login.is_none()
            && self.title.is_none()
    }

    pub fn holds(&self, s: &Subject<'_>) -> bool {
        let eq = |want: &Option<String>, have: Option<&str>| {
            want.as_ref()
                .is_none_or(|w| have.is_some_and(|h| h.eq_ignore_ascii_case(w)))
        };
        eq(&self.department, s.user.department.as_deref())
            && eq(&self.title, s.user.title.as_deref())
            && self
                .role
                .as_ref()
                .is_none_or(|r| s.roles.iter().any(|h| h.eq_ignore_ascii_case(r)))
            && self.login.as_ref().is_none_or(|g| g.matches(&s.user.login))
    }
}

/// Which job function applies to a person.
#[derive(Debug, Clone, PartialEq)]
pub enum Assignment<'p> {
    One(&'p JobFunction),
    /// No job function matches: no baseline, itself a finding (`no_job_function`).
    None,
    /// Several match with no priority to choose: the policy must say which.
    Ambiguous(Vec<&'p str>),
}

impl Policy {
    pub fn assign(&self, s: &Subject<'_>) -> Assignment<'_> {
        let matching: Vec<&JobFunction> = self
            .job_function
            .iter()
            .filter(|jf| jf.matches.holds(s))
            .collect();
        match matching.as_slice() {
            [] => Assignment::None,
            [one] => Assignment::One(one),
            many => {
                let top = many.iter().filter_map(|jf| jf.priority).max();
                let best: Vec<&&JobFunction> = many
                    .iter()
                    .filter(|jf| top.is_some() && jf.priority == top)
                    .collect();
                match best.as_slice() {
                    [one] => Assignment::One(one),
                    _ => Assignment::Ambiguous(many.iter().map(|jf| jf.name.as_str()).collect()),
                }
            }
        }
    }
}

/// What a policy says of one access by one person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Allowed,
    /// No job function matches the person: nothing is allowed.
    NoJobFunction,
    /// The person's job function does not allow the permission.
    NotAllowed {
        job_function: String,
    },
    /// Several job functions match with no priority between them.
    Ambiguous(Vec<String>),
}

impl Policy {
    /// Whether an exception of the policy accepts a finding of `kind` for this person
    /// (and, for an exception that names permissions, this permission).
    pub fn accepts(&self, kind: FindingKind, s: &Subject<'_>, permission: Option<&str>) -> bool {
        self.exception.iter().any(|ex| {
            ex.kind == kind
                && ex.matches.holds(s)
                && match (&ex.permission, permission) {
                    (Some(g), Some(p)) => g.matches(p),
                    (Some(_), None) => false,
                    (None, _) => true,
                }
        })
    }

    /// Whether the policy allows this person the permission `key`: what `policy simulate`
    /// asks of every access in the log.
    pub fn judge_access(&self, s: &Subject<'_>, key: &str) -> Verdict {
        match self.assign(s) {
            Assignment::None => Verdict::NoJobFunction,
            Assignment::Ambiguous(names) => {
                Verdict::Ambiguous(names.into_iter().map(str::to_string).collect())
            }
            Assignment::One(job) => {
                if job.allow.iter().any(|g| g.matches(key))
                    || self.accepts(FindingKind::ExcessPermission, s, Some(key))
                {
                    Verdict::Allowed
                } else {
                    Verdict::NotAllowed {
                        job_function: job.name.clone(),
                    }
                }
            }
        }
    }
}

/// The policy's verdict on one permission a person holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// The baseline allows it.
    Allowed,
    /// Held but not allowed: with every way it is held, so the fix is clear.
    Excess { via: BTreeSet<Via> },
}

/// Evaluates a person's effective permissions against their job function's baseline.
/// `key` names a permission. Deny beats allow: a permission held through an allowed role
/// and also directly is still allowed (it is the permission that is judged), but anything
/// the baseline does not allow is excess, however it is held.
pub fn decide<'a>(
    job: &JobFunction,
    effective: &'a Effective,
    key: impl Fn(PermissionId) -> &'a str,
) -> Vec<(PermissionId, Decision)> {
    decide_with(effective, |perm| {
        job.allow.iter().any(|g| g.matches(key(perm)))
    })
}

/// [`decide`] with the baseline's answer for each permission given by `allowed`, so a
/// caller judging many people can decide each (job function, permission) pair once.
pub fn decide_with(
    effective: &Effective,
    mut allowed: impl FnMut(PermissionId) -> bool,
) -> Vec<(PermissionId, Decision)> {
    effective
        .iter()
        .map(|(perm, via)| {
            let decision = if allowed(*perm) {
                Decision::Allowed
            } else {
                Decision::Excess { via: via.clone() }
            };
            (*perm, decision)
        })
        .collect()
}

/// Each separation-of-duties rule's sides as sets of permission ids, so that whether a
/// person meets a rule is decided on the ids they hold, before any key or glob is looked
/// at: most people meet none.
#[derive(Debug, Clone)]
pub struct SodSides(Vec<Vec<BTreeSet<PermissionId>>>);

impl SodSides {
    /// `keys`: every permission of the directory with its key.
    pub fn new<'k>(
        policy: &Policy,
        keys: impl IntoIterator<Item = (PermissionId, &'k str)>,
    ) -> Self {
        let keys: Vec<(PermissionId, &str)> = keys.into_iter().collect();
        Self(
            policy
                .separation_of_duties
                .iter()
                .map(|rule| {
                    rule.conflict
                        .iter()
                        .map(|g| {
                            (keys.iter())
                                .filter(|(_, k)| g.matches(k))
                                .map(|(p, _)| *p)
                                .collect()
                        })
                        .collect()
                })
                .collect(),
        )
    }

    /// Whether someone holding `held` meets every side of some rule.
    pub fn any_met(&self, held: &Effective) -> bool {
        self.0.iter().any(|sides| {
            sides
                .iter()
                .all(|side| side.iter().any(|p| held.contains_key(p)))
        })
    }
}

/// Separation-of-duties rules a person breaks, with the permission keys that meet each
/// pattern of the rule.
pub fn sod_conflicts<'p>(
    policy: &'p Policy,
    held_keys: &[&str],
) -> Vec<(&'p SodRule, Vec<Vec<String>>)> {
    policy
        .separation_of_duties
        .iter()
        .filter_map(|rule| {
            let sides: Vec<Vec<String>> = rule
                .conflict
                .iter()
                .map(|g| {
                    held_keys
                        .iter()
                        .filter(|k| g.matches(k))
                        .map(|k| k.to_string())
                        .collect()
                })
                .collect();
            sides.iter().all(|s| !s.is_empty()).then_some((rule, sides))
        })
        .collect()
}

#[cfg(test)]
mod tests;
