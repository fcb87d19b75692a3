//! Exports: a log export holds exactly the rows the search's pages hold, cell for cell,
//! both sources merged, read by the socket reader and through sqlx alike; a cancelled
//! export leaves nothing behind.

use warden_core::mapping::Mapping;
use warden_service::export::Progress;
use warden_service::logs::{self, SearchRequest};
use warden_service::{Ctx, ErrorCode};

use crate::support::*;

/// Imports `n` audit-log events spread over the application log's time range, so that
/// both sources interleave (and the imported ones take more than one page).
async fn import_events(s: &Seeded, ctx: &Ctx, n: u32) {
    let db = warden_store::Database::connect(&s.test_db.spec().unwrap())
        .await
        .unwrap();
    let (low, high): (chrono::NaiveDateTime, chrono::NaiveDateTime) =
        sqlx::query_as("SELECT MIN(occurred_at), MAX(occurred_at) FROM access_log")
            .fetch_one(db.app())
            .await
            .unwrap();
    db.close().await;
    let step = (high - low) / n as i32;
    let mut file = String::new();
    for i in 0..n {
        let at = low + step * i as i32;
        let status = if i % 7 == 0 { "1045" } else { "0" };
        file.push_str(
            &[
                at.format("%Y%m%d %H:%M:%S").to_string().as_str(),
                ",db1,",
                if i % 2 == 0 { "app" } else { "=1+1" },
                ",10.0.0.5,42,",
                i.to_string().as_str(),
                ",QUERY,crm,'SELECT ",
                i.to_string().as_str(),
                "',",
                status,
                "\n",
            ]
            .concat(),
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("server_audit.log");
    std::fs::write(&path, file).unwrap();
    let done = logs::ingest(ctx, "server-audit", &path).await.unwrap();
    assert_eq!(done.imported, u64::from(n));
}

/// Every page of `req`'s search, each row as the export writes it.
async fn searched(ctx: &Ctx, req: &SearchRequest) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut after = None;
    loop {
        let page = logs::search(
            ctx,
            SearchRequest {
                limit: Some(logs::MAX_PAGE),
                after: after.clone(),
                ..req.clone()
            },
        )
        .await
        .unwrap();
        for r in page.rows {
            let text = |v: Option<String>| v.unwrap_or_default();
            rows.push(vec![
                r.source,
                r.id.to_string(),
                text(r.at),
                r.user_id.map(|u| u.to_string()).unwrap_or_default(),
                text(r.login),
                text(r.department),
                text(r.action),
                text(r.resource_type),
                text(r.resource_id),
                text(r.outcome),
                text(r.client_address),
                text(r.user_agent),
                text(r.statement),
                text(r.origin),
            ]);
        }
        match page.next {
            Some(next) => after = Some(next),
            None => return rows,
        }
    }
}

async fn exported(ctx: &Ctx, req: &SearchRequest, out: &std::path::Path) -> Vec<Vec<String>> {
    let progress = Progress::default();
    let done = warden_service::export::logs(ctx, req.clone(), out, false, &progress)
        .await
        .unwrap();
    assert_eq!(
        progress.rows.load(std::sync::atomic::Ordering::Relaxed),
        done.rows
    );
    assert!(warden_service::export::verify(out).unwrap().ok);
    warden_core::export::read_table(&std::fs::read(out).unwrap())
        .unwrap()
        .1
}

#[tokio::test]
async fn a_log_export_holds_what_the_search_pages_hold_by_socket_and_over_tcp() {
    let s = seeded().await;
    let socket_ctx = officer(&s.test_db).await;
    import_events(&s, &socket_ctx, 1_500).await;
    // Over TCP (as a remote server is reached), by an account of its own.
    let tcp = tcp_officer(&s.test_db, "tess.tcp").await;
    let tcp_ctx = Ctx::establish(
        warden_store::Database::connect(&tcp).await.unwrap(),
        Some(Mapping::preset("reference").unwrap()),
    )
    .await
    .unwrap()
    .with_clock(clock());
    let requests = [
        SearchRequest::default(),
        SearchRequest {
            source: Some("app".into()),
            ..SearchRequest::default()
        },
        SearchRequest {
            outcome: Some("denied".into()),
            since: Some("2000-01-01".into()),
            ..SearchRequest::default()
        },
        SearchRequest {
            user: Some("app".into()),
            action: Some("QUERY".into()),
            ..SearchRequest::default()
        },
        SearchRequest {
            source: Some("app".into()),
            department: Some("support".into()),
            until: Some("2100-01-01T00:00".into()),
            ..SearchRequest::default()
        },
    ];
    let dir = tempfile::tempdir().unwrap();
    for (i, req) in requests.iter().enumerate() {
        let expected = searched(&socket_ctx, req).await;
        assert!(!expected.is_empty(), "{req:?}");
        for (how, ctx) in [("socket", &socket_ctx), ("tcp", &tcp_ctx)] {
            let out = dir.path().join(format!("{how}-{i}.csv"));
            let rows = exported(ctx, req, &out).await;
            assert_eq!(rows.len(), expected.len(), "{how} {req:?}");
            assert!(
                rows == expected,
                "{how} {req:?}: the export differs from the search"
            );
        }
    }
    // Both sources, interleaved: imported events are not all at one end.
    let all = searched(&socket_ctx, &requests[0]).await;
    let first_imported = all.iter().position(|r| r[0] == "db-audit").unwrap();
    let last_imported = all.iter().rposition(|r| r[0] == "db-audit").unwrap();
    assert!(
        all[first_imported..last_imported]
            .iter()
            .any(|r| r[0] == "app")
    );
    socket_ctx.close().await;
    tcp_ctx.close().await;
}

#[tokio::test]
async fn a_cancelled_export_leaves_nothing_and_says_so() {
    let s = seeded().await;
    let ctx = officer(&s.test_db).await;
    let dir = tempfile::tempdir().unwrap();
    let progress = Progress::default();
    progress.cancel();
    let out = dir.path().join("logs.csv");
    let e = warden_service::export::logs(&ctx, SearchRequest::default(), &out, false, &progress)
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::Cancelled, "{e}");
    let e = warden_service::export::access(&ctx, &dir.path().join("a.csv"), false, &progress)
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::Cancelled, "{e}");
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "nothing left"
    );
    // Nothing was exported, so nothing is on the trail as exported.
    let events = warden_service::audit::events(
        &ctx,
        warden_service::audit::EventsRequest {
            action: Some("export.".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert!(events.events.is_empty());
    ctx.close().await;
}

#[tokio::test]
async fn every_csv_payload_in_a_name_comes_out_neutralised_and_reads_back_whole() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/corpora/csv/payloads.txt"
    );
    let payloads: Vec<String> = (std::fs::read_to_string(path).unwrap().lines())
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect();
    let (test_db, db) = fresh().await;
    let opts = warden_sandbox::SeedOptions {
        users: 100,
        log_rows: 500,
        seed: 3,
        scenario: warden_sandbox::Scenario::Default,
        hostile: payloads.clone(),
        ..warden_sandbox::SeedOptions::at(now())
    };
    warden_sandbox::seed::seed(&db, &opts).await.unwrap();
    migrate_with_officer(&db, &test_db).await;
    db.close().await;
    let ctx = officer(&test_db).await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("access.csv");
    warden_service::export::access(&ctx, &out, true, &Progress::default())
        .await
        .unwrap();
    assert!(warden_service::export::verify(&out).unwrap().ok);
    // On disk: no cell starts with a trigger (the BOM aside).
    let bytes = std::fs::read(&out).unwrap();
    let mut reader = csv::Reader::from_reader(&bytes[3..]);
    for record in reader.records() {
        for cell in record.unwrap().iter() {
            assert!(
                !cell.starts_with(['=', '+', '-', '@', '\t', '\r', '\n']),
                "{cell:?}"
            );
        }
    }
    // A reader that strips the guard gets every payload back whole, as a person's name.
    let (header, rows) = warden_core::export::read_table(&bytes).unwrap();
    let name = header.iter().position(|h| h == "name").unwrap();
    for payload in &payloads {
        assert!(
            rows.iter().any(|r| &r[name] == payload),
            "{payload:?} is not a name in the export"
        );
    }
    ctx.close().await;
}

#[tokio::test]
async fn a_merging_log_export_cancelled_midway_ends_and_leaves_nothing() {
    // More rows than the reader's channels hold: cancelled, the writer stops reading, and
    // the reader (on a thread of its own) must end rather than wait on a full channel.
    let (test_db, db) = fresh().await;
    let opts = warden_sandbox::SeedOptions {
        users: 100,
        log_rows: 60_000,
        seed: 5,
        scenario: warden_sandbox::Scenario::Default,
        hostile: Vec::new(),
        now: now(),
    };
    warden_sandbox::seed::seed(&db, &opts).await.unwrap();
    migrate_with_officer(&db, &test_db).await;
    db.close().await;
    let s = Seeded {
        test_db,
        planted: Default::default(),
    };
    let ctx = officer(&s.test_db).await;
    import_events(&s, &ctx, 10).await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("all.csv");
    let progress = Progress::default();
    progress.cancel();
    let export =
        warden_service::export::logs(&ctx, SearchRequest::default(), &out, false, &progress);
    let ended = tokio::time::timeout(std::time::Duration::from_secs(30), export)
        .await
        .expect("the export ends when cancelled");
    assert_eq!(ended.unwrap_err().code(), ErrorCode::Cancelled);
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    ctx.close().await;
}

#[tokio::test]
async fn two_exports_to_one_name_at_once_leave_one_whole_export() {
    let s = seeded().await;
    let ctx = officer(&s.test_db).await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("access.csv");
    let (p1, p2) = (Progress::default(), Progress::default());
    let (a, b) = tokio::join!(
        warden_service::export::access(&ctx, &out, false, &p1),
        warden_service::export::access(&ctx, &out, false, &p2),
    );
    assert_eq!(u8::from(a.is_ok()) + u8::from(b.is_ok()), 1, "{a:?} {b:?}");
    let refused = a.err().or(b.err()).unwrap();
    assert!(refused.to_string().contains("never replaces"), "{refused}");
    assert!(warden_service::export::verify(&out).unwrap().ok);
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["access.csv", "access.csv.manifest.json"]);

    // Against the trail: the export event records this file's hash. A copy rewritten with
    // its manifest (a row dropped, every count and hash recomputed) holds offline, and is
    // named against the trail.
    assert!(
        warden_service::export::verify_against_trail(&ctx, &out)
            .await
            .unwrap()
            .ok
    );
    let text = std::fs::read_to_string(&out).unwrap();
    let mut lines: Vec<&str> = text.split_inclusive("\r\n").collect();
    lines.truncate(lines.len() - 1);
    std::fs::write(&out, lines.concat()).unwrap();
    let manifest_file = dir.path().join("access.csv.manifest.json");
    let mut m: warden_core::export::Manifest =
        serde_json::from_slice(&std::fs::read(&manifest_file).unwrap()).unwrap();
    let bytes = std::fs::read(&out).unwrap();
    m.rows -= 1;
    m.bytes = bytes.len() as u64;
    m.sha256 = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(&bytes))
    };
    std::fs::write(&manifest_file, serde_json::to_vec_pretty(&m).unwrap()).unwrap();
    assert!(
        warden_service::export::verify(&out).unwrap().ok,
        "offline, it holds"
    );
    let against = warden_service::export::verify_against_trail(&ctx, &out)
        .await
        .unwrap();
    assert!(
        !against.ok && against.problems[0].contains("no export.access event"),
        "{:?}",
        against.problems
    );

    // A manifest already there under the new name: nothing is written, not even the CSV.
    let other = dir.path().join("other.csv");
    std::fs::write(dir.path().join("other.csv.manifest.json"), b"{}").unwrap();
    let e = warden_service::export::access(&ctx, &other, false, &Progress::default())
        .await
        .unwrap_err();
    assert!(e.to_string().contains("never replaces"), "{e}");
    assert!(!other.exists());
    ctx.close().await;
}
