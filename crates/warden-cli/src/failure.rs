//! Errors as the CLI reports them: a message on stderr (and a JSON document on stdout with
//! `--format json`), and the exit code CLI.md documents.

use std::process::ExitCode;

use serde::Serialize;
use warden_service::ErrorCode;

use crate::output::Format;

#[derive(Debug, Serialize)]
pub struct Failure {
    pub code: ErrorCode,
    pub message: String,
    /// The reader of stdout went away (`warden … | head`): stop quietly, like any filter.
    #[serde(skip)]
    pub broken_pipe: bool,
}

impl Failure {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            broken_pipe: false,
        }
    }

    pub fn usage(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Config, message)
    }

    /// 2 usage or configuration, 3 unreachable or read-only, 4 not allowed, 5 input
    /// rejected, 6 conflict; 130 (128 + SIGINT, as a shell reports it) interrupted.
    pub fn exit_code(&self) -> u8 {
        match self.code {
            ErrorCode::Cancelled => 130,
            ErrorCode::Config
            | ErrorCode::NotFound
            | ErrorCode::Database
            | ErrorCode::PasswordExpired => 2,
            ErrorCode::Unavailable | ErrorCode::ReadOnly => 3,
            ErrorCode::Forbidden => 4,
            ErrorCode::Input => 5,
            ErrorCode::Conflict => 6,
        }
    }

    pub fn report(self, format: Format) -> ExitCode {
        if self.broken_pipe {
            // 128 + SIGPIPE, as a shell reports a filter killed by a closed pipe.
            return ExitCode::from(141);
        }
        eprintln!("error: {}", crate::output::terminal_safe(&self.message));
        if format == Format::Json {
            let doc = serde_json::json!({ "error": &self });
            println!("{doc}");
        }
        ExitCode::from(self.exit_code())
    }
}

impl From<warden_service::Error> for Failure {
    fn from(e: warden_service::Error) -> Self {
        Self::new(e.code(), e.to_string())
    }
}

impl From<warden_store::Error> for Failure {
    fn from(e: warden_store::Error) -> Self {
        warden_service::Error::from(e).into()
    }
}

impl From<warden_core::Error> for Failure {
    fn from(e: warden_core::Error) -> Self {
        warden_service::Error::from(e).into()
    }
}

impl From<warden_sandbox::Error> for Failure {
    fn from(e: warden_sandbox::Error) -> Self {
        use warden_sandbox::Error as E;
        match e {
            E::Store(s) => s.into(),
            E::Server(_) => Self::new(ErrorCode::Unavailable, e.to_string()),
            E::MissingBinary(_) | E::Io { .. } | E::Input(_) => Self::usage(e.to_string()),
        }
    }
}

impl From<anyhow::Error> for Failure {
    fn from(e: anyhow::Error) -> Self {
        let broken_pipe = e
            .chain()
            .filter_map(|c| c.downcast_ref::<std::io::Error>())
            .any(|io| io.kind() == std::io::ErrorKind::BrokenPipe);
        Self {
            broken_pipe,
            ..Self::usage(format!("{e:#}"))
        }
    }
}

/// The value of a flag that names one of a closed set (`--kind`, `--reviewer`): the
/// member whose name it is, or an input error listing the names it may be.
pub fn word<T: Copy + std::fmt::Display>(what: &str, value: &str, all: &[T]) -> Result<T, Failure> {
    let value = value.trim();
    all.iter()
        .copied()
        .find(|member| member.to_string() == value)
        .ok_or_else(|| {
            let names: Vec<String> = all.iter().map(ToString::to_string).collect();
            Failure::new(
                ErrorCode::Input,
                format!(
                    "unknown {what} `{value}`: expected one of {}",
                    names.join(", ")
                ),
            )
        })
}

/// [`word`] for a filter flag: absent or empty does not filter.
pub fn filter_word<T: Copy + std::fmt::Display>(
    what: &str,
    value: Option<&str>,
    all: &[T],
) -> Result<Option<T>, Failure> {
    value
        .filter(|v| !v.trim().is_empty())
        .map(|v| word(what, v, all))
        .transpose()
}
