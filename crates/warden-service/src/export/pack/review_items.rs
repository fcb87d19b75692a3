//! review_items.csv: every item with its person, grant, context, decision and
//! remediation; the campaign's totals are counted from the same items.

use std::collections::BTreeMap;
use std::path::Path;

use warden_core::directory::User;
use warden_core::export::Described;
use warden_core::review::{Remediated, Verdict};
use warden_store::reviews as store;

use super::action_log::History;
use super::file::{PackFile, time};
use super::gather::{Gathered, Lookup};
use crate::error::Result;

const HEADER: [&str; 31] = [
    "item_id",
    "user_id",
    "login",
    "name",
    "email",
    "department",
    "manager",
    "account_status",
    "created",
    "last_login",
    "role",
    "permissions",
    "granted",
    "granted_at",
    "granted_by",
    "baseline",
    "outside_baseline",
    "sod_conflicts",
    "last_used",
    "suggestion",
    "reviewer",
    "reviewer_relation",
    "decision",
    "decided_by",
    "decided_at",
    "comment",
    "reassigned_from",
    "remediation",
    "applied_at",
    "applied_by",
    "result",
];

/// The campaign's totals, by name, as the manifest and the sign-off state them.
pub(super) type Totals = BTreeMap<&'static str, u64>;

/// Writes review_items.csv into `dir`; answers it and the campaign's totals.
pub(super) fn write(
    dir: &Path,
    g: &Gathered,
    lookup: &Lookup<'_>,
    history: &History,
) -> Result<(Described, Totals)> {
    let mut out = PackFile::create(dir, "review_items.csv", &HEADER)?;
    let mut totals: Totals = [
        "items",
        "approved",
        "revoked",
        "no_response",
        "reassigned",
        "remediated",
        "restored",
    ]
    .into_iter()
    .map(|k| (k, 0))
    .collect();
    for i in &g.items {
        count(&mut totals, i);
        out.row(row(i, g, lookup, history))?;
    }
    let review_items = out.close()?;
    totals.insert("reassigned", history.reassigned_from.len() as u64);
    Ok((review_items, totals))
}

/// Counts item `i` into `totals`: its decision (one the campaign's default made, as no
/// response) and its remediation.
fn count(totals: &mut Totals, i: &store::Item) {
    *totals.entry("items").or_default() += 1;
    let defaulted = i.comment.as_deref() == Some(store::DEFAULT_COMMENT);
    match i.decision {
        _ if defaulted => *totals.entry("no_response").or_default() += 1,
        Some(Verdict::Keep) => *totals.entry("approved").or_default() += 1,
        Some(Verdict::Revoke) => *totals.entry("revoked").or_default() += 1,
        None => {}
    }
    match i.remediation {
        Some(Remediated::Revoked | Remediated::Absent) => {
            *totals.entry("remediated").or_default() += 1;
        }
        Some(Remediated::Restored) => *totals.entry("restored").or_default() += 1,
        None => {}
    }
}

/// Item `i`'s row, in [`HEADER`]'s order.
fn row(i: &store::Item, g: &Gathered, lookup: &Lookup<'_>, history: &History) -> [String; 31] {
    let u = lookup.user(i.user_id);
    let text = |f: fn(&User) -> Option<String>| u.and_then(f).unwrap_or_default();
    let reassigned_from = history.reassigned_from.get(&i.id);
    let rm = g.remediations.get(&i.id);
    let decision = i.decision.map_or("", Verdict::as_str);
    [
        i.id.to_string(),
        i.user_id.to_string(),
        i.login.clone(),
        text(|u| u.name.clone()),
        text(|u| u.email.clone()),
        i.department.clone().unwrap_or_default(),
        text(|u| u.manager.clone()),
        u.map_or_else(|| "gone".into(), |u| u.status.clone()),
        time(u.and_then(|u| u.created)),
        time(u.and_then(|u| u.last_login)),
        i.role.clone(),
        lookup.permissions(&i.role),
        "role".into(),
        time(i.granted_at),
        i.granted_by.clone().unwrap_or_default(),
        i.baseline.as_str().into(),
        i.outside.clone(),
        i.sod.clone(),
        time(i.last_used),
        i.suggestion.as_str().into(),
        i.reviewer.clone(),
        relation(i, &g.campaign, reassigned_from.is_some()).into(),
        decision.into(),
        i.decided_by.clone().unwrap_or_default(),
        time(i.decided_at),
        i.comment.clone().unwrap_or_default(),
        reassigned_from.cloned().unwrap_or_default(),
        if i.decision == Some(Verdict::Revoke) {
            "revoke"
        } else {
            "none"
        }
        .into(),
        time(rm.map(|r| r.removed_at)),
        (history.remediated_by.get(&i.id).cloned()).unwrap_or_default(),
        i.remediation.map_or("", Remediated::as_str).into(),
    ]
}

/// How item `i` came to its reviewer: reassigned, as the campaign's fallback, or by the
/// campaign's rule.
fn relation<'c>(i: &store::Item, c: &'c store::Campaign, reassigned: bool) -> &'c str {
    if reassigned {
        "reassigned"
    } else if i.reviewer.eq_ignore_ascii_case(&c.fallback) {
        "fallback"
    } else {
        c.reviewer_rule.as_str()
    }
}
