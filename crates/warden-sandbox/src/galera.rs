//! A Galera cluster of MariaDB nodes on loopback, for the tests of high availability
//! (issue 18): ../shared/MACHINE-NOTES.md's recipe as plain processes, each killed with
//! the test process, each of which a test may kill (`kill -9`) and start again.
//!
//! Node 1 bootstraps the cluster from the template datadir; the others join with an empty
//! datadir owned by `nobody` (the rsync SST daemon runs as nobody when started by root)
//! and receive everything by state transfer. Root signs in over each node's socket only,
//! in a folder only the OS user can enter.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::error::{Error, Result, io};
use crate::server::{
    copy_dir, die_with_parent_thread, ensure_template, find_binary, free_port, is_root, log_tail,
    socket_url,
};

/// One node: its ports, its folders, and its process while it runs.
#[derive(Debug)]
pub struct Node {
    pub name: String,
    /// The client port on 127.0.0.1.
    pub port: u16,
    group: u16,
    ist: u16,
    sst: u16,
    /// Data (readable by nobody for state transfers).
    dir: PathBuf,
    /// Socket, pid, logs: the OS user's alone.
    private: PathBuf,
    pid: Mutex<Option<u32>>,
}

impl Node {
    pub fn socket(&self) -> PathBuf {
        self.private.join("mysqld.sock")
    }

    /// Root over this node's socket, on `database`.
    pub fn root_url(&self, database: &str) -> String {
        socket_url(&self.socket(), database)
    }

    fn error_log(&self) -> PathBuf {
        self.private.join("error.log")
    }

    fn data(&self) -> PathBuf {
        self.dir.join("data")
    }
}

/// A running cluster.
#[derive(Debug)]
pub struct Cluster {
    pub nodes: Vec<Node>,
}

impl Cluster {
    /// Starts `n` nodes (node 1 bootstraps, the others join) and waits until every one is
    /// synced in a primary component of `n`.
    pub fn start(n: usize) -> Result<Self> {
        // A folder of its own per cluster: a test that starts a second one must not take
        // the first one's data and sockets.
        static CLUSTERS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(1);
        let nth = CLUSTERS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let base = crate::server::test_server_dir(&format!("-galera{nth}"))?;
        let mut nodes = Vec::new();
        for i in 1..=n {
            let dir = base.join(format!("n{i}"));
            let private = dir.join("private");
            std::fs::create_dir_all(&private).map_err(io(&private))?;
            set_mode(&private, 0o700)?;
            set_mode(&dir, 0o755)?;
            nodes.push(Node {
                name: format!("n{i}"),
                port: free_port()?,
                group: free_port()?,
                ist: free_port()?,
                sst: free_port()?,
                dir,
                private,
                pid: Mutex::new(None),
            });
        }
        set_mode(&base, 0o755)?;
        let cluster = Self { nodes };
        for i in 0..n {
            cluster.launch(i, i == 0)?;
            cluster.wait_synced(i)?;
        }
        Ok(cluster)
    }

    /// `gcomm://` with every node's group port.
    fn address(&self) -> String {
        let peers: Vec<String> = (self.nodes.iter())
            .map(|n| format!("127.0.0.1:{}", n.group))
            .collect();
        format!("gcomm://{}", peers.join(","))
    }

    /// Starts node `i`: bootstrapping a new cluster, or joining the others.
    fn launch(&self, i: usize, bootstrap: bool) -> Result<()> {
        self.launch_at(i, bootstrap, None)
    }

    /// The position (`uuid:seqno`) node `i`'s data holds, as `mariadbd --wsrep-recover`
    /// reads it from InnoDB: after a `kill -9` the node's grastate.dat says -1, and without
    /// its position a rejoining node asks for a whole state transfer where the write sets it
    /// missed (an IST from a peer's cache) would do.
    fn recover(&self, i: usize) -> Result<Option<String>> {
        let node = &self.nodes[i];
        let log = node.private.join("recover.log");
        let _ = std::fs::remove_file(&log);
        let mut cmd = Command::new(find_binary("mariadbd")?);
        cmd.arg("--no-defaults");
        if is_root() {
            cmd.arg("--user=root");
        }
        let status = cmd
            .arg(format!("--datadir={}", node.data().display()))
            .arg(format!("--log-error={}", log.display()))
            .arg(format!(
                "--socket={}",
                node.private.join("recover.sock").display()
            ))
            .arg("--skip-networking")
            .arg("--innodb-buffer-pool-size=128M")
            .arg("--binlog-format=ROW")
            .arg("--wsrep-on=ON")
            .arg("--wsrep-provider=/usr/lib/galera/libgalera_smm.so")
            .arg(format!("--wsrep-cluster-address={}", self.address()))
            .arg("--wsrep-recover")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map_err(io(&log))?;
        let said = std::fs::read_to_string(&log).unwrap_or_default();
        if !status.success() {
            return Err(Error::Server(format!(
                "{}: --wsrep-recover failed; its log says: {}",
                node.name,
                log_tail(&log)
            )));
        }
        Ok(said
            .split("WSREP: Recovered position: ")
            .skip(1)
            .filter_map(recovered_position)
            .last())
    }

    fn launch_at(&self, i: usize, bootstrap: bool, position: Option<&str>) -> Result<()> {
        let node = &self.nodes[i];
        let data = node.data();
        if bootstrap && !data.join("mysql").is_dir() {
            copy_dir(&ensure_template()?.join("data"), &data)?;
            // Rejoining later, this node receives its state through rsync's daemon, which
            // runs as nobody: the data it writes into must be nobody's too.
            chown_nobody(&data)?;
        } else if !data.is_dir() {
            std::fs::create_dir_all(&data).map_err(io(&data))?;
            chown_nobody(&data)?;
        }
        let mariadbd = find_binary("mariadbd")?;
        let log =
            std::fs::File::create(node.private.join("mariadbd.out")).map_err(io(&node.private))?;
        let log2 = log.try_clone().map_err(io(&node.private))?;
        let mut cmd = Command::new(&mariadbd);
        cmd.arg("--no-defaults");
        if is_root() {
            cmd.arg("--user=root");
        }
        cmd.arg(format!("--datadir={}", data.display()))
            .arg(format!("--port={}", node.port))
            .arg("--bind-address=127.0.0.1")
            .arg(format!("--socket={}", node.socket().display()))
            .arg(format!("--pid-file={}", node.private.join("mysqld.pid").display()))
            .arg(format!("--log-error={}", node.error_log().display()))
            .arg("--skip-name-resolve")
            .arg("--character-set-server=utf8mb4")
            .arg("--collation-server=utf8mb4_unicode_ci")
            .arg("--innodb-flush-log-at-trx-commit=2")
            .arg("--innodb-buffer-pool-size=128M")
            .arg("--max-connections=300")
            .arg("--binlog-format=ROW")
            .arg("--default-storage-engine=InnoDB")
            .arg("--innodb-autoinc-lock-mode=2")
            .arg("--wsrep-on=ON")
            .arg("--wsrep-provider=/usr/lib/galera/libgalera_smm.so")
            .arg("--wsrep-cluster-name=warden-test")
            .arg(format!("--wsrep-cluster-address={}", self.address()))
            .arg(format!("--wsrep-node-address=127.0.0.1:{}", node.group))
            .arg(format!("--wsrep-node-name={}", node.name))
            // A lost node is noticed in a few seconds, not the default fifteen (yet not so
            // soon that a node stalled on a busy machine is evicted).
            .arg(format!(
                "--wsrep-provider-options=gmcast.listen_addr=tcp://127.0.0.1:{};ist.recv_addr=127.0.0.1:{};\
                 evs.keepalive_period=PT1S;evs.suspect_timeout=PT3S;evs.inactive_timeout=PT6S;\
                 evs.inactive_check_period=PT1S",
                node.group, node.ist
            ))
            .arg(format!("--wsrep-sst-receive-address=127.0.0.1:{}", node.sst))
            .arg("--wsrep-sst-method=rsync")
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log2);
        if bootstrap {
            cmd.arg("--wsrep-new-cluster");
        }
        if let Some(position) = position {
            cmd.arg(format!("--wsrep-start-position={position}"));
        }
        let (tx, rx) = std::sync::mpsc::channel();
        // The spawning thread must outlive the server (PDEATHSIG follows the thread).
        std::thread::Builder::new()
            .name(format!("warden-galera-{}", node.name))
            .spawn(move || {
                die_with_parent_thread(&mut cmd);
                match cmd.spawn() {
                    Ok(mut child) => {
                        let _ = tx.send(Ok(child.id()));
                        let _ = child.wait();
                    }
                    Err(e) => {
                        let _ = tx.send(Err(e));
                    }
                }
            })
            .map_err(|e| Error::Server(format!("cannot start a thread: {e}")))?;
        let pid = rx
            .recv()
            .map_err(|_| Error::Server("start thread vanished".into()))?
            .map_err(io(&mariadbd))?;
        *node
            .pid
            .lock()
            .map_err(|_| Error::Server("a node's lock".into()))? = Some(pid);
        Ok(())
    }

    /// Waits until node `i` answers on its socket, synced (`wsrep_ready`).
    fn wait_synced(&self, i: usize) -> Result<()> {
        let node = &self.nodes[i];
        let deadline = Instant::now() + Duration::from_secs(120);
        let client = find_binary("mariadb")?;
        loop {
            let out = Command::new(&client)
                .args(["--no-defaults", "-uroot", "-N", "-B"])
                .arg(format!("--socket={}", node.socket().display()))
                .args(["-e", "SHOW STATUS LIKE 'wsrep_local_state_comment'"])
                .output();
            if let Ok(out) = out
                && String::from_utf8_lossy(&out.stdout).contains("Synced")
            {
                return Ok(());
            }
            if !self.running(i) {
                return Err(Error::Server(format!(
                    "{} exited while starting; its log says: {}",
                    node.name,
                    log_tail(&node.error_log())
                )));
            }
            if Instant::now() > deadline {
                return Err(Error::Server(format!(
                    "{} was not synced within 120 s; its log says: {}",
                    node.name,
                    log_tail(&node.error_log())
                )));
            }
            // Polling a server that is still joining; nothing to wait on but time.
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Waits until node `i` reports `status` as its cluster's (`wsrep_cluster_status`:
    /// `Primary`, `non-Primary`): a lost peer is noticed after Galera's own timeouts.
    pub fn wait_cluster_status(&self, i: usize, status: &str) -> Result<()> {
        let node = &self.nodes[i];
        let client = find_binary("mariadb")?;
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let out = Command::new(&client)
                .args(["--no-defaults", "-uroot", "-N", "-B"])
                .arg(format!("--socket={}", node.socket().display()))
                .args(["-e", "SHOW STATUS LIKE 'wsrep_cluster_status'"])
                .output()
                .map_err(io(&client))?;
            let said = String::from_utf8_lossy(&out.stdout);
            if said.split_whitespace().nth(1) == Some(status) {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(Error::Server(format!(
                    "{} did not become {status} within 60 s (it says {})",
                    node.name,
                    said.trim()
                )));
            }
            // Galera decides on its own timers; nothing to wait on but time.
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// What an operator does when a cluster lost quorum for good: node `i` (the most
    /// advanced) becomes a primary component of its own (`pc.bootstrap`).
    pub fn bootstrap(&self, i: usize) -> Result<()> {
        let node = &self.nodes[i];
        let client = find_binary("mariadb")?;
        let out = Command::new(&client)
            .args(["--no-defaults", "-uroot"])
            .arg(format!("--socket={}", node.socket().display()))
            .args([
                "-e",
                "SET GLOBAL wsrep_provider_options = 'pc.bootstrap=YES'",
            ])
            .output()
            .map_err(io(&client))?;
        if !out.status.success() {
            return Err(Error::Server(format!(
                "bootstrapping {}: {}",
                node.name,
                String::from_utf8_lossy(&out.stderr).trim()
            )));
        }
        self.wait_cluster_status(i, "Primary")?;
        self.wait_synced(i)
    }

    /// Whether node `i`'s process is alive.
    pub fn running(&self, i: usize) -> bool {
        let pid = self.nodes[i].pid.lock().ok().and_then(|p| *p);
        pid.is_some_and(|p| Path::new(&format!("/proc/{p}/status")).exists() && !zombie(p))
    }

    /// `kill -9` of node `i`: it is lost as a machine would be.
    pub fn kill(&self, i: usize) -> Result<()> {
        let pid = self.nodes[i]
            .pid
            .lock()
            .map_err(|_| Error::Server("a node's lock".into()))?
            .take();
        if let Some(pid) = pid {
            // SAFETY: kill(2) on a process this cluster started; no memory is touched.
            #[allow(unsafe_code)]
            unsafe {
                libc::kill(pid as libc::pid_t, libc::SIGKILL);
            }
            let deadline = Instant::now() + Duration::from_secs(30);
            while Path::new(&format!("/proc/{pid}/status")).exists() && !zombie(pid) {
                if Instant::now() > deadline {
                    return Err(Error::Server(format!("{} did not die", self.nodes[i].name)));
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        Ok(())
    }

    /// Starts node `i` again after [`Cluster::kill`]: it rejoins and catches up.
    pub fn restart(&self, i: usize) -> Result<()> {
        let position = self.recover(i)?;
        self.launch_at(i, false, position.as_deref())?;
        self.wait_synced(i)
    }

    /// A new database, created on node 1 (Galera replicates it to every node).
    pub async fn create_database(&self, name: &str) -> Result<()> {
        warden_core::ident::check(name)
            .map_err(|e| Error::Input(format!("database name {name:?} {e}")))?;
        let admin = warden_store::ConnectSpec::from_url(&self.nodes[0].root_url("mysql"))?;
        let db = warden_store::Database::connect(&admin).await?;
        let mut qb = sqlx::QueryBuilder::<sqlx::MySql>::new("CREATE DATABASE ");
        qb.push(warden_core::ident::quote(name))
            .push(" CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci");
        let done = qb.build().execute(db.app()).await;
        db.close().await;
        done.map_err(|e| Error::Server(format!("creating {name}: {e}")))?;
        Ok(())
    }
}

/// `uuid:seqno` from the text after "Recovered position: ", None for an unknown one (-1).
/// The server writes the line without its newline: the next line's date may follow the
/// seqno at once (`…:1872026-12-03 …`).
fn recovered_position(after: &str) -> Option<String> {
    let (uuid, rest) = after.split_once(':')?;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    let seqno = match rest[digits.len()..].starts_with('-') && digits.len() > 4 {
        // The year of the next line's date ran into the seqno.
        true => &digits[..digits.len() - 4],
        false => &digits[..],
    };
    (uuid.len() == 36 && !seqno.is_empty()).then(|| format!("{uuid}:{seqno}"))
}

/// Whether `pid` is a zombie (killed, not yet reaped by its waiting thread).
fn zombie(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .map(|s| {
            s.lines()
                .any(|l| l.starts_with("State:") && l.contains('Z'))
        })
        .unwrap_or(true)
}

fn set_mode(path: &Path, mode: u32) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).map_err(io(path))
}

/// A datadir belongs to `nobody`, all of it: the rsync SST daemon writes it as nobody.
fn chown_nobody(path: &Path) -> Result<()> {
    if !is_root() {
        return Ok(());
    }
    let out = Command::new("chown")
        .args(["-R", "nobody:nogroup"])
        .arg(path)
        .output()
        .map_err(io(path))?;
    if !out.status.success() {
        return Err(Error::Server(format!(
            "chown nobody {}: {}",
            path.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::recovered_position;

    #[test]
    fn a_recovered_position_is_read_with_or_without_its_newline() {
        let uuid = "33ed6358-ef61-11f1-914d-4a7b7a904fa0";
        assert_eq!(
            recovered_position(&format!("{uuid}:187\n2026-12-03 21:34:00 0 [Note]")),
            Some(format!("{uuid}:187"))
        );
        assert_eq!(
            recovered_position(&format!("{uuid}:1872026-12-03 21:34:00 0 [Warning]")),
            Some(format!("{uuid}:187"))
        );
        assert_eq!(recovered_position(&format!("{uuid}:-1\n")), None);
        assert_eq!(recovered_position("junk"), None);
    }
}
