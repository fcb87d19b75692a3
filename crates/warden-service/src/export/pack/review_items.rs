//! review_items.csv: every item with its person, grant, context, decision and
//! remediation; the campaign's totals are counted from the same items.

use std::collections::BTreeMap;
use std::path::Path;

use warden_core::directory::User;
use warden_core::export::Described;
use warden_core::review::{Remediated, Verdict};
use warden_store::reviews as store;

use super::action_log::{Decided, History};
use super::file::{PackFile, time};
use super::gather::{Gathered, Lookup};
use crate::error::{Error, Result};
use warden_core::console::same_identity;

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

/// Each item's decision as the trail recorded it: its `review.decide` event, or the
/// campaign's default at close for an item no reviewer decided. The item table must say
/// the same of every item, and the default must have decided exactly the items it says it
/// did: otherwise one of them was rewritten behind Warden's back, and the pack is not
/// signed off (naming the first item that disagrees).
pub(super) fn decisions<'h>(g: &Gathered, history: &'h History) -> Result<Vec<&'h Decided>> {
    let mut out = Vec::with_capacity(g.items.len());
    let mut by_default = 0;
    for i in &g.items {
        let trail = match (history.decided.get(&i.id), &history.defaulted) {
            (Some(d), _) => d,
            (None, Some((d, _))) => {
                by_default += 1;
                d
            }
            (None, None) => {
                return Err(disagree(i, "no decision recorded for it"));
            }
        };
        let agrees = i.decision == trail.verdict
            && i.decided_by
                .as_deref()
                .is_some_and(|by| same_identity(by, &trail.by))
            && i.comment.as_deref().unwrap_or_default() == trail.comment;
        // A reviewer's decision is the item's reviewer's, never the reviewed person's.
        let by_default = !history.decided.contains_key(&i.id);
        if !by_default
            && (!same_identity(&i.reviewer, &trail.by) || same_identity(&i.login, &trail.by))
        {
            return Err(disagree(
                i,
                &format!(
                    "the trail's decision (event {}) is by {}, who is not the item's reviewer {} \
                     or is the person reviewed",
                    trail.seq, trail.by, i.reviewer
                ),
            ));
        }
        if !agrees {
            return Err(disagree(
                i,
                &format!(
                    "the trail says {} by {} (event {})",
                    trail.verdict.map_or("nothing", Verdict::as_str),
                    trail.by,
                    trail.seq
                ),
            ));
        }
        out.push(trail);
    }
    let said = history.defaulted.as_ref().map_or(0, |(_, n)| *n);
    if by_default != said {
        return Err(Error::Invalid(format!(
            "campaign {}: the trail's default decided {said} items, the item table has \
             {by_default} without a reviewer's decision; the pack is not signed off",
            g.id
        )));
    }
    Ok(out)
}

fn disagree(i: &store::Item, trail: &str) -> Error {
    Error::Invalid(format!(
        "review item {}: the item table says {} by {}, {trail}; the pack is not signed off \
         (the item table was changed behind Warden's back: `warden audit verify` and the \
         action log show what the trail holds)",
        i.id,
        i.decision.map_or("nothing", Verdict::as_str),
        i.decided_by.as_deref().unwrap_or("nobody"),
    ))
}

/// Writes review_items.csv into `dir`; answers it and the campaign's totals.
pub(super) fn write(
    dir: &Path,
    g: &Gathered,
    lookup: &Lookup<'_>,
    history: &History,
) -> Result<(Described, Totals)> {
    let decided = decisions(g, history)?;
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
    for (i, d) in g.items.iter().zip(decided) {
        count(&mut totals, i);
        out.row(row(i, d, g, lookup, history))?;
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

/// Item `i`'s row, in [`HEADER`]'s order; its decision `d` as the trail recorded it.
fn row(
    i: &store::Item,
    d: &Decided,
    g: &Gathered,
    lookup: &Lookup<'_>,
    history: &History,
) -> [String; 31] {
    let u = lookup.user(i.user_id);
    let text = |f: fn(&User) -> Option<String>| u.and_then(f).unwrap_or_default();
    let reassigned_from = history.reassigned_from.get(&i.id);
    let rm = g.remediations.get(&i.id);
    let decision = d.verdict.map_or("", Verdict::as_str);
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
        d.by.clone(),
        time(Some(d.at.naive_utc())),
        d.comment.clone(),
        reassigned_from.cloned().unwrap_or_default(),
        if d.verdict == Some(Verdict::Revoke) {
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
