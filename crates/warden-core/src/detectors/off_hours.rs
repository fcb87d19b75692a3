//! Off hours: access outside the working hours of the person's department, one finding per
//! person and day. The hours themselves are parsed with the policy
//! ([`crate::vocabulary::Hours`]).

use chrono::Datelike;
use serde_json::json;

use super::Scan;
use super::evidence::{Hit, accesses};
use crate::findings::{Finding, FindingKind};

impl Scan<'_> {
    pub(super) fn off_hours_findings(&self) -> Vec<Finding> {
        (self.off_hours.iter())
            .filter_map(|((user, day), g)| {
                self.finding(Hit {
                    kind: FindingKind::OffHours,
                    user: *user,
                    about: day.to_string(),
                    detail: format!(
                        "{} outside working hours on {} ({}, {}–{})",
                        accesses(g.count),
                        day,
                        day.weekday(),
                        g.first.format("%H:%M"),
                        g.last.format("%H:%M")
                    ),
                    fix: "Confirm with the person's manager that the work was expected (on call, overtime).",
                    group: g,
                    extra: json!({ "day": day.to_string() }),
                })
            })
            .collect()
    }
}
