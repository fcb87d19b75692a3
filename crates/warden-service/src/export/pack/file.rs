//! One CSV of the pack: created new in the staged folder, its write errors naming it,
//! synced when closed.

use std::path::{Path, PathBuf};

use warden_core::export::{CsvOut, Described};

use crate::error::Result;
use crate::export::file_error;

type Out = CsvOut<std::io::BufWriter<std::fs::File>>;

/// A CSV of the pack being written.
pub(super) struct PackFile {
    name: &'static str,
    path: PathBuf,
    /// The writer itself, for a caller whose callback answers [`std::io::Error`].
    pub(super) out: Out,
}

impl PackFile {
    /// Creates `name` in `dir` (never over a file) and writes its header.
    pub(super) fn create(dir: &Path, name: &'static str, header: &[&str]) -> Result<Self> {
        let path = dir.join(name);
        let file = crate::export::staging::new_file(&path)?;
        let out = CsvOut::new(std::io::BufWriter::new(file), header, false)
            .map_err(|e| file_error(&path, e))?;
        Ok(Self { name, path, out })
    }

    pub(super) fn row<S: AsRef<str>>(&mut self, cells: impl IntoIterator<Item = S>) -> Result<()> {
        self.out.row(cells).map_err(|e| file_error(&self.path, e))
    }

    /// Flushes and syncs the file; answers what the manifest says of it.
    pub(super) fn close(self) -> Result<Described> {
        let fail = |e: std::io::Error| file_error(&self.path, e);
        let (buffered, written) = self.out.finish().map_err(fail)?;
        let file = buffered.into_inner().map_err(|e| fail(e.into_error()))?;
        file.sync_all().map_err(fail)?;
        Ok(Described::of(self.name, &written))
    }
}

/// A time as the pack's CSVs write it; none is an empty cell.
pub(super) fn time(t: Option<chrono::NaiveDateTime>) -> String {
    t.map(|t| t.format("%Y-%m-%dT%H:%M:%S").to_string())
        .unwrap_or_default()
}
