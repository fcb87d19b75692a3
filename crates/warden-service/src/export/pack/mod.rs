//! The campaign evidence pack (DESIGN.md, Exports and evidence): one folder per closed
//! campaign with what an auditor of SOX, SOC 2 (CC6) or ISO 27001 (A.5.18) asks for: every
//! review item with its person, grant, context, decision and remediation; the population
//! at launch and after remediation; every action taken on the campaign; and a manifest
//! with the SHA-256 of each file and the officer's sign-off, which is itself an event on
//! the audit trail attesting those hashes.

use std::path::Path;

use warden_core::export::Described;

use super::Staged;
use crate::context::{Ctx, Officer};
use crate::error::Result;

/// access_before.csv and access_after.csv: the population at launch and now.
mod access;
/// action_log.csv: the campaign's events on the trail, and what they say of each item.
mod action_log;
/// One CSV of the pack, created new in its staged folder.
mod file;
/// What the pack is made of, read before anything is written.
mod gather;
/// manifest.json: what the pack holds, drawn up and written.
mod manifest;
/// review_items.csv, and the campaign's totals counted from it.
mod review_items;
/// The officer's sign-off: an event on the trail, committed once the pack is in place.
mod sign_off;
/// Re-checking a pack offline against its manifest.
mod verify;

use action_log::History;
use gather::{Gathered, Lookup};
use review_items::Totals;
pub use sign_off::PackResponse;
use sign_off::Unsigned;
pub use verify::verify;

/// Writes the evidence pack of closed campaign `id` to the new folder `dest` and records
/// the officer's sign-off on the audit trail (officers only: the export is the sign-off).
pub async fn campaign(
    ctx: &Ctx,
    id: u64,
    dest: &Path,
    progress: &super::Progress,
) -> Result<PackResponse> {
    crate::retry::retried(ctx.trail_db(), || campaign_once(ctx, id, dest, progress)).await
}

async fn campaign_once(
    ctx: &Ctx,
    id: u64,
    dest: &Path,
    progress: &super::Progress,
) -> Result<PackResponse> {
    let o = ctx.as_officer("signing off a campaign's evidence pack")?;
    let g = gather::gather(o, id).await?;
    let staged = Staged::create_dir(dest)?;
    let dir = staged.temp.clone();
    let (files, totals, history) = write_files(o, &dir, &g).await?;
    let at = o.clock().now();
    let me = &o.actor().login;
    let manifest = manifest::build(&g, history.closed_at, &totals, &files, me, at);
    if progress.is_cancelled() {
        return Err(super::cancelled(dest));
    }
    let pack = Unsigned {
        id,
        at,
        dest,
        staged,
        files,
        totals,
        manifest,
    };
    sign_off::sign_off(o, pack, progress).await
}

/// Writes the pack's four CSVs into the staged folder `dir`; answers them in the
/// manifest's order, with the campaign's totals and what the action log says.
async fn write_files(
    o: Officer<'_>,
    dir: &Path,
    g: &Gathered,
) -> Result<(Vec<Described>, Totals, History)> {
    let lookup = Lookup::new(&g.directory);
    // The action log first: what it says of each item goes into review_items.csv.
    let (action_log, history) = action_log::write(dir, o.db(), g).await?;
    let (review_items, mut totals) = review_items::write(dir, g, &lookup, &history)?;
    let before = access::before(dir, &g.items)?;
    let now = access::held_now(g);
    totals.insert("held_again", access::held_again(&g.items, &now));
    let after = access::after(dir, g, &lookup, &now)?;
    Ok((
        vec![review_items, before, after, action_log],
        totals,
        history,
    ))
}
