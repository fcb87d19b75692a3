use crate::support::*;

#[test]
fn unreachable_database_exits_3_naming_the_host() {
    let out = warden()
        .args([
            "--database-url",
            "mysql://warden@127.0.0.1:1/app",
            "--format",
            "json",
            "users",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("warden@127.0.0.1:1/app is unreachable"),
        "{stderr}"
    );
    assert!(
        stderr.to_lowercase().contains("refused"),
        "the reason: {stderr}"
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["error"]["code"], "unavailable");
}

#[test]
fn usage_errors_exit_2() {
    let out = warden().args(["users"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no database"));
    let out = warden().args(["frobnicate"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = warden()
        .args([
            "--database-url",
            "mysql://root:Sup3rSecret@127.0.0.1:1/app",
            "users",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("must not contain a password"), "{stderr}");
    assert!(!stderr.contains("Sup3rSecret"));
}

#[test]
fn mappings_bad_names_exit_2_bad_files_exit_5() {
    let db = seeded();
    let dir = scratch("mappings");
    let reference = include_str!("../../../warden-core/src/presets/reference.toml");
    let typo = dir.join("typo.toml");
    std::fs::write(
        &typo,
        reference.replace(
            "last_login = \"last_login_at\"",
            "last_login = \"last_logn_at\"",
        ),
    )
    .unwrap();
    let (code, _, err) = run(&db, &["--mapping", typo.to_str().unwrap(), "users"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("`staff_users.last_logn_at` does not exist (did you mean `last_login_at`?)"),
        "{err}"
    );

    let hostile = dir.join("hostile.toml");
    std::fs::write(
        &hostile,
        reference.replace(
            "table = \"staff_users\"",
            "table = \"staff_users` WHERE 1=1; DROP TABLE roles; -- \"",
        ),
    )
    .unwrap();
    let (code, _, err) = run(&db, &["--mapping", hostile.to_str().unwrap(), "users"]);
    assert_eq!(code, 2);
    assert!(err.contains("identifiers may only use letters"), "{err}");
    assert_eq!(json(&db, &["roles"]).0, 0, "roles table still there");

    let broken = dir.join("broken.toml");
    std::fs::write(&broken, "[users]\ntable = \"staff_users\"\nid = \n").unwrap();
    let (code, _, err) = run(&db, &["--mapping", broken.to_str().unwrap(), "users"]);
    assert_eq!(code, 5);
    assert!(
        err.contains("broken.toml") && err.contains("line 3"),
        "{err}"
    );

    let (code, _, err) = run(&db, &["--mapping", "/nonexistent/mapping.toml", "users"]);
    assert_eq!(code, 2);
    assert!(err.contains("neither a preset"), "{err}");
}

#[test]
fn roles_and_conflicts_exit_4_and_6() {
    let db = seeded();
    add_user(&db, OFFICER, "rita.reviewer", "reviewer");
    let (code, _, err) = run_as(&db, "rita.reviewer", &["users"]);
    assert_eq!(code, 4, "{err}");
    assert!(
        err.contains("needs the officer or auditor console role"),
        "{err}"
    );
    // WARDEN_ACTOR names nobody: the reviewer's account acts, whatever it says.
    let out = warden_as(&db, "rita.reviewer")
        .env("WARDEN_ACTOR", OFFICER)
        .args(["users"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4));
    // An account of the server that is no console user's is refused, named.
    let eve = account_user(&db, "eve");
    block_on(async {
        let root = warden_store::Database::connect(&db.spec().unwrap())
            .await
            .unwrap();
        let schema = warden_core::ident::quote(&db.name);
        for sql in [
            format!(
                "CREATE USER '{eve}'@'localhost' IDENTIFIED BY '{}'",
                password_of("eve")
            ),
            format!("GRANT ALL ON {schema}.* TO '{eve}'@'localhost'"),
        ] {
            sqlx::raw_sql(&sql).execute(root.app()).await.unwrap();
        }
        root.close().await;
    });
    let (code, _, err) = run_as(&db, "eve", &["roles"]);
    assert_eq!(code, 4, "{err}");
    assert!(
        err.contains(&format!(
            "the database account {eve}@localhost is not a Warden console user"
        )),
        "{err}"
    );

    // The administrator steps back; OFFICER is then the last officer.
    assert_eq!(run(&db, &["console-users", "remove", ADMIN]).0, 0);
    let (code, _, err) = run(&db, &["console-users", "remove", OFFICER]);
    assert_eq!(code, 6);
    assert!(err.contains("last officer"), "{err}");
}

#[test]
fn unknown_names_are_clear_errors_with_a_json_document() {
    let db = seeded();
    let (code, doc) = json(&db, &["access", "nobody.here"]);
    assert_eq!(code, 2);
    assert_eq!(doc["error"]["code"], "not_found");
    assert!(
        doc["error"]["message"]
            .as_str()
            .unwrap()
            .contains("nobody.here")
    );
    let (code, doc) = json(&db, &["who-can", "refund:aprove"]);
    assert_eq!(code, 2);
    assert!(
        doc["error"]["message"]
            .as_str()
            .unwrap()
            .contains("did you mean `refund:approve`")
    );
}
