use warden_core::mapping::MappingProblem;

/// What can go wrong talking to the database, in the domain's words.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The server could not be reached or refused us. `target` names it when known (the
    /// connection that failed), empty when the error arose on a query.
    #[error("{} is unreachable: {reason}", server(.target))]
    Unavailable { target: String, reason: String },
    /// A write was needed but the server is read-only: a replica, or a Galera node outside
    /// the primary component (no quorum). `reason` says which, and the hosts tried.
    #[error("read-only: {} {reason}; this change needs a writable primary", server(.target))]
    ReadOnly { target: String, reason: String },
    /// The account's password has expired: the server runs nothing until it is changed.
    #[error(
        "the password of the account signing in to {} has expired: choose a new one \
         (`warden password`, or the app's sign-in asks)",
        server(.target)
    )]
    PasswordExpired { target: String },
    /// Warden's own tables are missing.
    #[error("Warden's tables are not in this database: run `warden migrate` first")]
    NotMigrated,
    /// Something looked up does not exist.
    #[error("{0}")]
    NotFound(String),
    /// Someone else changed it first, or it already exists.
    #[error("{0}")]
    Conflict(String),
    /// A concurrent transaction won (a Galera node certified another's write set first, an
    /// InnoDB deadlock, a lock wait timed out): the change was not made, and made again it
    /// may well succeed.
    #[error("{0}")]
    Contended(String),
    /// The mapping does not fit this database.
    #[error("mapping: {}", warden_core::mapping::summarize(.0))]
    Mapping(Vec<MappingProblem>),
    /// Connection settings, profiles, the config file or the keyring.
    #[error("{0}")]
    Config(String),
    /// Input that cannot be accepted (a bad file, a bad value).
    #[error("{0}")]
    Input(String),
    /// The server refused it: the account lacks the privilege, or one of Warden's triggers
    /// or routines said no. The server's message is kept (it names no value).
    #[error("the database server refused it: {0}")]
    Refused(String),
    /// Any other database error; the message carries the server's error code, never SQL.
    #[error("database error: {0}")]
    Database(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<warden_core::Error> for Error {
    fn from(e: warden_core::Error) -> Self {
        match e {
            warden_core::Error::Mapping(p) => Self::Mapping(p),
            other => Self::Input(other.to_string()),
        }
    }
}

/// "database host:port/db", or "the database" when the server is not named.
fn server(target: &str) -> String {
    match target {
        "" => "the database".to_string(),
        t => format!("database {t}"),
    }
}

/// A query's error in the domain's words, so every query of the store ends in `?`.
impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Self {
        classify("", e)
    }
}

/// rustls's refusal of the server's certificate, said so that the officer knows what to
/// fix: which CA the server's certificate must come from.
fn certificate_refused(message: &str) -> Option<String> {
    let detail = message.strip_prefix("invalid peer certificate: ")?;
    Some(format!(
        "the server's certificate is not trusted ({detail}): it was not issued by the CA \
         given (ssl-ca in the URL, --tls-ca in the profile), or, with no CA given, by one \
         the operating system trusts; no password was sent"
    ))
}

/// Turns a sqlx error into the domain's words. `target` names the server (host:port/db),
/// or is empty.
pub(crate) fn classify(target: &str, e: sqlx::Error) -> Error {
    use sqlx::Error as E;
    match e {
        E::RowNotFound => Error::NotFound("no such row".into()),
        E::Io(io) => Error::Unavailable {
            target: target.into(),
            reason: certificate_refused(&io.to_string()).unwrap_or_else(|| io.to_string()),
        },
        E::Tls(tls) => Error::Unavailable {
            target: target.into(),
            reason: certificate_refused(&tls.to_string()).unwrap_or_else(|| format!("TLS: {tls}")),
        },
        E::PoolTimedOut => Error::Unavailable {
            target: target.into(),
            reason: "timed out waiting for a connection".into(),
        },
        E::PoolClosed | E::WorkerCrashed => Error::Unavailable {
            target: target.into(),
            reason: "the connection pool is closed".into(),
        },
        E::Database(db) => {
            let code = db
                .try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>()
                .map(|m| m.number())
                .unwrap_or(0);
            tracing::debug!(code, message = %db.message(), "database error");
            match code {
                // Access denied, unknown database, too many connections, server shutdown.
                1044 | 1045 | 1049 | 1040 | 1053 | 1698 => Error::Unavailable {
                    target: target.into(),
                    reason: db.message().to_string(),
                },
                // A Galera node outside the primary component refuses every statement that
                // is not a dirty read; a connection killed on the server.
                1047 | 1927 => Error::Unavailable {
                    target: target.into(),
                    reason: db.message().to_string(),
                },
                // The account is locked (MariaDB 4151, MySQL 3118): removed from the console.
                4151 | 3118 => Error::Refused(format!(
                    "the database account is locked (a console user who was removed): {}",
                    db.message()
                )),
                // "You must SET PASSWORD before executing this statement"; MySQL 8's
                // refusal to log in with an expired password.
                1820 | 1862 => Error::PasswordExpired {
                    target: target.into(),
                },
                // --read-only / super_read_only.
                1290 | 1836 => Error::ReadOnly {
                    target: target.into(),
                    reason: "is read-only (a replica?)".into(),
                },
                1062 => Error::Conflict("it already exists".into()),
                1213 | 1205 => Error::Contended(
                    "someone else changed the same rows at the same time; retry".into(),
                ),
                // A command, column or routine denied; a privilege only an administrator has.
                1142 | 1143 | 1370 | 1227 => Error::Refused(format!(
                    "the database account lacks the privilege (error {code}): {}",
                    db.message()
                )),
                // SIGNAL from one of Warden's triggers or routines: their own words.
                1644 => Error::Refused(db.message().to_string()),
                // Syntax errors quote the statement back: never show those.
                1064 | 1149 => Error::Database(format!(
                    "error {code} (a statement Warden built was refused)"
                )),
                _ => Error::Database(format!(
                    "error {code} (SQLSTATE {}): {}",
                    db.code().as_deref().unwrap_or("?"),
                    db.message().chars().take(200).collect::<String>()
                )),
            }
        }
        E::Protocol(p) => Error::Unavailable {
            target: target.into(),
            reason: format!("protocol: {p}"),
        },
        E::Configuration(c) => Error::Config(format!("connection settings: {c}")),
        // These name a column and a type, never SQL text.
        E::ColumnDecode { .. }
        | E::ColumnNotFound(_)
        | E::ColumnIndexOutOfBounds { .. }
        | E::Decode(_) => Error::Database(format!("unexpected data: {e}")),
        other => {
            tracing::debug!(error = %other, "database error");
            Error::Database("unexpected client error".into())
        }
    }
}
