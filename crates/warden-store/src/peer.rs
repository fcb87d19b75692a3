//! Who is on the other end of a Unix socket, before a password goes through it.
//!
//! A socket path is only a name in the file system: whoever can create it (a stale
//! directory, a writable `/tmp`, a container's shared volume) can listen there and collect
//! what a client sends. The kernel says who holds the other end (`SO_PEERCRED`), and a
//! database server runs as root, as the `mysql` account, or — a sandbox, a developer's
//! own server — as the user running Warden. Any other owner is refused before a byte of
//! authentication is sent.

use std::path::Path;

use tokio::net::UnixStream;

/// Connects within `timeout` and returns the stream only if [`check`] trusts its server.
pub(crate) async fn connect(
    path: &Path,
    timeout: std::time::Duration,
) -> std::result::Result<UnixStream, String> {
    let stream = tokio::time::timeout(timeout, UnixStream::connect(path))
        .await
        .map_err(|_| {
            format!(
                "{} did not accept within {} s",
                path.display(),
                timeout.as_secs()
            )
        })?
        .map_err(|e| format!("{}: {e}", path.display()))?;
    check(&stream, path)?;
    Ok(stream)
}

/// Refuses a socket whose server process is not root, the `mysql` account, or this user.
pub(crate) fn check(stream: &UnixStream, path: &Path) -> std::result::Result<(), String> {
    let cred = stream
        .peer_cred()
        .map_err(|e| format!("cannot tell who serves {}: {e}", path.display()))?;
    let uid = cred.uid();
    if trusted_uids().contains(&uid) {
        return Ok(());
    }
    Err(format!(
        "the socket {} is served by uid {uid} (pid {}), which is neither root, the `mysql` \
         account nor you: no password is sent to it",
        path.display(),
        cred.pid()
            .map_or_else(|| "?".to_string(), |p| p.to_string()),
    ))
}

fn trusted_uids() -> Vec<u32> {
    let mut uids = vec![0, rustix::process::getuid().as_raw()];
    if let Some(uid) = passwd_uid("mysql") {
        uids.push(uid);
    }
    uids
}

/// The uid of `name` in `/etc/passwd`, if it has one.
fn passwd_uid(name: &str) -> Option<u32> {
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    uid_in(&passwd, name)
}

fn uid_in(passwd: &str, name: &str) -> Option<u32> {
    passwd.lines().find_map(|line| {
        let mut fields = line.split(':');
        (fields.next()? == name)
            .then(|| fields.nth(1)?.parse().ok())
            .flatten()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mysql_account_is_found_by_its_name_only() {
        let passwd = "root:x:0:0::/root:/bin/bash\nmysqlx:x:7:7::/:/bin/false\n\
                      mysql:x:105:110:MariaDB Server,,,:/nonexistent:/bin/false\n";
        assert_eq!(uid_in(passwd, "mysql"), Some(105));
        assert_eq!(uid_in(passwd, "nobody"), None);
        assert_eq!(uid_in("mysql:x:notanumber:1::/:/", "mysql"), None);
    }

    /// A listener run as `nobody` on a path Warden is pointed at: both ways Warden opens a
    /// socket (sqlx's pools, the scan's reader) refuse it, and it receives not one byte.
    /// Needs root, to run the listener as another user (the test machine's `./dev` runs as
    /// root).
    #[tokio::test]
    async fn a_socket_served_by_another_user_gets_no_password() {
        use std::io::BufRead;
        use std::os::unix::fs::PermissionsExt;
        use std::os::unix::process::CommandExt;
        assert_eq!(
            rustix::process::getuid().as_raw(),
            0,
            "this test runs a listener as nobody, which needs root"
        );
        let dir = std::env::temp_dir().join(format!("warden-peer-nobody-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
        let path = dir.join("mysqld.sock");
        let listener = "import socket, sys\n\
            s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(2)\n\
            print('ready', flush=True)\n\
            n = 0\n\
            for _ in range(2):\n\
            \x20   c, _ = s.accept()\n\
            \x20   while d := c.recv(65536): n += len(d)\n\
            print(n, flush=True)\n";
        let mut child = std::process::Command::new("python3")
            .arg("-c")
            .arg(listener)
            .arg(&path)
            .uid(65534)
            .gid(65534)
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("python3 runs");
        let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        out.read_line(&mut line).unwrap();
        assert_eq!(line.trim(), "ready");

        let url = format!("mysql://app@localhost/app?socket={}", path.display());
        let mut spec = crate::ConnectSpec::from_url(&url).unwrap();
        spec.password = Some(crate::Secret::new("the password"));
        let why = crate::Database::connect(&spec)
            .await
            .unwrap_err()
            .to_string();
        assert!(why.contains("served by uid 65534"), "{why}");
        assert!(why.contains("no password is sent"), "{why}");
        let why = match crate::wire::Wire::connect(&spec).await {
            Ok(_) => panic!("the scan's reader signed in to nobody's socket"),
            Err(e) => e.to_string(),
        };
        assert!(why.contains("served by uid 65534"), "{why}");

        line.clear();
        out.read_line(&mut line).unwrap();
        assert_eq!(line.trim(), "0", "bytes the listener received");
        child.wait().unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[tokio::test]
    async fn a_socket_served_by_this_user_is_trusted() {
        let dir = std::env::temp_dir().join(format!("warden-peer-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("s.sock");
        let listener = tokio::net::UnixListener::bind(&path).unwrap();
        let client = UnixStream::connect(&path).await.unwrap();
        let _server = listener.accept().await.unwrap();
        assert_eq!(check(&client, &path), Ok(()));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
