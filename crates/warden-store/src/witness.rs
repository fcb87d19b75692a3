//! This client's witnesses of the audit trails it has seen (issue 18, item 6), in
//! `$XDG_STATE_HOME/warden/witness.json` (or `~/.local/state/warden/witness.json`): for each
//! place it reaches Warden's tables at (hosts and schema: [`Database::place`]), the highest
//! head seen — its sequence number and hash — and the hash of the trail's first event. A
//! trail rewritten from its first event, or emptied, is then told apart too: the place is
//! the same, the trail is not.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::connect::Database;
use crate::error::{Error, Result};

/// A trail's head seen, with its first event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Seen {
    /// The hash of event 1.
    pub first: String,
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

fn config(file: &Path, e: impl std::fmt::Display) -> Error {
    Error::Config(format!("{}: {e}", file.display()))
}

fn load_all(file: &Path) -> Result<BTreeMap<String, Seen>> {
    match std::fs::read_to_string(file) {
        Ok(text) => serde_json::from_str(&text).map_err(|e| config(file, e)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(BTreeMap::new()),
        Err(e) => Err(config(file, e)),
    }
}

/// The highest head this client saw at `place`.
pub fn seen(file: &Path, place: &str) -> Result<Option<Seen>> {
    Ok(load_all(file)?.remove(place))
}

/// Keeps `head` as seen at `place`, unless what was seen there before says otherwise: a
/// higher head of the same trail (a trail found behind its witness must not lower it), or
/// another trail (one rewritten from its first event must not replace the witness that
/// tells it apart). One process at a time (a lock beside the file); written to a new file,
/// then renamed over the old, so a crash never leaves half of one.
pub fn record(file: &Path, place: &str, head: &Seen) -> Result<()> {
    let dir = file
        .parent()
        .ok_or_else(|| config(file, "no parent folder"))?;
    std::fs::create_dir_all(dir).map_err(|e| config(dir, e))?;
    let lock_path = file.with_extension("lock");
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|e| config(&lock_path, e))?;
    // Held until `lock` is dropped, at the end of this call.
    rustix::fs::flock(&lock, rustix::fs::FlockOperation::LockExclusive)
        .map_err(|e| config(&lock_path, e))?;
    let mut all = load_all(file)?;
    if let Some(before) = all.get(place)
        && (before.first != head.first || before.seq >= head.seq)
    {
        return Ok(());
    }
    all.insert(place.to_string(), head.clone());
    let text = serde_json::to_string_pretty(&all).map_err(|e| config(file, e))?;
    let tmp = file.with_extension(format!("json.{}.tmp", std::process::id()));
    let mut out = {
        use std::os::unix::fs::OpenOptionsExt;
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)
            .map_err(|e| config(&tmp, e))?
    };
    let written = out
        .write_all(text.as_bytes())
        .and_then(|()| out.sync_all())
        .and_then(|()| std::fs::rename(&tmp, file));
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(config(file, e));
    }
    Ok(())
}

/// The trail's head and first event, when it has events.
pub async fn trail_head(db: &Database) -> Result<Option<Seen>> {
    let first: Option<String> =
        sqlx::query_scalar("SELECT hash FROM warden_audit_events WHERE seq = 1")
            .fetch_optional(db.gov())
            .await?;
    let Some(first) = first else {
        return Ok(None);
    };
    let (seq, hash) = crate::governance::audit_head(db).await?;
    Ok(Some(Seen { first, seq, hash }))
}
