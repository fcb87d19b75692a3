use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, Utc};
use warden_core::console::{Actor, ConsoleRole};
use warden_core::mapping::Mapping;
use warden_sandbox::{Planted, Scenario, SeedOptions, TestDatabase};
use warden_service::{Clock, Ctx, setup};
use warden_store::Database;

pub const OFFICER: &str = "olivia.officer";

/// The moment every test is at: the company is seeded relative to it and every context's
/// clock is pinned to it, so no test depends on the day or the hour it runs (a Wednesday
/// morning; `logs::the_same_findings_at_any_hour_of_any_day` moves it through a week).
pub fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-25T10:30:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

pub fn clock() -> Clock {
    Clock::fixed(now())
}

/// The pinned clock's date, `days` on (back when negative), as `--due` takes it.
pub fn day(days: i64) -> String {
    (today() + Duration::days(days)).to_string()
}

pub fn today() -> NaiveDate {
    clock().today()
}

/// A time as SQL text, to bind where a test writes the application's rows itself.
pub fn sql_time(t: NaiveDateTime) -> String {
    t.format("%Y-%m-%d %H:%M:%S").to_string()
}

/// The pinned clock's moment as SQL text.
pub fn sql_now() -> String {
    sql_time(clock().now_naive())
}

pub struct Seeded {
    pub test_db: TestDatabase,
    pub planted: Planted,
}

pub async fn fresh() -> (TestDatabase, Database) {
    let server = warden_sandbox::test_server().expect("test MariaDB server");
    let test_db = server.fresh_database().await.expect("fresh database");
    let db = Database::connect(&test_db.spec().unwrap())
        .await
        .expect("connect");
    (test_db, db)
}

/// A database with the synthetic company and Warden's tables, OFFICER its first officer.
pub async fn seeded() -> Seeded {
    seeded_with(Scenario::Default).await
}

/// The same, in a chosen scenario (`Clean`: a compliant control group).
pub async fn seeded_with(scenario: Scenario) -> Seeded {
    seeded_at(
        SeedOptions {
            users: 300,
            log_rows: 5_000,
            seed: 7,
            scenario,
            ..SeedOptions::at(now())
        },
        clock(),
    )
    .await
}

/// A company made with `opts`, Warden's tables migrated at `clock`.
pub async fn seeded_at(opts: SeedOptions, clock: Clock) -> Seeded {
    let (test_db, db) = fresh().await;
    let report = warden_sandbox::seed::seed(&db, &opts).await.expect("seed");
    let done = setup::migrate(&db, &actor(OFFICER), clock)
        .await
        .expect("migrate");
    assert_eq!(done.first_officer.as_deref(), Some(OFFICER));
    db.close().await;
    Seeded {
        test_db,
        planted: report.planted.unwrap_or_default(),
    }
}

pub fn actor(login: &str) -> Actor {
    Actor::local(login).unwrap()
}

/// A context for `login`, its clock pinned to [`now`].
pub async fn ctx_as(test_db: &TestDatabase, login: &str, mapping: Option<&str>) -> Ctx {
    ctx_at(test_db, login, mapping, clock()).await
}

pub async fn ctx_at(
    test_db: &TestDatabase,
    login: &str,
    mapping: Option<&str>,
    clock: Clock,
) -> Ctx {
    let db = Database::connect(&test_db.spec().unwrap()).await.unwrap();
    Ctx::establish(
        db,
        actor(login),
        mapping.map(|m| Mapping::preset(m).unwrap()),
    )
    .await
    .unwrap()
    .with_clock(clock)
}

pub async fn officer(test_db: &TestDatabase) -> Ctx {
    ctx_as(test_db, OFFICER, Some("reference")).await
}

/// Adds a console user as OFFICER.
pub async fn add_console_user(test_db: &TestDatabase, login: &str, role: ConsoleRole) {
    let ctx = ctx_as(test_db, OFFICER, None).await;
    setup::add_console_user(
        &ctx,
        setup::AddConsoleUser {
            login: login.into(),
            role,
        },
    )
    .await
    .unwrap();
}

/// CHECKSUM TABLE over every table of the database: proves nothing was changed.
pub async fn checksum(db: &Database) -> Vec<(String, Option<i64>)> {
    warden_sandbox::server::table_checksums(db).await.unwrap()
}

/// Runs SQL on the application's tables, as the application (or its admin) would.
pub async fn app_sql(test_db: &TestDatabase, sql: &str, binds: &[&str]) {
    let db = Database::connect(&test_db.spec().unwrap()).await.unwrap();
    let mut q = sqlx::query(sql);
    for b in binds {
        q = q.bind(*b);
    }
    q.execute(db.app()).await.unwrap();
    db.close().await;
}
