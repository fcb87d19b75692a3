//! Access outside policy: an allowed access to a permission the policy does not give the
//! person, either held outside the baseline or not held at all (a hole in the
//! application's own authorization).

use serde_json::json;

use super::Scan;
use super::evidence::Hit;
use crate::findings::{Finding, FindingKind};
use crate::policy::Verdict;

impl Scan<'_> {
    /// Whether the policy grants this person this action (memoized).
    pub(super) fn grants(&mut self, person: usize, action: u32, name: &str) -> bool {
        let p = &self.people[person];
        let bit = 1u64.checked_shl(action).unwrap_or(0);
        if bit != 0 && p.known & bit != 0 {
            return p.granted & bit != 0;
        }
        let key = (p.user.id, action);
        if bit == 0
            && let Some(ok) = self.verdicts.get(&key)
        {
            return *ok;
        }
        let s = self.subject(p.user);
        let ok = matches!(self.facts.policy.judge_access(&s, name), Verdict::Allowed);
        let p = &mut self.people[person];
        if bit != 0 {
            p.known |= bit;
            if ok {
                p.granted |= bit;
            }
        } else {
            self.verdicts.insert(key, ok);
        }
        ok
    }

    pub(super) fn outside_policy_findings(&self) -> Vec<Finding> {
        let mut out = Vec::new();
        for ((user, action), g) in &self.outside {
            let action = self.names.name(*action);
            let held = self
                .facts
                .held
                .get(user)
                .is_some_and(|h| h.contains(action));
            out.extend(self.finding(Hit {
                kind: FindingKind::OutsidePolicy,
                user: *user,
                about: action.to_string(),
                detail: if held {
                    format!(
                        "used `{action}` {} times: held, but outside their baseline",
                        g.count
                    )
                } else {
                    format!(
                        "used `{action}` {} times without holding it: the application let it through",
                        g.count
                    )
                },
                fix: if held {
                    "Revoke the access outside the baseline, or change the policy if the work needs it."
                } else {
                    "The application's authorization has a hole: report it to its developers and check what was read."
                },
                group: g,
                extra: json!({ "permission": action, "held": held }),
            }));
        }
        out
    }
}
