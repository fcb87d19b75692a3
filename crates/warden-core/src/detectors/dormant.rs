//! Dormant activity: rows of an inactive account, or of one whose last login is older than
//! the policy's dormancy before the access, one finding per person and day.

use chrono::NaiveDateTime;
use serde_json::json;

use super::Scan;
use super::evidence::{Hit, accesses};
use crate::directory::User;
use crate::findings::{Finding, FindingKind};

/// From when a person's rows count as dormant activity: at once for an inactive account
/// or one never logged in.
pub(super) fn dormant_from(user: &User, dormancy_days: i64) -> NaiveDateTime {
    // Dormant when more than `dormancy_days` whole days have passed since the last login:
    // from the last login plus one more day than that.
    match user.last_login {
        Some(l) if user.active => l
            .checked_add_signed(chrono::Duration::days(dormancy_days + 1))
            .unwrap_or(NaiveDateTime::MAX),
        _ => NaiveDateTime::MIN,
    }
}

impl Scan<'_> {
    pub(super) fn dormant_activity_findings(&self) -> Vec<Finding> {
        let mut out = Vec::new();
        for ((user, day), g) in &self.dormant {
            let u = self.user(*user);
            let why = match u {
                Some(u) if !u.active => format!("the account is {}", u.status),
                Some(u) => match u.last_login {
                    Some(l) => format!("last login {}", l.format("%Y-%m-%d")),
                    None => "never logged in".to_string(),
                },
                None => String::new(),
            };
            out.extend(self.finding(Hit {
                kind: FindingKind::DormantActivity,
                user: *user,
                about: day.to_string(),
                detail: format!("{} on {day}, yet {why}", accesses(g.count)),
                fix: "Check whether the credentials are in someone else's hands; disable the account and rotate its secrets.",
                group: g,
                extra: json!({ "day": day.to_string() }),
            }));
        }
        out
    }
}
