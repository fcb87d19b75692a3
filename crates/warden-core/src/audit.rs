//! The audit trail's hash chain: each event's hash covers the previous hash and the
//! canonical form of the event, so an edit, a deletion or a reordering breaks the chain.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The hash that precedes the first event.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One change made through Warden.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEvent {
    pub seq: u64,
    pub occurred_at: DateTime<Utc>,
    /// The console actor (OIDC subject or local login).
    pub actor: String,
    /// The database account the change was made with (`CURRENT_USER()`).
    pub db_account: String,
    pub action: String,
    pub target: String,
    pub details: serde_json::Value,
}

impl AuditEvent {
    /// The canonical text hashed into the chain: JSON with sorted keys, times in RFC 3339
    /// with microseconds (the precision the database keeps).
    pub fn canonical(&self) -> String {
        let value = serde_json::json!({
            "seq": self.seq,
            "occurred_at": self.occurred_at.to_rfc3339_opts(SecondsFormat::Micros, true),
            "actor": self.actor,
            "db_account": self.db_account,
            "action": self.action,
            "target": self.target,
            "details": self.details,
        });
        canonical_json(&value)
    }

    /// SHA-256 over the previous hash and this event, hex encoded.
    pub fn chain_hash(&self, previous: &str) -> String {
        let mut hasher = Sha256::new();
        hasher.update(previous.as_bytes());
        hasher.update(b"\n");
        hasher.update(self.canonical().as_bytes());
        hex::encode(hasher.finalize())
    }
}

/// JSON text with every object's keys in sorted (byte) order, at every depth, written here
/// rather than left to serde_json's map: a crate in the build that turned on its
/// `preserve_order` feature would otherwise change every hash of the trail.
pub fn canonical_json(value: &serde_json::Value) -> String {
    let mut out = String::new();
    write_canonical(value, &mut out);
    out
}

fn write_canonical(value: &serde_json::Value, out: &mut String) {
    use serde_json::Value;
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                write_canonical(&map[key], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

/// An event as stored, with the previous hash and the hash stored beside it.
pub type StoredEvent = (AuditEvent, String, String);

/// What recomputing the chain found (`warden audit verify`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verification {
    pub ok: bool,
    /// Events read.
    pub events: u64,
    /// The first sequence number where the stored trail stops being the one Warden wrote.
    pub first_bad_seq: Option<u64>,
    /// What is wrong there.
    pub reason: Option<String>,
    /// Calls of Warden's definer routines that no audit event records (a routine called
    /// around Warden); filled by the service, which reads the calls.
    pub unrecorded_calls: Vec<String>,
}

/// Recomputes the chain from the first event. `events` are as stored, in sequence order,
/// each with its stored previous hash and hash; `head` is the sequence number and hash
/// Warden recorded with the last event it appended (`warden_audit_head`). An event
/// altered, removed, inserted or reordered behind Warden's back breaks the chain at or
/// before its place; events removed from the end or added after it disagree with the head.
/// (Someone able to rewrite every later event and the head as well is beyond what a chain
/// kept in the same database can show: exports record the head for that.)
pub fn verify(events: &[StoredEvent], head: (u64, &str)) -> Verification {
    let mut check = ChainCheck::default();
    for (event, previous, hash) in events {
        check.push(event, previous, hash);
    }
    check.finish(head)
}

/// [`verify`], one event at a time as they are read (constant memory): the first fault is
/// kept, the rest only counted.
#[derive(Debug, Clone)]
pub struct ChainCheck {
    events: u64,
    expected: u64,
    previous: String,
    fault: Option<(u64, String)>,
}

impl Default for ChainCheck {
    fn default() -> Self {
        Self {
            events: 0,
            expected: 1,
            previous: GENESIS_HASH.to_string(),
            fault: None,
        }
    }
}

impl ChainCheck {
    /// The next event as stored, in sequence order.
    pub fn push(&mut self, event: &AuditEvent, stored_previous: &str, stored_hash: &str) {
        self.events += 1;
        if self.fault.is_some() {
            return;
        }
        let expected = self.expected;
        let fault = if event.seq > expected {
            Some((
                expected,
                format!(
                    "event {expected} is missing (the next one stored is {})",
                    event.seq
                ),
            ))
        } else if event.seq < expected {
            Some((
                event.seq,
                format!("event {} appears twice or out of order", event.seq),
            ))
        } else if stored_previous != self.previous {
            Some((
                event.seq,
                format!(
                    "event {} does not follow the event before it (its previous hash differs)",
                    event.seq
                ),
            ))
        } else {
            let hash = event.chain_hash(&self.previous);
            if hash != stored_hash {
                Some((
                    event.seq,
                    format!(
                        "event {} was altered (its content does not match its hash)",
                        event.seq
                    ),
                ))
            } else {
                self.previous = hash;
                self.expected += 1;
                None
            }
        };
        self.fault = fault;
    }

    /// The verdict, given the head Warden recorded.
    pub fn finish(self, head: (u64, &str)) -> Verification {
        let bad = |seq: u64, reason: String| Verification {
            ok: false,
            events: self.events,
            first_bad_seq: Some(seq),
            reason: Some(reason),
            unrecorded_calls: Vec::new(),
        };
        if let Some((seq, reason)) = self.fault.clone() {
            return bad(seq, reason);
        }
        let last = self.expected - 1;
        let (head_seq, head_hash) = head;
        if head_seq > last {
            return bad(
                last + 1,
                format!("events {} to {head_seq} are missing from the end", last + 1),
            );
        }
        if head_seq < last {
            return bad(
                head_seq + 1,
                format!(
                    "event {} was added after the last one Warden appended ({head_seq})",
                    head_seq + 1
                ),
            );
        }
        if head_hash != self.previous {
            return bad(
                last,
                format!("event {last} is not the one Warden appended last"),
            );
        }
        Verification {
            ok: true,
            events: self.events,
            first_bad_seq: None,
            reason: None,
            unrecorded_calls: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    /// A chain of `n` events as Warden writes it, and its head.
    fn chain(n: u64) -> (Vec<StoredEvent>, (u64, String)) {
        let mut previous = GENESIS_HASH.to_string();
        let mut out = Vec::new();
        for seq in 1..=n {
            let e = event(seq);
            let hash = e.chain_hash(&previous);
            out.push((e, previous.clone(), hash.clone()));
            previous = hash;
        }
        (out, (n, previous))
    }

    fn first_bad(events: &[StoredEvent], head: &(u64, String)) -> Option<u64> {
        verify(events, (head.0, &head.1)).first_bad_seq
    }

    #[test]
    fn an_intact_chain_verifies_and_each_kind_of_tampering_is_found_where_it_is() {
        let (events, head) = chain(5);
        let ok = verify(&events, (head.0, &head.1));
        assert_eq!((ok.ok, ok.events, ok.first_bad_seq), (true, 5, None));
        let empty = verify(&[], (0, GENESIS_HASH));
        assert!(empty.ok);

        // UPDATE: a field changed.
        let mut altered = events.clone();
        altered[2].0.target = "mallory".into();
        assert_eq!(first_bad(&altered, &head), Some(3));
        // ...and its hash recomputed: the next event no longer follows it.
        altered[2].2 = altered[2].0.chain_hash(&altered[2].1);
        assert_eq!(first_bad(&altered, &head), Some(4));

        // DELETE: one in the middle, or the last.
        let mut gap = events.clone();
        gap.remove(1);
        assert_eq!(first_bad(&gap, &head), Some(2));
        let mut cut = events.clone();
        cut.pop();
        assert_eq!(first_bad(&cut, &head), Some(5));

        // INSERT: after the head, or a forged event in the middle (the rest renumbered).
        let mut extra = events.clone();
        let mut forged = event(6);
        forged.action = "policy.apply".into();
        let hash = forged.chain_hash(&head.1);
        extra.push((forged, head.1.clone(), hash));
        assert_eq!(first_bad(&extra, &head), Some(6));
        let mut middle = events.clone();
        let mut fake = event(3);
        fake.actor = "mallory".into();
        let fake_hash = fake.chain_hash(&middle[1].2);
        middle.insert(2, (fake, middle[1].2.clone(), fake_hash));
        for (i, e) in middle[3..].iter_mut().enumerate() {
            e.0.seq = i as u64 + 4;
        }
        assert_eq!(first_bad(&middle, &head), Some(4));

        // Reordered.
        let mut swapped = events.clone();
        swapped.swap(1, 2);
        assert_eq!(first_bad(&swapped, &head), Some(2));

        // The head itself changed.
        assert_eq!(first_bad(&events, &(5, GENESIS_HASH.into())), Some(5));
    }

    fn event(seq: u64) -> AuditEvent {
        AuditEvent {
            seq,
            occurred_at: Utc.with_ymd_and_hms(2026, 11, 28, 5, 0, 0).unwrap(),
            actor: "alice".into(),
            db_account: "warden@%".into(),
            action: "console_user.add".into(),
            target: "bob".into(),
            details: serde_json::json!({"role": "auditor", "a": 1}),
        }
    }

    #[test]
    fn canonical_json_sorts_every_objects_keys_itself() {
        let v = serde_json::json!({ "b": [ { "z": 1, "a": "x" } ], "a": { "d": null, "c": 2.5 } });
        assert_eq!(
            canonical_json(&v),
            r#"{"a":{"c":2.5,"d":null},"b":[{"a":"x","z":1}]}"#
        );
        assert_eq!(
            canonical_json(&v),
            v.to_string(),
            "the same as today's serde_json"
        );
    }

    #[test]
    fn canonical_form_sorts_keys() {
        let text = event(1).canonical();
        assert!(text.starts_with(r#"{"action":"console_user.add","actor":"alice","#));
        assert!(text.contains(r#""details":{"a":1,"role":"auditor"}"#));
        assert!(text.contains(r#""occurred_at":"2026-11-28T05:00:00.000000Z""#));
    }

    #[test]
    fn every_field_and_the_previous_hash_change_the_hash() {
        let base = event(1).chain_hash(GENESIS_HASH);
        assert_eq!(base.len(), 64);
        assert_ne!(base, event(2).chain_hash(GENESIS_HASH));
        assert_ne!(base, event(1).chain_hash(&base));
        let mut other = event(1);
        other.target = "carol".into();
        assert_ne!(base, other.chain_hash(GENESIS_HASH));
        assert_eq!(base, event(1).chain_hash(GENESIS_HASH));
    }
}
