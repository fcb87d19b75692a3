//! TLS against a real server that accepts nothing else, its certificate from a test CA
//! (`warden_sandbox::tls_test_server`): verification on by default when a CA is given, a
//! certificate from another CA refused with a clear error, and a given CA pinned — the
//! one trust anchor, not one more beside the OS's.

use crate::support::*;

fn server() -> &'static warden_sandbox::TlsTestServer {
    block_on(warden_sandbox::tls_test_server()).expect("TLS test server")
}

/// `warden users` over `url` as the TLS account: it connects, then finds no Warden tables
/// in the `mysql` schema (exit 2, "run `warden migrate`") — which only a session that
/// got through TLS and signed in can learn.
fn users(url: &str, system_roots: Option<&std::path::Path>) -> (i32, String) {
    let mut cmd = warden();
    cmd.arg("--database-url").arg(url).arg("users").env(
        "WARDEN_DATABASE_PASSWORD",
        warden_sandbox::tls::TLS_PASSWORD,
    );
    // The OS trust store, as rustls-native-certs reads it: the test's own, so the host's
    // certificates play no part.
    match system_roots {
        Some(file) => cmd.env("SSL_CERT_FILE", file),
        None => cmd.env("SSL_CERT_FILE", "/nonexistent"),
    };
    cmd.env("SSL_CERT_DIR", "/nonexistent");
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

const SIGNED_IN: &str = "warden migrate";

#[test]
fn a_ca_given_verifies_the_server_by_default() {
    let s = server();
    let ca = format!("?ssl-ca={}", s.ca.display());
    for host in ["127.0.0.1", "localhost"] {
        let (code, err) = users(&s.url(host, &ca), None);
        assert_eq!(code, 2, "{host}: {err}");
        assert!(err.contains(SIGNED_IN), "{host}: {err}");
    }
}

#[test]
fn a_certificate_from_another_ca_is_refused_with_a_clear_error() {
    let s = server();
    for query in [
        format!("?ssl-ca={}", s.other_ca.display()),
        format!("?ssl-ca={}&ssl-mode=verify-ca", s.other_ca.display()),
    ] {
        let (code, err) = users(&s.url("127.0.0.1", &query), None);
        assert_eq!(code, 3, "{query}: {err}");
        assert!(
            err.contains("certificate") && err.contains("not issued by the CA given"),
            "{query}: {err}"
        );
    }
    // No CA at all and an empty OS store: verify-identity (the default off loopback, and
    // what `verify-identity` asks here) finds no anchor either.
    let (code, err) = users(&s.url("127.0.0.1", "?ssl-mode=verify-identity"), None);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("certificate"), "{err}");
}

#[test]
fn a_ca_given_is_pinned_not_added_to_the_os_trust_store() {
    let s = server();
    // The test CA in the OS store: verification through it works with no CA given...
    let (code, err) = users(
        &s.url("127.0.0.1", "?ssl-mode=verify-identity"),
        Some(&s.ca),
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains(SIGNED_IN), "{err}");
    // ...but a CA given is the only anchor: the OS store trusting the server's CA does not
    // rescue a connection pinned to another one.
    let query = format!("?ssl-ca={}", s.other_ca.display());
    let (code, err) = users(&s.url("127.0.0.1", &query), Some(&s.ca));
    assert_eq!(code, 3, "pinned to the other CA, yet connected: {err}");
    assert!(err.contains("not issued by the CA given"), "{err}");
}

#[test]
fn without_tls_the_server_refuses_the_session() {
    let s = server();
    let (code, err) = users(&s.url("127.0.0.1", "?ssl-mode=disabled"), None);
    assert_eq!(code, 3, "{err}");
    assert!(
        err.contains("secure transport") || err.contains("Access denied"),
        "{err}"
    );
}
