//! Launching a campaign over every grant, and deciding in bulk.

use std::time::{Duration, Instant};

use warden_core::review::{ReviewerRule, Verdict};
use warden_sandbox::TestDatabase;
use warden_service::{Clock, Ctx};
use warden_store::Database;

use super::{Row, format_count};

/// Launching a campaign over every grant, next to the same items inserted the naive way,
/// one autocommitted INSERT each; then 10,000 items decided in one request.
pub(crate) async fn reviews_bench(db: &TestDatabase, ctx: &Ctx) -> anyhow::Result<Vec<Row>> {
    use warden_service::reviews::{self, Scope, StartRequest};
    let conn = Database::connect(&db.spec()?).await?;
    three_roles_a_person(&conn).await?;
    eprintln!("launching a review over every grant …");
    let due = (Clock::System.today() + chrono::Duration::days(30)).to_string();
    let t = Instant::now();
    let started = reviews::start(
        ctx,
        StartRequest {
            name: "benchmark".into(),
            due,
            scope: Scope::default(),
            reviewer: ReviewerRule::Manager,
            fallback: "bench".into(),
            undecided: Verdict::Keep,
        },
    )
    .await?;
    let launch = t.elapsed();
    eprintln!("inserting the same {} items one by one …", started.items);
    let naive = insert_one_by_one(&conn, started.campaign).await?;
    conn.close().await;
    let decide = decide_ten_thousand(ctx, started.campaign).await?;
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

/// The shape: about three roles a person (the sandbox gives most one), so each
/// person gets two more, chosen by role id; a launch then has about 300,000 items.
async fn three_roles_a_person(conn: &Database) -> anyhow::Result<()> {
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
    Ok(())
}

/// The baseline: campaign `campaign`'s items inserted again into a copy of the table, one
/// autocommitted INSERT each.
async fn insert_one_by_one(conn: &Database, campaign: u64) -> anyhow::Result<Duration> {
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
    .bind(campaign)
    .fetch_all(conn.gov())
    .await?;
    let t = Instant::now();
    for (user_id, login, department, role_id, role, reviewer, suggestion, reason) in &items {
        sqlx::query(
            "INSERT INTO naive_items (campaign_id, user_id, login, department, role_id, role, \
             reviewer, baseline, outside, sod, suggestion, reason) \
             VALUES (?, ?, ?, ?, ?, ?, ?, 'match', '', '', ?, ?)",
        )
        .bind(campaign)
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
    Ok(t.elapsed())
}

/// 10,000 items handed to the benchmark's officer, then decided in one request: how long
/// the decision took.
async fn decide_ten_thousand(ctx: &Ctx, campaign: u64) -> anyhow::Result<Duration> {
    use warden_service::reviews::{self, DecideRequest, ItemsRequest, ReassignRequest};
    let ids: Vec<u64> = reviews::items(
        ctx,
        ItemsRequest {
            campaign,
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
            decision: Verdict::Keep,
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
    Ok(decide)
}
