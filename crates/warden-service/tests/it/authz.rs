use warden_core::audit::GENESIS_HASH;
use warden_core::console::ConsoleRole;
use warden_core::mapping::Mapping;
use warden_service::directory::{self, AccessRequest, UsersRequest, WhoCanRequest};
use warden_service::{Ctx, ErrorCode, setup};
use warden_store::Database;

use crate::support::*;

#[tokio::test]
async fn reviewers_cannot_read_the_whole_directory_auditors_can() {
    let s = seeded().await;
    add_console_user(&s.test_db, "rita.reviewer", ConsoleRole::Reviewer).await;
    add_console_user(&s.test_db, "adam.auditor", ConsoleRole::Auditor).await;

    let reviewer = ctx_as(&s.test_db, "rita.reviewer", Some("reference")).await;
    assert_eq!(reviewer.role(), ConsoleRole::Reviewer);
    let forbidden = [
        directory::users(&reviewer, UsersRequest::default())
            .await
            .err(),
        directory::roles(&reviewer).await.err(),
        directory::access(
            &reviewer,
            AccessRequest {
                login: s.planted.sod_conflict.clone(),
            },
        )
        .await
        .err(),
        directory::who_can(
            &reviewer,
            WhoCanRequest {
                permission: "refund:approve".into(),
            },
        )
        .await
        .err(),
    ];
    for err in forbidden {
        let err = err.expect("a reviewer is refused");
        assert_eq!(err.code(), ErrorCode::Forbidden);
        assert!(
            err.to_string().contains("rita.reviewer is reviewer"),
            "{err}"
        );
    }

    let auditor = ctx_as(&s.test_db, "adam.auditor", Some("reference")).await;
    assert_eq!(
        directory::users(&auditor, UsersRequest::default())
            .await
            .unwrap()
            .users
            .len(),
        300
    );
    let err = setup::add_console_user(
        &auditor,
        setup::AddConsoleUser {
            login: "mallory".into(),
            role: ConsoleRole::Officer,
            host: None,
        },
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Forbidden);
}

/// An account of the server that is no console user's: `eve`, with every privilege on the
/// database (as a DBA might give), signs in.
async fn stranger(test_db: &warden_sandbox::TestDatabase) -> warden_store::ConnectSpec {
    let user = format!("{}eve", account_prefix(test_db));
    let account = format!("'{user}'@'localhost'");
    app_sql(
        test_db,
        &format!("CREATE USER {account} IDENTIFIED BY 'Eve-pass-2026!'"),
        &[],
    )
    .await;
    let schema = warden_core::ident::quote(&test_db.name);
    app_sql(
        test_db,
        &format!("GRANT ALL ON {schema}.* TO {account}"),
        &[],
    )
    .await;
    let mut spec = test_db.spec().unwrap();
    spec.user = user;
    spec.password = Some(warden_store::Secret::new("Eve-pass-2026!"));
    spec
}

#[tokio::test]
async fn strangers_and_unmigrated_databases_are_refused_clearly() {
    let s = seeded().await;
    let db = Database::connect(&stranger(&s.test_db).await)
        .await
        .unwrap();
    let err = Ctx::establish(db, None).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::Forbidden);
    let account = format!("{}eve@localhost", account_prefix(&s.test_db));
    assert!(
        err.to_string().contains(&format!(
            "the database account {account} is not a Warden console user"
        )),
        "the account the server authenticated is named: {err}"
    );

    let (_bare, db) = fresh().await;
    let err = Ctx::establish(db, None).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::Config);
    assert!(
        err.to_string().contains("run `warden migrate` first"),
        "{err}"
    );
}

#[tokio::test]
async fn migrate_is_idempotent_and_needs_an_officer_once_there_is_one() {
    let s = seeded().await;
    let db = Database::connect(&s.test_db.spec().unwrap()).await.unwrap();
    let again = migrate(&db, &s.test_db, clock()).await;
    assert!(again.applied.is_empty());
    assert!(!again.already_applied.is_empty());
    assert_eq!(again.first_officer, None);
    assert_eq!(again.server_roles, None, "the same plan is not run twice");
    let eve = Database::connect(&stranger(&s.test_db).await)
        .await
        .unwrap();
    let err = setup::migrate(&eve, clock(), &Default::default())
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Forbidden, "{err}");
}

#[tokio::test]
async fn the_last_officer_stays_and_every_change_is_in_the_audit_chain() {
    let s = seeded().await;
    let ctx = ctx_as(&s.test_db, OFFICER, None).await;
    // The administrator who migrated steps back: their account is theirs, only their
    // console role ends.
    let removed = setup::remove_console_user(&ctx, ADMIN).await.unwrap();
    assert_eq!(removed.account.as_deref(), Some("root@localhost"));
    app_sql(&s.test_db, "SELECT 1", &[]).await;
    for attempt in [
        setup::remove_console_user(&ctx, OFFICER).await.err(),
        setup::add_console_user(
            &ctx,
            setup::AddConsoleUser {
                login: OFFICER.into(),
                role: ConsoleRole::Auditor,
                host: None,
            },
        )
        .await
        .err(),
    ] {
        let err = attempt.expect("refused");
        assert_eq!(err.code(), ErrorCode::Conflict);
        assert!(err.to_string().contains("last officer"), "{err}");
    }
    let added = setup::add_console_user(
        &ctx,
        setup::AddConsoleUser {
            login: "otto.second".into(),
            role: ConsoleRole::Officer,
            host: Some("localhost".into()),
        },
    )
    .await
    .unwrap();
    assert!(added.audit_seq.is_some());
    let prefix = account_prefix(&s.test_db);
    assert_eq!(
        added.account.as_deref(),
        Some(format!("{prefix}otto.second@localhost").as_str())
    );
    assert_eq!(added.initial_password.as_ref().map(String::len), Some(24));
    let same = setup::add_console_user(
        &ctx,
        setup::AddConsoleUser {
            login: "Otto.Second".into(),
            role: ConsoleRole::Officer,
            host: None,
        },
    )
    .await
    .unwrap();
    assert_eq!(same.audit_seq, None, "no change, no event");
    let demoted = setup::add_console_user(
        &ctx,
        setup::AddConsoleUser {
            login: OFFICER.into(),
            role: ConsoleRole::Auditor,
            host: None,
        },
    )
    .await
    .unwrap();
    assert_eq!(demoted.previous_role, Some(ConsoleRole::Officer));
    let listed = setup::console_users(&ctx).await.unwrap().users;
    let root = listed.iter().find(|u| u.login == ADMIN).unwrap();
    assert!(root.locked, "removed: {root:?}");
    assert_eq!(
        listed.iter().find(|u| u.login == OFFICER).unwrap().role,
        ConsoleRole::Auditor
    );

    // The chain: every event hashes over its predecessor, and nothing is missing.
    let db = Database::connect(&s.test_db.spec().unwrap()).await.unwrap();
    let events = warden_store::governance::audit_events(&db).await.unwrap();
    let actions: Vec<&str> = events.iter().map(|(e, _, _)| e.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "console_user.bootstrap",
            "governance.migrate",
            "console_user.add",
            "console_user.remove",
            "console_user.add",
            "console_user.role_change"
        ]
    );
    let olivia = format!("{prefix}olivia.officer@localhost");
    let mut prev = GENESIS_HASH.to_string();
    for (i, (event, stored_prev, hash)) in events.iter().enumerate() {
        assert_eq!(event.seq, i as u64 + 1);
        assert_eq!(stored_prev, &prev);
        assert_eq!(&event.chain_hash(&prev), hash, "seq {}", event.seq);
        // Stamped by the server: who connected, whatever the client said.
        let by = if i < 3 {
            "root@localhost"
        } else {
            olivia.as_str()
        };
        assert_eq!(event.db_account, by, "seq {}", event.seq);
        prev = hash.clone();
    }
    assert_eq!(events[5].0.actor, OFFICER);
    assert_eq!(events[5].0.details["previous_role"], "officer");
}

#[tokio::test]
async fn a_mapping_that_does_not_fit_stops_the_context() {
    let s = seeded().await;
    let db = Database::connect(&s.test_db.spec().unwrap()).await.unwrap();
    let err = Ctx::establish(db, Some(Mapping::preset("django").unwrap()))
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Config);
    assert!(
        err.to_string().contains("table `auth_user` does not exist"),
        "{err}"
    );
}

#[tokio::test]
async fn a_demoted_or_removed_user_loses_the_right_at_their_next_change() {
    let s = seeded().await;
    add_console_user(&s.test_db, "otto.officer", ConsoleRole::Officer).await;
    // Otto's session began as an officer.
    let otto = ctx_as(&s.test_db, "otto.officer", Some("reference")).await;
    let triage = |comment: &str| warden_service::findings::TriageRequest {
        id: 0,
        action: warden_core::findings::Triage::Ack,
        comment: comment.into(),
    };
    // Still an officer: the change goes ahead (and finds no finding 0).
    let err = warden_service::findings::triage(&otto, triage("x"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::NotFound, "{err}");
    // Demoted by another officer while the session stays open: refused at the next change.
    add_console_user(&s.test_db, "otto.officer", ConsoleRole::Auditor).await;
    let err = warden_service::findings::triage(&otto, triage("x"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Forbidden, "{err}");
    assert!(err.to_string().contains("otto.officer is auditor"), "{err}");
    // Removed: the server ended the session and locked the account; a new connection is
    // refused as such.
    let officer = officer(&s.test_db).await;
    setup::remove_console_user(&officer, "otto.officer")
        .await
        .unwrap();
    let err = warden_service::findings::triage(&otto, triage("x"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Forbidden, "{err}");
    assert!(err.to_string().contains("account is locked"), "{err}");
    otto.close().await;
    officer.close().await;
}

/// An install from before accounts (Warden's tables at migration 0010: console users by
/// name only, the older server plan) is upgraded by the administrator's `migrate`, who
/// becomes the first officer with an account; the users from before keep their rows,
/// without accounts, until an officer adds them.
#[tokio::test]
async fn an_install_from_before_accounts_is_upgraded_by_the_administrator() {
    let s = seeded().await;
    let root = Database::connect(&s.test_db.spec().unwrap()).await.unwrap();
    for sql in [
        "DROP TRIGGER IF EXISTS warden_audit_events_chain",
        "ALTER TABLE warden_console_users DROP INDEX warden_console_users_login_key, \
         DROP INDEX warden_console_users_account, DROP COLUMN login_key, \
         DROP COLUMN account_user, DROP COLUMN account_host, DROP COLUMN locked_at, \
         DROP COLUMN account_managed, DROP COLUMN account_reset, DROP COLUMN account_end_sessions",
        "ALTER TABLE warden_server_roles DROP COLUMN account_prefix",
        "UPDATE warden_server_roles SET plan_sha256 = REPEAT('0', 64)",
        "ALTER TABLE warden_review_items DROP INDEX warden_review_items_reviewer_key, \
         DROP COLUMN login_key, DROP COLUMN reviewer_key, DROP COLUMN grant_key",
        "DROP TABLE warden_grant_target",
        "DROP TABLE warden_routine_calls",
        "DELETE FROM warden_schema_migrations WHERE version IN (11, 13)",
    ] {
        sqlx::raw_sql(sql).execute(root.gov()).await.unwrap();
    }
    let done = migrate(&root, &s.test_db, clock()).await;
    assert_eq!(done.applied, [11, 13]);
    assert_eq!(done.first_officer.as_deref(), Some(ADMIN));
    assert!(done.server_roles.is_some(), "the new plan is set up");
    let ctx = Ctx::establish(root, None).await.unwrap();
    assert_eq!(ctx.actor().login, ADMIN);
    let users = setup::console_users(&ctx).await.unwrap().users;
    let olivia = users.iter().find(|u| u.login == OFFICER).unwrap();
    assert_eq!(olivia.account, None, "from before accounts: {olivia:?}");
    assert!(warden_service::audit::verify(&ctx).await.unwrap().ok);
    ctx.close().await;
}
