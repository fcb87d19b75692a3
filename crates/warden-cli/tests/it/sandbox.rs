use crate::support::*;

/// Running, not merely a zombie waiting for its new parent to reap it.
fn alive(pid: u64) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|stat| {
            stat.rsplit(") ")
                .next()
                .is_some_and(|rest| !rest.starts_with('Z'))
        })
        .unwrap_or(false)
}

#[test]
fn sandbox_starts_once_reports_its_url_and_stops_exactly_its_server() {
    let dir = scratch("sandbox");
    let d = dir.to_str().unwrap();
    let out = warden()
        .args(["sandbox", "start", "--data-dir", d, "--format", "json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let started: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let pid = started["pid"].as_u64().unwrap();
    let url = started["url"].as_str().unwrap().to_string();
    assert!(alive(pid));
    assert!(
        url.starts_with("mysql://root@localhost/warden_demo?socket="),
        "{url}"
    );
    assert_eq!(
        started["data_dir"].as_str().unwrap(),
        dir.canonicalize().unwrap().to_str().unwrap()
    );

    let again = warden()
        .args(["sandbox", "start", "--data-dir", d, "--format", "json"])
        .output()
        .unwrap();
    let again: serde_json::Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!(again["pid"].as_u64(), Some(pid), "start is idempotent");

    let printed = warden()
        .args(["sandbox", "url", "--data-dir", d])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&printed.stdout).trim(), url);
    let status = warden()
        .args(["sandbox", "status", "--data-dir", d, "--format", "json"])
        .output()
        .unwrap();
    let status: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(status["running"], true);

    // An empty sandbox database: Warden's tables are not there yet.
    let out = warden()
        .args(["--database-url", &url, "users"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("run `warden migrate` first"));
    // `migrate` makes the administrator the first officer, after which the mapping is what
    // is missing.
    let out = warden()
        .args(["--database-url", &url, "migrate", "--format", "json"])
        .output()
        .unwrap();
    let migrated: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(migrated["first_officer"], ADMIN);
    assert_eq!(
        migrated["grant_table"],
        serde_json::Value::Null,
        "no user_roles here"
    );
    let out = warden()
        .args(["--database-url", &url, "users"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("table `staff_users` does not exist"));

    let stop = warden()
        .args(["sandbox", "stop", "--data-dir", d, "--format", "json"])
        .output()
        .unwrap();
    let stop: serde_json::Value = serde_json::from_slice(&stop.stdout).unwrap();
    assert_eq!(stop["stopped"], true);
    assert!(!alive(pid), "stop ends exactly that process");
    // The test binary's own server is untouched.
    let own = fresh();
    assert_eq!(run_as(&own, ADMIN, &["users"]).0, 2);

    let status = warden()
        .args(["sandbox", "status", "--data-dir", d, "--format", "json"])
        .output()
        .unwrap();
    let status: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(status["running"], false);
    let url = warden()
        .args(["sandbox", "url", "--data-dir", d])
        .output()
        .unwrap();
    assert_eq!(
        url.status.code(),
        Some(3),
        "no URL without a running sandbox"
    );
    let again = warden()
        .args(["sandbox", "stop", "--data-dir", d, "--format", "json"])
        .output()
        .unwrap();
    let again: serde_json::Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!(again["stopped"], false);
}

#[test]
fn headless_demo_starts_seeds_and_tours() {
    let dir = scratch("demo");
    let d = dir.to_str().unwrap();
    let out = warden()
        .args([
            "demo",
            "--headless",
            "--data-dir",
            d,
            "--users",
            "120",
            "--log-rows",
            "2000",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    let stop = warden()
        .args(["sandbox", "stop", "--data-dir", d])
        .output()
        .unwrap();
    assert!(stop.status.success());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let tour: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let staff: u64 = tour["departments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["staff"].as_u64().unwrap())
        .sum();
    assert_eq!(staff, 120);
    assert!(tour["roles"]["roles"].as_array().unwrap().len() >= 10);
    // The person shown can both request and approve refunds: the planted SoD conflict.
    let perms = tour["access"]["permissions"].as_array().unwrap();
    assert!(perms.iter().any(|p| p["key"] == "refund:request"));
    assert!(perms.iter().any(|p| p["key"] == "refund:approve"));
    assert_eq!(tour["who_can"]["permission"], "customer.payment:read");
    assert!(!tour["who_can"]["users"].as_array().unwrap().is_empty());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("Seeding the synthetic company"), "{stderr}");
}

#[test]
fn seed_refuses_bad_arguments_clearly() {
    let db = fresh();
    let (code, _, err) = run_as(&db, ADMIN, &["sandbox", "seed", "--scenario", "chaos"]);
    assert_eq!(code, 2);
    assert!(err.contains("unknown scenario `chaos`"), "{err}");
    let (code, _, err) = run_as(&db, ADMIN, &["sandbox", "seed", "--users", "5"]);
    assert_eq!(code, 2);
    assert!(err.contains("at least 40 staff users"), "{err}");
}

#[test]
fn a_missing_mariadb_says_what_to_install() {
    let dir = scratch("no-mariadb");
    let empty = dir.join("bin");
    std::fs::create_dir_all(&empty).unwrap();
    let out = warden()
        .env("WARDEN_MARIADB_BINDIR", &empty)
        .args([
            "sandbox",
            "start",
            "--data-dir",
            dir.join("sb").to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("mariadbd not found: install mariadb-server"),
        "{stderr}"
    );
}

/// The application's tables of `db`, each with its CHECKSUM TABLE.
fn company_checksums(db: &warden_sandbox::TestDatabase) -> Vec<(String, Option<i64>)> {
    block_on(async {
        let conn = warden_store::Database::connect(&db.spec().unwrap())
            .await
            .unwrap();
        let all = warden_sandbox::server::table_checksums(&conn)
            .await
            .unwrap();
        conn.close().await;
        all.into_iter()
            .filter(|(table, _)| !table.starts_with("warden_"))
            .collect()
    })
}

fn seed_at(db: &warden_sandbox::TestDatabase, now: &str) -> (i32, String) {
    let (code, _, stderr) = run_as(
        db,
        ADMIN,
        &[
            "sandbox",
            "seed",
            "--users",
            "60",
            "--log-rows",
            "800",
            "--seed",
            "5",
            "--now",
            now,
        ],
    );
    (code, stderr)
}

/// `--now` places the company: the same seed, sizes and `--now` give byte-identical
/// tables, whatever day the command runs; another `--now` gives another company.
#[test]
fn the_same_seed_sizes_and_now_give_byte_identical_tables() {
    let (a, b, c) = (fresh(), fresh(), fresh());
    assert_eq!(seed_at(&a, "2026-11-29T23:30:00Z").0, 0);
    assert_eq!(
        seed_at(&b, "2026-11-30T00:30:00+01:00").0,
        0,
        "the same instant"
    );
    assert_eq!(seed_at(&c, "2026-12-02T09:00:00Z").0, 0);
    let (a, b, c) = (
        company_checksums(&a),
        company_checksums(&b),
        company_checksums(&c),
    );
    assert!(a.len() >= 10, "{a:?}");
    assert!(
        a.iter().all(|(_, sum)| sum.is_some_and(|s| s != 0)),
        "{a:?}"
    );
    assert_eq!(a, b);
    let moved: Vec<&String> = (a.iter().zip(&c))
        .filter(|(x, y)| x.1 != y.1)
        .map(|(x, _)| &x.0)
        .collect();
    assert!(moved.contains(&&"access_log".to_string()), "{moved:?}");

    let (code, stderr) = seed_at(&fresh(), "yesterday");
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("--now") && stderr.contains("RFC 3339"),
        "{stderr}"
    );
}
