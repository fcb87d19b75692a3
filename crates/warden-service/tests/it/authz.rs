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
        },
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Forbidden);
}

#[tokio::test]
async fn strangers_and_unmigrated_databases_are_refused_clearly() {
    let s = seeded().await;
    let db = Database::connect(&s.test_db.spec().unwrap()).await.unwrap();
    let err = Ctx::establish(db, actor("eve.stranger"), None)
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Forbidden);
    assert!(
        err.to_string().contains("not a Warden console user"),
        "{err}"
    );

    let (_bare, db) = fresh().await;
    let err = Ctx::establish(db, actor(OFFICER), None).await.unwrap_err();
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
    let again = setup::migrate(&db, &actor(OFFICER), clock()).await.unwrap();
    assert!(again.applied.is_empty());
    assert!(!again.already_applied.is_empty());
    assert_eq!(again.first_officer, None);
    let err = setup::migrate(&db, &actor("eve.stranger"), clock())
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Forbidden);
}

#[tokio::test]
async fn the_last_officer_stays_and_every_change_is_in_the_audit_chain() {
    let s = seeded().await;
    let ctx = ctx_as(&s.test_db, OFFICER, None).await;
    for attempt in [
        setup::remove_console_user(&ctx, OFFICER).await.err(),
        setup::add_console_user(
            &ctx,
            setup::AddConsoleUser {
                login: OFFICER.into(),
                role: ConsoleRole::Auditor,
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
        },
    )
    .await
    .unwrap();
    assert!(added.audit_seq.is_some());
    let same = setup::add_console_user(
        &ctx,
        setup::AddConsoleUser {
            login: "Otto.Second".into(),
            role: ConsoleRole::Officer,
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
        },
    )
    .await
    .unwrap();
    assert_eq!(demoted.previous_role, Some(ConsoleRole::Officer));
    let listed = setup::console_users(&ctx).await.unwrap().console_users;
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
            "governance.migrate",
            "console_user.bootstrap",
            "console_user.add",
            "console_user.role_change"
        ]
    );
    let mut prev = GENESIS_HASH.to_string();
    for (i, (event, stored_prev, hash)) in events.iter().enumerate() {
        assert_eq!(event.seq, i as u64 + 1);
        assert_eq!(stored_prev, &prev);
        assert_eq!(&event.chain_hash(&prev), hash, "seq {}", event.seq);
        assert_eq!(event.db_account, "root@localhost");
        prev = hash.clone();
    }
    assert_eq!(events[3].0.actor, OFFICER);
    assert_eq!(events[3].0.details["previous_role"], "officer");
}

#[tokio::test]
async fn a_mapping_that_does_not_fit_stops_the_context() {
    let s = seeded().await;
    let db = Database::connect(&s.test_db.spec().unwrap()).await.unwrap();
    let err = Ctx::establish(db, actor(OFFICER), Some(Mapping::preset("django").unwrap()))
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
    // Removed: refused as no console user at all.
    let officer = officer(&s.test_db).await;
    setup::remove_console_user(&officer, "otto.officer")
        .await
        .unwrap();
    let err = warden_service::findings::triage(&otto, triage("x"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Forbidden, "{err}");
    assert!(
        err.to_string().contains("not a Warden console user"),
        "{err}"
    );
    otto.close().await;
    officer.close().await;
}
