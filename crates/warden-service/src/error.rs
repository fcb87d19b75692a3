use serde::Serialize;
use warden_core::console::ConsoleRole;

/// A use case's failure, in words a security officer can act on.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The actor's console role does not allow this.
    #[error("{actor} is {role}: {what} needs the {needed} console role")]
    Forbidden {
        actor: String,
        role: ConsoleRole,
        needed: &'static str,
        what: &'static str,
    },
    /// The account the server authenticated is not an active console user's.
    #[error(
        "the database account {0} is not a Warden console user's; an officer adds people with \
         `warden console-users add LOGIN --role …`, which creates their account"
    )]
    NotConsoleUser(String),
    /// Something named does not exist.
    #[error("{0}")]
    NotFound(String),
    /// A request that cannot be carried out as asked.
    #[error("{0}")]
    Invalid(String),
    /// Stopped at the user's request, leaving nothing half-done.
    #[error("{0}")]
    Cancelled(String),
    #[error(transparent)]
    Store(#[from] warden_store::Error),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<warden_core::Error> for Error {
    fn from(e: warden_core::Error) -> Self {
        Self::Store(e.into())
    }
}

/// The closed set of error codes both front ends branch on (the CLI maps them to exit
/// codes, the desktop app to its error screens).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// Usage or configuration (profiles, mapping, missing migrations).
    Config,
    /// The database cannot be reached.
    Unavailable,
    /// A write was needed and the database is read-only.
    ReadOnly,
    /// The console role does not allow it.
    Forbidden,
    /// Input rejected: a bad file, policy or value.
    Input,
    /// Someone else changed it first.
    Conflict,
    /// It does not exist.
    NotFound,
    /// Anything else the database reported.
    Database,
    /// Stopped at the user's request.
    Cancelled,
    /// The account's password has expired: the person chooses a new one, then retries.
    PasswordExpired,
}

impl Error {
    pub fn code(&self) -> ErrorCode {
        use warden_store::Error as S;
        match self {
            Self::Forbidden { .. } | Self::NotConsoleUser(_) => ErrorCode::Forbidden,
            Self::NotFound(_) => ErrorCode::NotFound,
            Self::Invalid(_) => ErrorCode::Input,
            Self::Cancelled(_) => ErrorCode::Cancelled,
            Self::Store(s) => match s {
                S::Unavailable { .. } => ErrorCode::Unavailable,
                S::ReadOnly { .. } => ErrorCode::ReadOnly,
                S::NotMigrated | S::Mapping(_) | S::Config(_) => ErrorCode::Config,
                S::PasswordExpired { .. } => ErrorCode::PasswordExpired,
                S::NotFound(_) => ErrorCode::NotFound,
                S::Conflict(_) | S::Contended(_) => ErrorCode::Conflict,
                S::Input(_) => ErrorCode::Input,
                S::Refused(_) => ErrorCode::Forbidden,
                S::Database(_) => ErrorCode::Database,
            },
        }
    }
}
