//! Need-to-know: a person of the configured job functions opens a resource of the
//! configured type with no relation to it (a ticket assigned to them, an account they
//! own), one finding per person and day.

use std::collections::HashSet;

use serde_json::json;

use super::evidence::Hit;
use super::fx::FxSet;
use super::{Person, Scan};
use crate::directory::UserId;
use crate::findings::{Finding, FindingKind};

/// `s` as a number when it is one written the one way (digits, no leading zero): such ids
/// are compared as numbers, which a lookup does without following a pointer.
pub(super) fn canonical_number(s: &str) -> Option<u64> {
    let b = s.as_bytes();
    if b.is_empty() || b.len() > 19 || (b.len() > 1 && b[0] == b'0') {
        return None;
    }
    b.iter().try_fold(0u64, |n, &d| {
        d.is_ascii_digit().then(|| n * 10 + u64::from(d - b'0'))
    })
}

/// The resource ids a relation justifies for one person.
pub(super) struct Justified<'a> {
    /// Those written as canonical numbers.
    pub(super) numeric: FxSet<u64>,
    /// All of them, as written.
    pub(super) text: &'a HashSet<String>,
}

impl Justified<'_> {
    pub(super) fn contains(&self, id: &str) -> bool {
        match canonical_number(id) {
            Some(n) => self.numeric.contains(&n),
            None => self.text.contains(id),
        }
    }
}

/// Each related person's justified ids, with where in the list each person's are.
pub(super) fn justified<'a>(
    relations: Option<&'a std::collections::HashMap<UserId, HashSet<String>>>,
    people: &mut [Person<'_>],
) -> Vec<Justified<'a>> {
    let mut justified = Vec::new();
    for p in people {
        if let Some(text) = relations.and_then(|r| r.get(&p.user.id)) {
            p.relations = Some(justified.len() as u32);
            justified.push(Justified {
                numeric: text.iter().filter_map(|t| canonical_number(t)).collect(),
                text,
            });
        }
    }
    justified
}

impl Scan<'_> {
    pub(super) fn no_business_reason_findings(&self) -> Vec<Finding> {
        let mut out = Vec::new();
        for ((user, day), (g, which)) in &self.no_reason {
            let mut which: Vec<&String> = which.iter().collect();
            which.sort();
            out.extend(self.finding(Hit {
                kind: FindingKind::NoBusinessReason,
                user: *user,
                about: day.to_string(),
                detail: format!(
                    "opened {} {} record{} with no ticket or account of theirs on {day}",
                    which.len(),
                    self.cfg.need_to_know.resource_type,
                    if which.len() == 1 { "" } else { "s" }
                ),
                fix: "Ask why these records were opened; need-to-know allows only customers the person serves.",
                group: g,
                extra: json!({ "day": day.to_string(), "resources": which }),
            }));
        }
        out
    }
}
