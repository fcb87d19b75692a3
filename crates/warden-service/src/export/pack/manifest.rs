//! manifest.json: the campaign, how its population was read, the totals, and each file
//! with its SHA-256; the sign-off is carried whole once it is on the trail.

use std::path::Path;

use chrono::{DateTime, Utc};
use warden_core::audit::AuditEvent;
use warden_core::export::{Described, PACK_FORMAT, PackManifest};

use super::file::time;
use super::gather::Gathered;
use super::review_items::Totals;
use crate::error::Result;
use crate::export::file_error;

/// The manifest of the pack `files` make up, drawn up by `me` at `at`; its sign-off is
/// left blank for [`super::sign_off`] to fill.
pub(super) fn build(
    g: &Gathered,
    closed_at: Option<String>,
    totals: &Totals,
    files: &[Described],
    me: &str,
    at: DateTime<Utc>,
) -> PackManifest {
    let c = &g.campaign;
    let scope: serde_json::Value =
        serde_json::from_str(&c.scope).unwrap_or_else(|_| c.scope.clone().into());
    PackManifest {
        format: PACK_FORMAT.into(),
        campaign: serde_json::json!({
            "id": g.id, "name": c.name, "status": c.status,
            "reviewer_rule": c.reviewer_rule, "fallback": c.fallback, "undecided": c.undecided,
            "policy_version": c.policy_version,
            "launched_at": time(Some(c.created_at)), "launched_by": c.created_by,
            "due": c.due.to_string(), "closed_at": closed_at,
        }),
        scope,
        population_query: population_query(),
        source: g.source.clone(),
        totals: serde_json::to_value(totals).unwrap_or_default(),
        files: files.to_vec(),
        sign_off: AuditEvent {
            seq: 0,
            occurred_at: at,
            actor: me.to_string(),
            db_account: String::new(),
            action: String::new(),
            target: String::new(),
            details: serde_json::Value::Null,
        },
        sign_off_previous_hash: String::new(),
        sign_off_hash: String::new(),
        generated_at: at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        generated_by: me.to_string(),
    }
}

/// How the population was chosen, and the query its items are read with.
fn population_query() -> String {
    [
        "every (user, role) grant of the application's user-role table, read through the \
         mapping, whose user is of the scope's departments and job functions and whose role \
         is of its roles (an empty list does not narrow), as written at launch: ",
        warden_store::reviews::ITEM_COLUMNS,
        " WHERE campaign_id = ? ORDER BY login, role, id",
    ]
    .concat()
}

/// Writes `manifest` as manifest.json into the staged folder `dir`, synced; answers its
/// SHA-256, the pack's fingerprint.
pub(super) fn write(dir: &Path, manifest: &PackManifest) -> Result<String> {
    let path = dir.join("manifest.json");
    let mut file = crate::export::staging::new_file(&path)?;
    let fail = |e: std::io::Error| file_error(&path, e);
    let mut text = serde_json::to_vec_pretty(manifest).map_err(|e| file_error(&path, e))?;
    text.push(b'\n');
    std::io::Write::write_all(&mut file, &text).map_err(fail)?;
    let manifest_sha256 = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(&text))
    };
    file.sync_all().map_err(fail)?;
    Ok(manifest_sha256)
}
