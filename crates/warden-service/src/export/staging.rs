//! Writing a file whole or not at all: staged under a name of its own beside its
//! destination, synced, then linked into place, never replacing a file.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use super::file_error;
use crate::error::{Error, Result};

/// A file being written under a temporary name in its destination's directory, renamed
/// into place only when complete: a reader never sees half a file under the final name.
pub(super) struct Staged {
    pub(super) temp: PathBuf,
    dest: PathBuf,
    dir: bool,
}

impl Staged {
    pub(super) fn create(dest: &Path) -> Result<(Self, std::fs::File)> {
        let temp = Self::temp_name(dest)?;
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temp)
            .map_err(|e| file_error(&temp, e))?;
        // Only what this export created is ever removed.
        let staged = Self {
            temp,
            dest: dest.to_path_buf(),
            dir: false,
        };
        Ok((staged, file))
    }

    /// A folder (the evidence pack) staged the same way: written whole under a temporary
    /// name, then renamed.
    pub(super) fn create_dir(dest: &Path) -> Result<Self> {
        let temp = Self::temp_name(dest)?;
        std::fs::create_dir(&temp).map_err(|e| file_error(&temp, e))?;
        Ok(Self {
            temp,
            dest: dest.to_path_buf(),
            dir: true,
        })
    }

    /// `.NAME.partial-PID-N` beside `dest`: N counts this process's exports, so two at
    /// once to one name (the app can run several) never share a temporary.
    fn temp_name(dest: &Path) -> Result<PathBuf> {
        // Evidence is never overwritten: a new export takes a new name.
        if dest.exists() {
            return Err(Error::Invalid(format!(
                "{} exists: an export never replaces one; choose another name",
                dest.display()
            )));
        }
        let name = dest
            .file_name()
            .ok_or_else(|| Error::Invalid(format!("{}: not a file name", dest.display())))?;
        let mut prefix = std::ffi::OsString::from(".");
        prefix.push(name);
        prefix.push(".partial-");
        sweep_abandoned(dest, &prefix.to_string_lossy());
        static EXPORTS: AtomicU64 = AtomicU64::new(0);
        let n = EXPORTS.fetch_add(1, Ordering::Relaxed);
        let mut temp_name = prefix;
        temp_name.push(format!("{}-{n}", std::process::id()));
        Ok(dest.with_file_name(temp_name))
    }

    /// Syncs the file and gives it its final name, never replacing a file that appeared
    /// there meanwhile (another process's export): a hard link fails if the name is taken,
    /// where a rename would silently replace it.
    pub(super) fn commit(self, file: std::fs::File) -> Result<()> {
        let fail = |e: std::io::Error| file_error(&self.dest, e);
        file.sync_all().map_err(fail)?;
        drop(file);
        std::fs::hard_link(&self.temp, &self.dest).map_err(|e| match e.kind() {
            std::io::ErrorKind::AlreadyExists => Error::Invalid(format!(
                "{} appeared while the export was written: an export never replaces one",
                self.dest.display()
            )),
            _ => fail(e),
        })?;
        // The temporary name goes as `self` drops.
        Ok(())
    }

    /// Renames a staged folder into place once every file in it is synced.
    pub(super) fn commit_dir(self) -> Result<()> {
        let fail = |e: std::io::Error| file_error(&self.dest, e);
        std::fs::File::open(&self.temp)
            .and_then(|d| d.sync_all())
            .map_err(fail)?;
        // A folder cannot be linked: a rename onto a folder with anything in it fails, and
        // one that appeared meanwhile is refused here first.
        if self.dest.exists() {
            return Err(Error::Invalid(format!(
                "{} appeared while the pack was written: an export never replaces one",
                self.dest.display()
            )));
        }
        std::fs::rename(&self.temp, &self.dest).map_err(fail)?;
        Ok(())
    }
}

/// Removes the temporary files of earlier exports to the same name whose process is gone
/// (killed midway: nothing of it ran after). Only where the process table can be read
/// (Linux's /proc): elsewhere a file of a running export could not be told apart.
fn sweep_abandoned(dest: &Path, prefix: &str) {
    let proc = Path::new("/proc");
    if !proc.join("self").exists() {
        return;
    }
    let dir = match dest.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let name = entry.file_name();
        let Some(pid) = (name.to_str())
            .and_then(|n| n.strip_prefix(prefix))
            .map(|rest| rest.split('-').next().unwrap_or(rest))
        else {
            continue;
        };
        if pid.parse::<u32>().is_ok() && !proc.join(pid).exists() {
            tracing::info!(file = %entry.path().display(), "removing an abandoned export");
            let path = entry.path();
            let _ = match path.is_dir() {
                true => std::fs::remove_dir_all(&path),
                false => std::fs::remove_file(&path),
            };
        }
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        // Not committed (an error, a cancelled export): nothing is left behind. After a
        // rename the temporary name no longer exists and this does nothing.
        let _ = match self.dir {
            true => std::fs::remove_dir_all(&self.temp),
            false => std::fs::remove_file(&self.temp),
        };
    }
}
