//! Witnesses of the audit trail (issue 18, item 6): a head (sequence number and hash) the
//! trail once had, kept outside the database — by each client in its state folder, and in
//! every export manifest. A trail restored from an older backup ends before a witness; one
//! restored from another backup, or rewritten, has another event where a witness saw its
//! own. The chain alone cannot tell either: both are whole chains.

use serde::{Deserialize, Serialize};

/// A head once seen: the event `seq` had hash `hash`; `source` says where it was kept
/// (this client's state folder, a manifest's file name).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Witness {
    pub seq: u64,
    pub hash: String,
    pub source: String,
    /// The hash of the trail's first event, when the witness kept it (this client's does;
    /// a manifest's head alone names its own event).
    pub first: Option<String>,
}

/// What a trail read in order says to its witnesses.
#[derive(Debug, Clone, Default)]
pub struct WitnessCheck {
    witnesses: Vec<Witness>,
    /// (seq, why) of the first witness the trail contradicts.
    fault: Option<(u64, String)>,
    last: u64,
}

impl WitnessCheck {
    pub fn new(mut witnesses: Vec<Witness>) -> Self {
        witnesses.sort_by_key(|w| w.seq);
        Self {
            witnesses,
            fault: None,
            last: 0,
        }
    }

    /// One stored event, in sequence order.
    pub fn observe(&mut self, seq: u64, hash: &str) {
        self.last = self.last.max(seq);
        if self.fault.is_some() {
            return;
        }
        let other_first = |w: &&Witness| seq == 1 && w.first.as_deref().is_some_and(|f| f != hash);
        if let Some(w) = self.witnesses.iter().find(other_first) {
            self.fault = Some((
                1,
                format!(
                    "event 1 is not the one {} saw: this is another trail (rewritten from its \
                     start, or another database's)",
                    w.source
                ),
            ));
            return;
        }
        if let Some(w) = self
            .witnesses
            .iter()
            .find(|w| w.seq == seq && w.hash != hash)
        {
            self.fault = Some((
                seq,
                format!(
                    "event {seq} is not the one {} saw (another trail from there on: \
                     restored from another backup, or rewritten)",
                    w.source
                ),
            ));
        }
    }

    /// The first witness the trail contradicts, once every event was observed: an event
    /// other than the one seen, or a trail that ends before a head seen.
    pub fn finish(self) -> Option<(u64, String)> {
        if self.fault.is_some() {
            return self.fault;
        }
        let w = self.witnesses.iter().rev().find(|w| w.seq > self.last)?;
        Some((
            self.last + 1,
            format!(
                "the trail ends at event {} but {} saw event {} (restored from an older \
                 backup, or rewritten)",
                self.last, w.source, w.seq
            ),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(seq: u64, hash: &str) -> Witness {
        Witness {
            seq,
            hash: hash.into(),
            source: "this client".into(),
            first: None,
        }
    }

    fn run(events: &[(u64, &str)], witnesses: Vec<Witness>) -> Option<(u64, String)> {
        let mut c = WitnessCheck::new(witnesses);
        for (seq, hash) in events {
            c.observe(*seq, hash);
        }
        c.finish()
    }

    #[test]
    fn a_trail_behind_or_beside_a_witness_is_named_and_one_past_it_is_fine() {
        let trail = [(1, "a"), (2, "b"), (3, "c")];
        assert_eq!(run(&trail, vec![w(2, "b"), w(3, "c")]), None);
        assert_eq!(run(&trail, Vec::new()), None);
        let (seq, why) = run(&trail[..2], vec![w(3, "c")]).unwrap();
        assert_eq!(seq, 3);
        assert!(why.contains("older backup"), "{why}");
        let (seq, why) = run(&trail, vec![w(2, "x")]).unwrap();
        assert_eq!(seq, 2);
        assert!(why.contains("another backup"), "{why}");
        // Rewritten from its first event: event 1 tells, whatever the head says.
        let first = |f: &str| Witness {
            first: Some(f.into()),
            ..w(3, "c")
        };
        assert_eq!(run(&trail, vec![first("a")]), None);
        let (seq, why) = run(&trail, vec![first("z")]).unwrap();
        assert_eq!(seq, 1);
        assert!(why.contains("another trail"), "{why}");
        // Emptied: it ends before the head seen.
        assert_eq!(run(&[], vec![first("a")]).unwrap().0, 1);
    }
}
