//! Warden's benchmarks. Each figure is printed next to a baseline measured in the same run
//! on the same server, so the ratio means something on any machine:
//!
//! - seeding 10,000 staff and 1,000,000 access-log rows, next to the server copying the
//!   same log table onto itself (INSERT … SELECT, the floor for any client);
//! - effective permissions of every user at 10,000 and 100,000 staff: Warden's one-pass
//!   computation next to a naive loop with a query per user;
//! - `warden who-can` at 100,000 staff, the whole command (process start to JSON on stdout),
//!   next to the equivalent SQL through the `mariadb` client.
//!
//! - `warden check` with the synthetic company's policy at 10,000 and 100,000 staff (ten
//!   access-log rows per person), the first run (recording every finding) and a steady
//!   re-check, next to reading the directory alone;
//! - launching an access review over every grant of 100,000 staff given three roles each
//!   (about 300,000 items), next to inserting the same items one INSERT each; deciding
//!   10,000 of them in one bulk request;
//! - the access log at 10,000,000 rows (`logs`, its own seed): a page at depth 10M next to
//!   the first page; a full detector scan next to the `mariadb` client dumping the same
//!   rows (`--batch --quick`); an incremental scan after 100,000 new rows next to the full
//!   scan; a server_audit file import (1,000,000 lines) next to parsing it alone, and
//!   XML and JSON imports (200,000 events) next to server_audit's of the same events
//!   (`--only imports`: the imports alone);
//!   `warden export logs` of every row next to the client writing them to a file, and
//!   its peak memory (`--only export`: the export alone);
//! - the desktop app at 100,000 staff (`--desktop`): launch to the dashboard's first data,
//!   next to the same data fetched in-process; People filtered, next to `warden users
//!   --search` asking the database the same question.
//!
//! Usage: `./dev bench` or `warden-bench [--scales 10000,100000] [--log-rows 1000000]
//! [--desktop | --desktop-only] [--only seed,effective,check,reviews,who-can,logs,export,imports]`
//! [--log-scale 10000000]`.
//! `RUST_LOG=info` also prints the phases Warden itself logs (read, build, store).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use warden_core::mapping::Mapping;
use warden_sandbox::{Scenario, SeedOptions, TestDatabase};
use warden_service::{Clock, Ctx, policy, setup};
use warden_store::Database;

mod desktop;
mod logs;
mod reads;
mod reviews;
mod seed;

use desktop::desktop;
use logs::logs_bench;
use reads::{check_rows, effective_row, who_can};
use reviews::reviews_bench;
use seed::seeding_rows;

struct Row {
    what: String,
    warden: Duration,
    baseline: Duration,
    baseline_name: &'static str,
    budget: String,
    /// The figures are memory (a duration's milliseconds read as megabytes), not time.
    megabytes: bool,
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn secs(d: Duration) -> String {
    if d.as_secs_f64() >= 1.0 {
        format!("{:.2} s", d.as_secs_f64())
    } else {
        format!("{:.1} ms", d.as_secs_f64() * 1000.0)
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let scales: Vec<u32> = arg("--scales")
        .unwrap_or_else(|| "10000,100000".into())
        .split(',')
        .map(str::parse)
        .collect::<Result<_, _>>()
        .context("--scales")?;
    let log_rows: u64 = arg("--log-rows")
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(1_000_000);

    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let only: Option<Vec<String>> =
        arg("--only").map(|s| s.split(',').map(str::to_string).collect());
    let run = |section: &str| only.as_ref().is_none_or(|o| o.iter().any(|s| s == section));

    let server = warden_sandbox::test_server()?;
    eprintln!("benchmark server: {}", server.socket.display());
    let mut rows = Vec::new();
    let desktop_only = args.iter().any(|a| a == "--desktop-only");
    if desktop_only || args.iter().any(|a| a == "--desktop") {
        rows.extend(desktop(server).await?);
    }
    if desktop_only {
        print_rows(&rows);
        return Ok(());
    }

    // Seeding.
    if run("seed") {
        seeding_rows(server, log_rows, &mut rows).await?;
    }

    // The audit-log imports alone (they are part of `logs` too).
    if only
        .as_ref()
        .is_some_and(|o| o.iter().any(|s| s == "imports"))
    {
        rows.extend(logs::imports_bench(server).await?);
    }

    if run("logs") || run("export") {
        let rows_wanted: u64 = arg("--log-scale")
            .map(|s| s.parse())
            .transpose()?
            .unwrap_or(10_000_000);
        rows.extend(logs_bench(server, rows_wanted, run("logs")).await?);
    }

    let per_scale = ["effective", "check", "reviews", "who-can"];
    for scale in scales
        .iter()
        .copied()
        .filter(|_| per_scale.iter().any(|s| run(s)))
    {
        eprintln!("seeding {scale} staff …");
        let (db, ctx) = seeded(server, scale).await?;
        if run("effective") {
            rows.push(effective_row(&db, &ctx, scale).await?);
        }
        if run("check") || run("reviews") {
            policy::apply(
                &ctx,
                warden_sandbox::seed::COMPANY_POLICY,
                "company-policy.toml",
                "benchmark",
            )
            .await?;
        }
        if run("check") {
            rows.extend(check_rows(&ctx, scale).await?);
        }
        if scale >= 100_000 && run("reviews") {
            rows.extend(reviews_bench(&db, &ctx).await?);
        }
        if scale >= 100_000 && run("who-can") {
            let (warden, sql) = who_can(&db)?;
            rows.push(Row {
                what: format!("`warden who-can customer.contact:read`, {scale} staff"),
                warden,
                baseline: sql,
                baseline_name: "same query, mariadb client",
                budget: "< 0.2 s".into(),
                megabytes: false,
            });
        }
        ctx.close().await;
    }

    print_rows(&rows);
    Ok(())
}

fn print_rows(rows: &[Row]) {
    println!();
    println!(
        "{:<56} {:>10} {:>10}  {:<32} {:>8}  budget",
        "scenario", "warden", "baseline", "baseline is", "ratio"
    );
    for r in rows {
        let figure = |d: Duration| match r.megabytes {
            true => format!("{} MB", d.as_millis()),
            false => secs(d),
        };
        println!(
            "{:<56} {:>10} {:>10}  {:<32} {:>7.1}×  {}",
            r.what,
            figure(r.warden),
            figure(r.baseline),
            r.baseline_name,
            r.baseline.as_secs_f64() / r.warden.as_secs_f64().max(1e-9),
            r.budget
        );
    }
}

async fn futures_runs<F, Fut>(n: usize, mut f: F) -> anyhow::Result<Vec<Duration>>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<Duration>>,
{
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        out.push(f().await?);
    }
    Ok(out)
}

async fn seeded(
    server: &warden_sandbox::TestServer,
    users: u32,
) -> anyhow::Result<(TestDatabase, Ctx)> {
    seeded_with_log(server, users, u64::from(users) * 10).await
}

/// The synthetic company at `users` staff with `log_rows` access-log rows, migrated, and a
/// context on it for the benchmark's officer.
async fn seeded_with_log(
    server: &warden_sandbox::TestServer,
    users: u32,
    log_rows: u64,
) -> anyhow::Result<(TestDatabase, Ctx)> {
    let db = server.fresh_database().await?;
    let conn = Database::connect(&db.spec()?).await?;
    let opts = SeedOptions {
        users,
        log_rows,
        seed: 1,
        scenario: Scenario::Default,
        hostile: Vec::new(),
        now: Clock::System.now(),
    };
    warden_sandbox::seed::seed(&conn, &opts).await?;
    // As the server's administrator, who becomes the first officer.
    let mapping = Mapping::preset("reference").context("the reference mapping")?;
    let opts = setup::MigrateOptions {
        account_prefix: None,
        grant_target: Some(mapping.grant_target()),
    };
    setup::migrate(&conn, Clock::System, &opts).await?;
    let ctx = Ctx::establish(conn, Some(mapping)).await?;
    Ok((db, ctx))
}

/// Runs the release `warden` beside this binary on `db` as its administrator with
/// `--format json` and `args`: how long the whole command took, and what it printed.
fn warden_json(
    db: &warden_sandbox::TestDatabase,
    args: &[&str],
) -> anyhow::Result<(Duration, serde_json::Value)> {
    let warden = sibling("warden")?;
    let t = Instant::now();
    let out = std::process::Command::new(&warden)
        .args(["--database-url", &db.url, "--format", "json"])
        .args(args)
        .stderr(std::process::Stdio::inherit())
        .output()?;
    let elapsed = t.elapsed();
    anyhow::ensure!(out.status.success(), "warden {} failed", args.join(" "));
    Ok((elapsed, serde_json::from_slice(&out.stdout)?))
}

fn sibling(name: &str) -> anyhow::Result<PathBuf> {
    let exe = std::env::current_exe()?;
    let path = exe.parent().context("exe folder")?.join(name);
    if !path.is_file() {
        bail!(
            "{} not built: run `cargo build --release -p warden-cli` (./dev bench does)",
            path.display()
        );
    }
    Ok(path)
}

/// As the UI prints counts (en-US grouping).
fn format_count(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}
