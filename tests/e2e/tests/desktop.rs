//! The desktop app in its real webview (tauri-driver + WebKitWebDriver under Xvfb), on a
//! real MariaDB this test starts, asserting what each screen shows against the database.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;

use serde_json::json;
use warden_core::findings::{FindingKind, FindingStatus};
use warden_core::mapping::Mapping;
use warden_core::review::Verdict;
use warden_e2e::Desktop;
use warden_sandbox::{Scenario, SeedOptions, TestDatabase};
use warden_service::{Clock, Ctx, directory, setup};
use warden_store::Database;

const OFFICER: &str = "olivia.officer";

/// Accounts are server-wide: each test database's console accounts carry its name.
fn account_user(db: &TestDatabase, login: &str) -> String {
    format!("{}_{}", db.name, login.to_lowercase())
}

/// The URL `login` signs in with: their own account over the test socket.
fn url_of(db: &TestDatabase, login: &str) -> String {
    db.url
        .replacen("root@", &format!("{}@", account_user(db, login)), 1)
}

/// The password each person chooses at their first sign-in.
fn password_of(login: &str) -> String {
    format!("Chosen-{login}-Pass-2026")
}

/// Adds `login` as a console user (their account on the socket's `localhost`) as `by`,
/// and signs them in once to replace the expired initial password with [`password_of`].
async fn add_person(
    db: &TestDatabase,
    by: &Ctx,
    login: &str,
    role: warden_core::console::ConsoleRole,
) {
    let added = setup::add_console_user(
        by,
        setup::AddConsoleUser {
            login: login.into(),
            role,
            host: Some("localhost".into()),
        },
    )
    .await
    .unwrap();
    let mut spec = warden_store::ConnectSpec::from_url(&url_of(db, login)).unwrap();
    spec.password = Some(warden_store::Secret::new(added.initial_password.unwrap()));
    warden_store::accounts::change_password(&spec, &warden_store::Secret::new(password_of(login)))
        .await
        .unwrap();
}

/// The app, signed in as `login`.
async fn launch_as(db: &TestDatabase, login: &str, home: &std::path::Path) -> Desktop {
    Desktop::launch(&url_of(db, login), Some(&password_of(login)), home)
        .await
        .unwrap()
}

/// A console user whose account is reached over TCP from 127.0.0.1 (as a profile is):
/// answers the account's user name and its initial, already expired, password.
async fn tcp_person(
    db: &TestDatabase,
    by: &Ctx,
    login: &str,
    role: warden_core::console::ConsoleRole,
) -> (String, String) {
    let added = setup::add_console_user(
        by,
        setup::AddConsoleUser {
            login: login.into(),
            role,
            host: Some("127.0.0.1".into()),
        },
    )
    .await
    .unwrap();
    (account_user(db, login), added.initial_password.unwrap())
}

/// How `user` signs in over TCP with `password`.
fn tcp_spec(db: &TestDatabase, user: &str, password: &str) -> warden_store::ConnectSpec {
    let mut spec = warden_store::ConnectSpec::from_url(&format!(
        "mysql://{user}@127.0.0.1:{}/{}?ssl-mode=disabled",
        db.port, db.name
    ))
    .unwrap();
    spec.password = Some(warden_store::Secret::new(password));
    spec
}

/// Fills the connection screen's profile form for `user` over TCP, TLS off.
async fn fill_profile(app: &Desktop, name: &str, db: &TestDatabase, user: &str, password: &str) {
    for (field, value) in [
        ("name", name.to_string()),
        ("host", "127.0.0.1".to_string()),
        ("port", db.port.to_string()),
        ("user", user.to_string()),
        ("database", db.name.clone()),
        ("password", password.to_string()),
    ] {
        type_text(app, &format!("[data-testid=profile-{field}]"), &value).await;
    }
    app.select("[data-testid=profile-tls]", "disabled")
        .await
        .unwrap();
}

/// OFFICER's session (as the tests read the database to compare with the screens).
async fn officer_ctx(db: &TestDatabase) -> Ctx {
    let mut spec = warden_store::ConnectSpec::from_url(&url_of(db, OFFICER)).unwrap();
    spec.password = Some(warden_store::Secret::new(password_of(OFFICER)));
    Ctx::establish(
        Database::connect(&spec).await.unwrap(),
        Mapping::preset("reference"),
    )
    .await
    .unwrap()
}

async fn seeded(hostile: Vec<String>) -> (TestDatabase, Ctx, warden_sandbox::SeedReport) {
    let server = warden_sandbox::test_server().expect("test MariaDB");
    let test_db = server.fresh_database().await.unwrap();
    let db = Database::connect(&test_db.spec().unwrap()).await.unwrap();
    let opts = SeedOptions {
        users: 300,
        log_rows: 2_000,
        seed: 11,
        scenario: Scenario::Default,
        hostile,
        now: Clock::System.now(),
    };
    let report = warden_sandbox::seed::seed(&db, &opts).await.unwrap();
    // The server's administrator migrates (the first officer) and adds OFFICER.
    let mapping = Mapping::preset("reference").unwrap();
    let migrate = setup::MigrateOptions {
        account_prefix: Some(format!("{}_", test_db.name)),
        grant_target: Some(mapping.grant_target()),
    };
    setup::migrate(&db, Clock::System, &migrate).await.unwrap();
    let admin = Ctx::establish(db, Some(mapping)).await.unwrap();
    add_person(
        &test_db,
        &admin,
        OFFICER,
        warden_core::console::ConsoleRole::Officer,
    )
    .await;
    admin.close().await;
    let ctx = officer_ctx(&test_db).await;
    (test_db, ctx, report)
}

fn home(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("warden-e2e-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_directory_screen_shows_the_database() {
    let (db, ctx, report) = seeded(Vec::new()).await;
    let planted = report.planted.unwrap();
    let app = launch_as(&db, OFFICER, &home("screens")).await;

    // Dashboard: headline numbers from the database.
    let dash = directory::dashboard(&ctx).await.unwrap();
    let staff = app
        .wait_text(
            "[data-testid=tile-staff] .tile-num",
            Some(&dash.staff.to_string()),
        )
        .await
        .unwrap();
    assert_eq!(staff, "300");
    app.wait_text("[data-testid=tile-roles] .tile-num", Some("12"))
        .await
        .unwrap();
    app.wait_text("[data-testid=actor]", Some(OFFICER))
        .await
        .unwrap();
    app.wait_text("[data-testid=actor]", Some("officer"))
        .await
        .unwrap();
    let bars = app
        .js("return document.querySelector('canvas') !== null", vec![])
        .await
        .unwrap();
    assert_eq!(bars, json!(true), "the department chart is drawn");
    app.screenshot("01-dashboard").await.unwrap();

    // People: everyone, then filters, all counted against the database.
    app.click("[data-testid=nav-people]").await.unwrap();
    app.wait_text("[data-testid=row-count]", Some("300"))
        .await
        .unwrap();
    let sales = directory::users(
        &ctx,
        directory::UsersRequest {
            department: Some("sales".into()),
            status: None,
            search: None,
        },
    )
    .await
    .unwrap()
    .users
    .len();
    app.select("[data-testid=people-department]", "sales")
        .await
        .unwrap();
    app.wait_text("[data-testid=row-count]", Some(&sales.to_string()))
        .await
        .unwrap();
    app.screenshot("02-people-sales").await.unwrap();
    app.select("[data-testid=people-department]", "")
        .await
        .unwrap();
    let search = app
        .client
        .find(fantoccini::Locator::Css("[data-testid=people-search]"))
        .await
        .unwrap();
    search.send_keys(&planted.sod_conflict).await.unwrap();
    app.wait_text("[data-testid=row-count]", Some("1"))
        .await
        .unwrap();
    app.wait_text(
        "[role=row][aria-rowindex='1'] [role=gridcell]",
        Some(&planted.sod_conflict),
    )
    .await
    .unwrap();
    app.screenshot("03-people-search").await.unwrap();

    // A person: roles with grant date and granter, permissions with their source.
    app.click("[role=row][aria-rowindex='1']").await.unwrap();
    app.wait_text("[data-testid=person-login]", Some(&planted.sod_conflict))
        .await
        .unwrap();
    let access = directory::access(
        &ctx,
        directory::AccessRequest {
            login: planted.sod_conflict.clone(),
        },
    )
    .await
    .unwrap();
    let table = app
        .wait_text("[data-testid=person-permissions]", Some("refund:approve"))
        .await
        .unwrap();
    for p in &access.permissions {
        assert!(table.contains(&p.key), "{} missing from {table}", p.key);
        assert!(table.contains(&p.via.join(", ")));
    }
    let roles = app
        .wait_text("[data-testid=person-roles]", Some("refund_approver"))
        .await
        .unwrap();
    for r in &access.roles {
        assert!(roles.contains(&r.name));
        assert!(roles.contains(r.granted_by.as_deref().unwrap()));
    }
    app.screenshot("04-person").await.unwrap();

    // Roles and one role.
    app.click("[data-testid=nav-roles]").await.unwrap();
    app.wait_text("[data-testid=row-count]", Some("12"))
        .await
        .unwrap();
    app.screenshot("05-roles").await.unwrap();
    app.wait_for("[...document.querySelectorAll('[role=row]')].some(r => r.textContent.startsWith('support_lead'))", vec![])
        .await
        .unwrap();
    app.js(
        "[...document.querySelectorAll('[role=row]')].find(r => r.textContent.startsWith('support_lead')).click()",
        vec![],
    )
    .await
    .unwrap();
    app.wait_text("[data-testid=role-name]", Some("support_lead"))
        .await
        .unwrap();
    let perms = app
        .wait_text(
            "[data-testid=role-permissions]",
            Some("inherited from support_agent"),
        )
        .await
        .unwrap();
    assert!(perms.contains("ticket:assign"));
    let detail = directory::role(
        &ctx,
        directory::RoleRequest {
            name: "support_lead".into(),
        },
    )
    .await
    .unwrap();
    app.wait_text(
        "[data-testid=row-count]",
        Some(&detail.members.len().to_string()),
    )
    .await
    .unwrap();
    app.screenshot("06-role").await.unwrap();

    // Who can read customer payment data, and through what.
    app.click("[data-testid=nav-whocan]").await.unwrap();
    app.wait_text("[data-testid=whocan-permission]", None)
        .await
        .unwrap();
    app.select("[data-testid=whocan-permission]", "customer.payment:read")
        .await
        .unwrap();
    let who = directory::who_can(
        &ctx,
        directory::WhoCanRequest {
            permission: "customer.payment:read".into(),
        },
    )
    .await
    .unwrap();
    app.wait_text(
        "[data-testid=row-count]",
        Some(&who.users.len().to_string()),
    )
    .await
    .unwrap();
    app.screenshot("07-who-can").await.unwrap();

    // The sections still to come say so.
    app.click("[data-testid=nav-posture]").await.unwrap();
    app.wait_text("main h2", Some("Posture is coming"))
        .await
        .unwrap();
    app.screenshot("08-coming").await.unwrap();

    // The connection screen names the database and the actor.
    app.click("[data-testid=connection-chip]").await.unwrap();
    let connected = app
        .wait_text("[data-testid=connected-to]", Some(OFFICER))
        .await
        .unwrap();
    assert!(connected.contains(&db.name));
    app.screenshot("09-connection").await.unwrap();

    // Keyboard: `/` focuses the search, `g p` goes to People.
    app.js(
        "document.activeElement && document.activeElement.blur()",
        vec![],
    )
    .await
    .unwrap();
    app.client
        .find(fantoccini::Locator::Css("body"))
        .await
        .unwrap()
        .send_keys("gp")
        .await
        .unwrap();
    app.wait_text("main h1", Some("People")).await.unwrap();
    app.client
        .find(fantoccini::Locator::Css("body"))
        .await
        .unwrap()
        .send_keys("/")
        .await
        .unwrap();
    let focused = app
        .js("return document.activeElement.dataset.testid", vec![])
        .await
        .unwrap();
    assert_eq!(focused, json!("global-search"));
    app.close().await.unwrap();
}

/// Payloads that would call these if they ran; the hook records every call.
const SENTINEL: &str = r#"
    window.__xss = [];
    for (const f of ['alert', 'confirm', 'prompt', 'print', 'open']) {
        window[f] = (...a) => { window.__xss.push(f + ':' + String(a[0])); };
    }
"#;

/// Scrolls a virtualized table from top to bottom, collecting the text of one column.
const COLLECT_COLUMN: &str = r#"
    const [column, done] = arguments;
    const scroller = document.querySelector('.vtable-scroll');
    const seen = new Set();
    const headers = [...document.querySelectorAll('[role=columnheader]')].map(h => h.textContent.replace(/[▲▼ ]+$/, ''));
    const index = headers.indexOf(column);
    scroller.scrollTop = 0;
    const step = () => {
        for (const row of document.querySelectorAll('.vtable-row')) {
            const cell = row.querySelectorAll('[role=gridcell]')[index];
            if (cell) seen.add(cell.textContent);
        }
        if (scroller.scrollTop + scroller.clientHeight >= scroller.scrollHeight - 1) return done([...seen]);
        scroller.scrollTop += Math.max(32, scroller.clientHeight - 64);
        requestAnimationFrame(() => requestAnimationFrame(step));
    };
    requestAnimationFrame(step);
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn xss_payloads_render_as_inert_text() {
    let corpus = warden_sandbox::seed::read_lines(std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/corpora/xss"
    )))
    .expect("the XSS corpus in ../shared/corpora/xss");
    assert!(corpus.len() > 400, "{} payloads", corpus.len());
    let (db, ctx, _) = seeded(corpus.clone()).await;
    let app = launch_as(&db, OFFICER, &home("xss")).await;
    app.wait_text("[data-testid=tile-staff] .tile-num", None)
        .await
        .unwrap();
    app.js(SENTINEL, vec![]).await.unwrap();

    // People, filtered to the payload users, scrolled end to end: every name shown literally.
    app.click("[data-testid=nav-people]").await.unwrap();
    let search = app
        .client
        .find(fantoccini::Locator::Css("[data-testid=people-search]"))
        .await
        .unwrap();
    search.send_keys("qa.tester").await.unwrap();
    app.wait_text("[data-testid=row-count]", Some(&corpus.len().to_string()))
        .await
        .unwrap();
    let names: BTreeSet<String> = serde_json::from_value(
        app.client
            .execute_async(COLLECT_COLUMN, vec![json!("Name")])
            .await
            .unwrap(),
    )
    .unwrap();
    let missing: Vec<&String> = corpus.iter().filter(|p| !names.contains(*p)).collect();
    assert!(
        missing.is_empty(),
        "{} payloads not shown literally, e.g. {:?}",
        missing.len(),
        missing.first()
    );
    app.screenshot("10-xss-people").await.unwrap();

    // A few people pages in full: name and title exactly as stored.
    let longest = corpus.iter().max_by_key(|p| p.len()).unwrap().clone();
    let samples: Vec<usize> = vec![
        0,
        1,
        corpus.len() / 2,
        corpus.iter().position(|p| *p == longest).unwrap(),
        corpus.len() - 1,
    ];
    for i in samples {
        app.click("[data-testid=nav-people]").await.unwrap();
        let search = app
            .client
            .find(fantoccini::Locator::Css("[data-testid=people-search]"))
            .await
            .unwrap();
        let login = format!("qa.tester{}", i + 1);
        search.clear().await.unwrap();
        search.send_keys(&login).await.unwrap();
        // Wait for the filtered row, then open it.
        app.wait_for(
            "[...document.querySelectorAll('[role=row]')].some(r => r.querySelector('[role=gridcell]')?.textContent === args[0])",
            vec![json!(login)],
        )
        .await
        .unwrap();
        app.js(
            "[...document.querySelectorAll('[role=row]')].find(r => r.querySelector('[role=gridcell]')?.textContent === arguments[0]).click()",
            vec![json!(login)],
        )
        .await
        .unwrap();
        app.wait_text("[data-testid=person-login]", Some(&login))
            .await
            .unwrap();
        app.wait_text("[data-testid=person-facts]", None)
            .await
            .unwrap();
        let name = app
            .js(
                "return document.querySelector('[data-testid=person-name]').textContent",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(name, json!(corpus[i]), "person {login}");
        let title = app
            .js(
                "return document.querySelector('[data-testid=person-title]').textContent",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(
            title,
            json!(corpus[(i + 1) % corpus.len()]),
            "title of {login}"
        );
    }
    app.screenshot("11-xss-person").await.unwrap();

    // Roles named by payloads.
    let roles = directory::roles(&ctx).await.unwrap().roles;
    app.click("[data-testid=nav-roles]").await.unwrap();
    app.wait_text("[data-testid=row-count]", Some(&roles.len().to_string()))
        .await
        .unwrap();
    let shown: BTreeSet<String> = serde_json::from_value(
        app.client
            .execute_async(COLLECT_COLUMN, vec![json!("Role")])
            .await
            .unwrap(),
    )
    .unwrap();
    for r in &roles {
        assert!(
            shown.contains(&r.name),
            "role {:?} not shown literally",
            r.name
        );
    }
    assert!(
        roles.len() > 100,
        "payload roles were seeded ({})",
        roles.len()
    );
    app.screenshot("12-xss-roles").await.unwrap();

    // Nothing ran: the sentinel saw no call, no element came from a payload's markup.
    let hits = app.js("return window.__xss", vec![]).await.unwrap();
    assert_eq!(hits, json!([]), "a payload executed");
    let injected = app
        .js("return document.querySelectorAll('main script, main img:not([alt]), main iframe, main svg, main object, main embed, main [onerror], main [onload]').length", vec![])
        .await
        .unwrap();
    assert_eq!(injected, json!(0), "payload markup became elements");
    app.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_database_is_explained_and_a_profile_connects() {
    const PASSWORD: &str = "E2e-keyring-only!";
    let (db, ctx, _) = seeded(Vec::new()).await;
    // A new auditor's account, reached over TCP: its initial password is already expired.
    let (user, initial) = tcp_person(
        &db,
        &ctx,
        "erin.e2e",
        warden_core::console::ConsoleRole::Auditor,
    )
    .await;

    let home = home("connection");
    let app = Desktop::launch(
        "mysql://warden@127.0.0.1:1/app?ssl-mode=disabled",
        None,
        &home,
    )
    .await
    .unwrap();
    // What failed, where, and the next step.
    let message = app
        .wait_text(".error-panel h2", Some("unreachable"))
        .await
        .unwrap();
    assert!(message.contains("warden@127.0.0.1:1/app"), "{message}");
    assert!(message.to_lowercase().contains("refused"), "{message}");
    app.screenshot("13-unreachable").await.unwrap();
    app.click(".error-panel button.primary").await.unwrap();
    app.wait_text(".error-panel h2", Some("unreachable"))
        .await
        .unwrap();

    // A profile from the connection screen, with the initial password the officer handed
    // over: the password goes to the keyring, not the file.
    fill_profile(&app, "e2e", &db, &user, &initial).await;
    app.screenshot("14-add-profile").await.unwrap();
    app.click("[data-testid=profile-save]").await.unwrap();
    // The first sign-in: the server wants a new password before anything else.
    app.wait_text(
        "[data-testid=new-password-form]",
        Some("Choose your password"),
    )
    .await
    .unwrap();
    app.screenshot("14b-first-sign-in").await.unwrap();
    for (field, value) in [
        ("new-password", PASSWORD),
        ("new-password-again", "not the same"),
    ] {
        type_text(&app, &format!("[data-testid={field}]"), value).await;
    }
    app.click("[data-testid=new-password-save]").await.unwrap();
    app.wait_text("[data-testid=new-password-mismatch]", Some("differ"))
        .await
        .unwrap();
    type_text(&app, "[data-testid=new-password-again]", PASSWORD).await;
    app.click("[data-testid=new-password-save]").await.unwrap();
    app.wait_text("[data-testid=tile-staff] .tile-num", Some("300"))
        .await
        .unwrap();
    app.wait_text(
        "[data-testid=connection-chip]",
        Some(&format!("{user}@127.0.0.1")),
    )
    .await
    .unwrap();
    app.screenshot("15-connected-by-profile").await.unwrap();
    let config = std::fs::read_to_string(home.join("config/warden/config.toml")).unwrap();
    assert!(
        config.contains("[profiles.e2e]") && config.contains(&user),
        "{config}"
    );
    assert!(
        !config.contains(PASSWORD) && !config.contains(&initial),
        "a password is in the config file"
    );
    app.close().await.unwrap();
    // The server took the chosen password: the initial one no longer signs in.
    let chosen = tcp_spec(&db, &user, PASSWORD);
    Database::connect(&chosen).await.unwrap().close().await;
    let spec = tcp_spec(&db, &user, &initial);
    assert!(Database::connect(&spec).await.is_err());
}

/// Types `text` into the textarea or input matching `css` as a person would (React sees an
/// input event with the whole new value).
/// The connection form's CA: the file chosen in the form pins the server to that CA (one
/// from another CA is refused, and says so), and a profile signs in with its own password
/// from the keyring, never with the `WARDEN_DATABASE_PASSWORD` the app was started with.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_profile_pins_the_ca_chosen_in_the_form_and_never_borrows_the_environments_password() {
    use warden_sandbox::tls::{TLS_PASSWORD, TLS_USER};
    let tls = warden_sandbox::tls_test_server().await.unwrap();
    let home = home("tls-profile");
    // Started on a URL that does not answer, with the TLS account's password in the
    // environment: a profile the page saves must not be able to borrow it.
    let app = Desktop::launch(
        "mysql://warden@127.0.0.1:1/app?ssl-mode=disabled",
        Some(TLS_PASSWORD),
        &home,
    )
    .await
    .unwrap();
    app.wait_text(".error-panel h2", Some("unreachable"))
        .await
        .unwrap();
    // Signed in nowhere, the page gets no file dialog and no file read, whatever it asks.
    for (command, args) in [
        (
            "choose_file",
            json!({ "purpose": "verify", "suggested": null }),
        ),
        ("export_verify", json!({ "file": 1 })),
    ] {
        let got = app.invoke(command, args).await.unwrap();
        assert_eq!(
            got["error"]["code"],
            json!("not_connected"),
            "{command}: {got}"
        );
    }
    let port = tls.server.port.to_string();
    let attempts = [
        ("borrow", &tls.ca, "a password of its own", "Access denied"),
        (
            "other-ca",
            &tls.other_ca,
            TLS_PASSWORD,
            "certificate is not trusted",
        ),
        ("pinned", &tls.ca, TLS_PASSWORD, "warden migrate"),
    ];
    for (name, ca, password, expected) in attempts {
        for (field, value) in [
            ("name", name),
            ("host", "127.0.0.1"),
            ("port", port.as_str()),
            ("user", TLS_USER),
            ("database", "mysql"),
            ("password", password),
        ] {
            type_text(&app, &format!("[data-testid=profile-{field}]"), value).await;
        }
        app.select("[data-testid=profile-tls]", "verify-identity")
            .await
            .unwrap();
        app.choose_file("[data-testid=profile-ca]", ca)
            .await
            .unwrap();
        // This CA's name, not the one chosen before (`in ca.pem` is not in `in other-ca.pem`).
        let chosen = format!("in {}", ca.file_name().unwrap().to_string_lossy());
        app.wait_text("[data-testid=profile-ca-chosen]", Some(&chosen))
            .await
            .unwrap();
        app.click("[data-testid=profile-save]").await.unwrap();
        let said = app
            .wait_text(".error-panel", Some(expected))
            .await
            .unwrap_or_else(|e| panic!("profile {name}: {e}"));
        assert!(said.contains(expected), "{name}: {said}");
    }
    app.screenshot("16-profile-ca-pinned").await.unwrap();
    // The CA is kept beside the config, owner-only, named by its content; the profile names
    // that copy.
    use std::os::unix::fs::PermissionsExt;
    let kept = std::fs::read_dir(home.join("config/warden/ca"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("pinned-")
        })
        .expect("the pinned profile's CA");
    assert_eq!(
        std::fs::read_to_string(&kept).unwrap(),
        std::fs::read_to_string(&tls.ca).unwrap()
    );
    let mode = std::fs::metadata(&kept).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    let config = std::fs::read_to_string(home.join("config/warden/config.toml")).unwrap();
    assert!(
        config.contains(&*kept.file_name().unwrap().to_string_lossy()),
        "{config}"
    );
    // Saving a profile of that name again from the page is refused: its CA stays.
    for (field, value) in [("name", "pinned"), ("password", "x")] {
        type_text(&app, &format!("[data-testid=profile-{field}]"), value).await;
    }
    app.choose_file("[data-testid=profile-ca]", &tls.other_ca)
        .await
        .unwrap();
    app.click("[data-testid=profile-save]").await.unwrap();
    app.wait_text(".error-panel", Some("a profile named `pinned` exists"))
        .await
        .unwrap();
    assert_eq!(
        std::fs::read_to_string(&kept).unwrap(),
        std::fs::read_to_string(&tls.ca).unwrap()
    );
    app.close().await.unwrap();
}

async fn type_text(app: &Desktop, css: &str, text: &str) {
    app.wait_text(css, None).await.unwrap();
    app.js(
        "const el = document.querySelector(arguments[0]); \
         const proto = el instanceof HTMLTextAreaElement ? HTMLTextAreaElement.prototype : HTMLInputElement.prototype; \
         Object.getOwnPropertyDescriptor(proto, 'value').set.call(el, arguments[1]); \
         el.dispatchEvent(new Event('input', { bubbles: true }));",
        vec![json!(css), json!(text)],
    )
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn policies_and_findings_from_draft_to_triage() {
    use warden_sandbox::seed::COMPANY_POLICY;
    use warden_service::findings::{self, FindingsRequest};
    use warden_service::policy;

    let (db, ctx, report) = seeded(Vec::new()).await;
    let planted = report.planted.unwrap();
    let app = launch_as(&db, OFFICER, &home("policies")).await;

    // Before any policy: the dashboard says so, and so does the Policies screen.
    app.wait_text("[data-testid=tile-compliance]", Some("no check yet"))
        .await
        .unwrap();
    app.click("[data-testid=nav-policies]").await.unwrap();
    app.wait_text(".empty", Some("No policy has been applied yet"))
        .await
        .unwrap();

    // The editor validates as you type and marks the line of the error.
    app.click("[data-testid=policy-tab-edit]").await.unwrap();
    let broken = COMPANY_POLICY.replacen("max_roles = 3", "max_role = 3", 1);
    let line = broken
        .lines()
        .position(|l| l.starts_with("max_role = 3"))
        .unwrap()
        + 1;
    type_text(&app, "[data-testid=policy-text]", &broken).await;
    let error = app
        .wait_text("[data-testid=policy-error]", Some(&format!("line {line}")))
        .await
        .unwrap();
    assert!(error.contains("max_role"), "{error}");
    app.wait_text(&format!("[data-testid=gutter-error-{line}]"), None)
        .await
        .unwrap();
    let disabled = app
        .js(
            "return document.querySelector('[data-testid=policy-apply]').disabled",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(disabled, json!(true), "a broken policy cannot be applied");
    app.screenshot("16-policy-error").await.unwrap();

    // A pattern that matches no permission is a warning at its line.
    let typo = COMPANY_POLICY.replace("\"staff:read\"]", "\"staff:raed\"]");
    type_text(&app, "[data-testid=policy-text]", &typo).await;
    app.wait_text(
        "[data-testid=policy-warning]",
        Some("`staff:raed` matches no permission"),
    )
    .await
    .unwrap();

    // A valid draft: simulated against the access log, then applied with a comment.
    let draft = COMPANY_POLICY.replacen(
        "allow = [\"customer.contact:read\", \"customer.notes:*\", \"ticket:read\", \"ticket:write\"]\nmax_roles = 3",
        "allow = [\"customer.contact:read\", \"customer.notes:*\", \"ticket:read\"]\nmax_roles = 3",
        1,
    );
    type_text(&app, "[data-testid=policy-text]", &draft).await;
    app.wait_text("[data-testid=policy-valid]", Some("Valid"))
        .await
        .unwrap();
    let sim = policy::simulate(&ctx, &draft, "draft", 30).await.unwrap();
    let denied: u64 = sim.would_deny.iter().map(|d| d.count).sum();
    app.click("[data-testid=simulate-run]").await.unwrap();
    let summary = app
        .wait_text("[data-testid=simulate-summary]", Some("would have denied"))
        .await
        .unwrap();
    assert!(
        summary.contains(&format!(
            "would have denied {denied} ({} person",
            sim.would_deny.len()
        )),
        "{summary} vs {denied}"
    );
    app.wait_text(
        "[data-testid=table-would-deny] [role=row][aria-rowindex='1']",
        Some(&sim.would_deny[0].login),
    )
    .await
    .unwrap();
    app.screenshot("17-policy-simulate").await.unwrap();
    type_text(&app, "[data-testid=policy-text]", COMPANY_POLICY).await;
    app.wait_text("[data-testid=policy-valid]", Some("Valid"))
        .await
        .unwrap();
    type_text(&app, "[data-testid=policy-comment]", "first baseline").await;
    app.click("[data-testid=policy-apply]").await.unwrap();
    app.wait_text("[data-testid=policy-version]", Some("v1"))
        .await
        .unwrap();
    app.wait_text("[data-testid=policy-code]", Some("refund four-eyes"))
        .await
        .unwrap();
    let stored = policy::show(&ctx, None).await.unwrap();
    assert_eq!(
        (stored.body.as_str(), stored.comment.as_str()),
        (COMPANY_POLICY, "first baseline")
    );
    app.screenshot("18-policy-in-force").await.unwrap();

    // Findings: run the check from the screen; the table counts what was recorded.
    app.click("[data-testid=nav-findings]").await.unwrap();
    app.click("[data-testid=run-check]").await.unwrap();
    app.wait_text("[data-testid=check-result]", Some("against v1"))
        .await
        .unwrap();
    let open = findings::findings(
        &ctx,
        FindingsRequest {
            status: Some(FindingStatus::Open),
            ..Default::default()
        },
    )
    .await
    .unwrap()
    .findings;
    assert!(!open.is_empty());
    app.wait_text("[data-testid=row-count]", Some(&open.len().to_string()))
        .await
        .unwrap();
    // The chart is drawn once its data has come (a frame or more after the table's count).
    let drawn = app
        .wait_for("document.querySelector('canvas') !== null", vec![])
        .await;
    assert!(drawn.is_ok(), "the findings chart is drawn: {drawn:?}");
    app.screenshot("19-findings").await.unwrap();
    app.select("[data-testid=findings-kind]", "sod_conflict")
        .await
        .unwrap();
    let sod: Vec<_> = open
        .iter()
        .filter(|f| f.kind.as_str() == "sod_conflict")
        .collect();
    app.wait_text("[data-testid=row-count]", Some(&sod.len().to_string()))
        .await
        .unwrap();
    app.wait_text("[role=row][aria-rowindex='1']", Some(&planted.sod_conflict))
        .await
        .unwrap();

    // A finding's page: evidence and fix, then acknowledged with a comment.
    app.click("[role=row][aria-rowindex='1']").await.unwrap();
    app.wait_text("[data-testid=finding-detail]", Some("refund four-eyes"))
        .await
        .unwrap();
    app.wait_text("[data-testid=finding-evidence]", Some("refund_approver"))
        .await
        .unwrap();
    app.wait_text("[data-testid=finding-fix]", Some("no one may hold both"))
        .await
        .unwrap();
    type_text(
        &app,
        "[data-testid=triage-comment]",
        "refund team is re-organising; tracked in SEC-12",
    )
    .await;
    app.click("[data-testid=triage-ack]").await.unwrap();
    app.wait_text("[data-testid=finding-status]", Some("acknowledged"))
        .await
        .unwrap();
    app.wait_text("[data-testid=finding-history]", Some("tracked in SEC-12"))
        .await
        .unwrap();
    app.screenshot("20-finding-triaged").await.unwrap();
    let id = sod[0].id.unwrap();
    let stored = findings::finding(&ctx, id).await.unwrap();
    assert_eq!(stored.finding.status.as_str(), "acknowledged");
    assert_eq!(stored.history[0].actor, OFFICER);

    // The dashboard's headline: compliance and open findings by severity, as recorded.
    let summary = findings::summary(&ctx).await.unwrap();
    app.click("[data-testid=nav-dashboard]").await.unwrap();
    app.wait_text(
        "[data-testid=tile-compliance]",
        Some(&format!(
            "{} of {} active",
            summary.compliant, summary.evaluated
        )),
    )
    .await
    .unwrap();
    app.wait_text(
        "[data-testid=tile-open-high] .tile-num",
        Some(&summary.open_high.to_string()),
    )
    .await
    .unwrap();
    app.screenshot("21-dashboard-compliance").await.unwrap();

    // History with a rule-by-rule diff.
    policy::apply(
        &ctx,
        &COMPANY_POLICY.replace("days = 90", "days = 60"),
        "p.toml",
        "shorter dormancy",
    )
    .await
    .unwrap();
    app.click("[data-testid=nav-policies]").await.unwrap();
    app.click("[data-testid=policy-tab-history]").await.unwrap();
    app.click("[data-testid=diff-2]").await.unwrap();
    app.wait_text("[data-testid=policy-diff]", Some("days: 90 → 60"))
        .await
        .unwrap();
    app.screenshot("22-policy-diff").await.unwrap();
    app.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_whole_review_campaign_through_the_app() {
    use warden_sandbox::seed::COMPANY_POLICY;
    use warden_service::reviews::{self, ItemsRequest};

    let (db, ctx, _) = seeded(Vec::new()).await;
    warden_service::policy::apply(&ctx, COMPANY_POLICY, "p.toml", "baseline")
        .await
        .unwrap();

    // The officer launches the campaign with the wizard.
    let app = launch_as(&db, OFFICER, &home("review-officer")).await;
    app.click("[data-testid=nav-reviews]").await.unwrap();
    app.wait_text(".empty", Some("No campaign yet"))
        .await
        .unwrap();
    app.click("[data-testid=review-new]").await.unwrap();
    type_text(&app, "[data-testid=wizard-name]", "Q4 finance").await;
    type_text(&app, "[data-testid=wizard-departments]", "finance").await;
    // The app reads the system clock: the due date is three of its days away.
    let soon = (Clock::System.today() + chrono::Duration::days(3)).to_string();
    type_text(&app, "[data-testid=wizard-due]", &soon).await;
    app.select("[data-testid=wizard-undecided]", "revoke")
        .await
        .unwrap();
    app.screenshot("23-review-wizard").await.unwrap();
    app.click("[data-testid=wizard-launch]").await.unwrap();
    let summary = app
        .wait_text("[data-testid=campaign-summary]", Some("0 of "))
        .await
        .unwrap();
    let campaign = reviews::list(&ctx).await.unwrap().campaigns[0].clone();
    assert_eq!(
        (campaign.name.as_str(), campaign.due.as_str()),
        ("Q4 finance", soon.as_str())
    );
    assert!(
        summary.contains(&format!("0 of {} decided", campaign.items)),
        "{summary}"
    );
    app.screenshot("24-campaign").await.unwrap();
    app.close().await.unwrap();

    let items = reviews::items(
        &ctx,
        ItemsRequest {
            campaign: campaign.id,
            reviewer: None,
            pending: false,
        },
    )
    .await
    .unwrap()
    .items;
    let mut reviewers: Vec<String> = items.iter().map(|i| i.reviewer.clone()).collect();
    reviewers.sort();
    reviewers.dedup();
    reviewers.retain(|r| r != OFFICER);
    assert!(reviewers.len() >= 2, "{reviewers:?}");

    // Two reviewers decide their own items in their inbox, by keyboard and in bulk.
    for (n, reviewer) in reviewers.iter().take(2).enumerate() {
        add_person(
            &db,
            &ctx,
            reviewer,
            warden_core::console::ConsoleRole::Reviewer,
        )
        .await;
        let theirs: Vec<_> = items.iter().filter(|i| &i.reviewer == reviewer).collect();
        let app = launch_as(&db, reviewer, &home(&format!("reviewer-{n}"))).await;
        // Due in three days: the reviewer is reminded by a desktop notification, shown by
        // a real notification daemon on the app's session bus …
        let (_, title, body) = app.notification().await.unwrap();
        let s = if theirs.len() == 1 { "" } else { "s" };
        assert_eq!(
            title,
            format!("Access review: {} item{s} to decide", theirs.len())
        );
        assert_eq!(body, format!("“Q4 finance” is due in 3 days ({soon})."));
        // … and in the app, where the reminder opens their inbox.
        app.click("[data-testid=nav-reviews]").await.unwrap();
        app.wait_text("[data-testid=reminder]", Some("Due soon"))
            .await
            .unwrap();
        app.click("[data-testid=reminder]").await.unwrap();
        app.wait_text(
            "[data-testid=inbox-pending]",
            Some(&format!("{} pending", theirs.len())),
        )
        .await
        .unwrap();
        type_text(
            &app,
            "[data-testid=inbox-comment]",
            "reviewed with the team",
        )
        .await;
        // The first item by keyboard: revoke for the first reviewer, approve for the second.
        app.js(
            "document.querySelector('[data-testid=inbox-items]').focus()",
            vec![],
        )
        .await
        .unwrap();
        let key = if n == 0 { "r" } else { "a" };
        app.client
            .find(fantoccini::Locator::Css("[data-testid=inbox-items]"))
            .await
            .unwrap()
            .send_keys(key)
            .await
            .unwrap();
        let want = if n == 0 { "revoke" } else { "keep" };
        app.wait_text(
            &format!("[data-testid=decision-{}]", theirs[0].id),
            Some(want),
        )
        .await
        .unwrap();
        app.screenshot(&format!("25-inbox-{n}")).await.unwrap();
        app.close().await.unwrap();
        let stored = reviews::items(
            &ctx,
            ItemsRequest {
                campaign: campaign.id,
                reviewer: Some(reviewer.clone()),
                pending: false,
            },
        )
        .await
        .unwrap()
        .items;
        let first = stored.iter().find(|i| i.id == theirs[0].id).unwrap();
        assert_eq!(first.decision.map(Verdict::as_str), Some(want));
        assert_eq!(first.decided_by.as_deref(), Some(reviewer.as_str()));
        assert_eq!(first.comment.as_deref(), Some("reviewed with the team"));
    }

    // The officer previews the close, then closes; the application's table agrees.
    let app = launch_as(&db, OFFICER, &home("review-close")).await;
    app.click("[data-testid=nav-reviews]").await.unwrap();
    app.click(&format!("[data-testid=campaign-{}]", campaign.id))
        .await
        .unwrap();
    app.click("[data-testid=close-preview]").await.unwrap();
    app.wait_text("[data-testid=close-preview-result]", Some("DELETE FROM"))
        .await
        .unwrap();
    app.screenshot("26-close-preview").await.unwrap();
    app.click("[data-testid=close-confirm]").await.unwrap();
    app.wait_text("[data-testid=close-result]", Some("grants revoked"))
        .await
        .unwrap();
    app.wait_text("[data-testid=campaign-status]", Some("closed"))
        .await
        .unwrap();
    app.screenshot("27-closed").await.unwrap();
    app.close().await.unwrap();

    let conn = Database::connect(&db.spec().unwrap()).await.unwrap();
    let after = reviews::items(
        &ctx,
        ItemsRequest {
            campaign: campaign.id,
            reviewer: None,
            pending: false,
        },
    )
    .await
    .unwrap()
    .items;
    for item in &after {
        let held: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM user_roles ur JOIN staff_users u ON u.id = ur.user_id \
             JOIN roles r ON r.id = ur.role_id WHERE u.login = ? AND r.name = ?",
        )
        .bind(&item.login)
        .bind(&item.role)
        .fetch_one(conn.app())
        .await
        .unwrap();
        let kept = item.decision.map(Verdict::as_str) == Some("keep");
        assert_eq!(
            held,
            i64::from(kept),
            "{} {} ({:?})",
            item.login,
            item.role,
            item.decision
        );
    }
    conn.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_access_log_is_searched_page_by_page_scanned_and_opened_from_a_finding() {
    use warden_sandbox::seed::COMPANY_POLICY;
    let (db, ctx, report) = seeded(Vec::new()).await;
    let planted = report.planted.unwrap();
    warden_service::policy::apply(&ctx, COMPANY_POLICY, "p.toml", "baseline")
        .await
        .unwrap();
    let app = launch_as(&db, OFFICER, &home("logs")).await;

    // Newest first, two hundred rows a page; the next page follows the last row shown.
    app.click("[data-testid=nav-logs]").await.unwrap();
    app.wait_text(
        "[data-testid=logs-count]",
        Some("200 rows shown, older rows follow"),
    )
    .await
    .unwrap();
    app.click("[data-testid=logs-more]").await.unwrap();
    app.wait_text("[data-testid=logs-count]", Some("400 rows shown"))
        .await
        .unwrap();

    // The timeline: dragging across its middle zooms the table to that span.
    app.wait_for(
        "document.querySelector('[data-testid=logs-timeline] canvas')",
        vec![],
    )
    .await
    .unwrap();
    app.js(
        "const c = document.querySelector('[data-testid=logs-timeline] canvas');\
         const r = c.getBoundingClientRect(); const y = r.top + r.height / 2;\
         const at = (f) => ({ clientX: r.left + r.width * f, clientY: y, bubbles: true });\
         c.dispatchEvent(new MouseEvent('mousedown', at(0.4)));\
         c.dispatchEvent(new MouseEvent('mousemove', at(0.6)));\
         c.dispatchEvent(new MouseEvent('mouseup', at(0.6)));",
        vec![],
    )
    .await
    .unwrap();
    let span = app
        .wait_for(
            "(() => { const s = document.querySelector('[data-testid=logs-since]').value; \
               const u = document.querySelector('[data-testid=logs-until]').value; \
               return s && u ? [s, u] : null; })()",
            vec![],
        )
        .await
        .unwrap();
    let (since, until) = (
        span[0].as_str().unwrap().to_string(),
        span[1].as_str().unwrap().to_string(),
    );
    assert!(since < until, "{since} .. {until}");
    let zoomed = warden_service::logs::search(
        &ctx,
        warden_service::logs::SearchRequest {
            source: Some("app".into()),
            since: Some(since.clone()),
            until: Some(until.clone()),
            limit: Some(1),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let newest = zoomed.rows[0]
        .at
        .clone()
        .unwrap()
        .replace('T', " ")
        .replace('Z', "");
    app.wait_text("[role=row][aria-rowindex='1']", Some(&newest))
        .await
        .unwrap();
    app.screenshot("29-access-log-zoomed").await.unwrap();
    app.js(
        "const s = document.querySelector('[data-testid=logs-since]'); \
         const u = document.querySelector('[data-testid=logs-until]'); \
         const set = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set; \
         for (const el of [s, u]) { set.call(el, ''); el.dispatchEvent(new Event('input', { bubbles: true })); }",
        vec![],
    )
    .await
    .unwrap();

    // Filters: one person's refusals, the whole match.
    type_text(&app, "[data-testid=logs-user]", &planted.denied_burst).await;
    app.select("[data-testid=logs-outcome]", "denied")
        .await
        .unwrap();
    app.click("[data-testid=logs-apply]").await.unwrap();
    app.wait_text(
        "[data-testid=logs-count]",
        Some("120 rows shown, the whole match"),
    )
    .await
    .unwrap();
    app.wait_text("[role=row][aria-rowindex='1']", Some(&planted.denied_burst))
        .await
        .unwrap();
    app.screenshot("30-access-logs").await.unwrap();

    // A row opens the person, whose page shows their recent activity.
    app.click("[role=row][aria-rowindex='1']").await.unwrap();
    app.wait_text("[data-testid=person-login]", Some(&planted.denied_burst))
        .await
        .unwrap();
    app.wait_text(
        "[data-testid=person-activity]",
        Some("customer.payment:read"),
    )
    .await
    .unwrap();
    app.click("[data-testid=person-activity-all]")
        .await
        .unwrap();
    app.wait_text("[data-testid=logs-user]", None)
        .await
        .unwrap();
    app.click("[data-testid=nav-logs]").await.unwrap();

    // The detectors run from here; their hits are findings.
    app.click("[data-testid=logs-scan]").await.unwrap();
    let result = app
        .wait_text("[data-testid=logs-scan-result]", Some("new findings"))
        .await
        .unwrap();
    let bursts = warden_service::findings::findings(
        &ctx,
        warden_service::findings::FindingsRequest {
            kind: Some(FindingKind::DeniedBurst),
            ..Default::default()
        },
    )
    .await
    .unwrap()
    .findings;
    assert_eq!(bursts.len(), 1, "{result}");
    assert_eq!(bursts[0].subject, planted.denied_burst);

    // A detector's finding opens its evidence rows in the explorer.
    app.click("[data-testid=logs-scan-result]").await.unwrap();
    // The open findings listed first, then narrowed (a filter chosen while the first list
    // is still coming would race it).
    app.wait_text("[role=row][aria-rowindex='1']", None)
        .await
        .unwrap();
    app.select("[data-testid=findings-kind]", "denied_burst")
        .await
        .unwrap();
    app.wait_text("[role=row][aria-rowindex='1']", Some(&planted.denied_burst))
        .await
        .unwrap();
    app.click("[role=row][aria-rowindex='1']").await.unwrap();
    app.wait_text("[data-testid=finding-detail]", Some("120 refused"))
        .await
        .unwrap();
    app.click("[data-testid=finding-rows]").await.unwrap();
    app.wait_text(
        "[data-testid=logs-count]",
        Some("120 rows shown, the whole match"),
    )
    .await
    .unwrap();
    app.screenshot("31-finding-rows").await.unwrap();

    // A database audit-log file, imported with a progress bar; its bad line is named.
    let file = app.home.join("server_audit.log");
    std::fs::write(
        &file,
        "20261128 10:00:01,db1,app,10.0.0.5,42,7,QUERY,crm,'SELECT name FROM customers WHERE note = \\'<b>x</b>\\'',0\n\
         not an audit line\n\
         20261128 10:00:02,db1,app,10.0.0.5,42,8,QUERY,crm,'SELECT 2',1045\n",
    )
    .unwrap();
    app.click("[data-testid=logs-import]").await.unwrap();
    app.select("[data-testid=import-format]", "server-audit")
        .await
        .unwrap();
    app.click("[data-testid=import-choose]").await.unwrap();
    app.answer_file_dialog("Choose an audit-log file to import", &file)
        .await
        .unwrap();
    app.wait_text("[data-testid=import-file]", Some("server_audit.log"))
        .await
        .unwrap();
    app.click("[data-testid=import-start]").await.unwrap();
    app.wait_text("[data-testid=import-result]", Some("Imported 2 events"))
        .await
        .unwrap();
    app.wait_text("[data-testid=import-problems]", Some("line 2"))
        .await
        .unwrap();
    app.wait_for(
        "document.querySelector('[data-testid=import-progress]')",
        vec![],
    )
    .await
    .unwrap();
    app.screenshot("32-import").await.unwrap();
    app.click("[data-testid=nav-logs]").await.unwrap();
    app.wait_text("[data-testid=logs-count]", None)
        .await
        .unwrap();
    app.select("[data-testid=logs-source]", "db-audit")
        .await
        .unwrap();
    app.click("[data-testid=logs-apply]").await.unwrap();
    app.wait_text(
        "[data-testid=logs-count]",
        Some("2 rows shown, the whole match"),
    )
    .await
    .unwrap();
    // The statement is text: the markup in it shows as written.
    app.wait_text("[role=row][aria-rowindex='2']", Some("<b>x</b>"))
        .await
        .unwrap();
    app.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exports_are_written_verified_and_cancelled_and_the_audit_trail_lists_them() {
    use sqlx::Connection;
    use warden_sandbox::seed::COMPANY_POLICY;
    let (db, ctx, _) = seeded(Vec::new()).await;
    warden_service::policy::apply(&ctx, COMPANY_POLICY, "p.toml", "baseline")
        .await
        .unwrap();
    let app = launch_as(&db, OFFICER, &home("exports")).await;
    let dir = app.home.join("evidence");
    std::fs::create_dir_all(&dir).unwrap();

    // The access listing, written with its manifest; the screen says what the file holds.
    app.click("[data-testid=nav-exports]").await.unwrap();
    let access = dir.join("access.csv");
    // Where it goes is chosen in the system's Save dialog: the page never names a path.
    app.click("[data-testid=export-choose]").await.unwrap();
    app.answer_file_dialog("Save the export", &access)
        .await
        .unwrap();
    app.wait_text("[data-testid=export-file]", Some("access.csv"))
        .await
        .unwrap();
    app.click("[data-testid=export-start]").await.unwrap();
    let result = app
        .wait_text("[data-testid=export-result]", Some("rows to"))
        .await
        .unwrap();
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("access.csv.manifest.json")).unwrap())
            .unwrap();
    let rows = manifest["rows"].as_u64().unwrap();
    assert!(rows > 300, "{manifest}");
    assert!(
        result.contains(&format!("Wrote {} rows", format_rows(rows))),
        "{result}"
    );
    assert!(
        result.contains(manifest["sha256"].as_str().unwrap()),
        "{result}"
    );
    app.screenshot("40-export-written").await.unwrap();

    // Verified from the screen, the file chosen in the Open dialog: intact, then one byte
    // altered and named.
    app.click("[data-testid=verify-choose]").await.unwrap();
    app.answer_file_dialog("Choose an export to verify", &access)
        .await
        .unwrap();
    app.wait_text("[data-testid=verify-result]", Some("intact"))
        .await
        .unwrap();
    let mut bytes = std::fs::read(&access).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    std::fs::write(&access, &bytes).unwrap();
    app.click("[data-testid=verify-start]").await.unwrap();
    app.wait_text("[data-testid=verify-problems]", Some("SHA-256"))
        .await
        .unwrap();
    app.screenshot("41-export-altered").await.unwrap();

    // A log export held at the database, cancelled: nothing is left, and it says so.
    let mut holder = sqlx::MySqlConnection::connect(&db.url).await.unwrap();
    sqlx::query("LOCK TABLES access_log WRITE")
        .execute(&mut holder)
        .await
        .unwrap();
    app.select("[data-testid=export-kind]", "logs")
        .await
        .unwrap();
    let logs = dir.join("logs.csv");
    app.click("[data-testid=export-choose]").await.unwrap();
    app.answer_file_dialog("Save the export", &logs)
        .await
        .unwrap();
    app.wait_text("[data-testid=export-file]", Some("logs.csv"))
        .await
        .unwrap();
    app.click("[data-testid=export-start]").await.unwrap();
    app.wait_text("[data-testid=export-running]", None)
        .await
        .unwrap();
    app.screenshot("42-export-running").await.unwrap();
    app.click("[data-testid=export-cancel]").await.unwrap();
    app.wait_text("[data-testid=export-counts]", Some("cancelling"))
        .await
        .unwrap();
    sqlx::query("UNLOCK TABLES")
        .execute(&mut holder)
        .await
        .unwrap();
    holder.close().await.unwrap();
    app.wait_text("[role=alert]", Some("cancelled"))
        .await
        .unwrap();
    let mut left: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(left, ["access.csv", "access.csv.manifest.json"]);

    // The audit trail: the chain intact, the export on it newest first, an event opened.
    app.click("[data-testid=nav-audit]").await.unwrap();
    app.wait_text("[data-testid=chain-state]", Some("chain intact"))
        .await
        .unwrap();
    app.wait_text("[role=row][aria-rowindex='1']", Some("export.access"))
        .await
        .unwrap();
    app.select("[data-testid=audit-action]", "policy.")
        .await
        .unwrap();
    app.wait_text("[role=row][aria-rowindex='1']", Some("policy.apply"))
        .await
        .unwrap();
    app.click("[role=row][aria-rowindex='1']").await.unwrap();
    app.wait_text("[data-testid=audit-details]", Some("baseline"))
        .await
        .unwrap();
    app.screenshot("43-audit-trail").await.unwrap();

    // An event rewritten behind Warden's back: the screen names where the chain breaks.
    let mut behind = sqlx::MySqlConnection::connect(&db.url).await.unwrap();
    sqlx::query("UPDATE warden_audit_events SET actor = ? WHERE seq = 1")
        .bind("mallory")
        .execute(&mut behind)
        .await
        .unwrap();
    behind.close().await.unwrap();
    app.click("[data-testid=chain-verify]").await.unwrap();
    app.wait_text("[data-testid=chain-state]", Some("chain broken at event 1"))
        .await
        .unwrap();
    app.screenshot("44-audit-trail-broken").await.unwrap();
    app.close().await.unwrap();
    ctx.close().await;
}

/// 1234 as the app shows it: `1,234`.
fn format_rows(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(d);
    }
    out
}

/// The idle lock (here set to its shortest, 10 s), on a profile (its password in the
/// keyring): without input the page is hidden and the session dropped (its connections
/// closed on the server); a wrong password is refused by the server — not opened with the
/// keyring's —, the right one opens the app again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_app_locks_and_only_the_password_opens_it() {
    const PASSWORD: &str = "Idle-lock-officer-2026";
    let (db, ctx, _) = seeded(Vec::new()).await;
    // An officer who signs in over TCP, with a profile.
    let (user, initial) = tcp_person(
        &db,
        &ctx,
        "ida.idle",
        warden_core::console::ConsoleRole::Officer,
    )
    .await;
    ctx.close().await;
    warden_store::accounts::change_password(
        &tcp_spec(&db, &user, &initial),
        &warden_store::Secret::new(PASSWORD),
    )
    .await
    .unwrap();
    let home = home("idle");
    std::fs::create_dir_all(home.join("config/warden")).unwrap();
    std::fs::write(
        home.join("config/warden/config.toml"),
        "[desktop]\nidle_lock = \"10s\"\n",
    )
    .unwrap();
    let app = Desktop::launch(
        "mysql://warden@127.0.0.1:1/app?ssl-mode=disabled",
        None,
        &home,
    )
    .await
    .unwrap();
    app.wait_text(".error-panel h2", Some("unreachable"))
        .await
        .unwrap();
    fill_profile(&app, "idle", &db, &user, PASSWORD).await;
    app.click("[data-testid=profile-save]").await.unwrap();
    app.wait_text("[data-testid=tile-staff] .tile-num", Some("300"))
        .await
        .unwrap();
    let lock = app
        .wait_text("[data-testid=lock-screen]", Some("Locked"))
        .await
        .unwrap();
    assert!(lock.contains("after 10 s without input"), "{lock}");
    let hidden = app
        .js(
            "return document.querySelector('[data-testid=tile-staff]') === null \
             && document.querySelector('nav.sidebar') === null",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(hidden, json!(true), "the page is hidden");
    let root = Database::connect(&db.spec().unwrap()).await.unwrap();
    let sessions: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE USER = ?")
            .bind(&user)
            .fetch_one(root.app())
            .await
            .unwrap();
    assert_eq!(sessions, 0, "the locked app holds no connection");
    app.screenshot("45-locked").await.unwrap();

    type_text(&app, "[data-testid=unlock-password]", "not my password").await;
    app.click("[data-testid=unlock]").await.unwrap();
    app.wait_text("[data-testid=unlock-error]", Some("Access denied"))
        .await
        .unwrap();
    type_text(&app, "[data-testid=unlock-password]", PASSWORD).await;
    app.click("[data-testid=unlock]").await.unwrap();
    app.wait_text("[data-testid=tile-staff] .tile-num", Some("300"))
        .await
        .unwrap();
    app.wait_text("[data-testid=actor]", Some("ida.idle"))
        .await
        .unwrap();
    app.close().await.unwrap();
    root.close().await;
}
