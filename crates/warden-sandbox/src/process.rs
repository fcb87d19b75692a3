//! Child processes for tests and benchmarks that drive other programs (Xvfb, tauri-driver):
//! each in a process group of its own, ended with everything it started.

use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use crate::error::{Error, Result};

/// A child that leads its own process group; dropping it ends the whole group.
#[derive(Debug)]
pub struct Group {
    child: Child,
    name: String,
}

impl Group {
    /// Spawns `cmd` as the leader of a new process group.
    pub fn spawn(name: &str, mut cmd: Command) -> Result<Self> {
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        let child = cmd
            .spawn()
            .map_err(|e| Error::Server(format!("{name} could not be started: {e}")))?;
        Ok(Self {
            child,
            name: name.to_string(),
        })
    }

    pub fn child(&mut self) -> &mut Child {
        &mut self.child
    }

    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// Fails if the process has already exited.
    pub fn check_running(&mut self) -> Result<()> {
        match self.child.try_wait() {
            Ok(Some(status)) => Err(Error::Server(format!("{} exited: {status}", self.name))),
            _ => Ok(()),
        }
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        signal_group(self.child.id(), libc::SIGTERM);
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        signal_group(self.child.id(), libc::SIGKILL);
        let _ = self.child.wait();
    }
}

#[allow(unsafe_code)]
fn signal_group(pid: u32, signal: libc::c_int) {
    if let Ok(pid) = libc::pid_t::try_from(pid) {
        // SAFETY: kill(2) on the process group this Group created (its leader's pid).
        unsafe {
            libc::kill(-pid, signal);
        }
    }
}

/// Waits until something accepts TCP connections on `addr`, while `alive` says the process
/// meant to listen there is still running.
pub fn wait_for_port(
    addr: SocketAddr,
    timeout: Duration,
    mut alive: impl FnMut() -> Result<()>,
) -> Result<()> {
    let deadline = Instant::now() + timeout;
    loop {
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return Ok(());
        }
        alive()?;
        if Instant::now() > deadline {
            return Err(Error::Server(format!(
                "nothing listens on {addr} after {timeout:?}"
            )));
        }
        // Polling a port the other process has not opened yet.
        std::thread::sleep(Duration::from_millis(25));
    }
}

/// A free TCP port on loopback.
pub fn free_port() -> Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")
        .map_err(|e| Error::Server(format!("cannot find a free port: {e}")))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| Error::Server(format!("cannot find a free port: {e}")))
}
