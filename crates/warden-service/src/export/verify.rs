//! Re-checking an export or a pack: offline against its manifest, or against the live
//! audit trail.

use std::path::{Path, PathBuf};

use serde::Serialize;
use warden_core::export::Manifest;

use super::{file_error, manifest_path, pack};
use crate::context::Ctx;
use crate::error::{Error, Result};

/// [`verify`], and then against the live audit trail (officers and auditors): the trail's
/// chain must hold, and it must record this very evidence. A pack's sign-off event must
/// be in the trail exactly as the manifest carries it; a CSV export's `export.*` event
/// must record the file's name and SHA-256. This catches what offline checks cannot: a
/// file rewritten together with its manifest, every hash recomputed.
pub async fn verify_against_trail(ctx: &Ctx, path: &Path) -> Result<VerifyResponse> {
    let r = ctx.as_reader("verifying an export against the audit trail")?;
    let mut checked = verify(path)?;
    let db = r.db();
    let chain = crate::audit::verify(ctx).await?;
    if !chain.ok {
        checked.problems.push(format!(
            "the audit trail itself does not verify (at event {}): it cannot vouch for this export",
            chain.first_bad_seq.unwrap_or_default()
        ));
    }
    let event_at = |seq: u64| async move {
        let search = warden_store::governance::AuditSearch {
            before: Some(seq + 1),
            limit: 1,
            ..Default::default()
        };
        let found = warden_store::governance::search_audit_events(db, &search).await?;
        Ok::<_, Error>(found.into_iter().next().filter(|(e, _, _)| e.seq == seq))
    };
    if path.is_dir() {
        let manifest_file = path.join("manifest.json");
        let text = std::fs::read(&manifest_file).map_err(|e| file_error(&manifest_file, e))?;
        if let Ok(m) = serde_json::from_slice::<warden_core::export::PackManifest>(&text) {
            match event_at(m.sign_off.seq).await? {
                Some((event, _, hash)) if hash == m.sign_off_hash && event == m.sign_off => {}
                Some(_) => checked.problems.push(format!(
                    "manifest.json: audit event {} in the trail is not the sign-off the manifest carries",
                    m.sign_off.seq
                )),
                None => checked.problems.push(format!(
                    "manifest.json: the trail has no audit event {}, the sign-off it names",
                    m.sign_off.seq
                )),
            }
        }
    } else {
        let csv_path = match path.to_string_lossy().strip_suffix(".manifest.json") {
            Some(csv) => PathBuf::from(csv),
            None => path.to_path_buf(),
        };
        let manifest_file = manifest_path(&csv_path);
        let text = std::fs::read(&manifest_file).map_err(|e| file_error(&manifest_file, e))?;
        if let Ok(m) = serde_json::from_slice::<Manifest>(&text) {
            let search = warden_store::governance::AuditSearch {
                action: Some(format!("export.{}", m.kind)),
                target: Some(m.file.clone()),
                limit: crate::audit::MAX_EVENTS,
                ..Default::default()
            };
            let events = warden_store::governance::search_audit_events(db, &search).await?;
            let recorded = events.iter().any(|(e, _, _)| {
                e.details["file"] == m.file.as_str() && e.details["sha256"] == m.sha256.as_str()
            });
            if !recorded {
                checked.problems.push(format!(
                    "{}: no export.{} event in the audit trail records this file with SHA-256 {}",
                    m.file, m.kind, m.sha256
                ));
            }
        }
    }
    checked.ok = checked.problems.is_empty();
    Ok(checked)
}

#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct VerifyResponse {
    pub ok: bool,
    pub file: String,
    pub rows: u64,
    /// What differs from the manifest; empty when intact.
    pub problems: Vec<String>,
}

/// Re-checks an exported CSV (or its manifest's path) against its manifest: SHA-256, byte
/// and row counts, and for the audit trail its hash chain up to the recorded head; or an
/// evidence pack's folder against its manifest.json. Offline: no database is needed.
pub fn verify(path: &Path) -> Result<VerifyResponse> {
    if path.is_dir() {
        return pack::verify(path);
    }
    let csv_path = match path.to_string_lossy().strip_suffix(".manifest.json") {
        Some(csv) => PathBuf::from(csv),
        None => path.to_path_buf(),
    };
    let manifest_path = manifest_path(&csv_path);
    let read = |p: &Path| std::fs::read(p).map_err(|e| file_error(p, e));
    let manifest: Manifest = match serde_json::from_slice(&read(&manifest_path)?) {
        Ok(m) => m,
        Err(e) => {
            return Ok(VerifyResponse {
                ok: false,
                file: csv_path.display().to_string(),
                rows: 0,
                problems: vec![format!(
                    "{}: does not read as a manifest: {e}",
                    manifest_path.display()
                )],
            });
        }
    };
    // Streamed (a large export is never held whole), but for the audit trail, which is
    // re-chained event by event.
    let mut problems = match manifest.kind.as_str() {
        "audit-trail" => warden_core::export::verify(&read(&csv_path)?, &manifest),
        _ => {
            let file = std::fs::File::open(&csv_path).map_err(|e| file_error(&csv_path, e))?;
            let input = std::io::BufReader::with_capacity(1 << 20, file);
            warden_core::export::verify_described(input, &manifest)
                .map_err(|e| file_error(&csv_path, e))?
        }
    };
    let on_disk = csv_path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned());
    if on_disk.as_deref() != Some(manifest.file.as_str()) {
        problems.push(format!(
            "the manifest describes {:?}, not {:?}",
            manifest.file,
            on_disk.unwrap_or_default()
        ));
    }
    Ok(VerifyResponse {
        ok: problems.is_empty(),
        file: csv_path.display().to_string(),
        rows: manifest.rows,
        problems,
    })
}
