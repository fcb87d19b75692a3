//! Importing database audit-log files: server_audit files written by a real MariaDB with
//! the plugin loaded during the test (rotation included), XML and JSON in the vendors'
//! formats; every XXE document refused with nothing kept and no connection opened;
//! malformed lines reported by number; the same events never imported twice.

use std::io::Write;

use warden_service::ErrorCode;
use warden_service::logs;

use crate::support::*;

async fn migrated() -> warden_sandbox::TestDatabase {
    let (test_db, db) = fresh().await;
    migrate_with_officer(&db, &test_db).await;
    db.close().await;
    test_db
}

async fn stored(test_db: &warden_sandbox::TestDatabase) -> Vec<(String, Option<String>, u64)> {
    let db = warden_store::Database::connect(&test_db.spec().unwrap())
        .await
        .unwrap();
    let search = warden_store::logs::DbAuditSearch {
        limit: 1_000_000,
        ..Default::default()
    };
    let rows = warden_store::logs::search_db_audit(&db, &search)
        .await
        .unwrap();
    db.close().await;
    // Oldest first.
    rows.into_iter()
        .rev()
        .map(|r| (r.operation, r.object, r.line))
        .collect()
}

#[tokio::test]
async fn server_audit_files_written_by_a_real_mariadb_are_imported_once_across_rotation() {
    use sqlx::Connection;
    // A private server with the server_audit plugin, logging to a file of this test's.
    let dir = tempfile::tempdir().unwrap();
    let server = warden_sandbox::server::start(&dir.path().join("srv"), None).unwrap();
    let log = dir.path().join("server_audit.log");
    let opts = sqlx::mysql::MySqlConnectOptions::new()
        .socket(&server.socket)
        .username("root");
    let mut admin = sqlx::MySqlConnection::connect_with(&opts).await.unwrap();
    sqlx::raw_sql("INSTALL SONAME 'server_audit'")
        .execute(&mut admin)
        .await
        .unwrap();
    // The file path is a value: bound, like any other.
    sqlx::query("SET GLOBAL server_audit_file_path = ?")
        .bind(log.to_str().unwrap())
        .execute(&mut admin)
        .await
        .unwrap();
    sqlx::raw_sql(
        "SET GLOBAL server_audit_events = 'CONNECT,QUERY,TABLE'; \
         SET GLOBAL server_audit_logging = ON",
    )
    .execute(&mut admin)
    .await
    .unwrap();
    let tricky = "SELECT name, email FROM crm.customers WHERE note = 'a, b' OR note = \"it's\"";
    let mut app = sqlx::MySqlConnection::connect_with(&opts).await.unwrap();
    for sql in [
        "CREATE DATABASE crm",
        "CREATE TABLE crm.customers (id INT PRIMARY KEY, name TEXT, email TEXT, note TEXT)",
        tricky,
    ] {
        sqlx::raw_sql(sql).execute(&mut app).await.unwrap();
    }
    // The server logs a statement's QUERY event after it has answered the client: one more
    // round trip on the same connection makes sure the last one is logged before the file
    // is rotated from another connection (under load, a rotation in between lost it).
    sqlx::raw_sql("DO 1").execute(&mut app).await.unwrap();
    sqlx::raw_sql("SET GLOBAL server_audit_file_rotate_now = ON")
        .execute(&mut admin)
        .await
        .unwrap();
    sqlx::raw_sql("SELECT 'after the rotation' FROM crm.customers")
        .execute(&mut app)
        .await
        .unwrap();
    app.close().await.unwrap();
    sqlx::raw_sql("SET GLOBAL server_audit_logging = OFF")
        .execute(&mut admin)
        .await
        .unwrap();
    admin.close().await.unwrap();
    warden_sandbox::server::stop(&dir.path().join("srv")).unwrap();
    let rotated = dir.path().join("server_audit.log.1");
    assert!(rotated.is_file(), "the plugin rotated its file");

    let test_db = migrated().await;
    let ctx = ctx_as(&test_db, OFFICER, None).await;
    let first = logs::ingest(&ctx, "server-audit", &rotated).await.unwrap();
    let second = logs::ingest(&ctx, "server-audit", &log).await.unwrap();
    assert_eq!(
        (first.malformed, second.malformed),
        (0, 0),
        "{:?}",
        first.problems
    );
    assert!(first.imported >= 5 && second.imported >= 2);
    let rows = stored(&test_db).await;
    assert!(
        rows.iter()
            .any(|(op, object, _)| op == "QUERY" && object.as_deref() == Some(tricky)),
        "the statement comes back exactly: {rows:#?}"
    );
    assert!(
        rows.iter()
            .any(|(op, o, _)| op == "READ" && o.as_deref() == Some("customers")),
        "{rows:#?}"
    );
    // Every line the plugin wrote, in either file, is an imported event.
    let lines = |f: &std::path::Path| {
        std::fs::read_to_string(f)
            .unwrap()
            .lines()
            .filter(|l| !l.trim().is_empty())
            .count() as u64
    };
    assert_eq!(first.read, lines(&rotated));
    assert_eq!(second.read, lines(&log));
    // Again, both: nothing twice.
    for f in [&rotated, &log] {
        let again = logs::ingest(&ctx, "server-audit", f).await.unwrap();
        assert_eq!(again.imported, 0);
        assert_eq!(again.duplicates, again.read);
    }
    assert_eq!(
        stored(&test_db).await.len() as u64,
        first.imported + second.imported
    );
}

#[tokio::test]
async fn every_xxe_document_is_refused_whole_and_opens_no_connection() {
    let test_db = migrated().await;
    let ctx = ctx_as(&test_db, OFFICER, None).await;
    // A listener the documents point at: an entity resolved would connect to it.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/corpora/xxe");
    let tmp = tempfile::tempdir().unwrap();
    let mut refused = 0;
    for f in std::fs::read_dir(dir).unwrap() {
        let path = f.unwrap().path();
        if path.extension().is_none_or(|e| e != "xml") {
            continue;
        }
        let text = std::fs::read_to_string(&path)
            .unwrap()
            .replace("http://", &format!("http://127.0.0.1:{port}/?"));
        // Each document, then the same after a good record: nothing of either is kept.
        let good = "<AUDIT>\n<AUDIT_RECORD NAME=\"Query\" TIMESTAMP=\"2026-11-28T10:00:00 UTC\" USER=\"u\" SQLTEXT=\"select 1\"/>\n";
        for (n, body) in [text.clone(), format!("{good}{text}")]
            .into_iter()
            .enumerate()
        {
            let file = tmp.path().join(format!(
                "{}-{n}.xml",
                path.file_stem().unwrap().to_string_lossy()
            ));
            std::fs::write(&file, body).unwrap();
            let e = logs::ingest(&ctx, "audit-xml", &file).await.unwrap_err();
            assert_eq!(e.code(), ErrorCode::Input, "{}: {e}", path.display());
            assert!(e.to_string().contains("DTD"), "{e}");
            refused += 1;
        }
    }
    assert!(refused >= 10, "{refused}");
    assert!(stored(&test_db).await.is_empty(), "nothing kept");
    assert!(
        matches!(listener.accept(), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
        "no connection was opened"
    );
}

#[tokio::test]
async fn truncated_xml_mixed_json_and_bad_lines_import_the_good_and_name_the_bad() {
    let test_db = migrated().await;
    let ctx = ctx_as(&test_db, OFFICER, None).await;
    let tmp = tempfile::tempdir().unwrap();
    // XML still being written: two whole records, the third cut short.
    let xml = tmp.path().join("audit.xml");
    std::fs::write(
        &xml,
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<AUDIT>\n\
 <AUDIT_RECORD>\n  <TIMESTAMP>2026-11-28T10:00:00 UTC</TIMESTAMP>\n  <NAME>Query</NAME>\n  <CONNECTION_ID>5</CONNECTION_ID>\n  <STATUS>0</STATUS>\n  <USER>app</USER>\n  <HOST>localhost</HOST>\n  <SQLTEXT>SELECT '&lt;script&gt;alert(1)&lt;/script&gt;'</SQLTEXT>\n </AUDIT_RECORD>\n\
 <AUDIT_RECORD>\n  <TIMESTAMP>2026-11-28T10:00:01 UTC</TIMESTAMP>\n  <NAME>Quit</NAME>\n  <CONNECTION_ID>5</CONNECTION_ID>\n  <STATUS>0</STATUS>\n  <USER>app</USER>\n  <HOST>localhost</HOST>\n </AUDIT_RECORD>\n\
 <AUDIT_RECORD>\n  <TIMESTAMP>2026-11-28T10:00:02 UTC</TIMESTAMP>\n  <NA",
    )
    .unwrap();
    let done = logs::ingest(&ctx, "audit-xml", &xml).await.unwrap();
    assert_eq!((done.read, done.imported, done.malformed), (2, 2, 1));
    assert_eq!(done.problems[0].line, 20);
    // JSON lines with a bad one in the middle.
    let json = tmp.path().join("audit.json");
    let mut f = std::fs::File::create(&json).unwrap();
    writeln!(f, "{{\"audit_record\":{{\"name\":\"Query\",\"timestamp\":\"2026-11-28T10:00:03Z\",\"connection_id\":\"7\",\"status\":0,\"sqltext\":\"select * from customers where id = '1' OR '1'='1'\",\"user\":\"app\",\"host\":\"localhost\",\"ip\":\"10.0.0.9\",\"db\":\"crm\"}}}}").unwrap();
    writeln!(f, "{{\"audit_record\": broken").unwrap();
    writeln!(f, "{{\"audit_record\":{{\"name\":\"Quit\",\"timestamp\":\"2026-11-28T10:00:04Z\",\"connection_id\":\"7\",\"status\":0,\"user\":\"app\",\"host\":\"localhost\"}}}}").unwrap();
    drop(f);
    let done = logs::ingest(&ctx, "audit-json", &json).await.unwrap();
    assert_eq!((done.read, done.imported, done.malformed), (2, 2, 1));
    assert_eq!(done.problems[0].line, 2);
    let again = logs::ingest(&ctx, "audit-json", &json).await.unwrap();
    assert_eq!((again.imported, again.duplicates), (0, 2));
    let rows = stored(&test_db).await;
    assert_eq!(rows.len(), 4);
    assert_eq!(
        rows[0].1.as_deref(),
        Some("SELECT '<script>alert(1)</script>'")
    );
    assert_eq!(
        rows[2].1.as_deref(),
        Some("select * from customers where id = '1' OR '1'='1'")
    );
    // Imported events are searched like the application's log, their statements as text.
    let page = logs::search(
        &ctx,
        logs::SearchRequest {
            source: Some("db-audit".into()),
            user: Some("app".into()),
            action: Some("Query".into()),
            ..logs::SearchRequest::default()
        },
    )
    .await
    .unwrap();
    let statements: Vec<&str> = page
        .rows
        .iter()
        .filter_map(|r| r.statement.as_deref())
        .collect();
    assert_eq!(
        statements,
        [
            "select * from customers where id = '1' OR '1'='1'",
            "SELECT '<script>alert(1)</script>'"
        ]
    );
    assert!(
        page.rows[0]
            .origin
            .as_deref()
            .is_some_and(|o| o.ends_with("audit.json:1"))
    );
    // Page by page across everything: each event once.
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = logs::search(
            &ctx,
            logs::SearchRequest {
                limit: Some(1),
                after: after.take(),
                ..logs::SearchRequest::default()
            },
        )
        .await
        .unwrap();
        seen.extend(page.rows.iter().map(|r| (r.source.clone(), r.id)));
        let Some(next) = page.next else { break };
        after = Some(next);
    }
    assert_eq!(seen.len(), 4, "{seen:?}");
    let denied = logs::search(
        &ctx,
        logs::SearchRequest {
            source: Some("db-audit".into()),
            outcome: Some("denied".into()),
            ..logs::SearchRequest::default()
        },
    )
    .await
    .unwrap();
    assert!(denied.rows.is_empty());
    // A missing file and an unknown format are named.
    let e = logs::ingest(&ctx, "audit-xml", &tmp.path().join("nope.xml"))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("nope.xml"), "{e}");
    let e = logs::ingest(&ctx, "csv", &json).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::Input);
}

#[tokio::test]
async fn a_growing_file_and_its_rotated_copy_import_only_what_is_new() {
    let test_db = migrated().await;
    let ctx = ctx_as(&test_db, OFFICER, None).await;
    let tmp = tempfile::tempdir().unwrap();
    let live = tmp.path().join("server_audit.log");
    let line = |n: u32| {
        // The statement is data in the log line, never run.
        let stamp = format!("20261128 10:00:{n:02}");
        [
            &stamp,
            ",db1,app,10.0.0.5,42,",
            &n.to_string(),
            ",QUERY,crm,'SELECT ",
            &n.to_string(),
            "',0\n",
        ]
        .concat()
    };
    // Three whole lines and one still being written.
    std::fs::write(
        &live,
        format!("{}{}{}20261128 10:00:04,db1,app", line(1), line(2), line(3)),
    )
    .unwrap();
    let first = logs::ingest(&ctx, "server-audit", &live).await.unwrap();
    assert_eq!((first.read, first.imported, first.malformed), (3, 3, 0));
    // The line is finished and another follows.
    std::fs::write(
        &live,
        format!("{}{}{}{}{}", line(1), line(2), line(3), line(4), line(5)),
    )
    .unwrap();
    let second = logs::ingest(&ctx, "server-audit", &live).await.unwrap();
    assert_eq!((second.read, second.imported, second.duplicates), (5, 2, 3));
    // Rotated under another name: nothing new.
    let rotated = tmp.path().join("server_audit.log.1");
    std::fs::rename(&live, &rotated).unwrap();
    let third = logs::ingest(&ctx, "server-audit", &rotated).await.unwrap();
    assert_eq!((third.imported, third.duplicates), (0, 5));
    let rows = stored(&test_db).await;
    let objects: Vec<&str> = rows.iter().filter_map(|r| r.1.as_deref()).collect();
    assert_eq!(
        objects,
        ["SELECT 1", "SELECT 2", "SELECT 3", "SELECT 4", "SELECT 5"]
    );
}

/// Events imported before they were kept in blocks (one row each, migration 0007) are
/// converted by migration 0009, and read back as they were.
#[tokio::test]
async fn events_stored_one_row_each_are_converted_into_blocks_by_the_migration() {
    let (test_db, db) = fresh().await;
    migrate_with_officer(&db, &test_db).await;
    // Back to the schema of migration 0008: the one-row-per-event table, with events.
    let gov = db.gov();
    for sql in [
        "DROP TABLE warden_db_audit_blocks",
        "DELETE FROM warden_schema_migrations WHERE version = 9",
        "CREATE TABLE warden_db_audit_events (
            id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
            file_id BIGINT UNSIGNED NOT NULL, line BIGINT UNSIGNED NOT NULL,
            hash BINARY(32) NOT NULL, occurred_at DATETIME(6) NOT NULL,
            db_user VARCHAR(512) NOT NULL, client_host VARCHAR(255) NOT NULL,
            connection_id BIGINT NULL, query_id BIGINT NULL, operation VARCHAR(64) NOT NULL,
            db_name VARCHAR(255) NULL, object MEDIUMTEXT NULL, status BIGINT NULL
        ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci",
    ] {
        sqlx::raw_sql(sql).execute(gov).await.unwrap();
    }
    sqlx::query(
        "INSERT INTO warden_db_audit_files (id, format, first_event, path, through_line, \
         first_import, last_import) VALUES (7, 'server_audit', ?, ?, 2000, NOW(6), NOW(6))",
    )
    .bind(vec![1u8; 32])
    .bind("/var/log/mysql/server_audit.log")
    .execute(gov)
    .await
    .unwrap();
    // 1,500 events, two blocks' worth, one with a quote, a NULL schema and a refusal.
    sqlx::query(
        "INSERT INTO warden_db_audit_events (file_id, line, hash, occurred_at, db_user, \
         client_host, connection_id, query_id, operation, db_name, object, status) \
         SELECT 7, seq, UNHEX(SHA2(seq, 256)), ? + INTERVAL seq SECOND, 'app', '10.0.0.5', \
                40, seq, 'QUERY', IF(seq = 1500, NULL, 'crm'), \
                CONCAT('SELECT * FROM t WHERE note = ''it''''s'' AND id = ', seq), \
                IF(seq = 1500, 1142, 0) \
         FROM seq_1_to_1500",
    )
    .bind(
        chrono::NaiveDate::from_ymd_opt(2026, 11, 28)
            .unwrap()
            .and_hms_opt(9, 0, 0),
    )
    .execute(gov)
    .await
    .unwrap();

    let report = migrate(&db, &test_db, clock()).await;
    assert!(report.applied.contains(&9), "{report:?}");
    let gone: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM information_schema.TABLES \
         WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?",
    )
    .bind("warden_db_audit_events")
    .fetch_one(gov)
    .await
    .unwrap();
    assert_eq!(gone, 0);

    let all = warden_store::logs::search_db_audit(
        &db,
        &warden_store::logs::DbAuditSearch {
            limit: 10_000,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(all.len(), 1_500);
    let lines: Vec<u64> = all.iter().map(|r| r.line).collect();
    assert_eq!(
        lines,
        (1..=1_500).rev().collect::<Vec<u64>>(),
        "newest first"
    );
    let newest = &all[0];
    assert_eq!(
        (
            newest.occurred_at.to_string().as_str(),
            newest.db_user.as_str(),
            newest.db_name.as_deref(),
            newest.object.as_deref(),
            newest.status,
            newest.source_file.as_str(),
        ),
        (
            "2026-11-28 09:25:00",
            "app",
            None,
            Some("SELECT * FROM t WHERE note = 'it''s' AND id = 1500"),
            Some(1142),
            "/var/log/mysql/server_audit.log",
        )
    );
    // Refusals only, and a page after a cursor, read the converted blocks the same way.
    let refused = warden_store::logs::search_db_audit(
        &db,
        &warden_store::logs::DbAuditSearch {
            allowed: Some(false),
            limit: 10,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(refused.iter().map(|r| r.line).collect::<Vec<_>>(), [1500]);
    let after = warden_store::logs::search_db_audit(
        &db,
        &warden_store::logs::DbAuditSearch {
            before: Some(all[999].id),
            limit: 1_000,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(
        after.iter().map(|r| r.line).collect::<Vec<_>>(),
        (1..=500).rev().collect::<Vec<u64>>()
    );
    db.close().await;
    drop(test_db);
}

/// How many events Warden holds from audit-log files, and the `logs.ingest` events.
async fn held(test_db: &warden_sandbox::TestDatabase) -> (u64, Vec<serde_json::Value>) {
    let db = warden_store::Database::connect(&test_db.spec().unwrap())
        .await
        .unwrap();
    let events: Option<i64> =
        sqlx::query_scalar("SELECT CAST(SUM(events) AS SIGNED) FROM warden_db_audit_blocks")
            .fetch_one(db.gov())
            .await
            .unwrap();
    let trail = warden_store::governance::audit_events(&db).await.unwrap();
    db.close().await;
    let ingests = trail
        .into_iter()
        .filter(|(e, ..)| e.action == "logs.ingest")
        .map(|(e, ..)| e.details)
        .collect();
    (events.unwrap_or(0) as u64, ingests)
}

/// A pipe, devices and a folder are refused before a byte is read; a document in another
/// encoding, one with only unreadable lines, and an empty one are refused whole: each
/// with exit 5 (input), nothing imported and nothing on the trail.
#[tokio::test]
async fn only_a_regular_utf8_file_with_a_readable_record_is_imported() {
    let test_db = migrated().await;
    let ctx = ctx_as(&test_db, OFFICER, None).await;
    let tmp = tempfile::tempdir().unwrap();
    let fifo = tmp.path().join("audit.fifo");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let line = "20261128 10:00:01,db1,app,h,1,1,QUERY,crm,'select 1',0\n";
    let utf16: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain(line.encode_utf16().flat_map(u16::to_le_bytes))
        .collect();
    let files: Vec<(std::path::PathBuf, &str)> = vec![
        (fifo, "a pipe"),
        ("/dev/zero".into(), "a device"),
        ("/dev/urandom".into(), "a device"),
        (tmp.path().to_path_buf(), "a folder"),
        (write(&tmp, "utf16.log", &utf16), "UTF-16LE"),
        (
            write(&tmp, "junk.log", b"not an audit line\nnor this\n"),
            "no readable",
        ),
        (write(&tmp, "empty.log", b""), "no readable"),
    ];
    for (path, why) in &files {
        for format in ["server-audit", "audit-xml", "audit-json"] {
            if why == &"no readable" && format == "audit-xml" {
                continue; // (plain text is not XML: reported as such, below)
            }
            let e = logs::ingest(&ctx, format, path).await.unwrap_err();
            assert_eq!(e.code(), ErrorCode::Input, "{}: {e}", path.display());
            assert!(e.to_string().contains(why), "{}: {e}", path.display());
        }
    }
    let e = logs::ingest(&ctx, "audit-xml", &files[5].0)
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::Input, "{e}");
    assert_eq!(
        held(&test_db).await,
        (0, Vec::new()),
        "nothing imported, nothing recorded"
    );
}

fn write(tmp: &tempfile::TempDir, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let path = tmp.path().join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// A large file is committed chunk by chunk, the audit trail's head free meanwhile (a
/// reviewer's decision would not wait); stopped midway, what was committed is recorded as
/// a stopped import, and importing the file again goes on from where it stopped.
#[tokio::test]
async fn a_large_import_commits_in_chunks_leaves_the_trail_free_and_resumes_after_a_stop() {
    use sqlx::Connection;
    const LINES: u64 = 60_000;
    let test_db = migrated().await;
    let ctx = ctx_as(&test_db, OFFICER, None).await;
    let tmp = tempfile::tempdir().unwrap();
    let mut text = String::new();
    for i in 0..LINES {
        text.push_str(&format!(
            "20261128 10:{:02}:{:02},db1,app,10.0.0.5,42,{i},QUERY,crm,'SELECT * FROM customers WHERE id = {i}',0\n",
            (i / 60) % 60,
            i % 60
        ));
    }
    let path = write(&tmp, "big.log", text.as_bytes());
    let progress = std::sync::Arc::new(logs::Progress::default());
    let import = logs::ingest_with(&ctx, "server-audit", &path, progress.clone());
    // Once the first chunk is in, the head of the trail is taken from another connection
    // without waiting (NOWAIT): the import does not hold it. Then the import is stopped.
    let mut other = sqlx::MySqlConnection::connect(&test_db.url).await.unwrap();
    let watch = async {
        while progress.events.load(std::sync::atomic::Ordering::Relaxed) == 0 {
            tokio::task::yield_now().await;
        }
        let mut tx = other.begin().await.unwrap();
        sqlx::query("SELECT seq FROM warden_audit_head WHERE id = 1 FOR UPDATE NOWAIT")
            .execute(&mut *tx)
            .await
            .expect("the trail's head is free while the file imports");
        tx.rollback().await.unwrap();
        progress.cancel();
        std::future::pending::<()>().await;
    };
    let stopped = tokio::select! {
        done = import => done,
        _ = watch => unreachable!(),
    };
    let e = stopped.unwrap_err();
    assert_eq!(e.code(), ErrorCode::Cancelled, "{e}");
    let (first, ingests) = held(&test_db).await;
    assert!(first > 0 && first < LINES, "{first} events after the stop");
    assert_eq!(first % 4_096, 0, "whole chunks only: {first}");
    assert_eq!(ingests.len(), 1);
    assert_eq!(ingests[0]["stopped"], true, "{}", ingests[0]);
    assert_eq!(ingests[0]["imported"], first, "{}", ingests[0]);

    // Again: it goes on after the last chunk committed.
    let done = logs::ingest(&ctx, "server-audit", &path).await.unwrap();
    assert_eq!(
        (done.read, done.imported, done.duplicates),
        (LINES, LINES - first, first)
    );
    assert_eq!(done.through_line, LINES);
    let (all, ingests) = held(&test_db).await;
    assert_eq!(all, LINES, "every event once");
    assert_eq!(ingests.len(), 2);
    assert_eq!(ingests[1]["stopped"], false);
}

/// Unreadable lines are all counted, the first hundred named.
#[tokio::test]
async fn every_unreadable_line_is_counted_and_the_first_hundred_named() {
    let test_db = migrated().await;
    let ctx = ctx_as(&test_db, OFFICER, None).await;
    let tmp = tempfile::tempdir().unwrap();
    let mut text = String::from("20261128 10:00:01,db1,app,h,1,1,QUERY,crm,'select 1',0\n");
    for i in 0..5_000 {
        text.push_str(&format!("garbage {i}\n"));
    }
    let path = write(&tmp, "mixed.log", text.as_bytes());
    let done = logs::ingest(&ctx, "server-audit", &path).await.unwrap();
    assert_eq!(
        (done.imported, done.malformed, done.problems.len()),
        (1, 5_000, 100)
    );
    assert_eq!(done.problems[0].line, 2);
    assert_eq!(done.problems[99].line, 101);
}

/// A DTD late in an XML file refuses it whole: the first pass finds it before any chunk
/// is committed.
#[tokio::test]
async fn a_dtd_at_the_end_of_a_large_xml_file_refuses_it_whole() {
    let test_db = migrated().await;
    let ctx = ctx_as(&test_db, OFFICER, None).await;
    let tmp = tempfile::tempdir().unwrap();
    let mut text = String::from("<?xml version=\"1.0\"?>\n<AUDIT>\n");
    for i in 0..20_000 {
        text.push_str(&format!(
            " <AUDIT_RECORD TIMESTAMP=\"2026-11-28T10:00:00 UTC\" NAME=\"Query\" \
             CONNECTION_ID=\"{i}\" STATUS=\"0\" SQLTEXT=\"SELECT {i}\"/>\n"
        ));
    }
    text.push_str("<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]>\n</AUDIT>\n");
    let path = write(&tmp, "late-dtd.xml", text.as_bytes());
    let e = logs::ingest(&ctx, "audit-xml", &path).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::Input, "{e}");
    assert!(e.to_string().contains("line 20003: a DTD"), "{e}");
    assert_eq!(held(&test_db).await, (0, Vec::new()), "nothing kept");
}
