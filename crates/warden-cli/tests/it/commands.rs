use crate::support::*;

#[test]
fn directory_commands_print_the_documented_json_shapes() {
    let db = seeded();
    let (code, users) = json(&db, &["users"]);
    assert_eq!(code, 0);
    assert_eq!(keys(&users), ["users"]);
    let list = users["users"].as_array().unwrap();
    assert_eq!(list.len(), 200);
    // Text values may begin with `-` (a search, a comment): text, not a flag.
    let (code, none) = json(&db, &["users", "--search", "-no such person"]);
    assert_eq!(code, 0, "{none}");
    assert_eq!(none["users"], serde_json::json!([]));
    let (code, _, err) = run(&db, &["users", "--search", "50%"]);
    assert_eq!(code, 0, "{err}");
    for key in [
        "id",
        "login",
        "name",
        "email",
        "department",
        "manager",
        "status",
        "last_login",
    ] {
        assert!(list[0].get(key).is_some(), "users[].{key}");
    }
    let support = json(
        &db,
        &["users", "--department", "support", "--status", "active"],
    )
    .1;
    let support = support["users"].as_array().unwrap();
    assert!(!support.is_empty());
    assert!(
        support
            .iter()
            .all(|u| u["department"] == "support" && u["status"] == "active")
    );

    let (code, roles) = json(&db, &["roles"]);
    assert_eq!(code, 0);
    let lead = roles["roles"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "support_lead")
        .unwrap();
    for key in ["id", "name", "owner", "members", "permissions"] {
        assert!(lead.get(key).is_some(), "roles[].{key}");
    }
    assert_eq!(lead["permissions"], 8);

    // Someone holding both sides of the refund flow, from who-can, then their access.
    let requesters = json(&db, &["who-can", "refund:request"]).1;
    let approvers = json(&db, &["who-can", "refund:approve"]).1;
    assert_eq!(keys(&approvers), ["permission", "users"]);
    assert_eq!(approvers["permission"], "refund:approve");
    let login = requesters["users"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h["via"] != serde_json::json!(["superuser"]))
        .map(|h| h["login"].as_str().unwrap())
        .find(|l| {
            approvers["users"]
                .as_array()
                .unwrap()
                .iter()
                .any(|a| a["login"] == *l)
        })
        .expect("the planted separation-of-duties conflict")
        .to_string();
    let (code, access) = json(&db, &["access", &login]);
    assert_eq!(code, 0);
    assert_eq!(access["user"]["login"], login.as_str());
    let perms = access["permissions"].as_array().unwrap();
    let via = |key: &str| {
        perms
            .iter()
            .find(|p| p["key"] == key)
            .map(|p| p["via"].clone())
    };
    assert_eq!(
        via("refund:request"),
        Some(serde_json::json!(["support_billing"]))
    );
    assert_eq!(
        via("refund:approve"),
        Some(serde_json::json!(["refund_approver"]))
    );
}

#[test]
fn table_and_csv_formats() {
    let db = seeded();
    let (code, table, _) = run(&db, &["roles"]);
    assert_eq!(code, 0);
    let header = table.lines().next().unwrap();
    assert!(header.starts_with("ID  NAME"), "{header}");
    assert!(
        table
            .lines()
            .any(|l| l.contains("support_lead") && l.contains("support_agent"))
    );

    let (code, csv_text, _) = run(
        &db,
        &["--format", "csv", "who-can", "customer.payment:read"],
    );
    assert_eq!(code, 0);
    let mut reader = csv::Reader::from_reader(csv_text.as_bytes());
    assert_eq!(
        reader.headers().unwrap(),
        vec!["permission", "login", "via"]
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let (_, doc) = json(&db, &["who-can", "customer.payment:read"]);
    assert_eq!(rows.len(), doc["users"].as_array().unwrap().len());
    assert!(
        csv_text.lines().all(|l| l.starts_with('"')),
        "every field quoted"
    );
}

#[test]
fn migrate_and_console_users() {
    let db = fresh();
    let prefix = account_prefix(&db);
    let (code, doc) = json_as(&db, ADMIN, &["migrate", "--account-prefix", &prefix]);
    assert_eq!(code, 0, "{doc}");
    assert_eq!(
        doc["first_officer"], ADMIN,
        "the administrator who migrated"
    );
    assert!(!doc["applied"].as_array().unwrap().is_empty());
    let (_, again) = json_as(&db, ADMIN, &["migrate"]);
    assert_eq!(again["applied"], serde_json::json!([]));
    assert_eq!(again["first_officer"], serde_json::Value::Null);
    assert!(doc["server_roles"].is_string(), "{doc}");
    assert_eq!(
        again["server_roles"],
        serde_json::Value::Null,
        "set up once"
    );
    // For a DBA: the same roles, grants and trigger as a script, nothing changed.
    let (code, script, err) = run_as(&db, ADMIN, &["migrate", "--print-sql"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        script.contains("CREATE ROLE IF NOT EXISTS 'warden_"),
        "{script}"
    );
    assert!(script.contains("_officer';\n"), "{script}");
    assert!(script.contains("DELIMITER //\n"), "{script}");

    // An officer of their own: the contract's shape, the password shown once, already
    // expired; the first sign-in sets the person's own.
    let (code, added) = json_as(
        &db,
        ADMIN,
        &[
            "console-users",
            "add",
            OFFICER,
            "--role",
            "officer",
            "--host",
            "localhost",
        ],
    );
    assert_eq!(code, 0, "{added}");
    for key in ["login", "account", "role", "initial_password"] {
        assert!(added.get(key).is_some(), "{key}: {added}");
    }
    assert_eq!(
        added["account"],
        format!("{}@localhost", account_user(&db, OFFICER))
    );
    let initial = added["initial_password"].as_str().unwrap();
    let (code, _, err) = warden()
        .arg("--database-url")
        .arg(url_of(&db, OFFICER))
        .env("WARDEN_DATABASE_PASSWORD", initial)
        .args(["console-users"])
        .output()
        .map(|o| {
            (
                o.status.code(),
                o.stdout,
                String::from_utf8_lossy(&o.stderr).to_string(),
            )
        })
        .unwrap();
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("has expired: choose a new one"), "{err}");
    first_sign_in(&db, OFFICER, initial);

    let (code, added) = json(
        &db,
        &["console-users", "add", "adam.auditor", "--role", "auditor"],
    );
    assert_eq!(code, 0);
    assert_eq!(added["role"], "auditor");
    assert_eq!(
        added["account"],
        format!("{}@%", account_user(&db, "adam.auditor"))
    );
    assert!(added["audit_seq"].as_u64().unwrap() > 0);
    let (_, listed) = json(&db, &["console-users"]);
    let users = listed["users"].as_array().unwrap();
    let logins: Vec<&str> = users.iter().map(|u| u["login"].as_str().unwrap()).collect();
    assert_eq!(logins, ["adam.auditor", OFFICER, ADMIN]);
    assert_eq!(
        keys(&users[0])[..4],
        ["account", "created_at", "created_by", "locked"]
    );
    let (code, removed) = json(&db, &["console-users", "remove", "adam.auditor"]);
    assert_eq!(code, 0);
    assert_eq!(removed["previous_role"], "auditor");
    let (_, listed) = json(&db, &["console-users"]);
    assert_eq!(listed["users"][0]["locked"], true, "{listed}");
    let (code, _, err) = run(&db, &["console-users", "add", "x", "--role", "admin"]);
    assert_eq!(code, 5);
    assert!(err.contains("unknown console role `admin`"), "{err}");
}

#[test]
fn mapping_check_reports_ok_and_problems() {
    let db = seeded();
    let (code, ok) = json(&db, &["mapping", "check"]);
    assert_eq!(code, 0);
    assert_eq!(ok, serde_json::json!({"ok": true, "problems": []}));
    let (code, bad) = json(&db, &["--mapping", "django", "mapping", "check"]);
    assert_eq!(code, 2);
    assert_eq!(bad["ok"], false);
    assert!(
        bad["problems"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["message"].as_str().unwrap().contains("auth_user"))
    );
}

#[test]
fn policy_validate_accepts_the_design_example_and_places_errors() {
    let dir = scratch("policies");
    let good = dir.join("good.toml");
    std::fs::write(
        &good,
        "[dormancy]\ndays = 90\n\n[[job_function]]\nname = \"support\"\nmatch = { department = \"support\" }\n\
         allow = [\"customer.contact:read\", \"ticket:*\"]\nmax_roles = 3\n\n[[separation_of_duties]]\n\
         name = \"refund four-eyes\"\nconflict = [\"refund:request\", \"refund:approve\"]\n",
    )
    .unwrap();
    let out = warden()
        .args(["--format", "json", "policy", "validate"])
        .arg(&good)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["job_functions"], serde_json::json!(["support"]));
    assert_eq!(doc["dormancy_days"], 90);

    let bad = dir.join("bad.toml");
    std::fs::write(&bad, "[[job_function]]\nname = \"x\"\nmatch = { department = \"a\" }\nallow = [\"ok\"]\nmax_role = 3\n").unwrap();
    let out = warden()
        .args(["policy", "validate"])
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(5));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("bad.toml: policy: line 5, column 1") && stderr.contains("max_role"),
        "{stderr}"
    );

    let out = warden()
        .args(["policy", "validate", "/nonexistent.toml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn policy_apply_show_and_history() {
    let db = seeded();
    let dir = scratch("policy-apply");
    let file = dir.join("policy.toml");
    let text = "[[job_function]]\nname = \"support\"\nmatch = { department = \"support\" }\nallow = [\"ticket:*\"]\n";
    std::fs::write(&file, text).unwrap();
    let f = file.to_str().unwrap();
    let (code, applied) = json(&db, &["policy", "apply", f, "--comment", "baseline"]);
    assert_eq!(code, 0, "{applied}");
    assert_eq!(applied["version"], 1);
    assert_eq!(applied["sha256"].as_str().unwrap().len(), 64);
    let (_, again) = json(&db, &["policy", "apply", f]);
    assert_eq!(again["changed"], false);
    let (code, body, _) = run(&db, &["policy", "show"]);
    assert_eq!((code, body.as_str()), (0, text));
    let (_, history) = json(&db, &["policy", "history"]);
    assert_eq!(history["versions"][0]["comment"], "baseline");
    add_user(&db, OFFICER, "rita.reviewer", "reviewer");
    let (code, _, err) = run_as(&db, "rita.reviewer", &["policy", "apply", f]);
    assert_eq!(code, 4, "{err}");
    let (code, doc) = json(&db, &["policy", "show", "7"]);
    assert_eq!(code, 2);
    assert_eq!(doc["error"]["code"], "not_found");
}

#[test]
fn check_fails_on_what_is_asked_and_findings_are_triaged() {
    let db = seeded();
    let dir = scratch("check");
    let file = dir.join("company.toml");
    std::fs::write(&file, warden_sandbox::seed::COMPANY_POLICY).unwrap();
    let f = file.to_str().unwrap();
    // No policy yet: a clear error, not a crash.
    let (code, doc) = json(&db, &["check"]);
    assert_eq!(code, 2, "{doc}");
    assert!(
        doc["error"]["message"]
            .as_str()
            .unwrap()
            .contains("policy apply")
    );
    assert_eq!(
        json(&db, &["policy", "apply", f, "--comment", "baseline"]).0,
        0
    );

    let (code, checked) = json(&db, &["check"]);
    assert_eq!(code, 0, "{checked}");
    let findings = checked["findings"].as_array().unwrap();
    assert!(!findings.is_empty());
    for key in ["id", "kind", "severity", "subject", "detail", "fingerprint"] {
        assert!(!findings[0][key].is_null(), "{key}: {}", findings[0]);
    }
    let (code, _) = json(&db, &["check", "--fail-on", "high"]);
    assert_eq!(code, 1, "a high finding is open");

    // Acknowledge every high finding: --fail-on high passes, --fail-on medium still fails.
    let (_, high) = json(&db, &["findings", "--severity", "high", "--status", "open"]);
    for h in high["findings"].as_array().unwrap() {
        let id = h["id"].to_string();
        let (code, t) = json(
            &db,
            &[
                "findings",
                "triage",
                &id,
                "ack",
                "--comment",
                "tracked in SEC-101",
            ],
        );
        assert_eq!((code, t["to"].as_str()), (0, Some("acknowledged")), "{t}");
    }
    assert_eq!(json(&db, &["check", "--fail-on", "high"]).0, 0);
    assert_eq!(json(&db, &["check", "--fail-on", "medium"]).0, 1);
    let (code, shown) = json(
        &db,
        &["findings", "show", &high["findings"][0]["id"].to_string()],
    );
    assert_eq!(code, 0);
    assert_eq!(shown["history"][0]["comment"], "tracked in SEC-101");
    let (code, _, err) = run(&db, &["findings", "triage", "1", "ack"]);
    assert_eq!(code, 2);
    assert!(err.contains("--comment"), "{err}");

    // A draft is judged without being recorded, and simulated against the log.
    let draft = dir.join("draft.toml");
    std::fs::write(
        &draft,
        warden_sandbox::seed::COMPANY_POLICY.replace("days = 90", "days = 30"),
    )
    .unwrap();
    let d = draft.to_str().unwrap();
    let (code, judged) = json(&db, &["check", "--policy", d]);
    assert_eq!(code, 0);
    assert_eq!(judged["stored"], false);
    let (code, sim) = json(&db, &["policy", "simulate", d, "--days", "30"]);
    assert_eq!(code, 0, "{sim}");
    assert!(sim["would_deny"].is_array());
    assert_eq!(json(&db, &["policy", "apply", d]).0, 0);
    let (code, diff) = json(&db, &["policy", "diff", "1", "2"]);
    assert_eq!(code, 0);
    assert_eq!(diff["changes"][0]["details"][0], "days: 90 → 30");
    let (code, csv, _) = run(&db, &["--format", "csv", "findings", "--kind", "no_mfa"]);
    assert_eq!(code, 0);
    assert!(
        csv.starts_with("\"id\",\"severity\",\"kind\",\"subject\",\"status\",\"detail\"\n"),
        "{csv}"
    );
    // A kind is a closed set: an unknown one is refused as input, naming every known one.
    let (code, _, err) = run(&db, &["findings", "--kind", "nope"]);
    assert_eq!(code, 5, "{err}");
    assert!(
        err.contains("unknown kind `nope`: expected one of no_job_function, excess_permission"),
        "{err}"
    );
}

#[test]
fn policy_validate_with_a_database_warns_of_patterns_that_match_nothing() {
    let db = seeded();
    let dir = scratch("policy-warn");
    let file = dir.join("typo.toml");
    std::fs::write(
        &file,
        "[[job_function]]\nname = \"support\"\nmatch = { department = \"support\" }\nallow = [\"tickets:*\"]\n",
    )
    .unwrap();
    let (code, out, err) = run(&db, &["policy", "validate", file.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("support"));
    assert!(
        err.contains("typo.toml: line 4, column 11: job function `support`: `tickets:*` matches no permission"),
        "{err}"
    );
}

#[test]
fn a_review_is_started_listed_and_decided_from_the_command_line() {
    let db = seeded();
    let dir = scratch("review");
    let file = dir.join("company.toml");
    std::fs::write(&file, warden_sandbox::seed::COMPANY_POLICY).unwrap();
    assert_eq!(json(&db, &["policy", "apply", file.to_str().unwrap()]).0, 0);
    // The binary reads the system clock: the due date is two of its weeks away.
    let due = (warden_service::Clock::System.today() + chrono::Duration::days(14)).to_string();
    let (code, started) = json(
        &db,
        &[
            "review",
            "start",
            "--name",
            "Q4 finance",
            "--due",
            &due,
            "--scope",
            "department=finance",
            "--reviewer",
            "manager",
        ],
    );
    assert_eq!(code, 0, "{started}");
    let id = started["campaign"].to_string();
    assert!(started["items"].as_u64().unwrap() > 0);
    let (code, items) = json(&db, &["review", "items", &id, "--pending"]);
    assert_eq!(code, 0);
    for key in [
        "id",
        "login",
        "role",
        "reviewer",
        "suggestion",
        "reason",
        "decision",
    ] {
        assert!(
            items["items"][0].get(key).is_some(),
            "{key}: {}",
            items["items"][0]
        );
    }
    // The officer takes an item over (reassign needs a comment), then decides it.
    let item = items["items"][0]["id"].to_string();
    let (code, _, err) = run(
        &db,
        &["review", "reassign", &item, "--to", "olivia.officer"],
    );
    assert_eq!(code, 2, "{err}");
    let (code, moved) = json(
        &db,
        &[
            "review",
            "reassign",
            &item,
            "--to",
            "olivia.officer",
            "--comment",
            "manager away",
        ],
    );
    assert_eq!(code, 0, "{moved}");
    let args = [
        "review",
        "decide",
        &item,
        "approve",
        "--comment",
        "fine",
        "--key",
        "once",
    ];
    let (code, first) = json(&db, &args);
    assert_eq!(code, 0, "{first}");
    assert_eq!(
        json(&db, &args).1["audit_seq"],
        serde_json::Value::Null,
        "recorded once"
    );
    let (code, doc) = json(
        &db,
        &["review", "decide", &item, "revoke", "--key", "twice"],
    );
    assert_eq!(code, 6, "a conflict: {doc}");
    let (code, _, err) = run(&db, &["review", "decide", &item, "maybe"]);
    assert_eq!(code, 2);
    assert!(err.contains("approve|revoke"), "{err}");
    let (code, list) = json(&db, &["review", "list"]);
    assert_eq!(code, 0);
    assert_eq!(list["campaigns"][0]["decided"], 1);
    let (code, shown) = json(&db, &["review", "show", &id]);
    assert_eq!(code, 0);
    assert!(!shown["by_reviewer"].as_array().unwrap().is_empty());
    // The dry run prints the SQL; the close applies it; undo puts it back.
    let (code, preview, _) = run(&db, &["review", "close", &id, "--dry-run"]);
    assert_eq!(code, 0);
    let digest = preview
        .lines()
        .find_map(|l| {
            l.strip_prefix(&format!(
                "-- close exactly this: warden review close {id} --digest "
            ))
        })
        .unwrap_or_else(|| panic!("the preview names its digest: {preview}"))
        .to_string();
    let (code, _, err) = run(&db, &["review", "close", &id, "--digest", &"0".repeat(64)]);
    assert_eq!(code, 6, "another set than previewed: {err}");
    assert!(err.contains("changed since the preview"), "{err}");
    let (code, closed) = json(&db, &["review", "close", &id, "--digest", &digest]);
    assert_eq!(code, 0, "{closed}");
    assert_eq!(closed["digest"], digest.as_str());
    assert_eq!(closed["closed"], true);

    // The evidence pack: signed off on the trail, verified offline, any alteration exit 1.
    let pack = dir.join("q4-finance");
    let (code, packed) = json(
        &db,
        &["export", "campaign", &id, "--out", pack.to_str().unwrap()],
    );
    assert_eq!(code, 0, "{packed}");
    assert_eq!(
        packed["files"].as_array().map(Vec::len),
        Some(4),
        "{packed}"
    );
    let verify = || {
        let out = warden()
            .args([
                "--format",
                "json",
                "export",
                "verify",
                pack.to_str().unwrap(),
            ])
            .output()
            .unwrap();
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        (out.status.code().unwrap_or(-1), doc)
    };
    assert_eq!(verify().0, 0, "{}", verify().1);
    let (code, against) = json(
        &db,
        &[
            "export",
            "verify",
            pack.to_str().unwrap(),
            "--against-trail",
        ],
    );
    assert_eq!(
        (code, &against["ok"]),
        (0, &serde_json::Value::Bool(true)),
        "{against}"
    );
    let (code, signed) = json(&db, &["audit", "list", "--action", "review.sign_off"]);
    assert_eq!(code, 0, "{signed}");
    assert_eq!(signed["events"][0]["seq"], packed["audit_seq"]);
    assert_eq!(signed["events"][0]["target"], format!("campaign {id}"));
    let items_csv = pack.join("review_items.csv");
    let original = std::fs::read(&items_csv).unwrap();
    let mut altered = original.clone();
    let last = altered.len() - 3;
    altered[last] ^= 0x20;
    std::fs::write(&items_csv, &altered).unwrap();
    let (code, bad) = verify();
    assert_eq!(code, 1, "{bad}");
    assert!(
        bad["problems"][0]
            .as_str()
            .unwrap()
            .starts_with("review_items.csv: its SHA-256"),
        "{bad}"
    );
    std::fs::write(&items_csv, &original).unwrap();
    assert_eq!(verify().0, 0);

    // Signed off, the revocations are attested: an undo is refused (exit 5), and one
    // without a reason is refused before that (exit 2, the flag is required).
    let (code, refused) = json(
        &db,
        &[
            "review",
            "undo-remediation",
            &id,
            "--comment",
            "revoked too much",
        ],
    );
    assert_eq!(code, 5, "{refused}");
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap()
            .contains("evidence pack was signed off"),
        "{refused}"
    );
    let (code, _, err) = run(&db, &["review", "undo-remediation", &id]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--comment"), "{err}");
}

#[test]
fn logs_are_scanned_searched_by_cursor_and_hostile_xml_exits_5() {
    let db = seeded();
    let dir = scratch("logs");
    let policy = dir.join("company.toml");
    std::fs::write(&policy, warden_sandbox::seed::COMPANY_POLICY).unwrap();
    assert_eq!(
        json(&db, &["policy", "apply", policy.to_str().unwrap()]).0,
        0
    );

    // The application's table is read where it is: 3000 rows wait for the first scan.
    let (code, table) = json(&db, &["logs", "ingest", "table"]);
    assert_eq!(code, 0, "{table}");
    assert_eq!(
        (table["checkpoint"].as_i64(), table["waiting"].as_i64()),
        (Some(0), Some(3000))
    );
    assert_eq!(
        run(&db, &["logs", "ingest", "server-audit"]).0,
        2,
        "a file is needed"
    );

    // The contract: {"new_findings": N, "scanned": N}.
    let (code, scan) = json(&db, &["logs", "scan"]);
    assert_eq!(code, 0, "{scan}");
    assert_eq!(scan["scanned"], 3000);
    assert!(scan["new_findings"].as_u64().unwrap() >= 7, "{scan}");
    let (_, table) = json(&db, &["logs", "ingest", "table"]);
    assert_eq!(table["waiting"].as_i64(), Some(0));
    let (_, again) = json(&db, &["logs", "scan"]);
    assert_eq!(
        (again["scanned"].as_u64(), again["new_findings"].as_u64()),
        (Some(0), Some(0))
    );

    // {"rows": [...], "next": CURSOR|null}, page after page.
    let (code, page) = json(
        &db,
        &["logs", "search", "--source", "app", "--limit", "1000"],
    );
    assert_eq!(code, 0);
    assert_eq!(page["rows"].as_array().unwrap().len(), 1000);
    let next = page["next"].as_str().unwrap().to_string();
    let (_, page2) = json(
        &db,
        &[
            "logs", "search", "--source", "app", "--limit", "1000", "--after", &next,
        ],
    );
    let last = page["rows"][999]["id"].as_i64().unwrap();
    assert_eq!(page2["rows"][0]["id"].as_i64().unwrap(), last - 1);
    let (code, bad) = json(&db, &["logs", "search", "--after", "nonsense"]);
    assert_eq!(code, 5, "{bad}");

    // An XML file with a DTD: refused with exit 5, nothing imported.
    let xxe = dir.join("xxe.xml");
    std::fs::write(
        &xxe,
        "<?xml version=\"1.0\"?>\n<!DOCTYPE data [<!ENTITY file SYSTEM \"file:///etc/passwd\">]>\n<AUDIT><AUDIT_RECORD NAME=\"Query\" TIMESTAMP=\"2026-11-28T10:00:00 UTC\" SQLTEXT=\"&file;\"/></AUDIT>\n",
    )
    .unwrap();
    let (code, _, err) = run(&db, &["logs", "ingest", "audit-xml", xxe.to_str().unwrap()]);
    assert_eq!(code, 5, "{err}");
    assert!(err.contains("line 2") && err.contains("DTD"), "{err}");
    let (_, none) = json(&db, &["logs", "search", "--source", "db-audit"]);
    assert_eq!(none["rows"].as_array().unwrap().len(), 0);

    // A server_audit file with a bad line: the good ones imported, the bad one named.
    let audit = dir.join("server_audit.log");
    std::fs::write(
        &audit,
        "20261128 10:00:01,db1,app,10.0.0.5,42,7,QUERY,crm,'SELECT 1',0\nnot a line\n20261128 10:00:02,db1,app,10.0.0.5,42,8,QUERY,crm,'SELECT 2',0\n",
    )
    .unwrap();
    let (code, out, err) = run(
        &db,
        &[
            "--format",
            "json",
            "logs",
            "ingest",
            "server-audit",
            audit.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 0, "{err}");
    let done: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        (done["imported"].as_u64(), done["malformed"].as_u64()),
        (Some(2), Some(1))
    );
    assert!(err.contains("line 2"), "{err}");
}

#[test]
fn audit_verify_prints_the_documented_shape_and_exits_1_at_the_first_bad_seq() {
    let db = fresh();
    migrate(&db);
    add_user(&db, OFFICER, "ann.auditor", "auditor");
    // The contract: {"ok": bool, "events": N, "first_bad_seq": N|null}.
    let (code, intact) = json(&db, &["audit", "verify"]);
    assert_eq!(code, 0, "{intact}");
    assert_eq!(intact["ok"], true);
    assert_eq!(intact["first_bad_seq"], serde_json::Value::Null);
    let events = intact["events"].as_u64().unwrap();
    assert!(events >= 2, "{intact}");

    // An officer's event rewritten behind Warden's back.
    block_on(async {
        let store = warden_store::Database::connect(&db.spec().unwrap())
            .await
            .unwrap();
        sqlx::query("UPDATE warden_audit_events SET actor = ? WHERE seq = ?")
            .bind("mallory")
            .bind(events)
            .execute(store.gov())
            .await
            .unwrap();
        store.close().await;
    });
    let (code, broken) = json(&db, &["audit", "verify"]);
    assert_eq!(code, 1, "{broken}");
    assert_eq!(broken["ok"], false);
    assert_eq!(broken["first_bad_seq"].as_u64(), Some(events));
    let (_, _, stderr) = run(&db, &["audit", "verify"]);
    assert!(stderr.contains("altered"), "{stderr}");
}

/// A trail rolled back to an older head — as a restore from an older backup leaves it: a
/// whole chain, and its head row consistent — verifies as a chain, but not against the
/// head this client saw (kept by every command) nor against a manifest made before.
#[test]
fn audit_verify_tells_a_trail_restored_from_an_older_backup_by_its_witnesses() {
    let db = fresh();
    migrate(&db);
    add_user(&db, OFFICER, "ann.auditor", "auditor");
    let kept = block_on(async {
        let store = warden_store::Database::connect(&db.spec().unwrap())
            .await
            .unwrap();
        let head = warden_store::governance::audit_head(&store).await.unwrap();
        store.close().await;
        head
    });
    let dir = scratch("witness");
    // Two exports, two events: the second's manifest names the first's event as its head.
    for name in ["first.csv", "trail.csv"] {
        let csv = dir.join(name);
        let (code, _, err) = run(
            &db,
            &["export", "audit-trail", "--out", csv.to_str().unwrap()],
        );
        assert_eq!(code, 0, "{err}");
    }
    let manifest = dir.join("trail.csv.manifest.json");
    let manifest = manifest.to_str().unwrap();
    let (code, intact) = json(&db, &["audit", "verify", "--witness", manifest]);
    assert_eq!((code, intact["ok"].as_bool()), (0, Some(true)), "{intact}");

    // Back to the head of before the export, as a restore would leave it.
    block_on(async {
        let store = warden_store::Database::connect(&db.spec().unwrap())
            .await
            .unwrap();
        sqlx::query("DELETE FROM warden_audit_events WHERE seq > ?")
            .bind(kept.0)
            .execute(store.gov())
            .await
            .unwrap();
        sqlx::query("UPDATE warden_audit_head SET seq = ?, hash = ? WHERE id = 1")
            .bind(kept.0)
            .bind(&kept.1)
            .execute(store.gov())
            .await
            .unwrap();
        store.close().await;
    });
    let (code, behind, stderr) = run(&db, &["audit", "verify"]);
    assert_eq!(code, 1, "{behind}");
    assert!(stderr.contains("older backup"), "{stderr}");
    assert!(stderr.contains("this client"), "{stderr}");
    let (code, by_manifest, stderr) =
        run_with_state(&db, &["audit", "verify", "--witness", manifest]);
    assert_eq!(code, 1, "{by_manifest}");
    assert!(stderr.contains("the manifest"), "{stderr}");
    let (code, _, stderr) = run(&db, &["audit", "verify", "--witness", "/nonexistent.json"]);
    assert_eq!(code, 5, "{stderr}");
    assert!(stderr.contains("--witness /nonexistent.json"), "{stderr}");
}

/// `run` with a state folder of its own: no witness of this client's, only the manifests.
fn run_with_state(db: &warden_sandbox::TestDatabase, args: &[&str]) -> (i32, String, String) {
    let out = warden_as(db, OFFICER)
        .env("XDG_STATE_HOME", scratch("state-empty"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_audit_trail_exports_guarded_with_a_manifest_and_any_alteration_exits_1() {
    let db = seeded();
    let dir = scratch("export-trail");
    let policy = dir.join("company.toml");
    std::fs::write(&policy, warden_sandbox::seed::COMPANY_POLICY).unwrap();
    // A formula payload rides in a policy comment, which the trail records in details.
    let corpus = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/corpora/csv/payloads.txt"
    ))
    .unwrap();
    let payload = corpus.lines().find(|l| l.starts_with('=')).unwrap();
    let (code, applied) = json(
        &db,
        &[
            "policy",
            "apply",
            policy.to_str().unwrap(),
            "--comment",
            payload,
        ],
    );
    assert_eq!(code, 0, "{applied}");

    let out = dir.join("trail.csv");
    let (code, done) = json(
        &db,
        &[
            "export",
            "audit-trail",
            "--out",
            out.to_str().unwrap(),
            "--bom",
        ],
    );
    assert_eq!(code, 0, "{done}");
    let rows = done["rows"].as_u64().unwrap();
    assert!(rows >= 2, "{done}");
    let bytes = std::fs::read(&out).unwrap();
    assert!(bytes.starts_with(b"\xEF\xBB\xBF\"seq\","));
    let text = String::from_utf8(bytes.clone()).unwrap();
    assert!(
        !text.contains(",\"="),
        "no cell starts with a formula trigger"
    );
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("trail.csv.manifest.json")).unwrap())
            .unwrap();
    assert_eq!(manifest["kind"], "audit-trail");
    assert_eq!(manifest["rows"], rows);
    assert_eq!(manifest["sha256"], done["sha256"]);
    assert!(manifest["audit_head"]["seq"].as_u64().unwrap() >= rows);
    assert!(
        manifest["source"]["version"]
            .as_str()
            .unwrap()
            .contains("MariaDB")
    );
    // Nothing is left under a temporary name; the export itself is on the trail.
    let names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(!names.iter().any(|n| n.contains("partial")), "{names:?}");
    let (_, trail) = json(&db, &["audit", "verify"]);
    assert_eq!(trail["ok"], true);
    assert_eq!(
        trail["events"].as_u64(),
        Some(done["audit_seq"].as_u64().unwrap())
    );

    // Intact: exit 0, offline (no database named).
    let verify = |path: &std::path::Path| {
        let out = warden()
            .args([
                "--format",
                "json",
                "export",
                "verify",
                path.to_str().unwrap(),
            ])
            .output()
            .unwrap();
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        (out.status.code().unwrap_or(-1), doc)
    };
    let (code, ok) = verify(&out);
    assert_eq!(
        (code, &ok["ok"]),
        (0, &serde_json::Value::Bool(true)),
        "{ok}"
    );

    // One byte changed: exit 1, the hash named.
    let mut altered = bytes.clone();
    let at = text.find("policy.apply").unwrap();
    altered[at] = b'P';
    std::fs::write(&out, &altered).unwrap();
    let (code, bad) = verify(&dir.join("trail.csv.manifest.json"));
    assert_eq!(code, 1, "{bad}");
    assert!(
        bad["problems"][0].as_str().unwrap().contains("SHA-256"),
        "{bad}"
    );
}

#[test]
fn log_search_results_export_every_page_and_verify() {
    let db = seeded();
    let dir = scratch("export-logs");
    let denied: i64 = block_on(async {
        let store = warden_store::Database::connect(&db.spec().unwrap())
            .await
            .unwrap();
        let n = sqlx::query_scalar("SELECT COUNT(*) FROM access_log WHERE outcome = ?")
            .bind("denied")
            .fetch_one(store.app())
            .await
            .unwrap();
        store.close().await;
        n
    });
    assert!(denied > 0);
    let out = dir.join("denied.csv");
    let (code, done) = json(
        &db,
        &[
            "export",
            "logs",
            "--out",
            out.to_str().unwrap(),
            "--source",
            "app",
            "--outcome",
            "denied",
        ],
    );
    assert_eq!(code, 0, "{done}");
    assert_eq!(done["rows"].as_i64(), Some(denied));
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("denied.csv.manifest.json")).unwrap())
            .unwrap();
    assert_eq!(manifest["kind"], "logs");
    assert_eq!(manifest["parameters"]["outcome"], "denied");
    let mut reader = csv::Reader::from_path(&out).unwrap();
    assert_eq!(reader.headers().unwrap().get(9), Some("outcome"));
    assert!(reader.records().all(|r| &r.unwrap()[9] == "denied"));

    // Every page, however many: all 3,000 rows of the log.
    let all = dir.join("all.csv");
    let (code, done) = json(
        &db,
        &[
            "export",
            "logs",
            "--out",
            all.to_str().unwrap(),
            "--source",
            "app",
        ],
    );
    assert_eq!(code, 0, "{done}");
    assert_eq!(done["rows"], 3000);
    let (code, _) = json(&db, &["export", "verify", all.to_str().unwrap()]);
    assert_eq!(code, 0);
    // Progress goes to stderr (here not a terminal: a line per tenth, then the total),
    // never into the JSON on stdout; --quiet silences it.
    let again = dir.join("again.csv");
    let args = [
        "--format",
        "json",
        "export",
        "logs",
        "--source",
        "app",
        "--out",
        again.to_str().unwrap(),
    ];
    let (code, out, err) = run(&db, &args);
    assert_eq!(code, 0, "{err}");
    assert!(err.ends_with("export logs: 3,000 rows written\n"), "{err}");
    assert!(
        serde_json::from_str::<serde_json::Value>(&out).is_ok(),
        "{out}"
    );
    std::fs::remove_file(&again).unwrap();
    std::fs::remove_file(dir.join("again.csv.manifest.json")).unwrap();
    let (code, _, err) = run(&db, &[&["--quiet"], &args[..]].concat());
    assert_eq!((code, err.as_str()), (0, ""));
}

/// Starts `warden export logs --out OUT` with the log held locked, and returns once its
/// query waits on the lock (the server says so) with its file begun; the lock's holder
/// comes back with it, to release.
async fn held_export(
    db: &warden_sandbox::TestDatabase,
    dir: &std::path::Path,
    out: &std::path::Path,
) -> (std::process::Child, sqlx::MySqlConnection) {
    use sqlx::Connection;
    let mut holder = sqlx::MySqlConnection::connect(&db.url).await.unwrap();
    sqlx::query("LOCK TABLES access_log WRITE")
        .execute(&mut holder)
        .await
        .unwrap();
    let child = std::process::Command::new(assert_cmd::cargo::cargo_bin("warden"))
        .env("XDG_CONFIG_HOME", dir.join("config"))
        .env("WARDEN_DATABASE_PASSWORD", password_of(OFFICER))
        .env_remove("WARDEN_DATABASE_URL")
        .args([
            "--database-url",
            &url_of(db, OFFICER),
            "--format",
            "json",
            "export",
            "logs",
        ])
        .args(["--source", "app", "--out", out.to_str().unwrap()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut child = child;
    loop {
        let waiting: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM information_schema.PROCESSLIST \
             WHERE STATE LIKE ? AND INFO LIKE ?",
        )
        .bind("Waiting for table%")
        .bind("%access_log%")
        .fetch_one(&mut holder)
        .await
        .unwrap();
        assert!(
            child.try_wait().unwrap().is_none(),
            "the export ended early"
        );
        if waiting > 0 {
            return (child, holder);
        }
        tokio::task::yield_now().await;
    }
}

async fn release(mut holder: sqlx::MySqlConnection) {
    use sqlx::Connection;
    sqlx::query("UNLOCK TABLES")
        .execute(&mut holder)
        .await
        .unwrap();
    holder.close().await.unwrap();
}

/// A device, a pipe, a folder, a UTF-16 file and a file with no readable record: each
/// exits 5 with what it is, nothing imported.
#[test]
fn hostile_import_sources_exit_5_with_what_they_are() {
    let db = seeded();
    let dir = scratch("ingest-hostile");
    let fifo = dir.join("audit.fifo");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let utf16 = dir.join("utf16.log");
    let line = "20261128 10:00:01,db1,app,h,1,1,QUERY,crm,'select 1',0\n";
    let bytes: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain(line.encode_utf16().flat_map(u16::to_le_bytes))
        .collect();
    std::fs::write(&utf16, bytes).unwrap();
    let junk = dir.join("junk.log");
    std::fs::write(&junk, "not an audit line\n").unwrap();
    for (file, says) in [
        (std::path::PathBuf::from("/dev/zero"), "a device"),
        (fifo, "a pipe"),
        (dir.clone(), "a folder"),
        (utf16, "UTF-16LE"),
        (junk, "no readable"),
    ] {
        let (code, _, err) = run(
            &db,
            &["logs", "ingest", "server-audit", file.to_str().unwrap()],
        );
        assert_eq!(code, 5, "{}: {err}", file.display());
        assert!(err.contains(says), "{}: {err}", file.display());
    }
    let (_, trail) = json(&db, &["audit", "list", "--action", "logs.ingest"]);
    assert_eq!(trail["events"].as_array().map(Vec::len), Some(0), "{trail}");
}

/// Ctrl-C (SIGINT) stops an audit-log import after the chunk being written: that chunk is
/// kept and recorded as a stopped import, the command exits 130 saying how to go on, and
/// importing the file again takes exactly the rest.
#[test]
fn an_import_interrupted_by_ctrl_c_keeps_its_chunk_and_a_rerun_takes_the_rest() {
    use sqlx::Connection;
    const LINES: u64 = 10_000;
    let db = seeded();
    let dir = scratch("ingest-interrupted");
    let file = dir.join("server_audit.log");
    let text: String = (0..LINES)
        .map(|i| format!("20261128 10:00:01,db1,app,h,42,{i},QUERY,crm,'SELECT {i}',0\n"))
        .collect();
    std::fs::write(&file, text).unwrap();
    let child = block_on(async {
        // The first chunk waits at the table, so Ctrl-C arrives mid-import.
        let mut holder = sqlx::MySqlConnection::connect(&db.url).await.unwrap();
        sqlx::query("LOCK TABLES warden_db_audit_blocks WRITE")
            .execute(&mut holder)
            .await
            .unwrap();
        let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("warden"))
            .env("XDG_CONFIG_HOME", dir.join("config"))
            .env("WARDEN_DATABASE_PASSWORD", password_of(OFFICER))
            .env_remove("WARDEN_DATABASE_URL")
            .args(["--database-url", &url_of(&db, OFFICER), "--format", "json"])
            .args(["logs", "ingest", "server-audit", file.to_str().unwrap()])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        loop {
            let waiting: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM information_schema.PROCESSLIST \
                 WHERE STATE LIKE ? AND INFO LIKE ?",
            )
            .bind("Waiting for table%")
            .bind("%warden_db_audit_blocks%")
            .fetch_one(&mut holder)
            .await
            .unwrap();
            assert!(
                child.try_wait().unwrap().is_none(),
                "the import ended early"
            );
            if waiting > 0 {
                break;
            }
            tokio::task::yield_now().await;
        }
        let sent = std::process::Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
        release(holder).await;
        child
    });
    let done = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&done.stderr);
    assert_eq!(done.status.code(), Some(130), "{err}");
    assert!(err.contains("4096 events are imported"), "{err}");
    assert!(err.contains("import the file again"), "{err}");
    let (_, trail) = json(&db, &["audit", "list", "--action", "logs.ingest"]);
    let events = trail["events"].as_array().unwrap();
    assert_eq!(events.len(), 1, "{trail}");
    let details: serde_json::Value =
        serde_json::from_str(events[0]["details"].as_str().unwrap()).unwrap();
    assert_eq!(
        (&details["stopped"], &details["imported"]),
        (&serde_json::json!(true), &serde_json::json!(4096))
    );

    let (code, again) = json(
        &db,
        &["logs", "ingest", "server-audit", file.to_str().unwrap()],
    );
    assert_eq!(code, 0, "{again}");
    assert_eq!(again["read"], LINES);
    assert_eq!(again["duplicates"], 4096);
    assert_eq!(again["imported"], LINES - 4096);
}

/// Ctrl-C (SIGINT) cancels an export: what it wrote is removed, nothing is on the trail,
/// and the command exits 130 saying so.
#[test]
fn an_export_interrupted_by_ctrl_c_removes_what_it_wrote_and_exits_130() {
    let db = seeded();
    let dir = scratch("export-interrupted");
    let out = dir.join("interrupted.csv");
    let child = block_on(async {
        let (child, holder) = held_export(&db, &dir, &out).await;
        let pid = child.id().to_string();
        let sent = std::process::Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .unwrap();
        assert!(sent.success());
        release(holder).await;
        child
    });
    let done = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&done.stderr);
    assert_eq!(done.status.code(), Some(130), "{err}");
    assert!(err.contains("cancelled"), "{err}");
    let names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        !names.iter().any(|n| n.contains("interrupted")),
        "nothing left: {names:?}"
    );
    let (_, trail) = json(&db, &["audit", "list", "--action", "export."]);
    assert_eq!(trail["events"].as_array().map(Vec::len), Some(0), "{trail}");
}

/// An export killed midway (SIGKILL: nothing of Warden runs after it) leaves no file under
/// its final name, nor a manifest: only its temporary file, which the next export to the
/// same name removes.
#[test]
fn an_export_killed_midway_leaves_nothing_under_the_final_name() {
    let db = seeded();
    let dir = scratch("export-killed");
    let out = dir.join("killed.csv");
    block_on(async {
        let (mut child, holder) = held_export(&db, &dir, &out).await;
        child.kill().unwrap();
        child.wait().unwrap();
        release(holder).await;
    });
    let names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(!out.exists(), "{names:?}");
    assert!(!dir.join("killed.csv.manifest.json").exists(), "{names:?}");
    assert!(
        names.iter().any(|n| n.starts_with(".killed.csv.partial-")),
        "{names:?}"
    );
    // The name is still free: a new export takes it, whole.
    let (code, done) = json(
        &db,
        &[
            "export",
            "logs",
            "--source",
            "app",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 0, "{done}");
    assert_eq!(done["rows"], 3000);
    let names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(!names.iter().any(|n| n.contains(".partial-")), "{names:?}");
}

#[test]
fn findings_export_as_the_findings_command_lists_them() {
    let db = seeded();
    let dir = scratch("export-findings");
    let file = dir.join("company.toml");
    std::fs::write(&file, warden_sandbox::seed::COMPANY_POLICY).unwrap();
    assert_eq!(json(&db, &["policy", "apply", file.to_str().unwrap()]).0, 0);
    assert_eq!(json(&db, &["check"]).0, 0);
    let (_, high) = json(&db, &["findings", "--severity", "high"]);
    let listed: Vec<String> = high["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["fingerprint"].as_str().unwrap().to_string())
        .collect();
    assert!(!listed.is_empty());

    let out = dir.join("high.csv");
    let (code, done) = json(
        &db,
        &[
            "export",
            "findings",
            "--severity",
            "high",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 0, "{done}");
    assert_eq!(done["rows"].as_u64(), Some(listed.len() as u64));
    let mut reader = csv::Reader::from_path(&out).unwrap();
    let exported: Vec<String> = reader
        .records()
        .map(|r| r.unwrap()[9].to_string())
        .collect();
    assert_eq!(exported, listed, "the same findings in the same order");
    let (code, _) = json(&db, &["export", "verify", out.to_str().unwrap()]);
    assert_eq!(code, 0);
    let (code, bad) = json(
        &db,
        &[
            "export",
            "findings",
            "--severity",
            "urgent",
            "--out",
            dir.join("x.csv").to_str().unwrap(),
        ],
    );
    assert_eq!(code, 5, "input rejected: {bad}");
    assert!(!dir.join("x.csv").exists());
    let left: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert!(
        !left.iter().any(|n| n.to_string_lossy().contains("x.csv")),
        "{left:?}"
    );
}

#[test]
fn the_access_listing_exports_every_grant_with_its_role_permissions_and_granter() {
    let db = seeded();
    let dir = scratch("export-access");
    let (grants, direct): (i64, i64) = block_on(async {
        let store = warden_store::Database::connect(&db.spec().unwrap())
            .await
            .unwrap();
        let count = |sql: &'static str| {
            let store = &store;
            async move {
                sqlx::query_scalar::<_, i64>(sql)
                    .fetch_one(store.app())
                    .await
                    .unwrap()
            }
        };
        let n = (
            // Expired grants are no longer access.
            count(
                "SELECT COUNT(*) FROM user_roles \
                 WHERE expires_at IS NULL OR expires_at > UTC_TIMESTAMP()",
            )
            .await,
            count("SELECT COUNT(*) FROM user_permissions").await,
        );
        store.close().await;
        n
    });
    let out = dir.join("access.csv");
    let (code, done) = json(&db, &["export", "access", "--out", out.to_str().unwrap()]);
    assert_eq!(code, 0, "{done}");
    assert_eq!(done["rows"].as_i64(), Some(grants + direct));
    let mut reader = csv::Reader::from_path(&out).unwrap();
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    let by_role: Vec<_> = rows.iter().filter(|r| &r[4] == "role").collect();
    assert_eq!(by_role.len() as i64, grants);
    assert!(
        by_role.iter().all(|r| !r[5].is_empty()),
        "every role row names its role"
    );
    assert!(
        by_role.iter().any(|r| r[6].contains(':')),
        "and its permissions"
    );
    assert!(
        by_role.iter().any(|r| !r[7].is_empty() && !r[8].is_empty()),
        "when and by whom"
    );
    let (code, _) = json(&db, &["export", "verify", out.to_str().unwrap()]);
    assert_eq!(code, 0);
}

/// At a terminal, the first sign-in asks for a new password (the initial one is expired),
/// sets it on the server and goes on with the command; the new password then signs in.
#[test]
fn at_a_terminal_the_first_sign_in_asks_for_a_new_password() {
    let db = seeded();
    let (code, added) = json(
        &db,
        &[
            "console-users",
            "add",
            "tina.tty",
            "--role",
            "auditor",
            "--host",
            "localhost",
        ],
    );
    assert_eq!(code, 0, "{added}");
    let initial = added["initial_password"].as_str().unwrap();
    let chosen = password_of("tina.tty");
    // script(1) gives warden a terminal; what is piped into it is typed there.
    let command = format!(
        "'{}' --database-url '{}' roles",
        assert_cmd::cargo::cargo_bin("warden").display(),
        url_of(&db, "tina.tty")
    );
    let mut typed = std::process::Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .env("WARDEN_DATABASE_PASSWORD", initial)
        .env("XDG_CONFIG_HOME", scratch("tty-config"))
        .env_remove("WARDEN_DATABASE_URL")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // What the terminal shows, as it comes; each answer is typed once its prompt is there.
    // (Whether it is echoed is not asserted: the prompt is shown a moment before echo is
    // turned off, and a machine typing at once can beat it, as no person does.)
    let (tx, rx) = std::sync::mpsc::channel();
    let mut stdout = typed.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        use std::io::Read;
        let mut buf = [0u8; 4096];
        while let Ok(n) = stdout.read(&mut buf) {
            if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                break;
            }
        }
    });
    let mut screen = String::new();
    let mut stdin = typed.stdin.take().unwrap();
    for prompt in ["new password: ", "the same again: "] {
        while !screen.contains(prompt) {
            let chunk = rx
                .recv_timeout(std::time::Duration::from_secs(30))
                .unwrap_or_else(|_| panic!("no {prompt:?} prompt: {screen}"));
            screen.push_str(&String::from_utf8_lossy(&chunk));
        }
        use std::io::Write;
        writeln!(stdin, "{chosen}").unwrap();
        screen = screen.replacen(prompt, "", 1);
    }
    drop(stdin);
    let status = typed.wait().unwrap();
    reader.join().unwrap();
    while let Ok(chunk) = rx.try_recv() {
        screen.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(status.success(), "{screen}");
    assert!(screen.contains("choose your own"), "{screen}");
    assert!(
        screen.contains("support_agent"),
        "the command went on: {screen}"
    );
    let (code, _, err) = run_as(&db, "tina.tty", &["roles"]);
    assert_eq!(code, 0, "the chosen password signs in: {err}");
}
