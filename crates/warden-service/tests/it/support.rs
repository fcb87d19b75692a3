use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, Utc};
use warden_core::console::{ConsoleRole, identity};
use warden_core::mapping::Mapping;
use warden_sandbox::{Planted, Scenario, SeedOptions, TestDatabase};
use warden_service::{Clock, Ctx, setup};
use warden_store::{ConnectSpec, Database, Secret};

/// The officer most tests act as: added by the administrator who migrated (the server's
/// root, the first officer), with a database account of their own.
pub const OFFICER: &str = "olivia.officer";

/// The administrator's console login: the first officer, `root` over the socket.
pub const ADMIN: &str = "root";

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

/// Accounts are server-wide and every test has a database of its own on one server: each
/// database's console accounts carry its name as their prefix.
pub fn account_prefix(test_db: &TestDatabase) -> String {
    format!("{}_", test_db.name)
}

/// Migrates as the administrator (root), with the test database's account prefix and the
/// reference mapping's grant table.
pub async fn migrate(
    db: &Database,
    test_db: &TestDatabase,
    clock: Clock,
) -> setup::MigrateResponse {
    migrate_for(db, test_db, clock, "reference").await
}

pub async fn migrate_for(
    db: &Database,
    test_db: &TestDatabase,
    clock: Clock,
    mapping: &str,
) -> setup::MigrateResponse {
    let opts = setup::MigrateOptions {
        account_prefix: Some(account_prefix(test_db)),
        grant_target: Some(Mapping::preset(mapping).unwrap().grant_target()),
    };
    match setup::migrate(db, clock, &opts).await {
        Ok(done) => done,
        Err(e) => panic!("migrate: {e}"),
    }
}

/// Migrates as the administrator, who then adds OFFICER.
pub async fn migrate_with_officer(db: &Database, test_db: &TestDatabase) {
    migrate_with_officer_for(db, test_db, "reference").await
}

pub async fn migrate_with_officer_for(db: &Database, test_db: &TestDatabase, mapping: &str) {
    let done = migrate_for(db, test_db, clock(), mapping).await;
    assert_eq!(done.first_officer.as_deref(), Some(ADMIN));
    add_console_user_by(test_db, ADMIN, OFFICER, ConsoleRole::Officer).await;
}

/// The password each test account chooses at its first sign-in.
pub fn password_of(login: &str) -> Secret {
    Secret::new(format!("Chosen-{}-Pass-2026", identity(login)))
}

/// How `login` signs in: their own account (root for [`ADMIN`]) over the test socket.
pub fn account_spec(test_db: &TestDatabase, login: &str) -> ConnectSpec {
    let mut spec = test_db.spec().unwrap();
    if login != ADMIN {
        spec.user = format!("{}{}", account_prefix(test_db), identity(login));
        spec.password = Some(password_of(login));
    }
    spec
}

/// A database with the synthetic company and Warden's tables; root its first officer and
/// OFFICER an officer with an account of their own.
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
    let done = migrate(&db, &test_db, clock).await;
    assert_eq!(done.first_officer.as_deref(), Some(ADMIN));
    db.close().await;
    add_console_user_by(&test_db, ADMIN, OFFICER, ConsoleRole::Officer).await;
    Seeded {
        test_db,
        planted: report.planted.unwrap_or_default(),
    }
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
    let db = match Database::connect(&account_spec(test_db, login)).await {
        Ok(db) => db,
        Err(e) => panic!("{login} signs in: {e}"),
    };
    let mapping = mapping.map(|m| Mapping::preset(m).unwrap());
    match Ctx::establish(db, mapping).await {
        Ok(ctx) => ctx.with_clock(clock),
        Err(e) => panic!("{login}'s session: {e}"),
    }
}

pub async fn officer(test_db: &TestDatabase) -> Ctx {
    ctx_as(test_db, OFFICER, Some("reference")).await
}

/// Adds a console user as OFFICER; the person then signs in once and replaces their
/// expired initial password with [`password_of`].
pub async fn add_console_user(test_db: &TestDatabase, login: &str, role: ConsoleRole) {
    add_console_user_by(test_db, OFFICER, login, role).await
}

pub async fn add_console_user_by(test_db: &TestDatabase, by: &str, login: &str, role: ConsoleRole) {
    let ctx = ctx_as(test_db, by, None).await;
    let added = setup::add_console_user(
        &ctx,
        setup::AddConsoleUser {
            login: login.into(),
            role,
            host: Some("localhost".into()),
        },
    )
    .await
    .unwrap();
    ctx.close().await;
    if let Some(initial) = added.initial_password {
        first_sign_in(&account_spec(test_db, login), login, &initial).await;
    }
}

/// Adds an officer whose account signs in over TCP from 127.0.0.1 (the others use the
/// socket), and returns how they sign in.
pub async fn tcp_officer(test_db: &TestDatabase, login: &str) -> ConnectSpec {
    let ctx = ctx_as(test_db, OFFICER, None).await;
    let added = setup::add_console_user(
        &ctx,
        setup::AddConsoleUser {
            login: login.into(),
            role: ConsoleRole::Officer,
            host: Some("127.0.0.1".into()),
        },
    )
    .await
    .unwrap();
    ctx.close().await;
    let mut spec = account_spec(test_db, login);
    spec.socket = None;
    spec.hosts = vec![format!("127.0.0.1:{}", test_db.port)];
    first_sign_in(&spec, login, &added.initial_password.unwrap()).await;
    spec
}

/// The person's first sign-in: the server refuses everything until the expired initial
/// password is replaced.
pub async fn first_sign_in(spec: &ConnectSpec, login: &str, initial: &str) {
    let mut spec = spec.clone();
    spec.password = Some(Secret::new(initial.to_string()));
    let err = Database::connect(&spec).await.unwrap_err();
    assert!(
        matches!(err, warden_store::Error::PasswordExpired { .. }),
        "an initial password is expired: {err}"
    );
    warden_store::accounts::change_password(&spec, &password_of(login))
        .await
        .expect("the new password is set");
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

/// One count from the application's database.
pub async fn app_count(test_db: &TestDatabase, sql: &str) -> i64 {
    let db = Database::connect(&test_db.spec().unwrap()).await.unwrap();
    let n: i64 = sqlx::query_scalar(sql).fetch_one(db.app()).await.unwrap();
    db.close().await;
    n
}

/// A campaign over the finance department, reviewed by managers, the officer the fallback,
/// undecided items kept at close, due in 30 days.
pub fn finance_review(name: &str) -> warden_service::reviews::StartRequest {
    warden_service::reviews::StartRequest {
        name: name.into(),
        due: day(30),
        scope: warden_service::reviews::Scope {
            departments: vec!["finance".into()],
            roles: Vec::new(),
            job_functions: Vec::new(),
        },
        reviewer: warden_core::review::ReviewerRule::Manager,
        fallback: OFFICER.into(),
        undecided: warden_core::review::Verdict::Keep,
    }
}
