//! A primary and one GTID replica on loopback, for the tests of high availability (issue
//! 18): ../shared/MACHINE-NOTES.md's recipe — both with binary logs and strict GTIDs, the
//! replica read-only and replicating from the primary over TCP. The primary can be killed
//! (`kill -9`) and started again on its own data.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::error::{Error, Result, io};
use crate::server::{
    TestServer, find_binary, start_test_server_at, start_test_server_in, test_server_dir,
};

/// The replication account's password (loopback only, for a test).
const REPL_PASSWORD: &str = "warden-test-replication";

#[derive(Debug)]
pub struct Pair {
    pub primary: TestServer,
    pub replica: TestServer,
    primary_dir: PathBuf,
}

fn options(server_id: u32, read_only: bool) -> Vec<String> {
    let mut out = vec![
        "--log-bin=mysql-bin".to_string(),
        "--binlog-format=ROW".into(),
        "--gtid-strict-mode=1".into(),
        "--log-slave-updates".into(),
        format!("--server-id={server_id}"),
    ];
    if read_only {
        out.push("--read-only=1".into());
    }
    out
}

/// Runs `sql` as root over `server`'s socket.
fn root_sql(server: &TestServer, sql: &str) -> Result<String> {
    let client = find_binary("mariadb")?;
    let out = Command::new(&client)
        .args(["--no-defaults", "-uroot", "-N", "-B"])
        .arg(format!("--socket={}", server.socket.display()))
        .args(["-e", sql])
        .output()
        .map_err(io(&client))?;
    if !out.status.success() {
        return Err(Error::Server(format!(
            "{sql}: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

impl Pair {
    /// Starts both and replication, and waits until the replica has what the primary has.
    pub fn start() -> Result<Self> {
        let primary_dir = test_server_dir("-primary")?;
        let primary = start_test_server_in(primary_dir.clone(), options(1, false))?;
        let replica = start_test_server_in(test_server_dir("-replica")?, options(2, true))?;
        root_sql(
            &primary,
            &format!(
                "SET sql_log_bin = 0; \
                 CREATE USER 'repl'@'127.0.0.1' IDENTIFIED BY '{REPL_PASSWORD}'; \
                 GRANT REPLICATION SLAVE ON *.* TO 'repl'@'127.0.0.1'"
            ),
        )?;
        // The replica's own start-up left GTIDs of its own: forget them, then follow.
        root_sql(
            &replica,
            &format!(
                "RESET MASTER; SET GLOBAL gtid_slave_pos = ''; \
                 CHANGE MASTER TO MASTER_HOST = '127.0.0.1', MASTER_PORT = {}, \
                 MASTER_USER = 'repl', MASTER_PASSWORD = '{REPL_PASSWORD}', \
                 MASTER_USE_GTID = slave_pos, MASTER_CONNECT_RETRY = 1; START SLAVE",
                primary.port
            ),
        )?;
        let pair = Self {
            primary,
            replica,
            primary_dir,
        };
        pair.caught_up()?;
        Ok(pair)
    }

    /// Waits until the replica has applied everything the primary has committed.
    pub fn caught_up(&self) -> Result<()> {
        let pos = root_sql(&self.primary, "SELECT @@gtid_binlog_pos")?;
        let waited = root_sql(
            &self.replica,
            &format!("SELECT MASTER_GTID_WAIT('{}', 60)", pos.replace('\'', "")),
        )?;
        match waited.as_str() {
            "0" => Ok(()),
            other => Err(Error::Server(format!(
                "the replica did not reach {pos} within 60 s (MASTER_GTID_WAIT said {other})"
            ))),
        }
    }

    /// `kill -9` of the primary.
    pub fn kill_primary(&self) -> Result<()> {
        let pid_file = self.primary_dir.join("mysqld.pid");
        let pid: i32 = std::fs::read_to_string(&pid_file)
            .map_err(io(&pid_file))?
            .trim()
            .parse()
            .map_err(|e| Error::Server(format!("{}: {e}", pid_file.display())))?;
        // SAFETY: kill(2) on the server this pair started; no memory is touched.
        #[allow(unsafe_code)]
        unsafe {
            libc::kill(pid, libc::SIGKILL);
        }
        let deadline = Instant::now() + Duration::from_secs(30);
        while self.primary.socket.exists()
            && std::os::unix::net::UnixStream::connect(&self.primary.socket).is_ok()
        {
            if Instant::now() > deadline {
                return Err(Error::Server("the primary did not die".into()));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(())
    }

    /// Starts the primary again on its own data and port (the replica reconnects by
    /// itself).
    pub fn restart_primary(&mut self) -> Result<()> {
        self.primary = start_test_server_at(
            self.primary_dir.clone(),
            self.primary.port,
            options(1, false),
        )?;
        self.caught_up()
    }
}
