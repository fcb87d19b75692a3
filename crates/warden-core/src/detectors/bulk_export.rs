//! Bulk export: a person using actions that match the configured export patterns a given
//! number of times or more in one day.

use serde_json::json;

use super::Scan;
use super::evidence::Hit;
use crate::findings::{Finding, FindingKind};

impl Scan<'_> {
    pub(super) fn bulk_export_findings(&self) -> Vec<Finding> {
        let per_day = self.cfg.bulk_export.per_day;
        (self.exports.iter())
            .filter(|(_, g)| g.count >= u64::from(per_day))
            .filter_map(|((user, day), g)| {
                self.finding(Hit {
                    kind: FindingKind::BulkExport,
                    user: *user,
                    about: day.to_string(),
                    detail: format!("{} exports on {day}", g.count),
                    fix: "Ask what the exports were for and where the files went.",
                    group: g,
                    extra: json!({ "day": day.to_string(), "per_day": per_day }),
                })
            })
            .collect()
    }
}
