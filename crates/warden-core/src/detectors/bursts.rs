//! Denied bursts: many refusals to one person within a short window.

use std::collections::VecDeque;

use chrono::NaiveDateTime;
use serde_json::json;

use super::evidence::{Group, Hit};
use super::{Event, Scan};
use crate::directory::UserId;
use crate::findings::{Finding, FindingKind};

#[derive(Debug)]
pub(super) struct Burst {
    recent: VecDeque<(NaiveDateTime, i64)>,
    open: Option<Group>,
}

impl Scan<'_> {
    pub(super) fn denied(&mut self, e: &Event<'_>) {
        let cfg = &self.cfg.denied_burst;
        let span = chrono::Duration::minutes(i64::from(cfg.window_minutes));
        let b = self.bursts.entry(e.user).or_insert_with(|| Burst {
            recent: VecDeque::new(),
            open: None,
        });
        // A burst ends when a window passes without a refusal.
        if b.open.as_ref().is_some_and(|open| e.at - open.last > span)
            && let Some(done) = b.open.take()
        {
            self.bursts_done.push((e.user, done));
        }
        b.recent.push_back((e.at, e.id));
        while b.recent.front().is_some_and(|(t, _)| e.at - *t > span) {
            b.recent.pop_front();
        }
        match &mut b.open {
            Some(open) => open.add(e),
            None if b.recent.len() >= cfg.count as usize => {
                let mut g = Group::new(b.recent[0].0);
                for (at, id) in &b.recent {
                    g.add(&Event {
                        id: *id,
                        at: *at,
                        ..*e
                    });
                }
                b.open = Some(g);
            }
            None => {}
        }
    }

    /// Every burst, the ended ones first, then those still open when the log ended.
    pub(super) fn take_bursts(&mut self) -> Vec<(UserId, Group)> {
        let mut bursts = std::mem::take(&mut self.bursts_done);
        bursts.extend(
            std::mem::take(&mut self.bursts)
                .into_iter()
                .filter_map(|(u, b)| b.open.map(|g| (u, g))),
        );
        bursts
    }

    pub(super) fn denied_burst_findings(&self, bursts: &[(UserId, Group)]) -> Vec<Finding> {
        bursts
            .iter()
            .filter_map(|(user, g)| {
                self.finding(Hit {
                    kind: FindingKind::DeniedBurst,
                    user: *user,
                    about: g.first.format("%Y-%m-%dT%H:%M").to_string(),
                    detail: format!(
                        "{} refused accesses between {} and {}",
                        g.count,
                        g.first.format("%Y-%m-%d %H:%M"),
                        g.last.format("%H:%M")
                    ),
                    fix: "Find out what the person was trying to reach: probing for data outside their role, or a broken client.",
                    group: g,
                    extra: json!({ "window_minutes": self.cfg.denied_burst.window_minutes }),
                })
            })
            .collect()
    }
}
