//! Every call of Warden's definer routines is recorded by the routine itself
//! (`warden_routine_calls`); every change Warden makes through one is recorded on the trail
//! in the same transaction. Matching the two finds a routine called around Warden — a raw
//! `CALL` by an officer, which would otherwise change accounts or the application's grants
//! with no event.

use crate::audit::StoredEvent;
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

/// The event that records a call, by routine: an event made in the same transaction comes
/// right after the head the routine saw; the account routine runs after its change has
/// committed, so its event is at or before that head.
fn recorded_by(call: &RoutineCall, events: &[StoredEvent]) -> bool {
    let at = |seq: u64| {
        events
            .binary_search_by_key(&seq, |(e, _, _)| e.seq)
            .ok()
            .map(|i| &events[i].0)
    };
    let names_item = |e: &crate::audit::AuditEvent| {
        (e.details["items"].as_array().into_iter().flatten())
            .any(|i| i.as_u64().map(|n| n.to_string()).as_deref() == Some(call.subject.as_str()))
    };
    let about_user = |e: &crate::audit::AuditEvent| {
        e.action.starts_with("console_user.") && identity(&e.target) == call.subject
    };
    let next = at(call.head_seq + 1);
    match call.routine.as_str() {
        PUT_ROUTINE => next.is_some_and(about_user),
        APPLY_ROUTINE => events
            .iter()
            .take_while(|(e, _, _)| e.seq <= call.head_seq)
            .any(|(e, _, _)| about_user(e)),
        REMOVE_ROUTINE => next.is_some_and(|e| e.action == "review.remediate" && names_item(e)),
        RESTORE_ROUTINE => next.is_some_and(|e| e.action == "review.undo" && names_item(e)),
        REASSIGN_ROUTINE => next.is_some_and(|e| e.action == "review.reassign" && names_item(e)),
        _ => false,
    }
}

/// The calls no audit event records, each described for the officer and the auditor.
/// `events` are in sequence order.
pub fn unrecorded(events: &[StoredEvent], calls: &[RoutineCall]) -> Vec<String> {
    calls
        .iter()
        .filter(|c| !recorded_by(c, events))
        .map(|c| {
            format!(
                "routine call {}: {} on {} by {} (trail head {}) is recorded by no audit event",
                c.id, c.routine, c.subject, c.db_account, c.head_seq
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::AuditEvent;

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
