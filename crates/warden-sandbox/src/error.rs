#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// MariaDB is not installed.
    #[error(
        "{0} not found: install mariadb-server (apt-get install mariadb-server), or run ./dev which installs it"
    )]
    MissingBinary(&'static str),
    /// The server would not start or answer.
    #[error("the sandbox server {0}")]
    Server(String),
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Store(#[from] warden_store::Error),
    #[error("{0}")]
    Input(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

pub(crate) fn io(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.display().to_string(),
        source,
    }
}
