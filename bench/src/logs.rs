//! The access log at scale: paging, scanning, importing and exporting.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context;
use warden_sandbox::TestDatabase;
use warden_service::{Clock, Ctx, policy};
use warden_store::Database;

use super::{Row, format_count, median, seeded_with_log, sibling};

/// `warden export logs --source app` of every row (medians of three), next to `mariadb
/// --batch --quick` writing the same columns in the same order to a file; the export's
/// peak memory (GNU time's maximum resident set size) next to the budget.
pub(crate) fn export_rows(db: &TestDatabase, log_rows: u64) -> anyhow::Result<Vec<Row>> {
    let dir = std::env::temp_dir().join(format!("warden-bench-export-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let url = &db.url;
    let warden = sibling("warden")?;
    let (mut ours, mut client, mut peak_kb) = (Vec::new(), Vec::new(), 0u64);
    let dump = |to: &std::path::Path| -> anyhow::Result<Duration> {
        let t = Instant::now();
        let status = Command::new("mariadb")
            .args(["--no-defaults", "-uroot", "--socket"])
            .arg(&db.socket)
            .args(["--batch", "--quick", &db.name, "-e"])
            .arg(
                "SELECT id, occurred_at, user_id, action, resource_type, resource_id, outcome, \
                 client_ip, user_agent FROM access_log ORDER BY id DESC",
            )
            .stdout(std::fs::File::create(to)?)
            .status()?;
        anyhow::ensure!(status.success(), "mariadb dump failed");
        let took = t.elapsed();
        std::fs::remove_file(to)?;
        Ok(took)
    };
    // Once unmeasured: the log read into the server's memory.
    dump(&dir.join("warm.tsv"))?;
    for run in 0..3 {
        let csv = dir.join(format!("logs-{run}.csv"));
        let t = Instant::now();
        let done = Command::new("/usr/bin/time")
            .args(["-f", "%M", "-o"])
            .arg(dir.join("peak"))
            .arg(&warden)
            .args(["--quiet", "--database-url", url, "--format", "json"])
            .args(["export", "logs", "--source", "app", "--out"])
            .arg(&csv)
            .env_remove("WARDEN_DATABASE_URL")
            .stdout(Stdio::piped())
            .output()
            .context("GNU time (apt: time)")?;
        ours.push(t.elapsed());
        anyhow::ensure!(
            done.status.success(),
            "warden export: {}",
            String::from_utf8_lossy(&done.stderr)
        );
        let written: serde_json::Value = serde_json::from_slice(&done.stdout)?;
        anyhow::ensure!(
            written["rows"].as_u64() == Some(log_rows),
            "exported {}",
            written["rows"]
        );
        let peak: u64 = std::fs::read_to_string(dir.join("peak"))?.trim().parse()?;
        peak_kb = peak_kb.max(peak);
        client.push(dump(&dir.join(format!("dump-{run}.tsv")))?);
        std::fs::remove_file(&csv)?;
        std::fs::remove_file(dir.join(format!("logs-{run}.csv.manifest.json")))?;
    }
    let _ = std::fs::remove_dir_all(&dir);
    let (ours, client) = (median(ours), median(client));
    Ok(vec![
        Row {
            what: format!(
                "`warden export logs`, {} rows to CSV ({:.2}× the client's throughput)",
                format_count(log_rows as usize),
                client.as_secs_f64() / ours.as_secs_f64()
            ),
            warden: ours,
            baseline: client,
            baseline_name: "mariadb --batch --quick to a file",
            budget: "≥ 1.8× the client's throughput".into(),
            megabytes: false,
        },
        Row {
            what: "the same export's peak memory (resident)".into(),
            warden: Duration::from_millis(peak_kb / 1024),
            baseline: Duration::from_millis(64),
            baseline_name: "the budget, 64 MB",
            budget: "< 64 MB".into(),
            megabytes: true,
        },
    ])
}

/// The access log at `log_rows` rows (10,000 staff): paging, scanning, importing.
pub(crate) async fn logs_bench(
    server: &warden_sandbox::TestServer,
    log_rows: u64,
    all: bool,
) -> anyhow::Result<Vec<Row>> {
    let (db, ctx) = log_at_rest(server, log_rows).await?;
    let app = Database::connect(&db.spec()?).await?;
    let mut out = Vec::new();
    if !all {
        // `--only export`: the export alone.
        out.extend(export_rows(&db, log_rows)?);
        app.close().await;
        ctx.close().await;
        return Ok(out);
    }
    out.push(paging_row(&ctx, &app, log_rows).await?);
    let (full, scan_t) = full_scan_row(&ctx, &db, log_rows).await?;
    out.push(full);
    // Exporting every row to CSV, the whole `warden export logs` command, next to the client
    // dumping the same rows in the same order to a file; and its peak memory.
    out.extend(export_rows(&db, log_rows)?);
    out.push(incremental_scan_row(&ctx, &app, scan_t).await?);
    out.push(import_row(&ctx).await?);
    out.extend(import_format_rows(&ctx).await?);
    app.close().await;
    ctx.close().await;
    Ok(out)
}

/// `--only imports`: the audit-log imports alone (server_audit, XML, JSON), on a small
/// company.
pub(crate) async fn imports_bench(server: &warden_sandbox::TestServer) -> anyhow::Result<Vec<Row>> {
    let (_db, ctx) = seeded_with_log(server, 1_000, 1_000).await?;
    let mut out = vec![import_row(&ctx).await?];
    out.extend(import_format_rows(&ctx).await?);
    ctx.close().await;
    Ok(out)
}

/// 10,000 staff and `log_rows` log rows, in the server's memory and at rest, under the
/// company policy.
async fn log_at_rest(
    server: &warden_sandbox::TestServer,
    log_rows: u64,
) -> anyhow::Result<(TestDatabase, Ctx)> {
    eprintln!(
        "seeding 10,000 staff and {} log rows …",
        format_count(log_rows as usize)
    );
    let (db, ctx) = seeded_with_log(server, 10_000, log_rows).await?;
    // The log in the server's memory, as on a server sized for its working set (at 10M rows
    // the table outgrows the test server's 1 GiB pool, and then every reader, the client
    // included, waits on the disk alike): 4 GiB, resized online.
    let root = Database::connect(&db.spec()?).await?;
    sqlx::query("SET GLOBAL innodb_buffer_pool_size = 4294967296")
        .execute(root.app())
        .await?;
    // And at rest: the seed's pages written out now (the server returns once they are),
    // not by background flushing in the middle of a measurement.
    let mut conn = root.app().acquire().await?;
    sqlx::raw_sql("FLUSH TABLES access_log FOR EXPORT")
        .execute(&mut *conn)
        .await?;
    sqlx::raw_sql("UNLOCK TABLES").execute(&mut *conn).await?;
    drop(conn);
    root.close().await;
    policy::apply(
        &ctx,
        warden_sandbox::seed::COMPANY_POLICY,
        "company-policy.toml",
        "benchmark",
    )
    .await?;
    Ok((db, ctx))
}

/// Paging: the page after the deepest row but one hundred, next to the first page.
async fn paging_row(ctx: &Ctx, app: &Database, log_rows: u64) -> anyhow::Result<Row> {
    use warden_service::logs::{self, SearchRequest};
    let (min_id,): (i64,) = sqlx::query_as("SELECT CAST(MIN(id) AS SIGNED) FROM access_log")
        .fetch_one(app.app())
        .await?;
    let page = |after: Option<String>| async move {
        let t = Instant::now();
        let p = logs::search(
            ctx,
            SearchRequest {
                limit: Some(100),
                after,
                ..SearchRequest::default()
            },
        )
        .await?;
        anyhow::ensure!(p.rows.len() == 100, "{} rows", p.rows.len());
        Ok::<_, anyhow::Error>(t.elapsed())
    };
    // The cursor format: `v2.<app>.<db-audit>` (x: that source is done).
    let deep_cursor = format!("v2.{}.x", min_id + 101);
    page(None).await?;
    page(Some(deep_cursor.clone())).await?;
    let mut first = Vec::new();
    let mut deep = Vec::new();
    for _ in 0..21 {
        first.push(page(None).await?);
        deep.push(page(Some(deep_cursor.clone())).await?);
    }
    Ok(Row {
        what: format!(
            "log page of 100 at depth {}",
            format_count(log_rows as usize)
        ),
        warden: median(deep),
        baseline: median(first),
        baseline_name: "the first page",
        budget: "< 10 ms, ≤ 1.5× the first page".into(),
        megabytes: false,
    })
}

/// A full scan, next to the client dumping the same columns; with the scan's time.
async fn full_scan_row(
    ctx: &Ctx,
    db: &TestDatabase,
    log_rows: u64,
) -> anyhow::Result<(Row, Duration)> {
    let t = Instant::now();
    let full = warden_service::logs::scan(ctx, true).await?;
    let scan_t = t.elapsed();
    anyhow::ensure!(full.scanned == log_rows, "scanned {}", full.scanned);
    let t = Instant::now();
    let dump = Command::new("mariadb")
        .args(["--no-defaults", "-uroot", "--socket"])
        .arg(&db.socket)
        .args(["--batch", "--quick", &db.name, "-e"])
        .arg("SELECT id, occurred_at, user_id, action, resource_type, resource_id, outcome FROM access_log ORDER BY id")
        .stdout(Stdio::null())
        .status()
        .context("the mariadb client (apt: mariadb-client)")?;
    let dump_t = t.elapsed();
    anyhow::ensure!(dump.success(), "mariadb dump failed");
    let row = Row {
        what: format!(
            "detector scan, full, {} rows ({} findings)",
            format_count(log_rows as usize),
            full.found
        ),
        warden: scan_t,
        baseline: dump_t,
        baseline_name: "mariadb --batch --quick dump",
        budget: "≤ the dump".into(),
        megabytes: false,
    };
    Ok((row, scan_t))
}

/// 100,000 new rows of ordinary traffic (the oldest rows again), then an incremental scan,
/// next to the full scan's `scan_t`.
async fn incremental_scan_row(ctx: &Ctx, app: &Database, scan_t: Duration) -> anyhow::Result<Row> {
    sqlx::raw_sql(
        "INSERT INTO access_log (occurred_at, user_id, action, resource_type, resource_id, outcome, client_ip, user_agent) \
         SELECT occurred_at, user_id, action, resource_type, resource_id, outcome, client_ip, user_agent \
         FROM access_log ORDER BY id LIMIT 100000",
    )
    .execute(app.app())
    .await?;
    let t = Instant::now();
    let inc = warden_service::logs::scan(ctx, false).await?;
    let inc_t = t.elapsed();
    anyhow::ensure!(inc.scanned == 100_000, "scanned {}", inc.scanned);
    Ok(Row {
        what: "detector scan, incremental, 100,000 new rows".into(),
        warden: inc_t,
        baseline: scan_t,
        baseline_name: "the full scan",
        budget: "< 3% of the full scan".into(),
        megabytes: false,
    })
}

/// Importing a server_audit file of 1,000,000 lines, next to parsing it alone.
async fn import_row(ctx: &Ctx) -> anyhow::Result<Row> {
    let dir = std::env::temp_dir().join(format!("warden-bench-audit-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let file = dir.join("server_audit.log");
    write_server_audit(&file, 1_000_000, "db1")?;
    let t = Instant::now();
    let mut parsed = 0u64;
    let bad = warden_core::auditlog::read_server_audit(
        std::io::BufReader::new(std::fs::File::open(&file)?),
        Clock::System.today(),
        |_| parsed += 1,
    )?
    .bad;
    let parse_t = t.elapsed();
    anyhow::ensure!(
        parsed == 1_000_000 && bad.is_empty(),
        "parsed {parsed}, {} bad",
        bad.len()
    );
    let t = Instant::now();
    let done = warden_service::logs::ingest(ctx, "server-audit", &file).await?;
    let ingest_t = t.elapsed();
    anyhow::ensure!(done.imported == 1_000_000, "imported {}", done.imported);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(Row {
        what: format!(
            "server_audit import, 1,000,000 lines ({:.0} lines/s)",
            1_000_000.0 / ingest_t.as_secs_f64()
        ),
        warden: ingest_t,
        baseline: parse_t,
        baseline_name: "parsing alone",
        budget: "≥ 300,000 lines/s".into(),
        megabytes: false,
    })
}

/// Importing the same 200,000 events as MySQL/Percona XML and as JSON, each next to the
/// server_audit import of those events measured in the same run.
async fn import_format_rows(ctx: &Ctx) -> anyhow::Result<Vec<Row>> {
    const EVENTS: u64 = 200_000;
    let dir = std::env::temp_dir().join(format!("warden-bench-formats-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let files = [
        ("server-audit", dir.join("server_audit.log")),
        ("audit-xml", dir.join("audit.xml")),
        ("audit-json", dir.join("audit.json")),
    ];
    // Another server's file: not the one `import_row` took.
    write_server_audit(&files[0].1, EVENTS, "db2")?;
    write_audit_xml(&files[1].1, EVENTS)?;
    write_audit_json(&files[2].1, EVENTS)?;
    let mut took = Vec::new();
    for (format, file) in &files {
        let t = Instant::now();
        let done = warden_service::logs::ingest(ctx, format, file).await?;
        took.push(t.elapsed());
        anyhow::ensure!(
            done.imported == EVENTS && done.malformed == 0,
            "{format}: imported {}, {} malformed",
            done.imported,
            done.malformed
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
    let rate = |t: Duration| EVENTS as f64 / t.as_secs_f64();
    Ok([("XML", took[1]), ("JSON", took[2])]
        .into_iter()
        .map(|(name, t)| Row {
            what: format!(
                "{name} audit-log import, 200,000 events ({:.0} events/s; server_audit {:.0})",
                rate(t),
                rate(took[0])
            ),
            warden: t,
            baseline: took[0],
            baseline_name: "the same events from server_audit",
            budget: "≥ 100,000 events/s".into(),
            megabytes: false,
        })
        .collect())
}

/// `events` records of the MySQL Enterprise / Percona XML audit log (new style).
fn write_audit_xml(file: &std::path::Path, events: u64) -> anyhow::Result<()> {
    use std::io::Write;
    let mut w = std::io::BufWriter::new(std::fs::File::create(file)?);
    writeln!(w, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<AUDIT>")?;
    for i in 0..events {
        writeln!(
            w,
            " <AUDIT_RECORD>\n  <TIMESTAMP>2026-11-28T{:02}:{:02}:{:02} UTC</TIMESTAMP>\n  \
             <RECORD_ID>{i}_2026-11-28T00:00:00</RECORD_ID>\n  <NAME>Query</NAME>\n  \
             <CONNECTION_ID>{}</CONNECTION_ID>\n  <STATUS>0</STATUS>\n  \
             <USER>app{}[app] @ localhost [10.0.{}.{}]</USER>\n  <HOST>localhost</HOST>\n  \
             <IP>10.0.{}.{}</IP>\n  <DB>crm</DB>\n  <SQLTEXT>SELECT name, email FROM customers \
             WHERE id = {i} AND note &lt;&gt; &apos;x, y&apos;</SQLTEXT>\n </AUDIT_RECORD>",
            (i / 3600) % 24,
            (i / 60) % 60,
            i % 60,
            1000 + i % 5000,
            i % 50,
            i % 250,
            i % 200,
            i % 250,
            i % 200,
        )?;
    }
    writeln!(w, "</AUDIT>")?;
    w.flush()?;
    Ok(())
}

/// `events` records of the MySQL Enterprise JSON audit log, one a line.
fn write_audit_json(file: &std::path::Path, events: u64) -> anyhow::Result<()> {
    use std::io::Write;
    let mut w = std::io::BufWriter::new(std::fs::File::create(file)?);
    writeln!(w, "[")?;
    for i in 0..events {
        writeln!(
            w,
            "{{ \"timestamp\": \"2026-11-28 {:02}:{:02}:{:02}\", \"id\": {i}, \"class\": \"general\", \
             \"event\": \"status\", \"connection_id\": {}, \"account\": {{ \"user\": \"app{}\", \
             \"host\": \"localhost\" }}, \"login\": {{ \"user\": \"app\", \"ip\": \"10.0.{}.{}\" }}, \
             \"general_data\": {{ \"command\": \"Query\", \"query\": \"SELECT name, email FROM \
             customers WHERE id = {i} AND note <> 'x, y'\", \"status\": 0 }} }},",
            (i / 3600) % 24,
            (i / 60) % 60,
            i % 60,
            1000 + i % 5000,
            i % 50,
            i % 250,
            i % 200,
        )?;
    }
    writeln!(w, "]")?;
    w.flush()?;
    Ok(())
}

/// `lines` lines of MariaDB's server_audit format, every one a query with quotes and
/// commas in it.
fn write_server_audit(file: &std::path::Path, lines: u64, host: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut w = std::io::BufWriter::new(std::fs::File::create(file)?);
    for i in 0..lines {
        writeln!(
            w,
            "20261128 {:02}:{:02}:{:02},{host},app{},10.0.{}.{},{},{},QUERY,crm,'SELECT name, email FROM customers WHERE id = {} AND note <> \\'x, y\\'',0",
            (i / 3600) % 24,
            (i / 60) % 60,
            i % 60,
            i % 50,
            i % 250,
            i % 200,
            1000 + i % 5000,
            i,
            i
        )?;
    }
    w.flush()?;
    Ok(())
}
