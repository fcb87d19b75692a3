//! The officer's sign-off: an event on the audit trail attesting every file's hash and
//! the manifest's digest, carried whole in the manifest so that the auditor can recompute
//! its hash and find it in the trail.

use std::path::Path;
use std::sync::atomic::Ordering;

use chrono::{DateTime, Utc};
use serde::Serialize;
use warden_core::export::{Described, PackManifest};
use warden_store::governance::Change;

use super::manifest;
use super::review_items::Totals;
use crate::context::Officer;
use crate::error::Result;
use crate::export::{Progress, Staged};

#[derive(Debug, Clone, Serialize)]
pub struct PackResponse {
    pub dir: String,
    pub campaign: u64,
    pub files: Vec<Described>,
    /// SHA-256 of manifest.json: the pack's fingerprint.
    pub manifest_sha256: String,
    /// The sign-off's event on the audit trail.
    pub audit_seq: u64,
}

/// A pack written whole in its staged folder but for manifest.json, whose manifest is
/// drawn up at `at` with its sign-off still blank.
pub(super) struct Unsigned<'a> {
    pub(super) id: u64,
    pub(super) at: DateTime<Utc>,
    pub(super) dest: &'a Path,
    pub(super) staged: Staged,
    pub(super) files: Vec<Described>,
    pub(super) totals: Totals,
    pub(super) manifest: PackManifest,
}

/// Signs `pack` off: appends the sign-off event, places the pack (manifest.json carrying
/// the event, the folder renamed to its name), then commits the event.
pub(super) async fn sign_off(
    o: Officer<'_>,
    pack: Unsigned<'_>,
    progress: &Progress,
) -> Result<PackResponse> {
    let Unsigned {
        id,
        at,
        dest,
        staged,
        files,
        totals,
        mut manifest,
    } = pack;
    let details = attestation(id, &files, &totals, &manifest);
    // The event is written but committed only once the pack is in place: a pack that
    // could not be written leaves no sign-off behind, and a sign-off always has its pack.
    let mut change = Change::begin(o.db(), &o.actor().login, at).await?;
    let (event, previous, hash) = change
        .append("review.sign_off", &format!("campaign {id}"), details)
        .await?;
    let audit_seq = event.seq;
    manifest.sign_off = event;
    manifest.sign_off_previous_hash = previous;
    manifest.sign_off_hash = hash;
    let manifest_sha256 = place(staged, &manifest)?;
    let rows = files.iter().map(|f| f.rows).sum();
    progress.rows.store(rows, Ordering::Relaxed);
    if let Err(e) = change.finish().await {
        // Not recorded: the pack is not evidence of a sign-off, and goes.
        let _ = std::fs::remove_dir_all(dest);
        return Err(e.into());
    }
    Ok(PackResponse {
        dir: dest.display().to_string(),
        campaign: id,
        files,
        manifest_sha256,
        audit_seq,
    })
}

/// What the sign-off attests: every file's hash, the totals, and the digest of the
/// manifest but its sign-off.
fn attestation(
    id: u64,
    files: &[Described],
    totals: &Totals,
    manifest: &PackManifest,
) -> serde_json::Value {
    let attested: serde_json::Map<String, serde_json::Value> = (files.iter())
        .map(|f| (f.file.clone(), f.sha256.clone().into()))
        .collect();
    serde_json::json!({
        "campaign": id, "files": attested, "totals": totals,
        "manifest_sha256": manifest.body_sha256(),
    })
}

/// Writes manifest.json into the staged folder and renames the folder into place;
/// answers the manifest's SHA-256.
fn place(staged: Staged, manifest: &PackManifest) -> Result<String> {
    let manifest_sha256 = manifest::write(&staged.temp, manifest)?;
    staged.commit_dir()?;
    Ok(manifest_sha256)
}
