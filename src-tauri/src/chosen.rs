//! Files and folders the person chose in the native Open/Save dialogs, shown from Rust.
//! The page never names a path: it asks for a dialog for a purpose, gets back a number and
//! the chosen name (to show), and hands the number to the command that reads or writes.
//! A number is good only for its purpose (an export's may be verified afterwards).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;

use tauri::AppHandle;
use tauri_plugin_dialog::DialogExt;

use crate::ipc::{ChosenFile, FilePurpose, IpcCode, IpcError};

#[derive(Debug, Default)]
pub struct Chosen {
    next: Mutex<u64>,
    paths: Mutex<HashMap<u64, (FilePurpose, PathBuf)>>,
}

impl Chosen {
    fn keep(&self, purpose: FilePurpose, path: PathBuf) -> ChosenFile {
        let id = {
            let mut next = self.next.lock().unwrap_or_else(|e| e.into_inner());
            *next += 1;
            *next
        };
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| path.display().to_string());
        (self.paths.lock().unwrap_or_else(|e| e.into_inner())).insert(id, (purpose, path));
        ChosenFile { id, name }
    }

    /// The path chosen as `id`, if it was chosen for one of `purposes`.
    pub fn path(&self, id: u64, purposes: &[FilePurpose]) -> Result<PathBuf, IpcError> {
        let paths = self.paths.lock().unwrap_or_else(|e| e.into_inner());
        match paths.get(&id) {
            Some((p, path)) if purposes.contains(p) => Ok(path.clone()),
            _ => Err(IpcError {
                code: IpcCode::Service(warden_service::ErrorCode::Input),
                message: "choose the file in the dialog first".into(),
                detail: None,
            }),
        }
    }
}

/// Shows the native dialog for `purpose` and keeps what was chosen (None: cancelled).
/// `suggested` is a file name for a Save dialog; only its last component is used.
pub async fn choose(
    app: &AppHandle,
    chosen: &Chosen,
    purpose: FilePurpose,
    suggested: Option<String>,
) -> Option<ChosenFile> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let mut dialog = app.dialog().file().set_title(purpose.title());
    // In the person's home folder, not GTK's "Recent" list (which would show what other
    // programs opened, and takes a typed path as a search).
    if let Ok(home) = tauri::Manager::path(app).home_dir() {
        dialog = dialog.set_directory(home);
    }
    let send = move |p: Option<tauri_plugin_dialog::FilePath>| {
        let _ = tx.send(p.and_then(|p| p.into_path().ok()));
    };
    match purpose {
        FilePurpose::ExportFile => {
            let name = suggested
                .as_deref()
                .and_then(|s| std::path::Path::new(s).file_name())
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| "export.csv".into());
            dialog.set_file_name(name).save_file(send);
        }
        FilePurpose::ExportFolder | FilePurpose::VerifyPack => dialog.pick_folder(send),
        FilePurpose::Import | FilePurpose::Verify => dialog.pick_file(send),
    }
    let path = rx.await.ok().flatten()?;
    Some(chosen.keep(purpose, path))
}
