//! Access-log review on the synthetic company: every planted anomaly found by its
//! detector, none in the clean control group; scans incremental from a checkpoint that
//! survives a restart; search paged by keyset, its filters bound values.

use std::collections::BTreeSet;

use warden_core::findings::FindingKind;
use warden_sandbox::Scenario;
use warden_sandbox::seed::COMPANY_POLICY;
use warden_service::findings::{self, FindingsRequest};
use warden_service::logs::{self, SearchRequest};
use warden_service::{ErrorCode, policy};

use crate::support::*;

/// (kind, login) of every open access-log finding.
async fn log_findings(ctx: &warden_service::Ctx) -> BTreeSet<(String, String)> {
    findings::findings(ctx, FindingsRequest::default())
        .await
        .unwrap()
        .findings
        .into_iter()
        .filter(|f| !f.kind.is_policy_kind())
        .map(|f| (f.kind.to_string(), f.subject))
        .collect()
}

/// `hour` o'clock on the day before the pinned clock's (a working day: it is a Wednesday).
fn yesterday_at(hour: u32) -> String {
    let day = today() - chrono::Duration::days(1);
    sql_time(day.and_hms_opt(hour, 0, 0).unwrap())
}

async fn scalar(test_db: &warden_sandbox::TestDatabase, sql: &str, bind: &str) -> i64 {
    let db = warden_store::Database::connect(&test_db.spec().unwrap())
        .await
        .unwrap();
    let n: i64 = sqlx::query_scalar(sql)
        .bind(bind)
        .fetch_one(db.app())
        .await
        .unwrap();
    db.close().await;
    n
}

/// (kind, login) of each planted case's own detector.
fn planted(p: &warden_sandbox::Planted) -> BTreeSet<(String, String)> {
    [
        ("enumeration", &p.enumeration),
        ("denied_burst", &p.denied_burst),
        ("off_hours", &p.off_hours),
        ("outside_policy", &p.outside_policy),
        ("no_business_reason", &p.no_business_reason),
        ("dormant_activity", &p.dormant_activity),
        ("bulk_export", &p.bulk_export),
    ]
    .into_iter()
    .map(|(k, l)| (k.to_string(), l.clone()))
    .collect()
}

/// Planted cases that read customers they do not serve are need-to-know breaches too:
/// true hits of another detector, explained by the plant.
fn explained(p: &warden_sandbox::Planted) -> BTreeSet<(String, String)> {
    [
        &p.enumeration,
        &p.outside_policy,
        &p.dormant_activity,
        &p.off_hours,
    ]
    .into_iter()
    .map(|l| ("no_business_reason".to_string(), l.clone()))
    .collect()
}

/// The access-log findings of a company seeded at `at`, scanned with the clock at `at`.
async fn findings_at(at: chrono::DateTime<chrono::Utc>, scenario: Scenario) -> Seen {
    let clock = warden_service::Clock::fixed(at);
    let opts = warden_sandbox::SeedOptions {
        users: 100,
        log_rows: 1_500,
        seed: 11,
        scenario,
        ..warden_sandbox::SeedOptions::at(at)
    };
    let s = seeded_at(opts, clock).await;
    let ctx = ctx_at(&s.test_db, OFFICER, Some("reference"), clock).await;
    policy::apply(&ctx, COMPANY_POLICY, "p.toml", "baseline")
        .await
        .unwrap();
    let newest: String = {
        let db = warden_store::Database::connect(&s.test_db.spec().unwrap())
            .await
            .unwrap();
        let t = sqlx::query_scalar("SELECT CAST(MAX(occurred_at) AS CHAR) FROM access_log")
            .fetch_one(db.app())
            .await
            .unwrap();
        db.close().await;
        t
    };
    logs::scan(&ctx, false).await.unwrap();
    let found = log_findings(&ctx).await;
    ctx.close().await;
    Seen {
        found,
        planted: s.planted,
        newest,
    }
}

struct Seen {
    found: BTreeSet<(String, String)>,
    planted: warden_sandbox::Planted,
    /// The newest access-log row's time, as the server shows it.
    newest: String,
}

/// Issue 14: the company made at any hour of any day of a week (28 clocks, each the
/// seed's `--now` and the scan's clock) gives the same access-log findings: every planted
/// case by its own detector (and the explained need-to-know hits), and nothing in the
/// clean company. No row lies in the future of the clock.
#[tokio::test]
async fn the_same_findings_at_any_hour_of_any_day_of_a_week() {
    let monday = chrono::NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
    let mut first: Option<BTreeSet<(String, String)>> = None;
    for day in 0..7 {
        for (hour, minute) in [(0, 30), (7, 45), (13, 15), (23, 30)] {
            let at = (monday + chrono::Duration::days(day))
                .and_hms_opt(hour, minute, 0)
                .unwrap()
                .and_utc();
            let seen = findings_at(at, Scenario::Default).await;
            let when = at.format("%a %Y-%m-%d %H:%M");
            assert!(
                seen.newest < sql_time(at.naive_utc()),
                "{when}: a row at {} is in the future",
                seen.newest
            );
            let (planted, explained) = (planted(&seen.planted), explained(&seen.planted));
            assert_eq!(
                planted.difference(&seen.found).collect::<Vec<_>>(),
                Vec::<&(String, String)>::new(),
                "{when}: every planted case is found"
            );
            let unexplained: Vec<_> = (seen.found.iter())
                .filter(|f| !planted.contains(*f) && !explained.contains(*f))
                .collect();
            assert_eq!(unexplained, Vec::<&(String, String)>::new(), "{when}");
            match &first {
                None => first = Some(seen.found),
                Some(f) => assert_eq!(&seen.found, f, "{when}: the same findings as Monday 00:30"),
            }
            let clean = findings_at(at, Scenario::Clean).await;
            assert_eq!(clean.found, BTreeSet::new(), "{when}: the clean company");
        }
    }
}

#[tokio::test]
async fn every_planted_anomaly_is_found_by_its_detector_and_the_clean_company_gives_none() {
    let s = seeded().await;
    let ctx = officer(&s.test_db).await;
    policy::apply(&ctx, COMPANY_POLICY, "p.toml", "baseline")
        .await
        .unwrap();
    let scan = logs::scan(&ctx, false).await.unwrap();
    let total = scalar(
        &s.test_db,
        "SELECT COUNT(*) + 0 * LENGTH(?) FROM access_log",
        "",
    )
    .await;
    assert_eq!((scan.scanned, scan.skipped), (total as u64, 0));
    let found = log_findings(&ctx).await;

    let p = &s.planted;
    let (planted, explained) = (planted(p), explained(p));
    let recall = planted.intersection(&found).count() as f64 / planted.len() as f64;
    let true_hits = found
        .iter()
        .filter(|f| planted.contains(*f) || explained.contains(*f))
        .count();
    let precision = true_hits as f64 / found.len().max(1) as f64;
    eprintln!(
        "access-log detectors on the synthetic company: recall {:.0}% ({} of {} planted), precision {:.0}% ({true_hits} of {} findings)",
        recall * 100.0,
        planted.intersection(&found).count(),
        planted.len(),
        precision * 100.0,
        found.len()
    );
    assert_eq!(
        planted.difference(&found).collect::<Vec<_>>(),
        Vec::<&(String, String)>::new(),
        "every planted case is found"
    );
    assert_eq!(precision, 1.0, "nothing unexplained: {found:#?}");

    // The evidence is the planted rows: the sweep's ids are that person's customer reads.
    let all = findings::findings(
        &ctx,
        FindingsRequest {
            kind: Some(FindingKind::Enumeration),
            ..FindingsRequest::default()
        },
    )
    .await
    .unwrap()
    .findings;
    let detail = findings::finding(&ctx, all[0].id.unwrap()).await.unwrap();
    let rows: Vec<i64> = detail.finding.evidence["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_i64().unwrap())
        .collect();
    assert!(rows.len() >= 50, "{} rows", rows.len());
    let theirs = scalar(
        &s.test_db,
        "SELECT COUNT(*) FROM access_log l JOIN staff_users u ON u.id = l.user_id \
         WHERE u.login = ? AND l.action = 'customer.contact:read'",
        &p.enumeration,
    )
    .await;
    assert!(theirs >= rows.len() as i64);
    let mut shown = BTreeSet::new();
    let mut after = None;
    loop {
        let page = logs::search(
            &ctx,
            SearchRequest {
                user: Some(p.enumeration.clone()),
                action: Some("customer.contact:read".into()),
                limit: Some(500),
                after: after.take(),
                ..SearchRequest::default()
            },
        )
        .await
        .unwrap();
        shown.extend(page.rows.iter().map(|r| r.id));
        let Some(next) = page.next else { break };
        after = Some(next);
    }
    assert_eq!(shown.len() as i64, theirs);
    assert!(
        rows.iter().all(|id| shown.contains(id)),
        "every evidence row is a customer read of theirs"
    );

    // The control group.
    let clean = seeded_with(Scenario::Clean).await;
    let ctx = officer(&clean.test_db).await;
    policy::apply(&ctx, COMPANY_POLICY, "p.toml", "baseline")
        .await
        .unwrap();
    let scan = logs::scan(&ctx, false).await.unwrap();
    assert!(scan.scanned > 1_000);
    assert_eq!(log_findings(&ctx).await, BTreeSet::new());
}

#[tokio::test]
async fn scans_go_on_from_a_checkpoint_that_survives_a_restart() {
    let s = seeded().await;
    let ctx = officer(&s.test_db).await;
    policy::apply(&ctx, COMPANY_POLICY, "p.toml", "baseline")
        .await
        .unwrap();
    let first = logs::scan(&ctx, false).await.unwrap();
    assert!(first.new_findings >= 7);
    ctx.close().await;

    // A new session (a restart) starts after the checkpoint: nothing new to read.
    let ctx = officer(&s.test_db).await;
    // (It re-reads a trailing overlap for context, and finds nothing in it again.)
    let again = logs::scan(&ctx, false).await.unwrap();
    assert_eq!(
        (again.to_id, again.scanned, again.new_findings),
        (first.to_id, 0, 0)
    );
    assert!(again.from_id < first.to_id && again.reread > 0, "{again:?}");
    assert_eq!((again.found, again.extended), (0, 0));
    assert!(!again.restarted);

    // Thirty refusals in five minutes arrive: only they are read, and they are a burst.
    let someone = s.planted.excess_role.clone();
    app_sql(
        &s.test_db,
        "INSERT INTO access_log (occurred_at, user_id, action, resource_type, resource_id, \
         outcome, client_ip, user_agent) \
         SELECT CAST(? AS DATETIME) + INTERVAL seq * 10 SECOND, \
                u.id, 'customer.payment:read', 'customer', seq, 'denied', '10.9.9.9', 'curl' \
         FROM staff_users u JOIN seq_1_to_30 ON 1 = 1 WHERE u.login = ?",
        &[&yesterday_at(11), &someone],
    )
    .await;
    ctx.close().await;
    let ctx = officer(&s.test_db).await;
    let third = logs::scan(&ctx, false).await.unwrap();
    assert_eq!(third.scanned, 30, "the new rows, and the overlap again");
    assert!(third.from_id < first.to_id);
    let bursts = findings::findings(
        &ctx,
        FindingsRequest {
            kind: Some(FindingKind::DeniedBurst),
            subject: Some(someone.clone()),
            ..FindingsRequest::default()
        },
    )
    .await
    .unwrap()
    .findings;
    assert_eq!(bursts.len(), 1, "{bursts:?}");
    assert!(
        bursts[0].detail.starts_with("30 refused"),
        "{}",
        bursts[0].detail
    );

    // A full rescan reads everything and opens nothing already known.
    let full = logs::scan(&ctx, true).await.unwrap();
    assert_eq!(full.scanned, first.scanned + 30);
    assert_eq!(full.reread, 0, "a full scan judges every row afresh");
    assert_eq!(full.new_findings, 0);
    assert_eq!(full.found, first.found + third.found);

    // The log emptied and its ids started again: the next scan reads it from the start.
    app_sql(
        &s.test_db,
        "DELETE FROM access_log WHERE id > 0 + 0 * LENGTH(?)",
        &[""],
    )
    .await;
    app_sql(&s.test_db, "ALTER TABLE access_log AUTO_INCREMENT = 1", &[]).await;
    app_sql(
        &s.test_db,
        "INSERT INTO access_log (occurred_at, user_id, action, resource_type, resource_id, \
         outcome, client_ip, user_agent) \
         SELECT CAST(? AS DATETIME) + INTERVAL seq MINUTE, u.id, \
                'ticket:read', 'ticket', seq, 'allowed', '10.9.9.9', 'curl' \
         FROM staff_users u JOIN seq_1_to_12 ON 1 = 1 WHERE u.login = ?",
        &[&yesterday_at(10), &someone],
    )
    .await;
    let after_reset = logs::scan(&ctx, false).await.unwrap();
    assert!(after_reset.restarted);
    assert_eq!((after_reset.from_id, after_reset.scanned), (0, 12));

    // Officers only; each scan is in the audit trail.
    add_console_user(
        &s.test_db,
        "ann.auditor",
        warden_core::console::ConsoleRole::Auditor,
    )
    .await;
    let auditor = ctx_as(&s.test_db, "ann.auditor", Some("reference")).await;
    let refused = logs::scan(&auditor, false).await.unwrap_err();
    assert_eq!(refused.code(), ErrorCode::Forbidden);
    let scans = scalar(
        &s.test_db,
        "SELECT COUNT(*) FROM warden_audit_events WHERE action = ?",
        "logs.scan",
    )
    .await;
    assert_eq!(scans, 5);
}

/// Refusals of one person in one window, `n` of them from the `from`th, ten seconds apart,
/// with explicit ids when given (rows committed out of id order).
async fn refusals(s: &Seeded, who: &str, from: u32, n: u32, ids: Option<i64>) {
    for k in 0..n {
        let at = today() - chrono::Duration::days(1);
        let at =
            at.and_hms_opt(11, 0, 0).unwrap() + chrono::Duration::seconds(10 * i64::from(from + k));
        let id = ids.map_or_else(
            || "NULL".to_string(),
            |base| (base + i64::from(k)).to_string(),
        );
        app_sql(
            &s.test_db,
            &format!(
                "INSERT INTO access_log (id, occurred_at, user_id, action, resource_type, \
                 resource_id, outcome, client_ip, user_agent) \
                 SELECT {id}, ?, u.id, 'customer.payment:read', 'customer', ?, 'denied', \
                 '10.9.9.9', 'curl' FROM staff_users u WHERE u.login = ?"
            ),
            &[&sql_time(at), &(from + k).to_string(), who],
        )
        .await;
    }
}

/// The count the person's one denied-burst finding stands at (None: no such finding).
async fn burst_count(ctx: &warden_service::Ctx, who: &str) -> Option<u64> {
    let found = findings::findings(
        ctx,
        FindingsRequest {
            kind: Some(FindingKind::DeniedBurst),
            subject: Some(who.to_string()),
            ..FindingsRequest::default()
        },
    )
    .await
    .unwrap()
    .findings;
    assert!(found.len() <= 1, "one burst, one finding: {found:?}");
    found.first().map(|f| f.evidence["count"].as_u64().unwrap())
}

/// A window that straddles two scans is judged whole, and a row committed late with an id
/// below the checkpoint is judged by the next scan, counted once.
#[tokio::test]
async fn windows_straddling_scans_and_rows_committed_late_are_judged_whole() {
    let s = seeded().await;
    let ctx = officer(&s.test_db).await;
    policy::apply(&ctx, COMPANY_POLICY, "p.toml", "baseline")
        .await
        .unwrap();
    logs::scan(&ctx, false).await.unwrap();
    let who = s.planted.excess_role.clone();
    assert_eq!(burst_count(&ctx, &who).await, None);

    // Twelve refusals, a scan (under the burst's 20), then eight more in the same window:
    // judged alone, neither part is a burst; judged whole, it is one of 20.
    refusals(&s, &who, 1, 12, None).await;
    logs::scan(&ctx, false).await.unwrap();
    assert_eq!(burst_count(&ctx, &who).await, None);
    refusals(&s, &who, 13, 8, None).await;
    let straddled = logs::scan(&ctx, false).await.unwrap();
    assert_eq!(straddled.new_findings, 1, "{straddled:?}");
    assert_eq!(burst_count(&ctx, &who).await, Some(20));

    // A row lands past an id still held by a transaction in flight; the scan reads past
    // the gap. When that transaction commits, its row is below the checkpoint: the next
    // scan judges it, and counts it once.
    let newest = scalar(
        &s.test_db,
        "SELECT CAST(MAX(id) AS SIGNED) + 0 * LENGTH(?) FROM access_log",
        "",
    )
    .await;
    refusals(&s, &who, 22, 1, Some(newest + 2)).await;
    let past_gap = logs::scan(&ctx, false).await.unwrap();
    assert_eq!(past_gap.to_id, newest + 2);
    assert_eq!(burst_count(&ctx, &who).await, Some(21));
    refusals(&s, &who, 21, 1, Some(newest + 1)).await;
    let late = logs::scan(&ctx, false).await.unwrap();
    assert_eq!(late.to_id, newest + 2, "the checkpoint does not move back");
    assert_eq!(late.scanned, 1, "{late:?}");
    assert_eq!(burst_count(&ctx, &who).await, Some(22));
    // And nothing is counted twice by a scan that reads only the overlap.
    let quiet = logs::scan(&ctx, false).await.unwrap();
    assert_eq!((quiet.scanned, quiet.extended), (0, 0));
    assert_eq!(burst_count(&ctx, &who).await, Some(22));
}

/// The detectors read the log's own column types, whatever the application chose: the
/// same log with other types gives the same findings.
#[tokio::test]
async fn a_log_of_other_column_types_is_judged_the_same() {
    let s = seeded().await;
    let ctx = officer(&s.test_db).await;
    policy::apply(&ctx, COMPANY_POLICY, "p.toml", "baseline")
        .await
        .unwrap();
    // The bulk exports' resource is "all-customers": a number instead, so that every
    // resource id can be an integer column.
    app_sql(
        &s.test_db,
        "UPDATE access_log SET resource_id = '0' WHERE resource_id = ?",
        &["all-customers"],
    )
    .await;
    let before = logs::scan(&ctx, true).await.unwrap();
    assert!(before.found >= 7, "{before:?}");
    assert_eq!(before.skipped, 0);
    let numeric = scalar(
        &s.test_db,
        "SELECT COUNT(*) FROM access_log WHERE resource_id NOT REGEXP ?",
        "^[0-9]+$",
    )
    .await;
    assert_eq!(numeric, 0);
    app_sql(
        &s.test_db,
        "ALTER TABLE access_log MODIFY id INT UNSIGNED NOT NULL AUTO_INCREMENT, \
         MODIFY occurred_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3), \
         MODIFY user_id VARCHAR(20) NOT NULL, MODIFY resource_type CHAR(32) NOT NULL, \
         MODIFY resource_id INT NOT NULL, MODIFY outcome ENUM('allowed', 'denied') NOT NULL, \
         MODIFY action VARBINARY(100) NOT NULL",
        &[],
    )
    .await;
    let after = logs::scan(&ctx, true).await.unwrap();
    assert_eq!(
        (
            after.scanned,
            after.skipped,
            after.found,
            after.new_findings,
            after.to_id
        ),
        (before.scanned, 0, before.found, 0, before.to_id)
    );

    // A row whose action is not text is counted as skipped, not judged, and not lost.
    app_sql(
        &s.test_db,
        "INSERT INTO access_log (occurred_at, user_id, action, resource_type, resource_id, \
         outcome, client_ip, user_agent) VALUES (?, '1', UNHEX(?), 'customer', 1, \
         'allowed', '10.0.0.1', 'curl')",
        &[&sql_now(), "FFFE41"],
    )
    .await;
    let unreadable = logs::scan(&ctx, false).await.unwrap();
    assert_eq!(
        (unreadable.scanned, unreadable.skipped, unreadable.found),
        (1, 1, 0)
    );
    assert_eq!(unreadable.to_id, before.to_id + 1);
}

/// Over a Unix socket the log is read by Warden's own protocol reader, as root without a
/// password and as an account with one; over TCP through sqlx; the rows are the same.
#[tokio::test]
async fn the_log_reads_the_same_by_the_socket_reader_and_through_sqlx() {
    let s = seeded().await;
    let schema = warden_core::ident::quote(&s.test_db.name);
    for account in ["'scan_reader'@'localhost'", "'scan_reader'@'127.0.0.1'"] {
        let create = ["CREATE USER ", account, " IDENTIFIED BY 'pw'"].concat();
        app_sql(&s.test_db, &create, &[]).await;
        let grant = ["GRANT SELECT ON ", &schema, ".* TO ", account].concat();
        app_sql(&s.test_db, &grant, &[]).await;
    }
    let mapping = || warden_core::mapping::Mapping::preset("reference").unwrap();
    let read = |spec: warden_store::ConnectSpec| async move {
        let db = warden_store::Database::connect(&spec).await.unwrap();
        let resolved = warden_store::schema::resolve(&db, mapping()).await.unwrap();
        let mut rows = Vec::new();
        let streamed = warden_store::logs::stream(&db, &resolved, 0, |batch| {
            rows.extend(batch.events().map(|e| {
                (
                    e.id,
                    e.at,
                    e.user,
                    e.action.to_string(),
                    e.resource_id.map(str::to_string),
                )
            }));
            async { true }
        })
        .await
        .unwrap();
        db.close().await;
        (streamed, rows)
    };
    let socket = s.test_db.spec().unwrap();
    let (by_root, root_rows) = read(socket.clone()).await;
    assert!(by_root.by_wire, "{by_root:?}");
    assert!(by_root.rows > 1_000);

    let mut with_password = socket.clone();
    with_password.user = "scan_reader".into();
    with_password.password = Some(warden_store::Secret::new("pw"));
    let (by_account, account_rows) = read(with_password.clone()).await;
    assert!(by_account.by_wire);
    assert_eq!(account_rows, root_rows);

    let mut wrong = with_password.clone();
    wrong.password = Some(warden_store::Secret::new("not-it"));
    assert!(warden_store::Database::connect(&wrong).await.is_err());

    let mut tcp = with_password;
    tcp.socket = None;
    tcp.hosts = vec![format!("127.0.0.1:{}", s.test_db.port)];
    let (by_sqlx, sqlx_rows) = read(tcp).await;
    assert!(!by_sqlx.by_wire);
    assert_eq!(
        (by_sqlx.rows, by_sqlx.last_id),
        (by_root.rows, by_root.last_id)
    );
    assert_eq!(sqlx_rows, root_rows);
}

#[tokio::test]
async fn search_pages_by_keyset_and_its_filters_are_only_values() {
    let s = seeded().await;
    let ctx = officer(&s.test_db).await;
    let total = scalar(
        &s.test_db,
        "SELECT COUNT(*) + 0 * LENGTH(?) FROM access_log",
        "",
    )
    .await;
    // Every row exactly once, newest first, page after page.
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = logs::search(
            &ctx,
            SearchRequest {
                limit: Some(700),
                after: after.clone(),
                ..SearchRequest::default()
            },
        )
        .await
        .unwrap();
        seen.extend(page.rows.iter().map(|r| r.id));
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    assert_eq!(seen.len() as i64, total);
    assert!(
        seen.windows(2).all(|w| w[0] > w[1]),
        "strictly newest first"
    );

    // Filters combine.
    let denied = logs::search(
        &ctx,
        SearchRequest {
            user: Some(s.planted.denied_burst.clone()),
            outcome: Some("denied".into()),
            action: Some("customer.payment:read".into()),
            limit: Some(1_000),
            ..SearchRequest::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(denied.rows.len(), 120);
    assert!(
        denied
            .rows
            .iter()
            .all(|r| !r.allowed && r.login.as_deref() == Some(s.planted.denied_burst.as_str()))
    );
    let day = &denied.rows[0].at.clone().unwrap()[..10];
    let that_day = logs::search(
        &ctx,
        SearchRequest {
            user: Some(s.planted.denied_burst.clone()),
            outcome: Some("denied".into()),
            since: Some(day.to_string()),
            until: Some(format!("{day}T23:59:59")),
            limit: Some(1_000),
            ..SearchRequest::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(that_day.rows.len(), 120);
    // The chart's counts over time agree with the rows.
    let chart = logs::timeline(
        &ctx,
        SearchRequest {
            user: Some(s.planted.denied_burst.clone()),
            since: Some(day.to_string()),
            until: Some(format!("{day}T23:59:59")),
            ..SearchRequest::default()
        },
        24,
    )
    .await
    .unwrap();
    assert_eq!(chart.bucket_seconds, 3_600);
    assert!(chart.points.len() <= 24);
    assert_eq!(chart.points.iter().map(|p| p.denied).sum::<u64>(), 120);
    let everything = logs::timeline(&ctx, SearchRequest::default(), 50)
        .await
        .unwrap();
    let counted: u64 = everything.points.iter().map(|p| p.allowed + p.denied).sum();
    assert_eq!(counted as i64, total);

    // Bad input is named.
    for (req, words) in [
        (
            SearchRequest {
                after: Some("17".into()),
                ..SearchRequest::default()
            },
            "is not a cursor",
        ),
        (
            SearchRequest {
                since: Some("yesterday".into()),
                ..SearchRequest::default()
            },
            "--since `yesterday`",
        ),
        (
            SearchRequest {
                limit: Some(0),
                ..SearchRequest::default()
            },
            "--limit 0",
        ),
        (
            SearchRequest {
                outcome: Some("maybe".into()),
                ..SearchRequest::default()
            },
            "--outcome `maybe`",
        ),
    ] {
        let e = logs::search(&ctx, req).await.unwrap_err();
        assert_eq!(e.code(), ErrorCode::Input);
        assert!(e.to_string().contains(words), "{e}");
    }

    // The SQL injection corpus in every text filter: no rows, no SQL error, log intact.
    for (file, line) in crate::sqli::corpus() {
        if line.trim().is_empty()
            || line.chars().any(char::is_control)
            || line.chars().count() > 512
        {
            continue;
        }
        for field in 0..5 {
            let mut req = SearchRequest {
                limit: Some(5),
                ..SearchRequest::default()
            };
            let v = Some(line.clone());
            match field {
                0 => req.user = v,
                1 => req.action = v,
                2 => req.resource_type = v,
                3 => req.resource_id = v,
                _ => req.client_address = v,
            }
            let page = logs::search(&ctx, req)
                .await
                .unwrap_or_else(|e| panic!("{file}: {line:?} in filter {field}: {e}"));
            assert!(
                page.rows.is_empty(),
                "{file}: {line:?} in filter {field} matched rows"
            );
        }
    }
    let after = scalar(
        &s.test_db,
        "SELECT COUNT(*) + 0 * LENGTH(?) FROM access_log",
        "",
    )
    .await;
    assert_eq!(after, total);
}

/// A log shared with another service (`[access_log] where`): every reader — the scan's
/// stream by the socket reader and through sqlx, the export, the search, the scan's gaps —
/// sees only the rows the filter keeps; `[relations.tickets] where` keeps open tickets.
#[tokio::test]
async fn a_filtered_log_and_relations_are_read_only_where_their_where_says() {
    let s = seeded().await;
    let text = include_str!("../../../warden-core/src/presets/reference.toml")
        .replace(
            "[access_log]\n",
            "[access_log]\nwhere = { resource_type = [\"ticket\", \"lead\"] }\n",
        )
        .replace(
            "[relations.tickets]\n",
            "[relations.tickets]\nwhere = { status = \"open\" }\n",
        );
    let mapping = warden_core::mapping::Mapping::from_toml(&text).unwrap();
    let kept = scalar(
        &s.test_db,
        "SELECT COUNT(*) FROM access_log WHERE resource_type IN ('ticket', ?)",
        "lead",
    )
    .await;
    let total = scalar(
        &s.test_db,
        "SELECT COUNT(*) + 0 * LENGTH(?) FROM access_log",
        "",
    )
    .await;
    assert!(kept > 100 && kept < total, "{kept} of {total}");

    let read = |spec: warden_store::ConnectSpec| {
        let mapping = mapping.clone();
        async move {
            let db = warden_store::Database::connect(&spec).await.unwrap();
            let resolved = warden_store::schema::resolve(&db, mapping).await.unwrap();
            let mut types = std::collections::BTreeSet::new();
            let mut ids = Vec::new();
            let streamed = warden_store::logs::stream(&db, &resolved, 0, |batch| {
                for e in batch.events() {
                    types.insert(e.resource_type.map(str::to_string));
                    ids.push(e.id);
                }
                async { true }
            })
            .await
            .unwrap();
            let search = warden_store::logs::Search::default();
            let mut exported = 0;
            warden_store::logs::export(&db, &resolved, &search, |batch| {
                exported += batch.len();
                async { true }
            })
            .await
            .unwrap();
            let relations = warden_store::logs::relations(&db, &resolved)
                .await
                .unwrap()
                .unwrap();
            // Dormancy and last use read the same rows: a user active only in another
            // service's rows is not active here.
            let since = chrono::NaiveDate::from_ymd_opt(2000, 1, 1)
                .unwrap()
                .and_hms_opt(0, 0, 0)
                .unwrap();
            let active = warden_store::directory::active_since(&db, &resolved, since)
                .await
                .unwrap()
                .unwrap();
            let used = warden_store::directory::usage_since(&db, &resolved, since)
                .await
                .unwrap()
                .unwrap();
            let mut used_users: Vec<i64> = used.iter().map(|u| u.user.0).collect();
            used_users.sort_unstable();
            used_users.dedup();
            let mut active: Vec<i64> = active.into_iter().map(|u| u.0).collect();
            active.sort_unstable();
            db.close().await;
            (
                streamed.by_wire,
                types,
                ids,
                exported,
                relations,
                active,
                used_users,
            )
        }
    };
    let socket = s.test_db.spec().unwrap();
    let (by_wire, types, ids, exported, relations, active, used) = read(socket.clone()).await;
    let kept_users: Vec<i64> = {
        let db = warden_store::Database::connect(&socket).await.unwrap();
        let u = sqlx::query_scalar(
            "SELECT DISTINCT CAST(user_id AS SIGNED) FROM access_log \
             WHERE resource_type IN ('ticket', 'lead') ORDER BY 1",
        )
        .fetch_all(db.app())
        .await
        .unwrap();
        db.close().await;
        u
    };
    let all_users = scalar(
        &s.test_db,
        "SELECT COUNT(DISTINCT user_id) + 0 * LENGTH(?) FROM access_log",
        "",
    )
    .await;
    assert!(
        (kept_users.len() as i64) < all_users,
        "some users act only elsewhere"
    );
    assert_eq!(active, kept_users, "active: only this application's rows");
    assert!(
        used.iter().all(|u| kept_users.contains(u)),
        "last use likewise"
    );
    assert!(by_wire);
    assert_eq!(
        types,
        [Some("lead".to_string()), Some("ticket".to_string())].into(),
        "only the rows the filter keeps"
    );
    assert_eq!(ids.len() as i64, kept);
    assert_eq!(exported as i64, kept, "the export reads the same rows");
    let schema = warden_core::ident::quote(&s.test_db.name);
    app_sql(
        &s.test_db,
        "CREATE USER 'log_reader'@'127.0.0.1' IDENTIFIED BY 'pw'",
        &[],
    )
    .await;
    let grant = [
        "GRANT SELECT ON ",
        &schema,
        ".* TO 'log_reader'@'127.0.0.1'",
    ]
    .concat();
    app_sql(&s.test_db, &grant, &[]).await;
    let mut tcp = socket.clone();
    tcp.socket = None;
    tcp.hosts = vec![format!("127.0.0.1:{}", s.test_db.port)];
    tcp.user = "log_reader".into();
    tcp.password = Some(warden_store::Secret::new("pw"));
    let (by_sqlx, _, sqlx_ids, sqlx_exported, _, _, _) = read(tcp).await;
    assert!(!by_sqlx);
    assert_eq!((sqlx_ids, sqlx_exported), (ids, exported));
    let open_pairs: i64 = {
        let db = warden_store::Database::connect(&socket).await.unwrap();
        let n = sqlx::query_scalar(
            "SELECT COUNT(*) FROM (SELECT DISTINCT assignee_id, customer_id FROM support_tickets \
             WHERE status = 'open' AND assignee_id IS NOT NULL \
             UNION SELECT DISTINCT owner_id, customer_id FROM customer_accounts \
             WHERE owner_id IS NOT NULL) p",
        )
        .fetch_one(db.app())
        .await
        .unwrap();
        db.close().await;
        n
    };
    let pairs: usize = relations.values().map(|c| c.len()).sum();
    assert_eq!(pairs as i64, open_pairs, "closed tickets entitle nobody");

    // The scan records no gap for another service's rows.
    let session = warden_store::Database::connect(&account_spec(&s.test_db, OFFICER))
        .await
        .unwrap();
    let ctx = warden_service::Ctx::establish(session, Some(mapping))
        .await
        .unwrap()
        .with_clock(clock());
    policy::apply(&ctx, COMPANY_POLICY, "p.toml", "baseline")
        .await
        .unwrap();
    logs::scan(&ctx, false).await.unwrap();
    let gaps: Option<String> = {
        let db = warden_store::Database::connect(&socket).await.unwrap();
        let g = sqlx::query_scalar("SELECT gaps FROM warden_log_checkpoints")
            .fetch_one(db.gov())
            .await
            .unwrap();
        db.close().await;
        g
    };
    let gaps: Vec<i64> = serde_json::from_str(gaps.as_deref().unwrap_or("[]")).unwrap();
    assert!(
        gaps.is_empty(),
        "{} gaps, e.g. {:?}",
        gaps.len(),
        &gaps[..gaps.len().min(5)]
    );
}
