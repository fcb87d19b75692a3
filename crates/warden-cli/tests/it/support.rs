use std::path::PathBuf;
use std::sync::OnceLock;

use assert_cmd::Command;
use warden_sandbox::TestDatabase;

pub const OFFICER: &str = "olivia.officer";

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
        .env("WARDEN_ACTOR", OFFICER);
    cmd
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

/// A fresh database seeded through the CLI (`sandbox seed` against --database-url).
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
    db
}

/// Runs warden against `db` and returns (exit code, stdout, stderr).
pub fn run(db: &TestDatabase, args: &[&str]) -> (i32, String, String) {
    let out = warden()
        .arg("--database-url")
        .arg(&db.url)
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

/// Runs with `--format json` and parses stdout as exactly one JSON document.
pub fn json(db: &TestDatabase, args: &[&str]) -> (i32, serde_json::Value) {
    let mut all = vec!["--format", "json"];
    all.extend_from_slice(args);
    let (code, stdout, stderr) = run(db, &all);
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
