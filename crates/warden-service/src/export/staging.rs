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
        let file = new_file(&temp)?;
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
        new_dir(&temp)?;
        Ok(Self {
            temp,
            dest: dest.to_path_buf(),
            dir: true,
        })
    }

    /// `.NAME.partial-HOST-PID-N` beside `dest`: N counts this process's exports, so two at
    /// once to one name (the app can run several) never share a temporary; HOST keeps the
    /// exports of two machines on one shared folder apart (a process number means nothing
    /// on another machine).
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
        prefix.push(host_name());
        prefix.push("-");
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
        let appeared = || {
            Error::Invalid(format!(
                "{} appeared while the export was written: an export never replaces one",
                self.dest.display()
            ))
        };
        match std::fs::hard_link(&self.temp, &self.dest) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => return Err(appeared()),
            // No hard links here (FAT, some SMB and FUSE mounts): a rename that refuses to
            // replace does the same.
            Err(_) => rename_noreplace(&self.temp, &self.dest).map_err(|e| match e.kind() {
                std::io::ErrorKind::AlreadyExists => appeared(),
                _ => fail(e),
            })?,
        }
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

/// A new file, readable and writable by its owner only from the moment it exists (an
/// export holds who may do what: never anyone's to read by default).
pub(super) fn new_file(path: &Path) -> Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| file_error(path, e))
}

/// A new folder, its owner's only from the moment it exists.
pub(super) fn new_dir(path: &Path) -> Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .mode(0o700)
        .create(path)
        .map_err(|e| file_error(path, e))
}

/// Renames `from` to `to` unless `to` exists (`renameat2(RENAME_NOREPLACE)`): atomic, and
/// never over another's file.
pub(super) fn rename_noreplace(from: &Path, to: &Path) -> std::io::Result<()> {
    rustix::fs::renameat_with(
        rustix::fs::CWD,
        from,
        rustix::fs::CWD,
        to,
        rustix::fs::RenameFlags::NOREPLACE,
    )
    .map_err(std::io::Error::from)
}

/// This machine's name as it may appear in a file name (letters, digits, `.`, `-`).
fn host_name() -> String {
    let name = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    let clean: String = name
        .trim()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-'))
        .collect();
    match clean.is_empty() {
        true => "host".into(),
        false => clean,
    }
}

/// Removes the temporary files of earlier exports to the same name whose process is gone
/// (killed midway: nothing of it ran after), on this machine: `prefix` carries its name, so
/// another machine's export on a shared folder is never touched. Only where the process
/// table can be read (Linux's /proc): elsewhere a file of a running export could not be
/// told apart.
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_and_folders_are_their_owners_alone_from_the_start() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f.csv");
        drop(new_file(&file).unwrap());
        let folder = dir.path().join("pack");
        new_dir(&folder).unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&file), 0o600);
        assert_eq!(mode(&folder), 0o700);
    }

    #[test]
    fn the_rename_that_stands_in_for_a_link_never_replaces() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b, c) = (
            dir.path().join("a"),
            dir.path().join("b"),
            dir.path().join("c"),
        );
        std::fs::write(&a, "new").unwrap();
        std::fs::write(&b, "someone else's").unwrap();
        let err = rename_noreplace(&a, &b).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::AlreadyExists);
        assert_eq!(std::fs::read_to_string(&b).unwrap(), "someone else's");
        rename_noreplace(&a, &c).unwrap();
        assert_eq!(std::fs::read_to_string(&c).unwrap(), "new");
    }

    #[test]
    fn staged_names_carry_this_machines_name_and_the_sweep_keeps_others() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("out.csv");
        // Another machine's export to the same name on a shared folder, its process number
        // meaningless here (and gone here).
        let theirs = dir.path().join(".out.csv.partial-othermachine-999999999-0");
        std::fs::write(&theirs, "theirs").unwrap();
        let (staged, file) = Staged::create(&dest).unwrap();
        let name = staged
            .temp
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        assert!(
            name.starts_with(&format!(".out.csv.partial-{}-", host_name())),
            "{name}"
        );
        drop(file);
        drop(staged);
        assert!(theirs.exists(), "another machine's export is left alone");
    }
}
