//! The access-log detectors' thresholds, as the policy's `[detectors]` section writes them
//! (the detectors' module documents each one and its default), and the working hours they
//! describe, parsed. Here rather than beside the detectors because the policy validates
//! them when it is parsed, and the detectors read the policy.

use std::collections::HashMap;

use chrono::{Datelike, NaiveDateTime, NaiveTime, Weekday};
use serde::Deserialize;

use crate::glob::Glob;

/// The detectors' thresholds, from the policy's `[detectors]` section.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Detectors {
    pub enumeration: Enumeration,
    pub denied_burst: DeniedBurst,
    pub off_hours: OffHours,
    pub need_to_know: NeedToKnow,
    pub bulk_export: BulkExport,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Enumeration {
    pub window_minutes: u32,
    pub floor: u32,
    pub baseline_factor: f64,
    pub run: u32,
}

impl Default for Enumeration {
    fn default() -> Self {
        Self {
            window_minutes: 60,
            floor: 200,
            baseline_factor: 5.0,
            run: 50,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DeniedBurst {
    pub window_minutes: u32,
    pub count: u32,
}

impl Default for DeniedBurst {
    fn default() -> Self {
        Self {
            window_minutes: 10,
            count: 20,
        }
    }
}

/// Working hours: `hours` as `HH:MM-HH:MM`, `days` as three-letter names.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Hours {
    #[serde(default = "default_hours")]
    pub hours: String,
    #[serde(default = "default_days")]
    pub days: Vec<String>,
}

fn default_hours() -> String {
    "07:00-20:00".into()
}

fn default_days() -> Vec<String> {
    ["mon", "tue", "wed", "thu", "fri"].map(String::from).into()
}

impl Default for Hours {
    fn default() -> Self {
        Self {
            hours: default_hours(),
            days: default_days(),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OffHours {
    #[serde(flatten)]
    pub default: Hours,
    /// Working hours of a department, where they differ.
    pub department: HashMap<String, Hours>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NeedToKnow {
    /// Job functions whose access to a resource needs a relation to it.
    pub job_functions: Vec<String>,
    pub resource_type: String,
}

impl Default for NeedToKnow {
    fn default() -> Self {
        Self {
            job_functions: vec!["support".into(), "sales".into()],
            resource_type: "customer".into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BulkExport {
    pub actions: Vec<Glob>,
    pub per_day: u32,
}

impl Default for BulkExport {
    fn default() -> Self {
        Self {
            actions: Glob::parse("**:export").into_iter().collect(),
            per_day: 3,
        }
    }
}

/// Working hours parsed: (start, end, days).
#[derive(Debug, Clone)]
pub(crate) struct Schedule {
    start: NaiveTime,
    end: NaiveTime,
    days: Vec<Weekday>,
}

impl Schedule {
    pub(crate) fn parse(h: &Hours) -> Result<Self, String> {
        let (a, b) = h
            .hours
            .split_once('-')
            .ok_or_else(|| format!("hours `{}`: expected HH:MM-HH:MM", h.hours))?;
        let time = |t: &str| {
            NaiveTime::parse_from_str(t.trim(), "%H:%M")
                .map_err(|_| format!("hours `{}`: `{t}` is not HH:MM", h.hours))
        };
        let days = h
            .days
            .iter()
            .map(|d| {
                d.parse::<Weekday>()
                    .map_err(|_| format!("days: `{d}` is not a day (mon, tue, …)"))
            })
            .collect::<Result<_, _>>()?;
        Ok(Self {
            start: time(a)?,
            end: time(b)?,
            days,
        })
    }

    pub(crate) fn working(&self, at: NaiveDateTime) -> bool {
        let t = at.time();
        self.days.contains(&at.weekday()) && t >= self.start && t < self.end
    }
}

impl Detectors {
    /// Checks what serde cannot: hours and days, positive thresholds.
    pub fn validate(&self) -> Result<(), String> {
        Schedule::parse(&self.off_hours.default).map_err(|e| format!("off_hours: {e}"))?;
        for (d, h) in &self.off_hours.department {
            Schedule::parse(h).map_err(|e| format!("off_hours.department.{d}: {e}"))?;
        }
        let e = &self.enumeration;
        if e.window_minutes == 0 || e.floor == 0 || e.run < 2 || e.baseline_factor <= 0.0 {
            return Err("enumeration: window_minutes, floor and baseline_factor must be positive, and run at least 2".into());
        }
        if self.denied_burst.window_minutes == 0 || self.denied_burst.count == 0 {
            return Err("denied_burst: window_minutes and count must be positive".into());
        }
        if self.bulk_export.per_day == 0 {
            return Err("bulk_export: per_day must be positive".into());
        }
        Ok(())
    }
}
