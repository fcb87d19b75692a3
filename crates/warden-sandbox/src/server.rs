//! Private `mariadbd` processes: the demo sandbox (`warden sandbox start|status|url|stop`)
//! and the test servers.

use std::io::Read;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result, io};

/// The database the demo sandbox keeps the reference application and Warden's tables in.
pub const DEMO_DATABASE: &str = "warden_demo";

/// A running sandbox server, as `warden sandbox start` reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SandboxInfo {
    pub url: String,
    pub data_dir: PathBuf,
    pub pid: u32,
    pub port: u16,
    pub socket: PathBuf,
}

/// `$XDG_DATA_HOME/warden/sandbox`, or `~/.local/share/warden/sandbox`.
pub fn default_data_dir() -> Result<PathBuf> {
    xdg_dir("XDG_DATA_HOME", ".local/share").map(|d| d.join("warden").join("sandbox"))
}

fn xdg_dir(var: &str, fallback: &str) -> Result<PathBuf> {
    if let Some(v) = std::env::var_os(var).filter(|v| !v.is_empty()) {
        return Ok(PathBuf::from(v));
    }
    std::env::var_os("HOME")
        .map(|h| PathBuf::from(h).join(fallback))
        .ok_or_else(|| Error::Input(format!("neither {var} nor HOME is set")))
}

/// Finds a MariaDB program: in `WARDEN_MARIADB_BINDIR` when set (and only there), else on
/// PATH or in the sbin folders Debian installs it to.
pub(crate) fn find_binary(name: &'static str) -> Result<PathBuf> {
    if let Some(dir) = std::env::var_os("WARDEN_MARIADB_BINDIR").filter(|d| !d.is_empty()) {
        let p = PathBuf::from(dir).join(name);
        return if p.is_file() {
            Ok(p)
        } else {
            Err(Error::MissingBinary(name))
        };
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/usr/local/sbin", "/usr/bin"].map(PathBuf::from))
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
        .ok_or(Error::MissingBinary(name))
}

pub(crate) fn is_root() -> bool {
    // The effective uid, without unsafe code: /proc/self is owned by it.
    std::fs::metadata("/proc/self")
        .map(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0)
        .unwrap_or(false)
}

/// A data directory made once by `mariadb-install-db`, copied for every new server.
pub(crate) fn ensure_template() -> Result<PathBuf> {
    let mariadbd = find_binary("mariadbd")?;
    let version = Command::new(&mariadbd)
        .arg("--version")
        .output()
        .map_err(io(&mariadbd))?;
    let version = String::from_utf8_lossy(&version.stdout);
    let tag: String = version
        .split_whitespace()
        .nth(2)
        .unwrap_or("unknown")
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '.' || *c == '-')
        .collect();
    let cache = xdg_dir("XDG_CACHE_HOME", ".cache")?.join("warden");
    let template = cache.join(format!("mariadb-template-{tag}"));
    if template.join("data").join("mysql").is_dir() {
        return Ok(template);
    }
    std::fs::create_dir_all(&cache).map_err(io(&cache))?;
    let staging = cache.join(format!("mariadb-template-{tag}.{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&staging);
    std::fs::create_dir_all(&staging).map_err(io(&staging))?;
    let install_db = find_binary("mariadb-install-db")?;
    let mut cmd = Command::new(&install_db);
    cmd.arg("--no-defaults")
        .arg(format!("--datadir={}", staging.join("data").display()))
        .arg("--auth-root-authentication-method=normal")
        .arg("--skip-test-db");
    if is_root() {
        cmd.arg("--user=root");
    }
    let out = cmd.output().map_err(io(&install_db))?;
    if !out.status.success() {
        return Err(Error::Server(format!(
            "template could not be created by mariadb-install-db: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    match std::fs::rename(&staging, &template) {
        Ok(()) => Ok(template),
        // Another process made it first: use theirs.
        Err(_) if template.join("data").join("mysql").is_dir() => {
            let _ = std::fs::remove_dir_all(&staging);
            Ok(template)
        }
        Err(e) => Err(io(&template)(e)),
    }
}

pub(crate) fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to).map_err(io(to))?;
    for entry in std::fs::read_dir(from).map_err(io(from))? {
        let entry = entry.map_err(io(from))?;
        let target = to.join(entry.file_name());
        if entry.file_type().map_err(io(from))?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target).map_err(io(&target))?;
        }
    }
    Ok(())
}

pub(crate) fn free_port() -> Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")
        .map_err(|e| Error::Server(format!("cannot find a free port: {e}")))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| Error::Server(format!("cannot find a free port: {e}")))
}

struct Layout {
    dir: PathBuf,
}

impl Layout {
    fn data(&self) -> PathBuf {
        self.dir.join("data")
    }
    fn socket(&self) -> PathBuf {
        self.dir.join("mysqld.sock")
    }
    fn pid_file(&self) -> PathBuf {
        self.dir.join("mysqld.pid")
    }
    fn error_log(&self) -> PathBuf {
        self.dir.join("error.log")
    }
    fn init_file(&self) -> PathBuf {
        self.dir.join("init.sql")
    }
    fn state(&self) -> PathBuf {
        self.dir.join("sandbox.json")
    }
    fn tmp(&self) -> PathBuf {
        self.dir.join("tmp")
    }
}

/// Starts `mariadbd` on `layout` (copying the template if the data directory is new).
fn spawn(layout: &Layout, port: u16, die_with_parent: bool, extra: &[String]) -> Result<Child> {
    let mariadbd = find_binary("mariadbd")?;
    if !layout.data().join("mysql").is_dir() {
        let template = ensure_template()?;
        copy_dir(&template.join("data"), &layout.data())?;
    }
    // Root may connect only through the socket, which lives in a folder only the OS user can
    // enter: no passwordless root over TCP, even on loopback.
    std::fs::write(
        layout.init_file(),
        format!(
            "DROP USER IF EXISTS 'root'@'127.0.0.1';\nDROP USER IF EXISTS 'root'@'::1';\n\
             CREATE DATABASE IF NOT EXISTS {DEMO_DATABASE} \
             CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;\n"
        ),
    )
    .map_err(io(&layout.init_file()))?;
    std::fs::create_dir_all(layout.tmp()).map_err(io(&layout.tmp()))?;
    set_private(&layout.dir)?;
    let log = std::fs::File::create(layout.dir.join("mariadbd.out")).map_err(io(&layout.dir))?;
    let log2 = log.try_clone().map_err(io(&layout.dir))?;
    let mut cmd = Command::new(&mariadbd);
    cmd.arg("--no-defaults");
    if is_root() {
        cmd.arg("--user=root");
    }
    cmd.arg(format!("--datadir={}", layout.data().display()))
        .arg(format!("--port={port}"))
        .arg("--bind-address=127.0.0.1")
        .arg(format!("--socket={}", layout.socket().display()))
        .arg(format!("--pid-file={}", layout.pid_file().display()))
        .arg(format!("--log-error={}", layout.error_log().display()))
        .arg(format!("--init-file={}", layout.init_file().display()))
        .arg(format!("--tmpdir={}", layout.tmp().display()))
        .arg("--skip-name-resolve")
        .arg("--character-set-server=utf8mb4")
        .arg("--collation-server=utf8mb4_unicode_ci")
        // A sandbox trades durability for speed: it is rebuilt, never restored.
        .arg("--innodb-flush-log-at-trx-commit=2")
        .arg("--innodb-doublewrite=0")
        .arg("--innodb-buffer-pool-size=1G")
        .arg("--max-connections=300")
        .arg("--max-allowed-packet=256M")
        .args(extra)
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log2);
    if die_with_parent {
        die_with_parent_thread(&mut cmd);
    } else {
        // Its own process group: Ctrl-C in the terminal that started it does not stop it.
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
    }
    cmd.spawn().map_err(io(&mariadbd))
}

fn set_private(dir: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(io(dir))
}

#[allow(unsafe_code)]
pub(crate) fn die_with_parent_thread(cmd: &mut Command) {
    use std::os::unix::process::CommandExt;
    // SAFETY: prctl(PR_SET_PDEATHSIG) is async-signal-safe and touches no memory of the
    // parent; it only asks the kernel to kill the child when the spawning thread exits.
    unsafe {
        cmd.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

/// Waits until the server answers on its socket (it sends its handshake first).
fn wait_ready(layout: &Layout, child: &mut Child) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(mut s) = UnixStream::connect(layout.socket()) {
            let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
            let mut buf = [0u8; 4];
            if s.read(&mut buf).map(|n| n > 0).unwrap_or(false) {
                return Ok(());
            }
        }
        if let Ok(Some(status)) = child.try_wait() {
            return Err(Error::Server(format!(
                "exited ({status}) while starting; its log says: {}",
                log_tail(&layout.error_log())
            )));
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            return Err(Error::Server(format!(
                "did not answer within 60 s; its log says: {}",
                log_tail(&layout.error_log())
            )));
        }
        // Polling a socket the server has not opened yet; nothing to wait on but time.
        std::thread::sleep(Duration::from_millis(15));
    }
}

pub(crate) fn log_tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().rev().take(5).collect();
    lines.into_iter().rev().collect::<Vec<_>>().join(" | ")
}

pub(crate) fn socket_url(socket: &Path, database: &str) -> String {
    let mut encoded = String::new();
    for b in socket.as_os_str().as_encoded_bytes() {
        match *b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'/' | b'-' | b'_' | b'.' | b'~' => {
                encoded.push(*b as char)
            }
            other => encoded.push_str(&format!("%{other:02X}")),
        }
    }
    let mut url = String::from("mysql://root@localhost/");
    url.push_str(database);
    url.push_str("?socket=");
    url.push_str(&encoded);
    url
}

fn process_serves(pid: u32, data_dir: &Path) -> bool {
    let Ok(cmdline) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
        return false;
    };
    let wanted = format!("--datadir={}", data_dir.display());
    cmdline
        .split(|b| *b == 0)
        .any(|arg| arg == wanted.as_bytes())
}

/// Whether `pid` is a live process (not gone, and not a zombie awaiting its parent).
fn running(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|stat| {
            stat.rsplit(") ")
                .next()
                .is_some_and(|rest| !rest.starts_with('Z') && !rest.starts_with('X'))
        })
        .unwrap_or(false)
}

/// The sandbox at `dir`, if its server is running.
pub fn status(dir: &Path) -> Result<Option<SandboxInfo>> {
    let layout = Layout {
        dir: dir.to_path_buf(),
    };
    let Ok(text) = std::fs::read_to_string(layout.state()) else {
        return Ok(None);
    };
    let info: SandboxInfo = serde_json::from_str(&text)
        .map_err(|e| Error::Input(format!("{}: {e}", layout.state().display())))?;
    if process_serves(info.pid, &layout.data()) {
        Ok(Some(info))
    } else {
        Ok(None)
    }
}

/// Starts the sandbox at `dir` (idempotent: a running one is returned as it is).
pub fn start(dir: &Path, port: Option<u16>) -> Result<SandboxInfo> {
    if let Some(info) = status(dir)? {
        return Ok(info);
    }
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let dir = dir.canonicalize().map_err(io(dir))?;
    let layout = Layout { dir: dir.clone() };
    let port = match port {
        Some(p) => p,
        None => free_port()?,
    };
    let mut child = spawn(&layout, port, false, &[])?;
    wait_ready(&layout, &mut child)?;
    let info = SandboxInfo {
        url: socket_url(&layout.socket(), DEMO_DATABASE),
        data_dir: dir,
        pid: child.id(),
        port,
        socket: layout.socket(),
    };
    let state = serde_json::to_string_pretty(&info)
        .map_err(|e| Error::Input(format!("sandbox state: {e}")))?;
    std::fs::write(layout.state(), state).map_err(io(&layout.state()))?;
    Ok(info)
}

/// Stops exactly the sandbox server of `dir`. False when none was running.
pub fn stop(dir: &Path) -> Result<bool> {
    let Some(info) = status(dir)? else {
        return Ok(false);
    };
    terminate(info.pid)?;
    let deadline = Instant::now() + Duration::from_secs(60);
    // Its command line vanishes while it is still tearing down: wait until it has exited.
    while running(info.pid) {
        if Instant::now() > deadline {
            return Err(Error::Server(format!(
                "pid {} did not stop within 60 s",
                info.pid
            )));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = std::fs::remove_file(
        Layout {
            dir: dir.to_path_buf(),
        }
        .state(),
    );
    Ok(true)
}

#[allow(unsafe_code)]
fn terminate(pid: u32) -> Result<()> {
    let pid = libc::pid_t::try_from(pid)
        .map_err(|_| Error::Server(format!("pid {pid} is out of range")))?;
    // SAFETY: kill(2) with a pid we verified (through /proc) to be our sandbox's mariadbd.
    let rc = unsafe { libc::kill(pid, libc::SIGTERM) };
    if rc != 0 {
        return Err(Error::Server(format!(
            "could not be stopped: {}",
            std::io::Error::last_os_error()
        )));
    }
    Ok(())
}

/// A server for one test process: started on first use, killed by the kernel when the
/// test process exits (PR_SET_PDEATHSIG from a thread that lives as long as the server).
#[derive(Debug)]
pub struct TestServer {
    pub socket: PathBuf,
    pub port: u16,
    pub dir: PathBuf,
}

/// A database of its own for one test.
#[derive(Debug, Clone)]
pub struct TestDatabase {
    pub name: String,
    pub url: String,
    pub socket: PathBuf,
    pub port: u16,
}

impl TestDatabase {
    /// The connection spec (root over the socket).
    pub fn spec(&self) -> Result<warden_store::ConnectSpec> {
        Ok(warden_store::ConnectSpec::from_url(&self.url)?)
    }
}

static TEST_SERVER: OnceLock<std::result::Result<TestServer, String>> = OnceLock::new();
static NEXT_DB: AtomicU32 = AtomicU32::new(1);

/// The test process's server, started on first call.
pub fn test_server() -> Result<&'static TestServer> {
    TEST_SERVER
        .get_or_init(|| start_test_server().map_err(|e| e.to_string()))
        .as_ref()
        .map_err(|e| Error::Server(e.clone()))
}

fn start_test_server() -> Result<TestServer> {
    let dir = test_server_dir("")?;
    start_test_server_in(dir, Vec::new())
}

/// `$TMP/warden-tests/srv-PID{suffix}`, new and empty (and those of dead processes gone).
pub(crate) fn test_server_dir(suffix: &str) -> Result<PathBuf> {
    let base = std::env::temp_dir().join("warden-tests");
    std::fs::create_dir_all(&base).map_err(io(&base))?;
    remove_stale_test_dirs(&base);
    let dir = base.join(format!("srv-{}{suffix}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(io(&dir))?;
    Ok(dir)
}

/// A server of its own for one test (`suffix` names its folder), killed when this process
/// exits: for a test that backs a whole server up, or stops it.
pub fn own_test_server(suffix: &str) -> Result<TestServer> {
    start_test_server_in(test_server_dir(suffix)?, Vec::new())
}

/// A server started on the data directory `data` (a restored backup, say), moved into a
/// folder of its own (`suffix`), killed when this process exits.
pub fn test_server_on(data: &Path, suffix: &str) -> Result<TestServer> {
    let dir = test_server_dir(suffix)?;
    std::fs::rename(data, dir.join("data")).map_err(io(data))?;
    start_test_server_in(dir, Vec::new())
}

/// Starts a test server in `dir` with `extra` options, killed when this process exits.
pub(crate) fn start_test_server_in(dir: PathBuf, extra: Vec<String>) -> Result<TestServer> {
    start_test_server_at(dir, free_port()?, extra)
}

/// [`start_test_server_in`] on `port` (a server started again where its clients, a
/// replica say, expect it).
pub(crate) fn start_test_server_at(
    dir: PathBuf,
    port: u16,
    extra: Vec<String>,
) -> Result<TestServer> {
    let (tx, rx) = std::sync::mpsc::channel();
    let thread_dir = dir.clone();
    // The spawning thread must outlive the server (PDEATHSIG follows the thread), so it
    // starts the server, reports, and then waits on it for the rest of the process.
    std::thread::Builder::new()
        .name("warden-test-mariadbd".into())
        .spawn(move || {
            let layout = Layout { dir: thread_dir };
            let started = spawn(&layout, port, true, &extra).and_then(|mut child| {
                wait_ready(&layout, &mut child)?;
                Ok(child)
            });
            match started {
                Ok(mut child) => {
                    let _ = tx.send(Ok(()));
                    let _ = child.wait();
                }
                Err(e) => {
                    let _ = tx.send(Err(e));
                }
            }
        })
        .map_err(|e| Error::Server(format!("cannot start a thread: {e}")))?;
    rx.recv()
        .map_err(|_| Error::Server("start thread vanished".into()))??;
    Ok(TestServer {
        socket: dir.join("mysqld.sock"),
        port,
        dir,
    })
}

fn remove_stale_test_dirs(base: &Path) {
    let Ok(entries) = std::fs::read_dir(base) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        let Some(pid) = name
            .strip_prefix("srv-")
            .and_then(|p| p.split('-').next())
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        if !Path::new(&format!("/proc/{pid}")).exists() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

impl TestServer {
    /// A new, empty database on this server.
    pub async fn fresh_database(&self) -> Result<TestDatabase> {
        let name = format!(
            "t{}_{}",
            std::process::id(),
            NEXT_DB.fetch_add(1, Ordering::Relaxed)
        );
        self.create_database(&name).await
    }

    /// Creates `name` (an identifier) and returns a handle to it.
    pub async fn create_database(&self, name: &str) -> Result<TestDatabase> {
        warden_core::ident::check(name)
            .map_err(|e| Error::Input(format!("database name {name:?} {e}")))?;
        let admin = warden_store::ConnectSpec::from_url(&socket_url(&self.socket, "mysql"))?;
        let db = warden_store::Database::connect(&admin).await?;
        let mut qb = sqlx::QueryBuilder::<sqlx::MySql>::new("CREATE DATABASE ");
        qb.push(warden_core::ident::quote(name));
        qb.push(" CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci");
        qb.build()
            .execute(db.app())
            .await
            .map_err(|e| Error::Server(format!("cannot create database {name}: {e}")))?;
        db.close().await;
        Ok(TestDatabase {
            name: name.to_string(),
            url: socket_url(&self.socket, name),
            socket: self.socket.clone(),
            port: self.port,
        })
    }
}

/// `CHECKSUM TABLE` of every table in the connected database, by name: two equal results
/// prove that nothing was changed in between.
pub async fn table_checksums(db: &warden_store::Database) -> Result<Vec<(String, Option<i64>)>> {
    let fail = |e: sqlx::Error| Error::Server(format!("checksum: {e}"));
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT CAST(TABLE_NAME AS CHAR) FROM information_schema.TABLES \
         WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME",
    )
    .fetch_all(db.app())
    .await
    .map_err(fail)?;
    let mut out = Vec::with_capacity(tables.len());
    for t in tables {
        let mut qb = sqlx::QueryBuilder::<sqlx::MySql>::new("CHECKSUM TABLE ");
        qb.push(warden_core::ident::quote(&t));
        let row: (String, Option<i64>) = qb
            .build_query_as()
            .fetch_one(db.app())
            .await
            .map_err(fail)?;
        out.push((t, row.1));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_escape_odd_socket_paths() {
        assert_eq!(
            socket_url(Path::new("/tmp/a b/mysqld.sock"), "d"),
            "mysql://root@localhost/d?socket=/tmp/a%20b/mysqld.sock"
        );
    }
}
