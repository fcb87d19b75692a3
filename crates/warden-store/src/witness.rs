//! This client's witnesses of the audit trails it has seen (issue 18, item 6), in
//! `$XDG_STATE_HOME/warden/witness.json` (or `~/.local/state/warden/witness.json`): for each
//! trail, named by its schema and the hash of its first event (both of which a restore
//! keeps; the hash alone could repeat, two first events being alike), the highest head
//! seen — its sequence number and hash.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::connect::Database;
use crate::error::{Error, Result};

/// A head seen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Seen {
    pub seq: u64,
    pub hash: String,
}

/// The witness file's location.
pub fn path() -> Result<PathBuf> {
    let base = match std::env::var_os("XDG_STATE_HOME").filter(|v| !v.is_empty()) {
        Some(x) => PathBuf::from(x),
        None => std::env::var_os("HOME")
            .map(|h| PathBuf::from(h).join(".local").join("state"))
            .ok_or_else(|| Error::Config("neither XDG_STATE_HOME nor HOME is set".into()))?,
    };
    Ok(base.join("warden").join("witness.json"))
}

fn load_all(file: &Path) -> Result<BTreeMap<String, Seen>> {
    match std::fs::read_to_string(file) {
        Ok(text) => serde_json::from_str(&text)
            .map_err(|e| Error::Config(format!("{}: {e}", file.display()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(BTreeMap::new()),
        Err(e) => Err(Error::Config(format!("{}: {e}", file.display()))),
    }
}

/// The highest head this client saw of the trail whose first event has hash `genesis`.
pub fn seen(file: &Path, genesis: &str) -> Result<Option<Seen>> {
    Ok(load_all(file)?.remove(genesis))
}

/// Keeps `head` as seen of trail `genesis`, unless a higher head was seen before (a trail
/// found behind its witness must not lower it).
pub fn record(file: &Path, genesis: &str, head: &Seen) -> Result<()> {
    let mut all = load_all(file)?;
    if all.get(genesis).is_some_and(|s| s.seq >= head.seq) {
        return Ok(());
    }
    all.insert(genesis.to_string(), head.clone());
    let dir = file
        .parent()
        .ok_or_else(|| Error::Config(format!("{}: no parent folder", file.display())))?;
    std::fs::create_dir_all(dir).map_err(|e| Error::Config(format!("{}: {e}", dir.display())))?;
    let text = serde_json::to_string_pretty(&all)
        .map_err(|e| Error::Config(format!("cannot write the witness: {e}")))?;
    // Write beside, then rename: a crash never leaves half a file.
    let tmp = file.with_extension("json.tmp");
    std::fs::write(&tmp, text).map_err(|e| Error::Config(format!("{}: {e}", tmp.display())))?;
    std::fs::rename(&tmp, file).map_err(|e| Error::Config(format!("{}: {e}", file.display())))
}

/// The trail's identity (`schema:hash of its first event`) and head, when it has events.
pub async fn trail_head(db: &Database) -> Result<Option<(String, Seen)>> {
    let genesis: Option<String> = sqlx::query_scalar(
        "SELECT CAST(CONCAT(DATABASE(), ':', hash) AS CHAR) FROM warden_audit_events WHERE seq = 1",
    )
    .fetch_optional(db.gov())
    .await?;
    let Some(genesis) = genesis else {
        return Ok(None);
    };
    let (seq, hash) = crate::governance::audit_head(db).await?;
    Ok(Some((genesis, Seen { seq, hash })))
}
