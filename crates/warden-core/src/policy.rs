//! Least-privilege policies as code (DESIGN.md, Policies): job functions with their allowed
//! permissions, a role budget, separation-of-duties rules, and a dormancy threshold.
//! Parsing gives errors with line and column; evaluation is pure and deny-over-allow.

use std::collections::BTreeSet;

use serde::Deserialize;

use crate::directory::{Effective, PermissionId, User, Via};
use crate::glob::Glob;

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
            if m.department.is_none() && m.role.is_none() && m.login.is_none() && m.title.is_none()
            {
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
        Ok(())
    }
}

/// The SHA-256 of a policy document, hex encoded: what a version is identified by.
pub fn sha256(text: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// What the evaluator knows of one person.
#[derive(Debug, Clone)]
pub struct Subject<'a> {
    pub user: &'a User,
    /// Names of the roles the person holds.
    pub roles: &'a [String],
}

impl Match {
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
    effective
        .iter()
        .map(|(perm, via)| {
            let k = key(*perm);
            let decision = if job.allow.iter().any(|g| g.matches(k)) {
                Decision::Allowed
            } else {
                Decision::Excess { via: via.clone() }
            };
            (*perm, decision)
        })
        .collect()
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
mod tests {
    use super::*;
    use crate::directory::{RoleId, UserId};

    const EXAMPLE: &str = r#"
[dormancy]
days = 90

[[job_function]]
name  = "support"
match = { department = "support" }
allow = ["customer.contact:read", "customer.notes:write", "ticket:*"]
max_roles = 3

[[job_function]]
name  = "sales"
match = { department = "sales" }
allow = ["lead:*", "customer.contact:read", "order:read", "order:write"]

[[separation_of_duties]]
name     = "refund four-eyes"
conflict = ["refund:request", "refund:approve"]
"#;

    fn user(login: &str, dept: &str, title: &str) -> User {
        User {
            id: UserId(1),
            login: login.into(),
            name: None,
            email: None,
            department: Some(dept.into()),
            title: Some(title.into()),
            manager_id: None,
            manager: None,
            status: "active".into(),
            active: true,
            superuser: false,
            mfa: None,
            last_login: None,
            created: None,
        }
    }

    #[test]
    fn the_design_example_parses() {
        let p = Policy::parse(EXAMPLE).unwrap();
        assert_eq!(p.dormancy, Some(Dormancy { days: 90 }));
        assert_eq!(p.job_function.len(), 2);
        assert_eq!(p.job_function[0].max_roles, Some(3));
        assert_eq!(p.separation_of_duties[0].conflict.len(), 2);
    }

    #[test]
    fn malformed_policies_are_clear_errors_with_line_and_column() {
        let cases: &[(&str, &str, Option<usize>)] = &[
            (
                "[[job_function]]\nname = \"x\"\nmatch = { department = \"a\" }\nallow = [\"ok\"]\ncolour = 1\n",
                "colour",
                Some(5),
            ),
            (
                "[[job_function]]\nname = \"x\"\nmatch = { dept = \"a\" }\nallow = []\n",
                "dept",
                Some(3),
            ),
            (
                "[[job_function]]\nname = \"x\"\nmatch = { department = \"a\" }\nallow = [\"a b\"]\n",
                "cannot appear",
                Some(4),
            ),
            ("[dormancy]\ndays = -3\n", "expected u32", Some(2)),
            ("[dormancy\ndays = 3\n", "", Some(1)),
            (
                "[[job_function]]\nname = \"x\"\nmatch = {}\nallow = []\n",
                "at least one of",
                Some(2),
            ),
            (
                "[[job_function]]\nname = \"x\"\nmatch = { role = \"r\" }\nallow = []\n[[job_function]]\nname = \"x\"\nmatch = { role = \"q\" }\nallow = []\n",
                "two job functions",
                Some(2),
            ),
            (
                "[[separation_of_duties]]\nname = \"solo\"\nconflict = [\"a:b\"]\n",
                "at least two",
                Some(2),
            ),
        ];
        for (text, needle, line) in cases {
            let err = Policy::parse(text).unwrap_err();
            assert!(err.to_string().contains(needle), "{text:?}: {err}");
            assert_eq!(err.line, *line, "{text:?}: {err}");
            assert!(err.column.is_some(), "{err}");
        }
    }

    #[test]
    fn job_functions_match_on_every_key_and_priority_breaks_ties() {
        let p = Policy::parse(
            r#"
[[job_function]]
name = "support"
match = { department = "support" }
allow = ["ticket:*"]

[[job_function]]
name = "support leads"
match = { department = "support", role = "support_lead" }
allow = ["ticket:**"]
priority = 10

[[job_function]]
name = "contractors"
match = { login = "ext.**" }
allow = []
"#,
        )
        .unwrap();
        let agent = user("ada", "Support", "Agent");
        let lead_roles = ["support_lead".to_string()];
        let name = |a: Assignment<'_>| match a {
            Assignment::One(jf) => jf.name.clone(),
            other => format!("{other:?}"),
        };
        assert_eq!(
            name(p.assign(&Subject {
                user: &agent,
                roles: &[]
            })),
            "support"
        );
        assert_eq!(
            name(p.assign(&Subject {
                user: &agent,
                roles: &lead_roles
            })),
            "support leads"
        );
        let outsider = user("bob", "finance", "Analyst");
        assert_eq!(
            p.assign(&Subject {
                user: &outsider,
                roles: &[]
            }),
            Assignment::None
        );
        let ext = user("ext.vendor.joe", "support", "Agent");
        assert!(
            matches!(p.assign(&Subject { user: &ext, roles: &[] }), Assignment::Ambiguous(v) if v == ["support", "contractors"])
        );
    }

    #[test]
    fn decisions_are_deny_over_allow_with_provenance() {
        let p = Policy::parse(EXAMPLE).unwrap();
        let support = &p.job_function[0];
        let keys = [
            "customer.contact:read",
            "ticket:write",
            "lead:write",
            "customer.payment:read",
        ];
        let mut eff = Effective::new();
        eff.insert(PermissionId(0), BTreeSet::from([Via::Role(RoleId(1))]));
        eff.insert(
            PermissionId(1),
            BTreeSet::from([Via::Role(RoleId(1)), Via::Direct]),
        );
        eff.insert(PermissionId(2), BTreeSet::from([Via::Role(RoleId(4))]));
        eff.insert(PermissionId(3), BTreeSet::from([Via::Direct]));
        let decisions = decide(support, &eff, |p| keys[p.0 as usize]);
        assert_eq!(decisions[0].1, Decision::Allowed);
        assert_eq!(decisions[1].1, Decision::Allowed);
        assert_eq!(
            decisions[2].1,
            Decision::Excess {
                via: BTreeSet::from([Via::Role(RoleId(4))])
            }
        );
        assert_eq!(
            decisions[3].1,
            Decision::Excess {
                via: BTreeSet::from([Via::Direct])
            }
        );
    }

    #[test]
    fn sod_needs_every_side_and_names_what_meets_it() {
        let p = Policy::parse(EXAMPLE).unwrap();
        assert!(sod_conflicts(&p, &["refund:request", "ticket:read"]).is_empty());
        let hits = sod_conflicts(&p, &["refund:request", "refund:approve", "ticket:read"]);
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].0.name, "refund four-eyes");
        assert_eq!(
            hits[0].1,
            vec![
                vec!["refund:request".to_string()],
                vec!["refund:approve".to_string()]
            ]
        );
    }

    #[test]
    fn sqli_text_in_names_is_only_text() {
        let text = "[[job_function]]\nname = \"x'; DROP TABLE roles; --\"\nmatch = { department = \"' OR 1=1 --\" }\nallow = [\"ticket:*\"]\n";
        let p = Policy::parse(text).unwrap();
        let u = user("a", "support", "t");
        assert_eq!(
            p.assign(&Subject {
                user: &u,
                roles: &[]
            }),
            Assignment::None
        );
    }
}
