//! The audit trail's integrity: an intact chain verifies; each kind of change made behind
//! Warden's back (an UPDATE, a DELETE in the middle or at the end, an INSERT) is found at
//! its sequence number; concurrent writers append a gap-free chain.

use warden_core::audit::{AuditEvent, Verification};
use warden_core::console::ConsoleRole;

use crate::support::*;

/// A fresh database with a few changes on its trail, and an officer's context.
async fn trail() -> (warden_sandbox::TestDatabase, warden_service::Ctx) {
    let (test_db, db) = fresh().await;
    migrate_with_officer(&db, &test_db).await;
    db.close().await;
    for login in ["ann.auditor", "rob.reviewer", "ava.auditor"] {
        let role = if login.contains("auditor") {
            ConsoleRole::Auditor
        } else {
            ConsoleRole::Reviewer
        };
        add_console_user(&test_db, login, role).await;
    }
    let ctx = ctx_as(&test_db, OFFICER, None).await;
    (test_db, ctx)
}

async fn verify(ctx: &warden_service::Ctx) -> Verification {
    warden_service::audit::verify(ctx).await.unwrap()
}

#[tokio::test]
async fn each_kind_of_change_behind_wardens_back_is_found_at_its_place() {
    let (_db, ctx) = trail().await;
    let intact = verify(&ctx).await;
    assert!(intact.ok, "{intact:?}");
    let n = intact.events;
    assert!(n >= 4, "{intact:?}");
    ctx.close().await;

    // UPDATE: one event's target.
    let (db, ctx) = trail().await;
    app_sql(
        &db,
        "UPDATE warden_audit_events SET target = ? WHERE seq = ?",
        &["mallory", "2"],
    )
    .await;
    let v = verify(&ctx).await;
    assert_eq!((v.ok, v.first_bad_seq), (false, Some(2)), "{v:?}");
    assert!(v.reason.unwrap().contains("altered"));
    ctx.close().await;

    // DELETE: one in the middle; the last one.
    let (db, ctx) = trail().await;
    app_sql(&db, "DELETE FROM warden_audit_events WHERE seq = ?", &["3"]).await;
    let v = verify(&ctx).await;
    assert_eq!(v.first_bad_seq, Some(3), "{v:?}");
    assert!(v.reason.unwrap().contains("missing"));
    ctx.close().await;
    let (db, ctx) = trail().await;
    app_sql(
        &db,
        "DELETE FROM warden_audit_events WHERE seq = ?",
        &[&n.to_string()],
    )
    .await;
    let v = verify(&ctx).await;
    assert_eq!(v.first_bad_seq, Some(n), "{v:?}");
    ctx.close().await;

    // INSERT: a well-formed event after the last, its hash chained like Warden's.
    let (db, ctx) = trail().await;
    let store = warden_store::Database::connect(&db.spec().unwrap())
        .await
        .unwrap();
    let head = warden_store::governance::audit_head(&store).await.unwrap();
    store.close().await;
    let forged = AuditEvent {
        seq: head.0 + 1,
        occurred_at: chrono::NaiveDate::from_ymd_opt(2026, 11, 28)
            .and_then(|d| d.and_hms_opt(12, 0, 0))
            .unwrap()
            .and_utc(),
        actor: "mallory".into(),
        db_account: "root@localhost".into(),
        action: "console_user.add".into(),
        target: "mallory".into(),
        details: serde_json::json!({"role": "officer"}),
    };
    let hash = forged.chain_hash(&head.1);
    let insert = "INSERT INTO warden_audit_events \
         (seq, occurred_at, actor, db_account, action, target, details, prev_hash, hash) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)";
    let values = [
        &forged.seq.to_string(),
        "2026-11-28 12:00:00",
        &forged.actor,
        &forged.db_account,
        &forged.action,
        &forged.target,
        &forged.details.to_string(),
        &head.1,
        &hash,
    ];
    // The server refuses it, even from root: the trail's trigger wants the canonical body
    // naming the account that connected.
    let store = warden_store::Database::connect(&db.spec().unwrap())
        .await
        .unwrap();
    let mut q = sqlx::query(insert);
    for v in values {
        q = q.bind(v);
    }
    let refused = q.execute(store.gov()).await.unwrap_err().to_string();
    assert!(
        refused.contains("audit event body does not match its columns"),
        "{refused}"
    );
    store.close().await;
    // Only an administrator who first drops the trigger gets it in; verify finds it.
    app_sql(&db, "DROP TRIGGER warden_audit_events_chain", &[]).await;
    app_sql(&db, insert, &values).await;
    let v = verify(&ctx).await;
    assert_eq!(v.first_bad_seq, Some(n + 1), "{v:?}");
    assert!(v.reason.unwrap().contains("added after"));
    ctx.close().await;
}

#[tokio::test]
async fn concurrent_writers_append_a_gap_free_chain() {
    let (db, ctx) = trail().await;
    let before = verify(&ctx).await.events;
    let writers: Vec<_> = (0..12)
        .map(|i| {
            let db = db.clone();
            tokio::spawn(async move {
                add_console_user(&db, &format!("writer.{i}"), ConsoleRole::Auditor).await;
            })
        })
        .collect();
    for w in writers {
        w.await.unwrap();
    }
    let after = verify(&ctx).await;
    assert!(after.ok, "{after:?}");
    assert_eq!(after.events, before + 12);
    ctx.close().await;
}

#[tokio::test]
async fn reviewers_may_not_verify_and_auditors_may() {
    let (db, officer) = trail().await;
    officer.close().await;
    let auditor = ctx_as(&db, "ann.auditor", None).await;
    assert!(verify(&auditor).await.ok);
    let reviewer = ctx_as(&db, "rob.reviewer", None).await;
    let refused = warden_service::audit::verify(&reviewer).await.unwrap_err();
    assert_eq!(refused.code(), warden_service::ErrorCode::Forbidden);
}

#[tokio::test]
async fn an_export_is_written_whole_under_its_name_or_not_at_all_and_never_replaces_one() {
    let (_db, ctx) = trail().await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("trail.csv");
    let done = warden_service::export::audit_trail(&ctx, &out, false, &Default::default())
        .await
        .unwrap();
    assert!(done.rows >= 4);
    let first = std::fs::read(&out).unwrap();
    assert!(warden_service::export::verify(&out).unwrap().ok);

    // The same name again: refused, the first export untouched.
    let again = warden_service::export::audit_trail(&ctx, &out, false, &Default::default())
        .await
        .unwrap_err();
    assert!(again.to_string().contains("exists"), "{again}");
    assert_eq!(std::fs::read(&out).unwrap(), first);
    assert!(warden_service::export::verify(&out).unwrap().ok);

    // A directory that is not there: an error, and no file anywhere.
    let nowhere = dir.path().join("missing").join("trail.csv");
    assert!(
        warden_service::export::audit_trail(&ctx, &nowhere, false, &Default::default())
            .await
            .is_err()
    );
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["trail.csv", "trail.csv.manifest.json"]);
    ctx.close().await;
}

/// Verification reads the head, the routine calls and the events in one snapshot: while
/// others append, every verification sees a whole trail as of one moment (read apart, an
/// event appended between the head and the events would look added behind Warden's back).
#[tokio::test]
async fn verification_while_others_append_sees_one_moment() {
    let (db, ctx) = trail().await;
    let writer = {
        let db = db.clone();
        tokio::spawn(async move {
            let officer = ctx_as(&db, OFFICER, None).await;
            for i in 0..40 {
                let change = warden_store::governance::Change::begin(
                    officer.as_officer("appending").unwrap().db(),
                    OFFICER,
                    now(),
                )
                .await
                .unwrap();
                change
                    .commit(
                        "test.append",
                        &format!("n{i}"),
                        serde_json::json!({ "i": i }),
                    )
                    .await
                    .unwrap();
            }
            officer.close().await;
        })
    };
    let mut checked = 0;
    while !writer.is_finished() {
        let v = verify(&ctx).await;
        assert!(v.ok, "{v:?}");
        checked += 1;
    }
    writer.await.unwrap();
    assert!(checked > 0);
    assert!(verify(&ctx).await.ok);
    ctx.close().await;
}
