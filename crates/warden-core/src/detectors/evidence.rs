//! What a finding of the detectors carries as evidence: the rows grouped into it (how many,
//! when, and the first ids), and how a group becomes a [`Finding`].

use chrono::NaiveDateTime;
use serde_json::json;

use super::{Event, Scan};
use crate::directory::UserId;
use crate::findings::{Finding, FindingKind, fingerprint};

/// At most this many evidence row ids are kept per finding (the count is always exact).
pub const EVIDENCE_IDS: usize = 1_000;

/// A list that keeps its first few items inline: most windows and groups hold a row or
/// two, and an allocation per row would cost more than judging it.
#[derive(Debug, Clone)]
pub(super) enum Few<T> {
    Inline(u8, [T; 3]),
    Heap(Vec<T>),
}

impl<T: Copy + Default> Default for Few<T> {
    fn default() -> Self {
        Few::Inline(0, [T::default(); 3])
    }
}

impl<T: Copy + Default> Few<T> {
    pub(super) fn push(&mut self, v: T) {
        match self {
            Few::Inline(n, a) if usize::from(*n) < a.len() => {
                a[usize::from(*n)] = v;
                *n += 1;
            }
            Few::Inline(_, a) => {
                let mut heap = Vec::with_capacity(a.len() * 4);
                heap.extend_from_slice(a);
                heap.push(v);
                *self = Few::Heap(heap);
            }
            Few::Heap(h) => h.push(v),
        }
    }

    pub(super) fn as_slice(&self) -> &[T] {
        match self {
            Few::Inline(n, a) => &a[..usize::from(*n)],
            Few::Heap(h) => h,
        }
    }

    pub(super) fn as_mut_slice(&mut self) -> &mut [T] {
        match self {
            Few::Inline(n, a) => &mut a[..usize::from(*n)],
            Few::Heap(h) => h,
        }
    }

    pub(super) fn len(&self) -> usize {
        self.as_slice().len()
    }
}

/// Rows grouped into one finding: how many, the first and last time, some ids.
#[derive(Debug, Clone)]
pub(super) struct Group {
    pub(super) count: u64,
    /// Rows no earlier scan judged (see [`Event::fresh`]).
    pub(super) fresh: u64,
    pub(super) first: NaiveDateTime,
    pub(super) last: NaiveDateTime,
    pub(super) ids: Few<i64>,
}

impl Group {
    pub(super) fn new(at: NaiveDateTime) -> Self {
        Self {
            count: 0,
            fresh: 0,
            first: at,
            last: at,
            ids: Few::default(),
        }
    }

    pub(super) fn add(&mut self, e: &Event<'_>) {
        self.count += 1;
        self.fresh += u64::from(e.fresh);
        self.first = self.first.min(e.at);
        self.last = self.last.max(e.at);
        if self.ids.len() < EVIDENCE_IDS {
            self.ids.push(e.id);
        }
    }
}

/// What a detector says of one group of rows, before it is a finding.
pub(super) struct Hit<'g> {
    pub(super) kind: FindingKind,
    pub(super) user: UserId,
    /// What the fingerprint is about, besides the kind and the person.
    pub(super) about: String,
    pub(super) detail: String,
    pub(super) fix: &'static str,
    pub(super) group: &'g Group,
    /// Evidence besides the rows, their count and times.
    pub(super) extra: serde_json::Value,
}

impl Scan<'_> {
    /// The finding a hit makes, or none for someone no longer in the directory.
    pub(super) fn finding(&self, hit: Hit<'_>) -> Option<Finding> {
        let u = self.user(hit.user)?;
        let g = hit.group;
        let mut evidence = json!({
            "rows": g.ids.as_slice(),
            "count": g.count,
            "first": g.first.format("%Y-%m-%dT%H:%M:%S").to_string(),
            "last": g.last.format("%Y-%m-%dT%H:%M:%S").to_string(),
        });
        if let (Some(e), serde_json::Value::Object(x)) = (evidence.as_object_mut(), hit.extra) {
            e.extend(x);
        }
        Some(Finding {
            kind: hit.kind,
            severity: hit.kind.severity(),
            subject: u.login.clone(),
            subject_id: hit.user,
            department: u.department.clone(),
            detail: hit.detail,
            evidence,
            fix: hit.fix.to_string(),
            fingerprint: fingerprint(hit.kind, hit.user, &hit.about),
            new_rows: self.judged.is_some().then_some(g.fresh),
        })
    }
}

/// The findings in a stable order, one per fingerprint.
pub(super) fn one_per_fingerprint(mut out: Vec<Finding>) -> Vec<Finding> {
    out.sort_by(|a, b| {
        (a.kind.as_str(), &a.subject, &a.fingerprint).cmp(&(
            b.kind.as_str(),
            &b.subject,
            &b.fingerprint,
        ))
    });
    // A window reopened by a row that came late (ids not quite in time order) is the
    // same finding: one per fingerprint, its rows together.
    let mut merged: Vec<Finding> = Vec::with_capacity(out.len());
    for f in out {
        match merged.last_mut() {
            Some(last) if last.fingerprint == f.fingerprint => merge_rows(last, &f),
            _ => merged.push(f),
        }
    }
    merged
}

/// Adds `other`'s evidence rows and count to `into` (the same finding, found twice).
fn merge_rows(into: &mut Finding, other: &Finding) {
    let rows = |f: &Finding| -> Vec<serde_json::Value> {
        f.evidence["rows"].as_array().cloned().unwrap_or_default()
    };
    let mut all = rows(into);
    all.extend(rows(other));
    all.truncate(EVIDENCE_IDS);
    let count = into.evidence["count"].as_u64().unwrap_or(0)
        + other.evidence["count"].as_u64().unwrap_or(0);
    into.new_rows = match (into.new_rows, other.new_rows) {
        (None, None) => None,
        (a, b) => Some(a.unwrap_or(0) + b.unwrap_or(0)),
    };
    if let Some(e) = into.evidence.as_object_mut() {
        e.insert("rows".into(), serde_json::Value::Array(all));
        e.insert("count".into(), json!(count));
    }
}

/// "1 access", "3 accesses".
pub(super) fn accesses(n: u64) -> String {
    format!("{n} access{}", if n == 1 { "" } else { "es" })
}
