//! Re-checking a pack folder offline against its manifest: every file it names is of the
//! folder, and each is as the manifest and its sign-off say.

use std::path::Path;

use warden_core::export::PackManifest;

use crate::error::Result;
use crate::export::{VerifyResponse, file_error};

/// Re-checks a pack folder offline against its manifest.json (see
/// [`warden_core::export::verify_pack`]).
pub fn verify(dir: &Path) -> Result<VerifyResponse> {
    let path = dir.join("manifest.json");
    let bytes = std::fs::read(&path).map_err(|e| file_error(&path, e))?;
    let altered = |problem: String| VerifyResponse {
        ok: false,
        file: dir.display().to_string(),
        rows: 0,
        problems: vec![problem],
    };
    let manifest: PackManifest = match serde_json::from_slice(&bytes) {
        Ok(m) => m,
        Err(e) => return Ok(altered(format!("manifest.json does not read as one: {e}"))),
    };
    let mut problems = Vec::new();
    // A manifest names files of its own folder only: an altered one must not make the
    // verifier read elsewhere.
    for f in &manifest.files {
        if Path::new(&f.file).file_name() != Some(std::ffi::OsStr::new(&f.file)) {
            problems.push(format!(
                "manifest.json names {:?}, which is not a file of the pack",
                f.file
            ));
        }
    }
    if !problems.is_empty() {
        return Ok(VerifyResponse {
            ok: false,
            file: dir.display().to_string(),
            rows: 0,
            problems,
        });
    }
    let present: Vec<String> = std::fs::read_dir(dir)
        .map_err(|e| file_error(dir, e))?
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    let read = |name: &str| std::fs::read(dir.join(name)).ok();
    problems = warden_core::export::verify_pack(&manifest, read, &present);
    Ok(VerifyResponse {
        ok: problems.is_empty(),
        file: dir.display().to_string(),
        rows: manifest.files.iter().map(|f| f.rows).sum(),
        problems,
    })
}
