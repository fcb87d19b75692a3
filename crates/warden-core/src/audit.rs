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
        value.to_string()
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

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

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
