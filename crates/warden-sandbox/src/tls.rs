//! A test server that accepts only TLS, its certificate signed by a test CA made for it, and
//! a second CA that signed nothing of it: what the connection's verification and pinning
//! are tested against (recipe: ../shared/MACHINE-NOTES.md, "TLS with a test CA").

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::error::{Error, Result, io};
use crate::server::{TestServer, socket_url, start_test_server_in, test_server_dir};

/// The account the TLS tests sign in as: only over TLS, only from loopback.
pub const TLS_USER: &str = "warden_tls";
/// Its password: a test server's, killed with the test process.
pub const TLS_PASSWORD: &str = "tls-test-password";

#[derive(Debug)]
pub struct TlsTestServer {
    pub server: TestServer,
    /// The CA that signed the server's certificate (for `localhost` and 127.0.0.1).
    pub ca: PathBuf,
    /// A CA that signed nothing the server presents.
    pub other_ca: PathBuf,
}

static TLS_SERVER: tokio::sync::OnceCell<TlsTestServer> = tokio::sync::OnceCell::const_new();

/// The test process's TLS server, started on first call.
pub async fn tls_test_server() -> Result<&'static TlsTestServer> {
    TLS_SERVER.get_or_try_init(start).await
}

impl TlsTestServer {
    /// `mysql://warden_tls@HOST:PORT/mysql` plus `query` (the TLS options under test).
    pub fn url(&self, host: &str, query: &str) -> String {
        format!(
            "mysql://{TLS_USER}@{host}:{}/mysql{query}",
            self.server.port
        )
    }
}

async fn start() -> Result<TlsTestServer> {
    let dir = test_server_dir("-tls")?;
    let certs = dir.join("certs");
    std::fs::create_dir_all(&certs).map_err(io(&certs))?;
    make_certificates(&certs)?;
    let file = |name: &str| certs.join(name).display().to_string();
    let server = start_test_server_in(
        dir,
        vec![
            format!("--ssl-ca={}", file("ca.pem")),
            format!("--ssl-cert={}", file("server.pem")),
            format!("--ssl-key={}", file("server.key")),
            "--require-secure-transport=ON".into(),
        ],
    )?;
    create_account(&server).await?;
    Ok(TlsTestServer {
        ca: certs.join("ca.pem"),
        other_ca: certs.join("other-ca.pem"),
        server,
    })
}

fn make_certificates(dir: &Path) -> Result<()> {
    std::fs::write(
        dir.join("ext.cnf"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\n",
    )
    .map_err(io(dir))?;
    let steps: [&[&str]; 5] = [
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "2",
            "-subj",
            "/CN=Warden Test CA",
        ],
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "other-ca.key",
            "-out",
            "other-ca.pem",
            "-days",
            "2",
            "-subj",
            "/CN=Warden Test CA",
        ],
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            "/CN=localhost",
        ],
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.pem",
            "-days",
            "2",
            "-extfile",
            "ext.cnf",
        ],
        &["verify", "-CAfile", "ca.pem", "server.pem"],
    ];
    for args in steps {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .map_err(|e| Error::Server(format!("openssl (apt install openssl): {e}")))?;
        if !out.status.success() {
            return Err(Error::Server(format!(
                "openssl {}: {}",
                args[0],
                String::from_utf8_lossy(&out.stderr)
            )));
        }
    }
    Ok(())
}

/// Root signs in over the socket (no TLS there) and creates the TLS-only account.
async fn create_account(server: &TestServer) -> Result<()> {
    let admin = warden_store::ConnectSpec::from_url(&socket_url(&server.socket, "mysql"))?;
    let db = warden_store::Database::connect(&admin).await?;
    // Account names and the password cannot be bound in these statements: literals, through
    // the one quoting function.
    use warden_core::server_roles::literal;
    let account = format!("{}@'127.0.0.1'", literal(TLS_USER));
    for sql in [
        format!(
            "CREATE USER {account} IDENTIFIED BY {} REQUIRE SSL",
            literal(TLS_PASSWORD)
        ),
        format!("GRANT ALL ON *.* TO {account}"),
    ] {
        sqlx::query(&sql)
            .execute(db.app())
            .await
            .map_err(|e| Error::Server(format!("TLS test account: {e}")))?;
    }
    db.close().await;
    Ok(())
}
