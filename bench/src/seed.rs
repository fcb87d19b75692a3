//! Seeding the synthetic company, next to the server copying the log onto itself.

use std::time::Instant;

use warden_sandbox::{Scenario, SeedOptions};
use warden_service::Clock;
use warden_store::Database;

use super::Row;

/// Seeding 10,000 staff and the log, next to the server copying the log onto itself.
pub(crate) async fn seeding_rows(
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
