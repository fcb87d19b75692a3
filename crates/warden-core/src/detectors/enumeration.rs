//! Enumeration: a person reading many distinct records of one type in a window, against a
//! floor and their own typical window, or a run of consecutive ids (a sequential sweep).

use std::collections::HashSet;

use serde_json::json;

use super::Scan;
use super::evidence::{Few, Group, Hit};
use crate::directory::UserId;
use crate::findings::{Finding, FindingKind};

/// One person's reads of one resource type in one window.
#[derive(Debug, Default)]
pub(super) struct Window {
    /// Numeric ids read, repeats included until [`Window::distinct`] (or a growing list)
    /// sorts them out.
    numeric: Few<u64>,
    pub(super) other: HashSet<String>,
    pub(super) group: Option<Group>,
}

impl Window {
    pub(super) fn read(&mut self, n: u64) {
        self.numeric.push(n);
        // A person re-reading the same few records keeps the list short.
        if let Few::Heap(h) = &mut self.numeric
            && h.len() >= 1_024
            && h.len().is_power_of_two()
        {
            h.sort_unstable();
            h.dedup();
        }
    }

    /// The numeric ids read, sorted and each once.
    pub(super) fn distinct(&mut self) -> &[u64] {
        let ids = self.numeric.as_mut_slice();
        ids.sort_unstable();
        let mut kept = 0;
        for i in 0..ids.len() {
            if kept == 0 || ids[i] != ids[kept - 1] {
                ids[kept] = ids[i];
                kept += 1;
            }
        }
        &self.numeric.as_slice()[..kept]
    }
}

/// A closed window over the floor or with a long run: a finding if it stands out from
/// the person's typical window, which is only known at the end of the scan.
#[derive(Debug)]
pub(super) struct Candidate {
    user: UserId,
    resource_type: u32,
    window: i64,
    distinct: u64,
    run: u64,
    group: Group,
}

impl Scan<'_> {
    /// Closes the windows up to `through`: each one's distinct count joins the person's
    /// typical window, and one over the floor or with a long run becomes a candidate.
    pub(super) fn close_windows(&mut self, through: i64) {
        let closing: Vec<(UserId, u32, i64)> = (self.windows.keys())
            .filter(|(_, _, w)| *w <= through)
            .copied()
            .collect();
        for key in closing {
            let Some(mut w) = self.windows.remove(&key) else {
                continue;
            };
            let numeric = w.distinct();
            let (numeric, run) = (numeric.len() as u64, longest_run(numeric));
            let distinct = numeric + w.other.len() as u64;
            let t = self.typical.entry(key.0).or_insert((0, 0));
            t.0 += distinct;
            t.1 += 1;
            let cfg = &self.cfg.enumeration;
            if distinct < u64::from(cfg.floor) && numeric < u64::from(cfg.run) {
                continue; // neither over the floor nor long enough for a sweep
            }
            if (distinct >= u64::from(cfg.floor) || run >= u64::from(cfg.run))
                && let Some(group) = w.group
            {
                self.candidates.push(Candidate {
                    user: key.0,
                    resource_type: key.1,
                    window: key.2,
                    distinct,
                    run,
                    group,
                });
            }
        }
    }

    /// The candidates that stand out from their person's typical window, or are sweeps.
    pub(super) fn enumeration_findings(&self) -> Vec<Finding> {
        let cfg = &self.cfg.enumeration;
        let mut out = Vec::new();
        for c in &self.candidates {
            let (distinct, run, g) = (c.distinct, c.run, &c.group);
            let rtype = self.names.name(c.resource_type);
            let (sum, n) = self.typical.get(&c.user).copied().unwrap_or((0, 0));
            // The person's typical window, this one left out.
            let typical = if n > 1 {
                (sum - distinct) as f64 / (n - 1) as f64
            } else {
                0.0
            };
            let over_floor = distinct >= u64::from(cfg.floor)
                && distinct as f64 >= cfg.baseline_factor * typical;
            let sweep = run >= u64::from(cfg.run);
            if !(over_floor || sweep) {
                continue;
            }
            out.extend(self.finding(Hit {
                kind: FindingKind::Enumeration,
                user: c.user,
                about: format!("{rtype}/{}", c.window),
                detail: format!(
                    "read {distinct} distinct {rtype} records within {} minutes ({}){}",
                    cfg.window_minutes,
                    g.first.format("%Y-%m-%d %H:%M"),
                    if sweep {
                        format!(", {run} consecutive ids in sequence")
                    } else {
                        String::new()
                    }
                ),
                fix: "Ask the person and their manager what the reads were for; suspend the account if the answer is not convincing, and check whether the data left.",
                group: g,
                extra: json!({ "resource_type": rtype, "distinct": distinct, "longest_run": run,
                        "typical_window": (typical * 10.0).round() / 10.0,
                        "window_minutes": cfg.window_minutes }),
            }));
        }
        out
    }
}

/// The longest run of consecutive integers among `ids` (sorted in place).
/// The longest run of consecutive ids in sorted `ids`.
pub(super) fn longest_run(ids: &[u64]) -> u64 {
    let (mut best, mut run) = (0u64, 0u64);
    let mut prev: Option<u64> = None;
    for &n in ids.iter() {
        run = match prev {
            Some(p) if n == p + 1 => run + 1,
            Some(p) if n == p => run,
            _ => 1,
        };
        best = best.max(run);
        prev = Some(n);
    }
    best
}
