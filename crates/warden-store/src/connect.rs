//! Connecting: a URL or a profile becomes a [`ConnectSpec`], which becomes a [`Database`]
//! (a pool on the application's schema and one on Warden's governance schema).

use std::path::PathBuf;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use sqlx::ConnectOptions as _;
use sqlx::mysql::{MySqlConnectOptions, MySqlPool, MySqlPoolOptions, MySqlSslMode};

use crate::error::{Error, Result, classify};
use crate::secret::Secret;

/// How the connection uses TLS. Profiles default to `verify-identity`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TlsMode {
    Disabled,
    Preferred,
    Required,
    VerifyCa,
    VerifyIdentity,
}

impl FromStr for TlsMode {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().replace('_', "-").as_str() {
            "disabled" => Ok(Self::Disabled),
            "preferred" => Ok(Self::Preferred),
            "required" => Ok(Self::Required),
            "verify-ca" => Ok(Self::VerifyCa),
            "verify-identity" => Ok(Self::VerifyIdentity),
            _ => Err(Error::Config(format!(
                "unknown TLS mode `{s}`: expected disabled, preferred, required, verify-ca or verify-identity"
            ))),
        }
    }
}

impl TlsMode {
    /// Whether the server's certificate is checked (against a CA).
    pub fn verifies(self) -> bool {
        matches!(self, Self::VerifyCa | Self::VerifyIdentity)
    }

    fn sqlx(self) -> MySqlSslMode {
        match self {
            Self::Disabled => MySqlSslMode::Disabled,
            Self::Preferred => MySqlSslMode::Preferred,
            Self::Required => MySqlSslMode::Required,
            Self::VerifyCa => MySqlSslMode::VerifyCa,
            Self::VerifyIdentity => MySqlSslMode::VerifyIdentity,
        }
    }
}

/// Everything needed to connect, password included (and never printed).
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectSpec {
    /// `host` or `host:port`, tried in order.
    pub hosts: Vec<String>,
    pub socket: Option<PathBuf>,
    pub user: String,
    pub password: Option<Secret>,
    pub database: String,
    pub tls: TlsMode,
    pub tls_ca: Option<PathBuf>,
    /// Where Warden's own tables live, when not beside the application's.
    pub governance_schema: Option<String>,
}

impl ConnectSpec {
    /// Parses `mysql://user@host:port/db?socket=/path&ssl-mode=verify-identity&ssl-ca=/ca.pem`.
    ///
    /// A password in the URL is refused: it would sit in shell history and the process
    /// list. Passwords come from the keyring (profiles) or `WARDEN_DATABASE_PASSWORD`.
    pub fn from_url(url: &str) -> Result<Self> {
        let bad = |why: &str| Error::Config(format!("database URL: {why}"));
        let rest = url
            .strip_prefix("mysql://")
            .or_else(|| url.strip_prefix("mariadb://"))
            .ok_or_else(|| {
                bad("must start with mysql:// (for example mysql://warden@db.example:3306/app)")
            })?;
        let (main, query) = rest.split_once('?').unwrap_or((rest, ""));
        let (authority, path) = main.split_once('/').unwrap_or((main, ""));
        let (userinfo, hostport) = authority
            .rsplit_once('@')
            .ok_or_else(|| bad("name the user, as in mysql://USER@HOST/DATABASE"))?;
        if userinfo.contains(':') {
            return Err(bad(
                "must not contain a password; use WARDEN_DATABASE_PASSWORD or a profile (the password then lives in the OS keyring)",
            ));
        }
        let user = percent_decode(userinfo).map_err(|e| bad(&e))?;
        if user.is_empty() {
            return Err(bad("the user is empty"));
        }
        let database = percent_decode(path.trim_end_matches('/')).map_err(|e| bad(&e))?;
        if database.is_empty() {
            return Err(bad("name the database, as in mysql://USER@HOST/DATABASE"));
        }
        let mut spec = Self {
            hosts: if hostport.is_empty() {
                vec!["localhost".into()]
            } else {
                hostport.split(',').map(str::to_string).collect()
            },
            socket: None,
            user,
            password: None,
            database,
            tls: TlsMode::Preferred,
            tls_ca: None,
            governance_schema: None,
        };
        let mut tls_given = false;
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let v = percent_decode(v).map_err(|e| bad(&e))?;
            match k {
                "socket" => spec.socket = Some(PathBuf::from(v)),
                "ssl-mode" | "sslmode" | "tls" => {
                    spec.tls = v.parse()?;
                    tls_given = true;
                }
                "ssl-ca" | "sslca" => spec.tls_ca = Some(PathBuf::from(v)),
                "governance-schema" | "governance_schema" => spec.governance_schema = Some(v),
                other => return Err(bad(&format!("unknown parameter `{other}`"))),
            }
        }
        let off_machine = spec.socket.is_none() && !spec.hosts.iter().all(|h| is_loopback(h));
        if !tls_given && (off_machine || spec.tls_ca.is_some()) {
            // Off this machine, or with a CA named, verify the server's certificate unless
            // told otherwise: a CA given is a CA to check against, never decoration.
            spec.tls = TlsMode::VerifyIdentity;
        }
        if spec.tls_ca.is_some() && !spec.tls.verifies() {
            return Err(bad(
                "a CA (`ssl-ca`) is for verifying the server: use ssl-mode=verify-ca or verify-identity with it",
            ));
        }
        Ok(spec)
    }

    /// `user@host:port/database`, for messages. Never contains the password.
    pub fn target(&self) -> String {
        let host = match &self.socket {
            Some(s) => format!("localhost (socket {})", s.display()),
            None => self.hosts.join(","),
        };
        format!("{}@{}/{}", self.user, host, self.database)
    }

    pub(crate) fn options(&self, host: &str, database: &str) -> Result<MySqlConnectOptions> {
        // sqlx warns of every statement slower than a second; Warden's bulk reads are slow by
        // design, so those notes are for `-vv` (debug), not a user's terminal.
        let mut o = MySqlConnectOptions::new()
            .username(&self.user)
            .database(database)
            .ssl_mode(self.tls.sqlx())
            .charset("utf8mb4")
            .log_slow_statements(
                tracing::log::LevelFilter::Debug,
                std::time::Duration::from_secs(1),
            );
        if let Some(p) = &self.password {
            o = o.password(p.expose());
        }
        if let Some(ca) = &self.tls_ca {
            o = o.ssl_ca(ca);
        }
        if let Some(sock) = &self.socket {
            return Ok(o.socket(sock));
        }
        let (h, port) = split_host_port(host)?;
        Ok(o.host(&h).port(port))
    }
}

fn is_loopback(hostport: &str) -> bool {
    // Decided by the address, never by how a name begins: `127.db.example.com` is a name
    // anywhere DNS says, not this machine.
    let host = split_host_port(hostport)
        .map(|(h, _)| h)
        .unwrap_or_default();
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

fn split_host_port(hostport: &str) -> Result<(String, u16)> {
    let bad = || {
        Error::Config(format!(
            "database host `{hostport}`: expected HOST or HOST:PORT"
        ))
    };
    if let Some(rest) = hostport.strip_prefix('[') {
        let (h, after) = rest.split_once(']').ok_or_else(bad)?;
        let port = match after.strip_prefix(':') {
            Some(p) => p.parse().map_err(|_| bad())?,
            None => 3306,
        };
        return Ok((h.to_string(), port));
    }
    match hostport.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') => Ok((h.to_string(), p.parse().map_err(|_| bad())?)),
        _ => Ok((hostport.to_string(), 3306)),
    }
}

fn percent_decode(s: &str) -> std::result::Result<String, String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| format!("bad percent-escape at byte {i}"))?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| "percent-escapes are not UTF-8".to_string())
}

/// A connection to the application's database and to Warden's governance schema: a pool
/// on each, both on one host of those given. When that host is lost, or stops taking
/// writes, [`Database::reconnect`] moves both pools to the first host that serves (its
/// connections opened from then on; those on the old host are dropped as they come back).
#[derive(Debug, Clone)]
pub struct Database {
    app: MySqlPool,
    gov: MySqlPool,
    target: String,
    governance_schema: Option<String>,
    /// How to open one more connection to the application's schema outside the pool
    /// (`crate::wire`, for the access log's bulk read).
    spec: ConnectSpec,
    /// The host in use and what it serves, shared by every clone (and read by the pools
    /// as they open connections).
    placement: Arc<Mutex<Placement>>,
    /// One move at a time: callers that lost the host together probe once each, in turn.
    moving: Arc<tokio::sync::Mutex<()>>,
}

/// Which host the pools open their connections on, and what it serves.
#[derive(Debug)]
struct Placement {
    host: String,
    /// Why this connection only reads, when no host was writable (a replica, a Galera
    /// node without quorum): every change is refused before it begins.
    read_only: Option<String>,
    galera: bool,
    /// When the pools last moved: a connection opened before then is on the previous host.
    moved: Option<Instant>,
    /// How many times the pools moved since the connection was made.
    moves: u32,
}

impl Placement {
    /// What each new connection runs first. On a Galera node every read waits until the
    /// node has applied what the cluster committed before it (`wsrep_sync_wait`: a change
    /// made through another node is seen); on one without quorum, reads are dirty — all
    /// it can answer, possibly stale.
    fn session(&self) -> Option<&'static str> {
        match (self.galera, self.read_only.is_some()) {
            (false, _) => None,
            (true, false) => Some("SET SESSION wsrep_sync_wait = 1"),
            (true, true) => Some("SET SESSION wsrep_dirty_reads = ON"),
        }
    }
}

/// What a host can be used for.
enum Serves {
    Writes,
    /// Reads only, and why.
    Reads(String),
}

/// The host chosen among those given: the first that takes writes, failing that the first
/// that answers reads (read-only, with why and the hosts tried).
struct Chosen {
    host: String,
    read_only: Option<String>,
    galera: bool,
}

impl Database {
    /// Connects to the first host that answers.
    pub async fn connect(spec: &ConnectSpec) -> Result<Self> {
        let target = spec.target();
        if let Some(path) = &spec.socket {
            // sqlx opens its own sockets; this one proves who serves the path before any
            // of them authenticates (a server swapped in between would have to win a race
            // against a path only its owner can replace).
            crate::peer::connect(path, CONNECT_TIMEOUT)
                .await
                .map_err(|reason| Error::Unavailable {
                    target: target.clone(),
                    reason,
                })?;
        }
        let chosen = choose(spec, &target).await?;
        let placement = Arc::new(Mutex::new(Placement {
            host: chosen.host,
            read_only: chosen.read_only,
            galera: chosen.galera,
            moved: None,
            moves: 0,
        }));
        let (host, read_only) = {
            let p = lock(&placement);
            (p.host.clone(), p.read_only.clone())
        };
        let app = pool(spec.options(&host, &spec.database)?, &placement);
        let gov = match &spec.governance_schema {
            Some(schema) if schema != &spec.database => {
                warden_core::ident::check(schema)
                    .map_err(|e| Error::Config(format!("governance schema {schema:?} {e}")))?;
                if read_only.is_none() {
                    ensure_schema(&app, &target, schema).await?;
                }
                pool(spec.options(&host, schema)?, &placement)
            }
            _ => app.clone(),
        };
        if let Some(why) = &read_only {
            tracing::warn!(host, reason = %why, "connected read-only");
        }
        Ok(Self {
            app,
            gov,
            target,
            governance_schema: spec.governance_schema.clone(),
            spec: spec.clone(),
            placement,
            moving: Arc::default(),
        })
    }

    /// Chooses a host again, as [`Database::connect`] did, and moves both pools there: the
    /// host in use was lost (a node killed, a primary gone), or only reads were served and
    /// a writer may have returned. A transaction open on the old host is not carried over:
    /// the caller makes its change again, whole. Fails, keeping the old host, when none
    /// answers.
    pub async fn reconnect(&self) -> Result<()> {
        let _one_at_a_time = self.moving.lock().await;
        let chosen = choose(&self.spec, &self.target).await?;
        let app = self.spec.options(&chosen.host, &self.spec.database)?;
        let gov = match &self.governance_schema {
            Some(schema) => self.spec.options(&chosen.host, schema)?,
            None => app.clone(),
        };
        let from = {
            let mut p = lock(&self.placement);
            let from = std::mem::replace(&mut p.host, chosen.host.clone());
            p.read_only = chosen.read_only.clone();
            p.galera = chosen.galera;
            p.moved = Some(Instant::now());
            p.moves += 1;
            from
        };
        self.app.set_connect_options(app);
        if self.governance_schema.is_some() {
            self.gov.set_connect_options(gov);
        }
        match &chosen.read_only {
            None => tracing::info!(from, to = %chosen.host, "moved to a host that takes writes"),
            Some(why) => tracing::warn!(from, to = %chosen.host, reason = %why, "moved, read-only"),
        }
        Ok(())
    }

    /// Why this connection only reads (no host took writes), if it does.
    pub fn read_only(&self) -> Option<String> {
        lock(&self.placement).read_only.clone()
    }

    /// The host in use (`host:port`, or `localhost` over a socket).
    pub fn host(&self) -> String {
        lock(&self.placement).host.clone()
    }

    /// How many times [`Database::reconnect`] moved this connection.
    pub fn moves(&self) -> u32 {
        lock(&self.placement).moves
    }

    /// Where Warden's tables are, as this client reaches them: the hosts given (or the
    /// socket) and the governance schema. What this client's witness of the trail is kept
    /// under (`crate::witness`).
    pub fn place(&self) -> String {
        let at = match &self.spec.socket {
            Some(path) => path.display().to_string(),
            None => self.spec.hosts.join(","),
        };
        let schema = self
            .governance_schema
            .as_deref()
            .unwrap_or(&self.spec.database);
        format!("{at}/{schema}")
    }

    /// The application's schema (read through the mapping).
    pub fn app(&self) -> &MySqlPool {
        &self.app
    }

    /// Warden's own tables.
    pub fn gov(&self) -> &MySqlPool {
        &self.gov
    }

    /// `user@host:port/database`, for messages.
    pub fn target(&self) -> &str {
        &self.target
    }

    pub fn governance_schema(&self) -> Option<&str> {
        self.governance_schema.as_deref()
    }

    /// How the pools connected, password included.
    pub(crate) fn spec(&self) -> &ConnectSpec {
        &self.spec
    }

    pub async fn close(&self) {
        self.app.close().await;
        self.gov.close().await;
    }
}

/// The placement, whatever a panicking holder left (it holds plain values, always whole).
fn lock(placement: &Mutex<Placement>) -> std::sync::MutexGuard<'_, Placement> {
    placement
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The first host of `spec`'s that takes writes; failing that, the first that answers
/// reads (a replica, a Galera node without quorum), read-only, with why and the hosts
/// tried; failing that, why the last one did not answer.
async fn choose(spec: &ConnectSpec, target: &str) -> Result<Chosen> {
    let hosts: Vec<&str> = if spec.socket.is_some() {
        vec!["localhost"]
    } else {
        spec.hosts.iter().map(String::as_str).collect()
    };
    let mut last = None;
    let mut reads_only: Option<(&str, bool)> = None;
    let mut tried = Vec::new();
    for host in hosts {
        match probe(spec.options(host, &spec.database)?).await {
            Ok((Serves::Writes, galera)) => {
                return Ok(Chosen {
                    host: host.to_string(),
                    read_only: None,
                    galera,
                });
            }
            Ok((Serves::Reads(why), galera)) => {
                tried.push(format!("{host} {why}"));
                reads_only.get_or_insert((host, galera));
            }
            Err(e) => {
                tracing::debug!(host, error = %e, "connection failed");
                tried.push(format!("{host}: {e}"));
                last = Some(classify(target, e));
            }
        }
    }
    if let Some((host, galera)) = reads_only {
        return Ok(Chosen {
            host: host.to_string(),
            read_only: Some(format!("no host takes writes ({})", tried.join("; "))),
            galera,
        });
    }
    Err(last.unwrap_or_else(|| Error::Config("no database host given".into())))
}

/// How long a server may take to answer a connection attempt.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Signs in to `options`' host once, to surface the real reason of a failure at once (a
/// pool would retry until its timeout and report only that): what it serves (writes; reads
/// only, and why) and whether it is a Galera node, or why not (it does not answer, or is a
/// node still joining). An account whose password has expired signs in, and may even run
/// `SET`, but nothing else (error 1820) until the password is changed.
async fn probe(options: MySqlConnectOptions) -> std::result::Result<(Serves, bool), sqlx::Error> {
    use sqlx::{ConnectOptions, Connection, Executor};
    let mut probe = tokio::time::timeout(CONNECT_TIMEOUT, options.connect())
        .await
        .map_err(|_| {
            sqlx::Error::Io(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                format!("no answer within {} s", CONNECT_TIMEOUT.as_secs()),
            ))
        })??;
    probe.execute("SELECT 1").await?;
    let galera = galera_on(&mut probe).await?;
    let serves = match galera_node(&mut probe, galera).await? {
        Some(Serves::Reads(why)) => Serves::Reads(why),
        // A writable Galera node, or a server of its own: unless set read-only (a replica;
        // a node kept from writes to have one writer). Anything but OFF/0 counts as on.
        Some(Serves::Writes) | None => {
            use sqlx::Row;
            let value: Option<String> = sqlx::query("SHOW GLOBAL VARIABLES LIKE 'read_only'")
                .fetch_optional(&mut probe)
                .await?
                .map(|row| row.try_get::<String, _>(1))
                .transpose()?;
            match value.as_deref().map(str::to_ascii_uppercase).as_deref() {
                None | Some("OFF" | "0") => Serves::Writes,
                Some(_) => Serves::Reads(replica_state(&mut probe).await),
            }
        }
    };
    // The probe has answered; how it says goodbye does not matter. Over TLS the server
    // closes on COM_QUIT before the client's close_notify is written, which sqlx reports
    // as a broken pipe: that must not fail a connection that works.
    if let Err(e) = probe.close().await {
        tracing::debug!(error = %e, "closing the probe connection");
    }
    Ok((serves, galera))
}

/// The pool on `options`' host. Each connection starts with what the placement's host
/// needs (`Placement::session`); one opened before the pools last moved is dropped when it
/// would be handed out (it is on the old host).
fn pool(options: MySqlConnectOptions, placement: &Arc<Mutex<Placement>>) -> MySqlPool {
    use sqlx::Executor;
    let (at_connect, at_acquire) = (placement.clone(), placement.clone());
    // Connections are kept, not recycled on a timer: each new one is a sign-in that the
    // peer check at `Database::connect` did not see (a server's restart still reconnects).
    MySqlPoolOptions::new()
        .max_connections(4)
        .acquire_timeout(CONNECT_TIMEOUT)
        .idle_timeout(None)
        .max_lifetime(None)
        .after_connect(move |conn, _| {
            let session = lock(&at_connect).session();
            Box::pin(async move {
                if let Some(sql) = session {
                    conn.execute(sql).await?;
                }
                Ok(())
            })
        })
        .before_acquire(move |_, meta| {
            let moved = lock(&at_acquire).moved;
            let current = moved.is_none_or(|at| meta.age <= at.elapsed());
            Box::pin(async move { Ok(current) })
        })
        .connect_lazy_with(options)
}

/// What a read-only server says of its replication, for the reason reads only are served:
/// how far behind its primary it is, or that its primary does not answer. An account
/// without the privilege to ask gets the plain fact.
async fn replica_state(conn: &mut sqlx::MySqlConnection) -> String {
    use sqlx::Row;
    let Ok(Some(row)) = sqlx::query("SHOW REPLICA STATUS")
        .fetch_optional(&mut *conn)
        .await
    else {
        return "is read-only (a replica?)".into();
    };
    // MariaDB keeps the old column names; MySQL 8.0.22 on has new ones.
    let text = |names: [&str; 2]| {
        names
            .iter()
            .find_map(|n| row.try_get::<Option<String>, _>(*n).ok().flatten())
    };
    let behind = ["Seconds_Behind_Master", "Seconds_Behind_Source"]
        .iter()
        .find_map(|n| row.try_get::<Option<u64>, _>(*n).ok().flatten());
    let io = text(["Slave_IO_Running", "Replica_IO_Running"]).unwrap_or_default();
    match (behind, io.as_str()) {
        (Some(s), "Yes") => format!("is a replica, {s} s behind its primary"),
        _ => format!("is a replica whose primary does not answer (replication: {io})"),
    }
}

/// Whether the server is a node of a Galera cluster (`wsrep_on`; MySQL has no such
/// variable: an empty answer, not an error).
async fn galera_on(conn: &mut sqlx::MySqlConnection) -> std::result::Result<bool, sqlx::Error> {
    use sqlx::Row;
    let value: Option<String> = sqlx::query("SHOW VARIABLES LIKE 'wsrep_on'")
        .fetch_optional(&mut *conn)
        .await?
        .map(|row| row.try_get::<String, _>(1))
        .transpose()?;
    Ok(value.is_some_and(|v| v.eq_ignore_ascii_case("ON")))
}

/// What a Galera node serves: writes when synced in a primary component, reads only when
/// outside one (no quorum); None for a server that is not a node. A node still joining
/// (or giving its state to one) is not used.
async fn galera_node(
    conn: &mut sqlx::MySqlConnection,
    galera: bool,
) -> std::result::Result<Option<Serves>, sqlx::Error> {
    if !galera {
        return Ok(None);
    }
    let status: Vec<(String, String)> = sqlx::query_as(
        "SHOW STATUS WHERE Variable_name IN ('wsrep_ready', 'wsrep_local_state_comment', \
         'wsrep_cluster_status')",
    )
    .fetch_all(&mut *conn)
    .await?;
    let of = |name: &str| {
        (status.iter())
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    };
    if of("wsrep_cluster_status") != Some("Primary") {
        return Ok(Some(Serves::Reads(format!(
            "is a Galera node outside the primary component (no quorum: cluster {})",
            of("wsrep_cluster_status").unwrap_or("?")
        ))));
    }
    let ready =
        of("wsrep_ready") == Some("ON") && of("wsrep_local_state_comment") == Some("Synced");
    if !ready {
        return Err(sqlx::Error::Io(std::io::Error::other(format!(
            "a Galera node that is not ready (wsrep_ready {}, state {})",
            of("wsrep_ready").unwrap_or("?"),
            of("wsrep_local_state_comment").unwrap_or("?"),
        ))));
    }
    Ok(Some(Serves::Writes))
}

async fn ensure_schema(app: &MySqlPool, target: &str, schema: &str) -> Result<()> {
    let exists: Option<i64> =
        sqlx::query_scalar("SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?")
            .bind(schema)
            .fetch_optional(app)
            .await
            .map_err(|e| classify(target, e))?;
    if exists.is_none() {
        let mut qb = sqlx::QueryBuilder::<sqlx::MySql>::new("CREATE DATABASE IF NOT EXISTS ");
        qb.push(warden_core::ident::quote(schema));
        qb.push(" CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci");
        qb.build()
            .execute(app)
            .await
            .map_err(|e| classify(target, e))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_url_shapes() {
        let s = ConnectSpec::from_url("mysql://warden@db.example:3307/app").unwrap();
        assert_eq!(s.hosts, vec!["db.example:3307"]);
        assert_eq!(s.user, "warden");
        assert_eq!(s.database, "app");
        assert_eq!(
            s.tls,
            TlsMode::VerifyIdentity,
            "remote hosts verify by default"
        );

        let s =
            ConnectSpec::from_url("mysql://root@localhost/demo?socket=/tmp/x%20y.sock").unwrap();
        assert_eq!(s.socket, Some(PathBuf::from("/tmp/x y.sock")));
        assert_eq!(s.tls, TlsMode::Preferred);
        assert_eq!(s.target(), "root@localhost (socket /tmp/x y.sock)/demo");

        let s = ConnectSpec::from_url("mysql://a@127.0.0.1:1/d?ssl-mode=disabled").unwrap();
        assert_eq!(s.tls, TlsMode::Disabled);
    }

    #[test]
    fn loopback_is_an_address_and_a_ca_means_verification() {
        assert!(is_loopback("127.0.0.1:3306"));
        assert!(is_loopback("[::1]:3306"));
        assert!(is_loopback("localhost"));
        assert!(!is_loopback("127.db.example.com"));
        assert!(!is_loopback("127.0.0.1.nip.io:3306"));
        let named = ConnectSpec::from_url("mysql://w@127.db.example.com/app").unwrap();
        assert_eq!(
            named.tls,
            TlsMode::VerifyIdentity,
            "a name is not this machine"
        );
        let ca = ConnectSpec::from_url("mysql://w@localhost/app?ssl-ca=/ca.pem").unwrap();
        assert_eq!(ca.tls, TlsMode::VerifyIdentity, "a CA given means verify");
        let ca = ConnectSpec::from_url("mysql://w@localhost/app?ssl-ca=/ca.pem&ssl-mode=verify-ca")
            .unwrap();
        assert_eq!(ca.tls, TlsMode::VerifyCa);
        let err =
            ConnectSpec::from_url("mysql://w@localhost/app?ssl-ca=/ca.pem&ssl-mode=preferred")
                .unwrap_err();
        assert!(
            err.to_string()
                .contains("use ssl-mode=verify-ca or verify-identity"),
            "{err}"
        );
    }

    #[test]
    fn refuses_passwords_and_junk() {
        let err = ConnectSpec::from_url("mysql://root:hunter2@db/app")
            .unwrap_err()
            .to_string();
        assert!(err.contains("must not contain a password"), "{err}");
        assert!(!err.contains("hunter2"));
        for bad in [
            "postgres://a@b/c",
            "mysql://b/c",
            "mysql://a@b",
            "mysql://a@b/c?x=1",
        ] {
            assert!(ConnectSpec::from_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn host_and_port_split() {
        assert_eq!(split_host_port("h:1").unwrap(), ("h".into(), 1));
        assert_eq!(split_host_port("h").unwrap(), ("h".into(), 3306));
        assert_eq!(split_host_port("[::1]:5").unwrap(), ("::1".into(), 5));
        assert!(split_host_port("h:x").is_err());
    }
}
