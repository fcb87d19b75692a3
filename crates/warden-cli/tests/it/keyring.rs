//! Profiles keep their password in a real OS keyring: gnome-keyring's Secret Service in a
//! private D-Bus session started by this test. The password never reaches the config file,
//! stdout, stderr (even at -vvv) or the JSON output.

use std::process::Command;

use crate::support::*;

const PASSWORD: &str = "K3yring-only_S3cret!%";

/// An auditor with an account of their own, reached over TCP from 127.0.0.1: answers the
/// account's user name and its initial (already expired) password.
fn tcp_auditor(db: &warden_sandbox::TestDatabase) -> (String, String) {
    let (code, added) = json(
        db,
        &[
            "console-users",
            "add",
            "kr",
            "--role",
            "auditor",
            "--host",
            "127.0.0.1",
        ],
    );
    assert_eq!(code, 0, "{added}");
    (
        account_user(db, "kr"),
        added["initial_password"].as_str().unwrap().to_string(),
    )
}

#[test]
fn profile_passwords_live_only_in_the_os_keyring() {
    let db = seeded();
    let (user, initial) = tcp_auditor(&db);
    let home = scratch("keyring-home");
    let out = home.join("out");
    std::fs::create_dir_all(&out).unwrap();
    let script = r#"
set -u
echo -n unlock-the-test-keyring | gnome-keyring-daemon --unlock --components=secrets > /dev/null
printf '%s\n' "$INITIAL" | "$WARDEN" profile add kr --host 127.0.0.1 --port "$PORT" --user "$KR_USER" \
    --database "$DB" --tls disabled > "$OUT/add.out" 2> "$OUT/add.err"; echo $? > "$OUT/add.code"
"$WARDEN" --profile kr users > /dev/null 2> "$OUT/expired.err"; echo $? > "$OUT/expired.code"
printf '%s\n' "$PW" | "$WARDEN" --profile kr password > "$OUT/password.out" 2> "$OUT/password.err"; echo $? > "$OUT/password.code"
"$WARDEN" --profile kr --format json -vvv users > "$OUT/users.json" 2> "$OUT/users.err"; echo $? > "$OUT/users.code"
"$WARDEN" profile list --format json > "$OUT/list.json" 2>&1
"$WARDEN" profile remove kr > "$OUT/remove.out" 2>&1; echo $? > "$OUT/remove.code"
"$WARDEN" --profile kr users > /dev/null 2> "$OUT/after.err"; echo $? > "$OUT/after.code"
"#;
    let status = Command::new("dbus-run-session")
        .args(["--", "bash", "-c", script])
        .env("HOME", &home)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_DATA_HOME", home.join("data"))
        .env_remove("WARDEN_DATABASE_PASSWORD")
        .env_remove("WARDEN_DATABASE_URL")
        .env("WARDEN", assert_cmd::cargo::cargo_bin("warden"))
        .env("PW", PASSWORD)
        .env("INITIAL", &initial)
        .env("KR_USER", &user)
        .env("PORT", db.port.to_string())
        .env("DB", &db.name)
        .env("OUT", &out)
        .output()
        .expect("dbus-run-session (apt: dbus, gnome-keyring) must be installed");
    assert!(
        status.status.success(),
        "dbus-run-session: {}; {}",
        status.status,
        String::from_utf8_lossy(&status.stderr)
    );
    let read = |f: &str| std::fs::read_to_string(out.join(f)).unwrap_or_default();
    assert_eq!(
        read("add.code").trim(),
        "0",
        "profile add: {}",
        read("add.err")
    );
    // First sign-in: the initial password is expired; `warden password` sets the
    // person's own on the server and in the keyring, and the profile then works.
    assert_eq!(read("expired.code").trim(), "2", "{}", read("expired.err"));
    assert!(
        read("expired.err").contains("has expired"),
        "{}",
        read("expired.err")
    );
    assert_eq!(
        read("password.code").trim(),
        "0",
        "warden password: {}",
        read("password.err")
    );
    assert!(read("password.out").contains("kept in the OS keyring for profile `kr`"));
    assert_eq!(
        read("users.code").trim(),
        "0",
        "users via the profile: {}",
        read("users.err")
    );
    let users: serde_json::Value = serde_json::from_str(&read("users.json")).unwrap();
    assert_eq!(users["users"].as_array().unwrap().len(), 200);
    let config =
        std::fs::read_to_string(home.join("config/warden/config.toml")).unwrap_or_default();
    for (name, text) in [
        ("config.toml", config.clone()),
        ("add stdout", read("add.out")),
        ("add stderr", read("add.err")),
        ("users stdout", read("users.json")),
        ("users stderr (-vvv)", read("users.err")),
        ("profile list", read("list.json")),
        ("password stdout", read("password.out")),
        ("password stderr", read("password.err")),
        ("expired stderr", read("expired.err")),
    ] {
        assert!(!text.contains(PASSWORD), "the password leaked into {name}");
        assert!(
            !text.contains(&initial),
            "the initial password leaked into {name}"
        );
    }
    assert!(read("users.err").len() > 100, "-vvv did log something");
    let list: serde_json::Value = serde_json::from_str(&read("list.json")).unwrap();
    assert_eq!(list["profiles"]["kr"]["user"], user.as_str());
    assert_eq!(list["profiles"]["kr"]["tls"], "disabled");
    assert_eq!(read("remove.code").trim(), "0");
    assert_eq!(read("after.code").trim(), "2");
    assert!(read("after.err").contains("no profile `kr`"));
}

#[test]
fn without_a_keyring_profile_add_says_what_is_missing() {
    let home = scratch("no-keyring-home");
    let out = warden()
        .args([
            "profile",
            "add",
            "p",
            "--host",
            "db.example",
            "--user",
            "u",
            "--database",
            "d",
        ])
        .env("HOME", &home)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .write_stdin(format!("{PASSWORD}\n"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("OS keyring is unavailable"), "{stderr}");
    assert!(!stderr.contains(PASSWORD));
    assert!(
        !home.join("config/warden/config.toml").exists(),
        "nothing half-written"
    );
}

#[test]
fn automation_passes_the_password_in_the_environment_only() {
    let db = seeded();
    let (user, initial) = tcp_auditor(&db);
    let url = format!(
        "mysql://{user}@127.0.0.1:{}/{}?ssl-mode=disabled",
        db.port, db.name
    );
    // The first sign-in, without a terminal: the new password on stdin.
    let out = warden()
        .env("WARDEN_DATABASE_PASSWORD", &initial)
        .args(["--database-url", &url, "password"])
        .write_stdin(format!("{PASSWORD}\n"))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("set WARDEN_DATABASE_PASSWORD"));
    let out = warden()
        .env("WARDEN_DATABASE_PASSWORD", PASSWORD)
        .args(["--database-url", &url, "--format", "json", "-vvv", "roles"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for stream in [&out.stdout, &out.stderr] {
        assert!(!String::from_utf8_lossy(stream).contains(PASSWORD));
    }
    let out = warden()
        .env("WARDEN_DATABASE_PASSWORD", "wrong-password")
        .args(["--database-url", &url, "roles"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("Access denied for user '{user}'")),
        "{stderr}"
    );
    assert!(!stderr.contains("wrong-password"));
}

/// `warden demo` makes an officer, a reviewer and an auditor with accounts of their own,
/// their passwords in the OS keyring as profiles: each acts with its own role, and a
/// second demo keeps them.
#[test]
fn the_demo_signs_its_people_in_with_passwords_in_the_keyring() {
    let home = scratch("demo-keyring-home");
    let data = home.join("sandbox");
    let out = home.join("out");
    std::fs::create_dir_all(&out).unwrap();
    let script = r#"
set -u
echo -n unlock-the-test-keyring | gnome-keyring-daemon --unlock --components=secrets > /dev/null
demo() { "$WARDEN" demo --headless --data-dir "$DATA" --users 60 --log-rows 800 --format json; }
demo > "$OUT/demo1.json" 2> "$OUT/demo1.err"; echo $? > "$OUT/demo1.code"
"$WARDEN" --profile sandbox-auditor --format json users > "$OUT/auditor.json" 2> "$OUT/auditor.err"; echo $? > "$OUT/auditor.code"
"$WARDEN" --profile sandbox-reviewer users > /dev/null 2> "$OUT/reviewer.err"; echo $? > "$OUT/reviewer.code"
"$WARDEN" --profile sandbox-officer --format json console-users > "$OUT/officer.json" 2> "$OUT/officer.err"; echo $? > "$OUT/officer.code"
demo > /dev/null 2> "$OUT/demo2.err"; echo $? > "$OUT/demo2.code"
"$WARDEN" sandbox stop --data-dir "$DATA" > /dev/null 2>&1
"#;
    let status = Command::new("dbus-run-session")
        .args(["--", "bash", "-c", script])
        .env("HOME", &home)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_DATA_HOME", home.join("data"))
        .env_remove("WARDEN_DATABASE_PASSWORD")
        .env_remove("WARDEN_DATABASE_URL")
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .env("WARDEN", assert_cmd::cargo::cargo_bin("warden"))
        .env("DATA", &data)
        .env("OUT", &out)
        .output()
        .expect("dbus-run-session (apt: dbus, gnome-keyring) must be installed");
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    let read = |f: &str| std::fs::read_to_string(out.join(f)).unwrap_or_default();
    assert_eq!(read("demo1.code").trim(), "0", "{}", read("demo1.err"));
    assert!(
        read("demo1.err").contains("Demo accounts, passwords in the OS keyring"),
        "{}",
        read("demo1.err")
    );
    assert_eq!(read("auditor.code").trim(), "0", "{}", read("auditor.err"));
    let users: serde_json::Value = serde_json::from_str(&read("auditor.json")).unwrap();
    assert_eq!(users["users"].as_array().unwrap().len(), 60);
    assert_eq!(
        read("reviewer.code").trim(),
        "4",
        "{}",
        read("reviewer.err")
    );
    assert!(read("reviewer.err").contains("demo.reviewer is reviewer"));
    assert_eq!(read("officer.code").trim(), "0", "{}", read("officer.err"));
    let listed: serde_json::Value = serde_json::from_str(&read("officer.json")).unwrap();
    let logins: Vec<&str> = (listed["users"].as_array().unwrap().iter())
        .map(|u| u["login"].as_str().unwrap())
        .collect();
    for login in ["demo.auditor", "demo.officer", "demo.reviewer", "root"] {
        assert!(logins.contains(&login), "{logins:?}");
    }
    assert_eq!(read("demo2.code").trim(), "0", "{}", read("demo2.err"));
    assert!(
        !read("demo2.err").contains("Demo accounts"),
        "the second demo keeps the first one's people: {}",
        read("demo2.err")
    );
    let config = std::fs::read_to_string(home.join("config/warden/config.toml")).unwrap();
    assert!(config.contains("[profiles.sandbox-officer]"), "{config}");
    assert!(!config.contains("password"), "{config}");
}
