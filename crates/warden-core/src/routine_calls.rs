//! Every call of Warden's definer routines is recorded by the routine itself
//! (`warden_routine_calls`); every change Warden makes through one is recorded on the trail
//! in the same transaction. Matching the two finds a routine called around Warden — a raw
//! `CALL` by an officer, which would otherwise change accounts or the application's grants
//! with no event.

use std::collections::HashMap;

use crate::audit::{AuditEvent, StoredEvent};
use crate::console::identity;
use crate::console_accounts::{APPLY_ROUTINE, PUT_ROUTINE};
use crate::remediation::{REMOVE_ROUTINE, RESTORE_ROUTINE};
use crate::review_access::REASSIGN_ROUTINE;

/// One recorded call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoutineCall {
    pub id: u64,
    pub routine: String,
    /// `user@client-host` of the session that called.
    pub db_account: String,
    /// The login key or the item number the call was about.
    pub subject: String,
    /// The trail's head when the routine ran.
    pub head_seq: u64,
}

/// Whether `e`, the event right after the head a call saw, records that call (a call made in
/// a change is recorded by that change's event).
fn records(call: &RoutineCall, e: &AuditEvent) -> bool {
    let names_item = || {
        (e.details["items"].as_array().into_iter().flatten())
            .any(|i| i.as_u64().map(|n| n.to_string()).as_deref() == Some(call.subject.as_str()))
    };
    match call.routine.as_str() {
        PUT_ROUTINE => about_user(e, &call.subject),
        REMOVE_ROUTINE => e.action == "review.remediate" && names_item(),
        RESTORE_ROUTINE => e.action == "review.undo" && names_item(),
        REASSIGN_ROUTINE => e.action == "review.reassign" && names_item(),
        _ => false,
    }
}

fn about_user(e: &AuditEvent, key: &str) -> bool {
    e.action.starts_with("console_user.") && identity(&e.target) == key
}

/// Matches recorded calls with the events of the trail as they are read, in order
/// (constant memory in the trail's length). The account routine runs after its change has
/// committed: any event about that console user at or before the head it saw records it.
pub struct Matcher<'a> {
    calls: &'a [RoutineCall],
    recorded: Vec<bool>,
    /// Calls waiting for the event right after the head they saw, by that event's number.
    next: HashMap<u64, Vec<usize>>,
    /// Account-routine calls, by the console user's key.
    applied: HashMap<&'a str, Vec<usize>>,
}

impl<'a> Matcher<'a> {
    pub fn new(calls: &'a [RoutineCall]) -> Self {
        let mut next: HashMap<u64, Vec<usize>> = HashMap::new();
        let mut applied: HashMap<&str, Vec<usize>> = HashMap::new();
        for (i, c) in calls.iter().enumerate() {
            match c.routine.as_str() {
                APPLY_ROUTINE => applied.entry(c.subject.as_str()).or_default().push(i),
                _ => next.entry(c.head_seq + 1).or_default().push(i),
            }
        }
        Self {
            calls,
            recorded: vec![false; calls.len()],
            next,
            applied,
        }
    }

    /// The next event of the trail, in sequence order.
    pub fn observe(&mut self, e: &AuditEvent) {
        if let Some(waiting) = self.next.get(&e.seq) {
            for &i in waiting {
                self.recorded[i] |= records(&self.calls[i], e);
            }
        }
        if e.action.starts_with("console_user.")
            && let Some(waiting) = self.applied.get(identity(&e.target).as_str())
        {
            for &i in waiting {
                self.recorded[i] |= e.seq <= self.calls[i].head_seq;
            }
        }
    }

    /// The calls no event recorded, each described for the officer and the auditor.
    pub fn unrecorded(&self) -> Vec<String> {
        (self.calls.iter().zip(&self.recorded))
            .filter(|(_, recorded)| !**recorded)
            .map(|(c, _)| {
                format!(
                    "routine call {}: {} on {} by {} (trail head {}) is recorded by no audit event",
                    c.id, c.routine, c.subject, c.db_account, c.head_seq
                )
            })
            .collect()
    }
}

/// The calls no audit event records. `events` are in sequence order.
pub fn unrecorded(events: &[StoredEvent], calls: &[RoutineCall]) -> Vec<String> {
    let mut m = Matcher::new(calls);
    for (e, _, _) in events {
        m.observe(e);
    }
    m.unrecorded()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(seq: u64, action: &str, target: &str, details: serde_json::Value) -> StoredEvent {
        (
            AuditEvent {
                seq,
                occurred_at: chrono::DateTime::UNIX_EPOCH,
                actor: "olga".into(),
                db_account: "olga@localhost".into(),
                action: action.into(),
                target: target.into(),
                details,
            },
            String::new(),
            String::new(),
        )
    }

    fn call(id: u64, routine: &str, subject: &str, head_seq: u64) -> RoutineCall {
        RoutineCall {
            id,
            routine: routine.into(),
            db_account: "olga@localhost".into(),
            subject: subject.into(),
            head_seq,
        }
    }

    #[test]
    fn each_call_is_matched_with_the_event_of_its_change() {
        let events = vec![
            event(1, "console_user.add", "Rita", serde_json::json!({})),
            event(
                2,
                "review.remediate",
                "user x",
                serde_json::json!({ "items": [7, 8] }),
            ),
            event(
                3,
                "review.reassign",
                "items",
                serde_json::json!({ "items": [9] }),
            ),
        ];
        let fine = [
            call(1, PUT_ROUTINE, "rita", 0),
            call(2, APPLY_ROUTINE, "rita", 1),
            call(3, APPLY_ROUTINE, "rita", 3),
            call(4, REMOVE_ROUTINE, "8", 1),
            call(5, REASSIGN_ROUTINE, "9", 2),
        ];
        assert_eq!(unrecorded(&events, &fine), Vec::<String>::new());
        let around = [
            call(6, PUT_ROUTINE, "mallory", 3),
            call(7, REMOVE_ROUTINE, "5", 1),
            call(8, RESTORE_ROUTINE, "7", 1),
            call(9, APPLY_ROUTINE, "mallory", 3),
            call(10, "warden_something_else", "x", 0),
        ];
        let found = unrecorded(&events, &around);
        assert_eq!(found.len(), 5, "{found:?}");
        assert!(found[0].starts_with("routine call 6: warden_console_user_put on mallory"));
    }
}
