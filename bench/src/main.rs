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
//!   scan; a server_audit file import (1,000,000 lines) next to parsing it alone;
//!   `warden export logs` of every row next to the client writing them to a file, and
//!   its peak memory (`--only export`: the export alone);
//! - the desktop app at 100,000 staff (`--desktop`): launch to the dashboard's first data,
//!   next to the same data fetched in-process; People filtered, next to `warden users
//!   --search` asking the database the same question.
//!
//! Usage: `./dev bench` or `warden-bench [--scales 10000,100000] [--log-rows 1000000]
//! [--desktop | --desktop-only] [--only seed,effective,check,reviews,who-can,logs,export]`
//! [--log-scale 10000000]`.
//! `RUST_LOG=info` also prints the phases Warden itself logs (read, build, store).

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use warden_core::console::Actor;
use warden_core::directory::{Effective, RoleModel, UserId, effective_permissions};
use warden_core::mapping::Mapping;
use warden_sandbox::{Scenario, SeedOptions, TestDatabase};
use warden_service::findings::{self, PolicySource};
use warden_service::{Clock, Ctx, directory, policy, setup};
use warden_store::Database;
use warden_store::directory::{self as store, GrantScope, UserFilter};

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

/// Seeding 10,000 staff and the log, next to the server copying the log onto itself.
async fn seeding_rows(
    server: &warden_sandbox::TestServer,
    log_rows: u64,
    rows: &mut Vec<Row>,
) -> anyhow::Result<()> {
    let db = server.fresh_database().await?;
    let conn = Database::connect(&db.spec()?).await?;
    let opts = SeedOptions {
        users: 10_000,
        log_rows,
        seed: 1,
        scenario: Scenario::Default,
        hostile: Vec::new(),
        now: Clock::System.now(),
    };
    let t = Instant::now();
    warden_sandbox::seed::seed(&conn, &opts).await?;
    let seeding = t.elapsed();
    sqlx::raw_sql("CREATE TABLE access_log_copy LIKE access_log")
        .execute(conn.app())
        .await?;
    let t = Instant::now();
    sqlx::raw_sql("INSERT INTO access_log_copy SELECT * FROM access_log")
        .execute(conn.app())
        .await?;
    let copy = t.elapsed();
    rows.push(Row {
        what: format!("seed 10,000 staff + {log_rows} log rows"),
        warden: seeding,
        baseline: copy,
        baseline_name: "server INSERT…SELECT of the log",
        budget: "< 30 s".into(),
        megabytes: false,
    });
    conn.close().await;
    Ok(())
}

/// Effective permissions of everyone: one pass, next to a query per user.
async fn effective_row(db: &TestDatabase, ctx: &Ctx, scale: u32) -> anyhow::Result<Row> {
    let one_pass = median(
        futures_runs(3, || async {
            let t = Instant::now();
            let all = directory::effective_for_everyone(ctx).await?;
            anyhow::ensure!(all.len() == scale as usize, "{} users", all.len());
            Ok(t.elapsed())
        })
        .await?,
    );
    eprintln!("naive loop over {scale} staff …");
    let naive = naive_loop(db).await?;
    Ok(Row {
        what: format!("effective permissions, {scale} staff"),
        warden: one_pass,
        baseline: naive,
        baseline_name: "a query per user",
        budget: if scale >= 100_000 {
            "< 2 s, ≥ 20× faster".into()
        } else {
            "≥ 20× faster".into()
        },
        megabytes: false,
    })
}

/// `warden check`: the first run and a steady re-check, next to reading the directory.
async fn check_rows(ctx: &Ctx, scale: u32) -> anyhow::Result<Vec<Row>> {
    let read = median(
        futures_runs(3, || async {
            let t = Instant::now();
            let (users, _) = directory::read_directory(ctx).await?;
            anyhow::ensure!(users == scale as usize, "{users} users");
            Ok(t.elapsed())
        })
        .await?,
    );
    let t = Instant::now();
    let first = findings::check(ctx, PolicySource::Current).await?;
    let first_run = t.elapsed();
    anyhow::ensure!(
        first.stored && first.opened > 0,
        "the first check recorded nothing"
    );
    let steady = median(
        futures_runs(3, || async {
            let t = Instant::now();
            let again = findings::check(ctx, PolicySource::Current).await?;
            anyhow::ensure!(again.opened == 0, "a re-check opened {}", again.opened);
            Ok(t.elapsed())
        })
        .await?,
    );
    let budget = if scale >= 100_000 { "< 2 s" } else { "" };
    Ok(vec![
        Row {
            what: format!(
                "check, first run ({} findings), {scale} staff",
                format_count(first.findings.len())
            ),
            warden: first_run,
            baseline: read,
            baseline_name: "directory read alone",
            budget: budget.into(),
            megabytes: false,
        },
        Row {
            what: format!("check, re-check, {scale} staff"),
            warden: steady,
            baseline: read,
            baseline_name: "directory read alone",
            budget: budget.into(),
            megabytes: false,
        },
    ])
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
    let actor = Actor::local("bench")?;
    setup::migrate(&conn, &actor, Clock::System).await?;
    let ctx = Ctx::establish(conn, actor, Mapping::preset("reference")).await?;
    Ok((db, ctx))
}

/// The naive way: the role model once, then for each user their grants and direct
/// permissions with a query each.
async fn naive_loop(db: &TestDatabase) -> anyhow::Result<Duration> {
    let conn = Database::connect(&db.spec()?).await?;
    let mapping =
        warden_store::schema::resolve(&conn, Mapping::preset("reference").context("preset")?)
            .await?;
    let t = Instant::now();
    let roles = store::roles(&conn, &mapping).await?;
    let permissions = store::permissions(&conn, &mapping).await?;
    let model = RoleModel::new(
        roles.iter().map(|r| r.id),
        &store::role_hierarchy(&conn, &mapping).await?,
        &store::role_permissions(&conn, &mapping).await?,
    );
    let users = store::users(&conn, &mapping, &UserFilter::default()).await?;
    let mut all: HashMap<UserId, Effective> = HashMap::with_capacity(users.len());
    let now = Clock::System.now_naive();
    for u in &users {
        let grants = store::role_grants(&conn, &mapping, &GrantScope::User(u.id), now).await?;
        let direct = store::direct_grants(&conn, &mapping, Some(u.id)).await?;
        let eff = effective_permissions(
            u,
            mapping.mapping().semantics,
            &model,
            grants.iter().map(|g| g.role),
            direct.iter().map(|d| d.permission),
            &permissions,
        );
        all.insert(u.id, eff);
    }
    let elapsed = t.elapsed();
    if all.len() != users.len() {
        bail!("naive loop covered {} of {} users", all.len(), users.len());
    }
    conn.close().await;
    Ok(elapsed)
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

/// The whole `warden who-can` command against the equivalent SQL through the client.
fn who_can(db: &TestDatabase) -> anyhow::Result<(Duration, Duration)> {
    let warden = sibling("warden")?;
    let run_warden = || -> anyhow::Result<Duration> {
        let t = Instant::now();
        let out = Command::new(&warden)
            .args([
                "--database-url",
                &db.url,
                "--format",
                "json",
                "who-can",
                "customer.contact:read",
            ])
            .env("WARDEN_ACTOR", "bench")
            .stderr(Stdio::inherit())
            .output()?;
        let elapsed = t.elapsed();
        anyhow::ensure!(out.status.success(), "warden who-can failed");
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout)?;
        anyhow::ensure!(
            doc["users"].as_array().is_some_and(|u| u.len() > 1_000),
            "few holders"
        );
        Ok(elapsed)
    };
    let sql = "SELECT u.login, r.name FROM user_roles ur JOIN staff_users u ON u.id = ur.user_id \
               JOIN roles r ON r.id = ur.role_id \
               WHERE ur.role_id IN (SELECT rp.role_id FROM role_permissions rp JOIN permissions p ON p.id = rp.permission_id \
                 WHERE p.perm_key = 'customer.contact:read' \
                 UNION SELECT ri.role_id FROM role_inheritance ri JOIN role_permissions rp ON rp.role_id = ri.parent_role_id \
                 JOIN permissions p ON p.id = rp.permission_id WHERE p.perm_key = 'customer.contact:read') \
               AND u.status = 'active' AND (ur.expires_at IS NULL OR ur.expires_at > NOW()) \
               UNION ALL SELECT u.login, 'superuser' FROM staff_users u WHERE u.is_superuser <> 0 AND u.status = 'active'";
    let run_client = || -> anyhow::Result<Duration> {
        let t = Instant::now();
        let out = Command::new("mariadb")
            .args(["--no-defaults", "-uroot", "--socket"])
            .arg(&db.socket)
            .args(["--batch", "--quick", &db.name, "-e", sql])
            .output()
            .context("the mariadb client (apt: mariadb-client)")?;
        let elapsed = t.elapsed();
        anyhow::ensure!(
            out.status.success(),
            "mariadb: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Ok(elapsed)
    };
    run_warden()?; // warm the page cache and the binary
    let warden_t = median(
        (0..5)
            .map(|_| run_warden())
            .collect::<anyhow::Result<_>>()?,
    );
    let client_t = median(
        (0..5)
            .map(|_| run_client())
            .collect::<anyhow::Result<_>>()?,
    );
    Ok((warden_t, client_t))
}

/// The desktop app at 100,000 staff: launch to first data, and filtering People.
async fn desktop(server: &warden_sandbox::TestServer) -> anyhow::Result<Vec<Row>> {
    eprintln!("seeding 100000 staff for the desktop …");
    let (db, ctx) = seeded(server, 100_000).await?;
    let home = std::env::temp_dir().join(format!("warden-bench-desktop-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&home);

    let t = Instant::now();
    let dash = directory::dashboard(&ctx).await?;
    let in_process = t.elapsed();
    let app = warden_e2e::Desktop::launch(&db.url, "bench", &home).await?;
    app.wait_text(
        "[data-testid=tile-staff] .tile-num",
        Some(&format_count(dash.staff)),
    )
    .await?;
    let launch = app.started.elapsed();

    // People: load everyone once, then time a filter from keystroke to the rendered count.
    app.click("[data-testid=nav-people]").await?;
    app.wait_text("[data-testid=row-count]", Some("100,000"))
        .await?;
    let needle = "ada.ab";
    let expected = users_matching(&ctx, needle).await?;
    let measure = r#"
        const [needle, expected, done] = arguments;
        const input = document.querySelector('[data-testid=people-search]');
        const set = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set;
        const t0 = performance.now();
        set.call(input, needle);
        input.dispatchEvent(new Event('input', { bubbles: true }));
        const check = () => {
            const n = document.querySelector('[data-testid=row-count]').textContent;
            if (n === expected) return requestAnimationFrame(() => done(performance.now() - t0));
            if (performance.now() - t0 > 10000) return done(-1);
            requestAnimationFrame(check);
        };
        requestAnimationFrame(check);
    "#;
    let ms = app
        .client
        .execute_async(
            measure,
            vec![
                serde_json::json!(needle),
                serde_json::json!(format_count(expected)),
            ],
        )
        .await?
        .as_f64()
        .unwrap_or(-1.0);
    anyhow::ensure!(ms >= 0.0, "the filtered count never appeared");
    let filter = Duration::from_secs_f64(ms / 1000.0);
    app.close().await?;

    let warden = sibling("warden")?;
    let t = Instant::now();
    let out = Command::new(&warden)
        .args([
            "--database-url",
            &db.url,
            "--format",
            "json",
            "users",
            "--search",
            needle,
        ])
        .env("WARDEN_ACTOR", "bench")
        .output()?;
    let cli = t.elapsed();
    anyhow::ensure!(out.status.success(), "warden users --search failed");
    let size = std::fs::metadata(sibling("warden-desktop")?)?.len();
    eprintln!("release binary warden-desktop: {:.1} MB", size as f64 / 1e6);
    ctx.close().await;
    Ok(vec![
        Row {
            what: "desktop: launch to the dashboard's first data, 100k".into(),
            warden: launch,
            baseline: in_process,
            baseline_name: "same data, in-process service",
            budget: "< 1.5 s".into(),
            megabytes: false,
        },
        Row {
            what: format!("desktop: People filtered ({expected} of 100k shown)"),
            warden: filter,
            baseline: cli,
            baseline_name: "`warden users --search`, whole",
            budget: "< 300 ms".into(),
            megabytes: false,
        },
    ])
}

async fn users_matching(ctx: &Ctx, needle: &str) -> anyhow::Result<usize> {
    let req = directory::UsersRequest {
        department: None,
        status: None,
        search: Some(needle.into()),
    };
    Ok(directory::users(ctx, req).await?.users.len())
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

/// Launching a campaign over every grant, next to the same items inserted the naive way,
/// one autocommitted INSERT each; then 10,000 items decided in one request.
async fn reviews_bench(db: &TestDatabase, ctx: &Ctx) -> anyhow::Result<Vec<Row>> {
    use warden_service::reviews::{self, DecideRequest, ReassignRequest, Scope, StartRequest};
    // The issue's shape: about three roles a person (the sandbox gives most one), so each
    // person gets two more, chosen by role id; the launch then has about 300,000 items.
    let conn = Database::connect(&db.spec()?).await?;
    let (roles,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM roles")
        .fetch_one(conn.app())
        .await?;
    for offset in [3, 7] {
        sqlx::query(
            "INSERT IGNORE INTO user_roles (user_id, role_id, granted_at, granted_by, expires_at) \
             SELECT g.user_id, (g.role_id + ?) MOD ? + 1, g.granted_at, g.granted_by, NULL \
             FROM (SELECT user_id, MIN(role_id) AS role_id, MIN(granted_at) AS granted_at, \
                          MIN(granted_by) AS granted_by \
                   FROM user_roles GROUP BY user_id) g",
        )
        .bind(offset)
        .bind(roles)
        .execute(conn.app())
        .await?;
    }
    eprintln!("launching a review over every grant …");
    let due = (Clock::System.today() + chrono::Duration::days(30)).to_string();
    let t = Instant::now();
    let started = reviews::start(
        ctx,
        StartRequest {
            name: "benchmark".into(),
            due,
            scope: Scope::default(),
            reviewer: "manager".into(),
            fallback: "bench".into(),
            undecided: "keep".into(),
        },
    )
    .await?;
    let launch = t.elapsed();

    eprintln!("inserting the same {} items one by one …", started.items);
    sqlx::raw_sql("CREATE TABLE naive_items LIKE warden_review_items")
        .execute(conn.gov())
        .await?;
    type ItemRow = (
        i64,
        String,
        Option<String>,
        i64,
        String,
        String,
        String,
        String,
    );
    let items: Vec<ItemRow> = sqlx::query_as(
        "SELECT user_id, login, department, role_id, role, reviewer, suggestion, reason \
         FROM warden_review_items WHERE campaign_id = ?",
    )
    .bind(started.campaign)
    .fetch_all(conn.gov())
    .await?;
    let t = Instant::now();
    for (user_id, login, department, role_id, role, reviewer, suggestion, reason) in &items {
        sqlx::query(
            "INSERT INTO naive_items (campaign_id, user_id, login, department, role_id, role, \
             reviewer, baseline, outside, sod, suggestion, reason) \
             VALUES (?, ?, ?, ?, ?, ?, ?, 'match', '', '', ?, ?)",
        )
        .bind(started.campaign)
        .bind(user_id)
        .bind(login)
        .bind(department)
        .bind(role_id)
        .bind(role)
        .bind(reviewer)
        .bind(suggestion)
        .bind(reason)
        .execute(conn.gov())
        .await?;
    }
    let naive = t.elapsed();
    conn.close().await;

    // 10,000 items handed to the benchmark's officer, then decided in one request.
    let ids: Vec<u64> = reviews::items(
        ctx,
        warden_service::reviews::ItemsRequest {
            campaign: started.campaign,
            reviewer: None,
            pending: true,
        },
    )
    .await?
    .items
    .into_iter()
    .filter(|i| i.login != "bench")
    .take(10_000)
    .map(|i| i.id)
    .collect();
    anyhow::ensure!(ids.len() == 10_000, "only {} items", ids.len());
    reviews::reassign(
        ctx,
        ReassignRequest {
            items: ids.clone(),
            to: "bench".into(),
            comment: "benchmark".into(),
        },
    )
    .await?;
    let t = Instant::now();
    let decided = reviews::decide(
        ctx,
        DecideRequest {
            items: ids,
            decision: "approve".into(),
            comment: "benchmark".into(),
            key: "bench".into(),
        },
    )
    .await?;
    let decide = t.elapsed();
    anyhow::ensure!(
        decided.decided.len() == 10_000,
        "decided {}",
        decided.decided.len()
    );
    Ok(vec![
        Row {
            what: format!(
                "review launch, {} items",
                format_count(started.items as usize)
            ),
            warden: launch,
            baseline: naive,
            baseline_name: "one INSERT per item, autocommit",
            budget: "< 15 s, ≥ 10× faster".into(),
            megabytes: false,
        },
        Row {
            what: "review decide, 10,000 items in one request".into(),
            warden: decide,
            baseline: launch,
            baseline_name: "the launch above",
            budget: "< 2 s".into(),
            megabytes: false,
        },
    ])
}

/// `warden export logs --source app` of every row (medians of three), next to `mariadb
/// --batch --quick` writing the same columns in the same order to a file; the export's
/// peak memory (GNU time's maximum resident set size) next to the budget.
fn export_rows(db: &TestDatabase, log_rows: u64) -> anyhow::Result<Vec<Row>> {
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
            .env("WARDEN_ACTOR", "bench")
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
async fn logs_bench(
    server: &warden_sandbox::TestServer,
    log_rows: u64,
    all: bool,
) -> anyhow::Result<Vec<Row>> {
    use warden_service::logs::{self, SearchRequest};
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
    let app = Database::connect(&db.spec()?).await?;
    let mut out = Vec::new();
    if !all {
        // `--only export`: the export alone.
        out.extend(export_rows(&db, log_rows)?);
        app.close().await;
        ctx.close().await;
        return Ok(out);
    }

    // Paging: the first page, and the page after the deepest row but one hundred.
    let (min_id,): (i64,) = sqlx::query_as("SELECT CAST(MIN(id) AS SIGNED) FROM access_log")
        .fetch_one(app.app())
        .await?;
    let page = |after: Option<String>| {
        let ctx = &ctx;
        async move {
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
        }
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
    let (first, deep) = (median(first), median(deep));
    out.push(Row {
        what: format!(
            "log page of 100 at depth {}",
            format_count(log_rows as usize)
        ),
        warden: deep,
        baseline: first,
        baseline_name: "the first page",
        budget: "< 10 ms, ≤ 1.5× the first page".into(),
        megabytes: false,
    });

    // A full scan, next to the client dumping the same columns.
    let t = Instant::now();
    let full = logs::scan(&ctx, true).await?;
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
    out.push(Row {
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
    });

    // Exporting every row to CSV, the whole `warden export logs` command, next to the client
    // dumping the same rows in the same order to a file; and its peak memory.
    out.extend(export_rows(&db, log_rows)?);

    // 100,000 new rows of ordinary traffic (the oldest rows again), then an incremental scan.
    sqlx::raw_sql(
        "INSERT INTO access_log (occurred_at, user_id, action, resource_type, resource_id, outcome, client_ip, user_agent) \
         SELECT occurred_at, user_id, action, resource_type, resource_id, outcome, client_ip, user_agent \
         FROM access_log ORDER BY id LIMIT 100000",
    )
    .execute(app.app())
    .await?;
    let t = Instant::now();
    let inc = logs::scan(&ctx, false).await?;
    let inc_t = t.elapsed();
    anyhow::ensure!(inc.scanned == 100_000, "scanned {}", inc.scanned);
    out.push(Row {
        what: "detector scan, incremental, 100,000 new rows".into(),
        warden: inc_t,
        baseline: scan_t,
        baseline_name: "the full scan",
        budget: "< 3% of the full scan".into(),
        megabytes: false,
    });

    // A server_audit file of 1,000,000 lines.
    let dir = std::env::temp_dir().join(format!("warden-bench-audit-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let file = dir.join("server_audit.log");
    {
        use std::io::Write;
        let mut w = std::io::BufWriter::new(std::fs::File::create(&file)?);
        for i in 0..1_000_000u64 {
            writeln!(
                w,
                "20261128 {:02}:{:02}:{:02},db1,app{},10.0.{}.{},{},{},QUERY,crm,'SELECT name, email FROM customers WHERE id = {} AND note <> \\'x, y\\'',0",
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
    }
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
    let done = logs::ingest(&ctx, "server-audit", &file).await?;
    let ingest_t = t.elapsed();
    anyhow::ensure!(done.imported == 1_000_000, "imported {}", done.imported);
    let _ = std::fs::remove_dir_all(&dir);
    app.close().await;
    out.push(Row {
        what: format!(
            "server_audit import, 1,000,000 lines ({:.0} lines/s)",
            1_000_000.0 / ingest_t.as_secs_f64()
        ),
        warden: ingest_t,
        baseline: parse_t,
        baseline_name: "parsing alone",
        budget: "≥ 300,000 lines/s".into(),
        megabytes: false,
    });
    ctx.close().await;
    Ok(out)
}
