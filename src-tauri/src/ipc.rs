//! What crosses the IPC boundary besides the service's own types: the error shape the UI
//! branches on, and the connection screen's data. TypeScript types are generated from these
//! (see `tests/bindings.rs`).

use serde::{Deserialize, Serialize};
use ts_rs::TS;
use warden_core::console::ConsoleRole;
use warden_service::ErrorCode;

/// Every command fails with this: a code from a closed set, a message for people, and
/// optional detail behind a disclosure.
#[derive(Debug, Clone, Serialize, TS)]
pub struct IpcError {
    pub code: IpcCode,
    pub message: String,
    pub detail: Option<String>,
}

/// The closed set of codes the page branches on: the service's [`ErrorCode`]s, and the
/// shell's own. In TypeScript a string union, so a misspelt code fails to compile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(untagged)]
pub enum IpcCode {
    Service(ErrorCode),
    Shell(ShellCode),
}

/// What only the shell reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ShellCode {
    /// No session yet: the page is to show the connection screen.
    NotConnected,
    /// Locked after the idle time: the page is to hide and ask for the password.
    Locked,
    /// The shell itself failed (the page makes this one when a call fails without a code).
    Internal,
}

impl IpcError {
    pub fn locked() -> Self {
        Self {
            code: IpcCode::Shell(ShellCode::Locked),
            message: "Locked after a while without input: enter your password to go on.".into(),
            detail: None,
        }
    }

    pub fn not_connected() -> Self {
        Self {
            code: IpcCode::Shell(ShellCode::NotConnected),
            message: "Not connected to a database: pick or add a profile.".into(),
            detail: None,
        }
    }
}

impl From<warden_service::Error> for IpcError {
    fn from(e: warden_service::Error) -> Self {
        Self {
            code: IpcCode::Service(e.code()),
            message: e.to_string(),
            detail: None,
        }
    }
}

impl From<warden_store::Error> for IpcError {
    fn from(e: warden_store::Error) -> Self {
        warden_service::Error::from(e).into()
    }
}

/// A profile as the connection screen lists it (never its password).
#[derive(Debug, Clone, Serialize, TS)]
pub struct ProfileSummary {
    pub name: String,
    pub hosts: Vec<String>,
    pub user: String,
    pub database: String,
    pub mapping: String,
}

/// Where the app is connected, as whom, and what else it could connect to.
#[derive(Debug, Clone, Serialize, TS)]
pub struct ConnectionInfo {
    pub connected: bool,
    /// Locked after the idle time: the session is dropped until the password is entered.
    pub locked: bool,
    /// After how long without input the app locks.
    pub idle_lock_seconds: u64,
    pub target: Option<String>,
    pub actor: Option<String>,
    /// The actor's console role, as the page branches on it (a string union in TypeScript).
    pub role: Option<ConsoleRole>,
    /// No host took writes (a replica, a Galera node without quorum): reads go on, every
    /// change is refused until a session opens on a primary.
    pub read_only: bool,
    /// Why, and the hosts tried.
    pub read_only_reason: Option<String>,
    pub profiles: Vec<ProfileSummary>,
    /// Why the last connection attempt failed.
    pub error: Option<IpcError>,
}

/// A new profile from the connection screen; the password goes to the OS keyring.
#[derive(Debug, Clone, Deserialize, TS)]
pub struct AddProfileRequest {
    pub name: String,
    pub host: String,
    pub port: u16,
    pub user: String,
    pub database: String,
    pub tls: String,
    pub mapping: String,
    /// The CA certificate to verify the server with: the PEM text of the file the person
    /// chose in the form (the page reads the file; it never names a path). Kept beside the
    /// config as `ca/NAME.pem`, and pinned: the server's certificate must come from it.
    pub ca_pem: Option<String>,
    /// Kept as a secret from the moment it arrives: never logged, never sent back.
    #[ts(type = "string")]
    pub password: warden_store::Secret,
}

pub use warden_service::export::ExportRequest;

/// How far an export has come; `result` or `error` once `done`.
#[derive(Debug, Clone, Serialize, TS)]
pub struct ExportStatus {
    pub id: u64,
    /// Rows written so far, of about `total` (0: not known in advance).
    pub rows: u64,
    pub total: u64,
    /// Cancel was asked and the export is removing what it wrote.
    pub cancelling: bool,
    pub done: bool,
    pub result: Option<warden_service::export::ExportResponse>,
    pub error: Option<IpcError>,
}

/// How far a file import has come; `result` or `error` once `done`.
#[derive(Debug, Clone, Serialize, TS)]
pub struct ImportStatus {
    pub id: u64,
    /// Bytes of the file read, of `total`.
    pub bytes: u64,
    pub total: u64,
    /// Events read so far.
    pub events: u64,
    /// Cancel was asked for: the import stops after the chunk being written.
    pub cancelling: bool,
    pub done: bool,
    pub result: Option<warden_service::logs::IngestResponse>,
    pub error: Option<IpcError>,
}

/// What a native file dialog is for: the command that uses its answer checks the purpose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "kebab-case")]
pub enum FilePurpose {
    /// A Save dialog: where an export's CSV goes.
    ExportFile,
    /// A folder for a campaign's evidence pack.
    ExportFolder,
    /// An audit-log file to import.
    Import,
    /// An export to verify (its CSV).
    Verify,
    /// An evidence pack to verify (its folder).
    VerifyPack,
}

impl FilePurpose {
    /// The dialog's title (end-to-end tests find the dialog by it).
    pub fn title(self) -> &'static str {
        match self {
            Self::ExportFile => "Save the export",
            Self::ExportFolder => "Choose a folder for the evidence pack",
            Self::Import => "Choose an audit-log file to import",
            Self::Verify => "Choose an export to verify",
            Self::VerifyPack => "Choose an evidence pack to verify",
        }
    }
}

/// A file the person chose: its number for the command that uses it, and its name.
#[derive(Debug, Clone, Serialize, TS)]
pub struct ChosenFile {
    pub id: u64,
    pub name: String,
}

/// An export to start: what, and the number of the file chosen for it (`choose_file`).
#[derive(Debug, Clone, Deserialize, TS)]
pub struct ExportStart {
    #[serde(flatten)]
    pub what: warden_service::export::ExportKind,
    pub bom: bool,
    pub file: u64,
}
