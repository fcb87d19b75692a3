use std::path::PathBuf;
use std::sync::OnceLock;

use assert_cmd::Command;
use warden_sandbox::TestDatabase;

/// The officer most tests act as, with a database account of their own (added by the
/// administrator who migrated).
pub const OFFICER: &str = "olivia.officer";

/// The administrator (root over the test socket): the first officer.
pub const ADMIN: &str = "root";

/// A private folder for config files and the like, kept for the test run. The folders of
/// earlier runs (their process gone) are removed first: a sandbox's data directory in
/// each would otherwise fill the disk run after run.
pub fn scratch(name: &str) -> PathBuf {
    static PRUNED: OnceLock<()> = OnceLock::new();
    let root = std::env::temp_dir().join("warden-cli-tests");
    PRUNED.get_or_init(|| {
        for entry in std::fs::read_dir(&root).into_iter().flatten().flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let pid = name.split('-').next().unwrap_or_default();
            let alive = pid.parse::<u32>().is_ok_and(|p| {
                p == std::process::id() || std::path::Path::new("/proc").join(pid).exists()
            });
            if !alive {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
    });
    let dir = root.join(format!("{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `warden` with a clean environment: no database from the caller's shell, a private
/// config folder, and OFFICER as the local actor.
pub fn warden() -> Command {
    let mut cmd = Command::cargo_bin("warden").unwrap();
    cmd.env_remove("WARDEN_DATABASE_URL")
        .env_remove("WARDEN_DATABASE_PASSWORD")
        .env_remove("WARDEN_LOG")
        .env("XDG_CONFIG_HOME", config_home())
        .env("XDG_STATE_HOME", state_home());
    cmd
}

/// This test process's witnesses of the trails it saw (never the person's own).
pub fn state_home() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| scratch("state"))
}

fn config_home() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| scratch("config"))
}

pub fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

pub fn fresh() -> TestDatabase {
    block_on(async {
        let server = warden_sandbox::test_server().expect("test MariaDB server");
        server.fresh_database().await.expect("fresh database")
    })
}

/// Accounts are server-wide: each test database's console accounts carry its name.
pub fn account_prefix(db: &TestDatabase) -> String {
    format!("{}_", db.name)
}

/// The account `login` signs in with.
pub fn account_user(db: &TestDatabase, login: &str) -> String {
    format!("{}{}", account_prefix(db), login.to_lowercase())
}

/// The password each test account chooses at its first sign-in.
pub fn password_of(login: &str) -> String {
    format!("Chosen-{login}-Pass-2026")
}

/// The URL `login` signs in with (their account over the test socket; root for ADMIN).
pub fn url_of(db: &TestDatabase, login: &str) -> String {
    match login {
        ADMIN => db.url.clone(),
        _ => db
            .url
            .replacen("root@", &format!("{}@", account_user(db, login)), 1),
    }
}

/// `warden --database-url <login's URL>` with their password.
pub fn warden_as(db: &TestDatabase, login: &str) -> Command {
    let mut cmd = warden();
    cmd.arg("--database-url").arg(url_of(db, login));
    if login != ADMIN {
        cmd.env("WARDEN_DATABASE_PASSWORD", password_of(login));
    }
    cmd
}

/// As the administrator: `warden migrate` with the test database's account prefix, then
/// OFFICER added as an officer. Returns migrate's JSON.
pub fn migrate(db: &TestDatabase) -> serde_json::Value {
    let prefix = account_prefix(db);
    let (code, doc) = json_as(db, ADMIN, &["migrate", "--account-prefix", &prefix]);
    assert_eq!(code, 0, "{doc}");
    add_user(db, ADMIN, OFFICER, "officer");
    doc
}

/// `console-users add` by `by`, then the person's first sign-in: `warden password` with
/// the expired initial password, choosing [`password_of`].
pub fn add_user(db: &TestDatabase, by: &str, login: &str, role: &str) -> serde_json::Value {
    let (code, added) = json_as(
        db,
        by,
        &[
            "console-users",
            "add",
            login,
            "--role",
            role,
            "--host",
            "localhost",
        ],
    );
    assert_eq!(code, 0, "{added}");
    if let Some(initial) = added["initial_password"].as_str() {
        first_sign_in(db, login, initial);
    }
    added
}

pub fn first_sign_in(db: &TestDatabase, login: &str, initial: &str) {
    let out = warden()
        .arg("--database-url")
        .arg(url_of(db, login))
        .env("WARDEN_DATABASE_PASSWORD", initial)
        .arg("password")
        .write_stdin(format!("{}\n", password_of(login)))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{login}'s first sign-in: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A fresh database seeded through the CLI (`sandbox seed` against --database-url), then
/// migrated with [`migrate`] (OFFICER an officer).
pub fn seeded() -> TestDatabase {
    let db = fresh();
    let out = warden()
        .args([
            "--database-url",
            &db.url,
            "sandbox",
            "seed",
            "--users",
            "200",
            "--log-rows",
            "3000",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "seed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["users"], 200);
    assert_eq!(report["log_rows"], 3000);
    migrate(&db);
    db
}

/// Runs warden against `db` as OFFICER and returns (exit code, stdout, stderr).
pub fn run(db: &TestDatabase, args: &[&str]) -> (i32, String, String) {
    run_as(db, OFFICER, args)
}

pub fn run_as(db: &TestDatabase, login: &str, args: &[&str]) -> (i32, String, String) {
    let out = warden_as(db, login).args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

/// Runs as OFFICER with `--format json` and parses stdout as exactly one JSON document.
pub fn json(db: &TestDatabase, args: &[&str]) -> (i32, serde_json::Value) {
    json_as(db, OFFICER, args)
}

pub fn json_as(db: &TestDatabase, login: &str, args: &[&str]) -> (i32, serde_json::Value) {
    let mut all = vec!["--format", "json"];
    all.extend_from_slice(args);
    let (code, stdout, stderr) = run_as(db, login, &all);
    let doc = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!("stdout is not one JSON document ({e}): {stdout:?}; stderr: {stderr}")
    });
    (code, doc)
}

pub fn keys(v: &serde_json::Value) -> Vec<&str> {
    let mut k: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    k.sort();
    k
}
