//! The server enforces the console roles: `warden migrate` sets up the roles, the definer
//! and the trail's trigger once, and an account holding a role is refused by the server
//! itself whatever it sends, through Warden or around it.

use sqlx::mysql::MySqlDatabaseError;
use warden_core::console::ConsoleRole;
use warden_core::server_roles::ServerNames;
use warden_sandbox::TestDatabase;
use warden_service::setup;
use warden_store::Database;
use warden_store::governance::Change;

use crate::support::*;

/// A console user with their own account (`console-users add`), signed in.
async fn account(test_db: &TestDatabase, login: &str, role: ConsoleRole) -> (String, Database) {
    add_console_user(test_db, login, role).await;
    let spec = account_spec(test_db, login);
    (spec.user.clone(), Database::connect(&spec).await.unwrap())
}

/// The server's error number for `sql` run as `db`'s account, or None when it succeeded.
async fn refused(db: &Database, sql: &str) -> Option<u16> {
    match sqlx::raw_sql(sql).execute(db.gov()).await {
        Ok(_) => None,
        Err(sqlx::Error::Database(e)) => Some(
            e.try_downcast_ref::<MySqlDatabaseError>()
                .map_or(0, MySqlDatabaseError::number),
        ),
        Err(other) => panic!("{sql}: {other}"),
    }
}

const DENIED: Option<u16> = Some(1142);

#[tokio::test]
async fn migrate_sets_up_the_roles_once_and_prints_them_for_a_dba() {
    let s = seeded().await;
    let names = ServerNames::for_database(&s.test_db.name);
    let root = Database::connect(&s.test_db.spec().unwrap()).await.unwrap();
    for role in ConsoleRole::ALL {
        let grants: Vec<String> =
            sqlx::query_scalar(&format!("SHOW GRANTS FOR '{}'", names.role(role)))
                .fetch_all(root.gov())
                .await
                .unwrap();
        assert!(
            grants.iter().any(|g| g.contains("warden_audit_events")),
            "{role}: {grants:?}"
        );
        assert!(
            !grants
                .iter()
                .any(|g| g.contains("DELETE") || g.contains("ALL PRIVILEGES")),
            "{role}: {grants:?}"
        );
    }
    let locked: String = sqlx::query_scalar(&format!(
        "SELECT CAST(JSON_EXTRACT(Priv, '$.account_locked') AS CHAR) FROM mysql.global_priv \
         WHERE User = '{}' AND Host = 'localhost'",
        names.definer
    ))
    .fetch_one(root.gov())
    .await
    .unwrap();
    assert_eq!(locked, "true", "nobody signs in as the definer");

    // Again: nothing to set up, nothing recorded.
    let head = warden_store::governance::audit_head(&root).await.unwrap();
    let again = migrate(&root, &s.test_db, clock()).await;
    assert_eq!(again.server_roles, None);
    assert!(again.applied.is_empty());
    assert_eq!(
        warden_store::governance::audit_head(&root).await.unwrap(),
        head
    );

    let script = setup::server_roles_script(&root, clock()).await.unwrap();
    assert!(script.contains(&format!("CREATE ROLE IF NOT EXISTS '{}';", names.officer)));
    assert!(script.contains("DELIMITER //\nCREATE OR REPLACE DEFINER = "));
    assert!(script.contains("warden_server_roles"));
    root.close().await;
}

#[tokio::test]
async fn the_server_refuses_what_each_role_may_not_do_whatever_the_client() {
    let s = seeded().await;
    let (_, officer) = account(&s.test_db, "olga", ConsoleRole::Officer).await;
    let (_, reviewer) = account(&s.test_db, "rick", ConsoleRole::Reviewer).await;
    let (_, auditor) = account(&s.test_db, "ada", ConsoleRole::Auditor).await;

    // Nobody rewrites the trail, its head, a policy body or a console user, or touches
    // the application's grant table.
    for db in [&officer, &reviewer, &auditor] {
        for sql in [
            "UPDATE warden_audit_events SET target = 'mallory' WHERE seq = 1",
            "DELETE FROM warden_audit_events WHERE seq = 1",
            "UPDATE warden_audit_head SET seq = 0 WHERE id = 1",
            "DELETE FROM warden_audit_head",
            "UPDATE warden_policy_versions SET body = 'allow everything'",
            "UPDATE warden_console_users SET role = 'officer'",
            "INSERT INTO warden_console_users (login, role, created_at, created_by) \
             VALUES ('mallory', 'officer', NOW(), 'mallory')",
            "INSERT INTO user_roles (user_id, role_id, granted_at) VALUES (1, 1, NOW())",
            "DELETE FROM user_roles",
        ] {
            assert_eq!(refused(db, sql).await, DENIED, "{sql}");
        }
    }
    // Reviewers decide nothing by hand and read none of the application's rows; auditors
    // write nothing of Warden's.
    for sql in [
        "UPDATE warden_review_items SET decision = 'keep'",
        "SELECT COUNT(*) FROM staff_users",
        "SELECT COUNT(*) FROM warden_findings",
    ] {
        assert_eq!(refused(&reviewer, sql).await, DENIED, "{sql}");
    }
    for sql in [
        "UPDATE warden_findings SET status = 'resolved'",
        "INSERT INTO warden_policy_versions (version, body, sha256, author, comment, applied_at) \
         VALUES (99, 'x', 'x', 'ada', 'x', NOW())",
        "UPDATE warden_campaigns SET status = 'closed'",
    ] {
        assert_eq!(refused(&auditor, sql).await, DENIED, "{sql}");
    }
    // What each may read, it reads.
    assert_eq!(
        refused(&auditor, "SELECT COUNT(*) FROM staff_users").await,
        None
    );
    assert_eq!(
        refused(&officer, "SELECT COUNT(*) FROM warden_findings").await,
        None
    );

    // A forged event is refused by the trail's trigger: it does not extend the head.
    let forged = "INSERT INTO warden_audit_events \
         (seq, occurred_at, actor, db_account, action, target, details, prev_hash, hash, body) \
         VALUES (1, NOW(), 'mallory', 'x', 'console_user.add', 'mallory', '{}', REPEAT('0', 64), \
         REPEAT('0', 64), '{}')";
    assert_eq!(refused(&officer, forged).await, Some(1644));
    let message = sqlx::raw_sql(forged)
        .execute(officer.gov())
        .await
        .unwrap_err()
        .to_string();
    assert!(
        message.contains("audit event does not extend the chain"),
        "{message}"
    );
    officer.close().await;
    reviewer.close().await;
    auditor.close().await;
}

#[tokio::test]
async fn every_role_appends_to_the_trail_stamped_with_its_own_account() {
    let s = seeded().await;
    for (login, role) in [
        ("olga", ConsoleRole::Officer),
        ("rick", ConsoleRole::Reviewer),
        ("ada", ConsoleRole::Auditor),
    ] {
        let (user, db) = account(&s.test_db, login, role).await;
        let change = Change::begin(&db, login, now()).await.unwrap();
        let event = change
            .commit("test.append", login, serde_json::json!({ "role": role }))
            .await
            .unwrap();
        assert_eq!(event.db_account, format!("{user}@localhost"));
        let stamped: String =
            sqlx::query_scalar("SELECT db_account FROM warden_audit_events WHERE seq = ?")
                .bind(event.seq)
                .fetch_one(db.gov())
                .await
                .unwrap();
        assert_eq!(stamped, format!("{user}@localhost"));
        // Nobody writes in another's name: the actor must be the account's console user.
        let forged = Change::begin(&db, OFFICER, now()).await.unwrap();
        let err = forged
            .commit("test.append", login, serde_json::json!({}))
            .await
            .unwrap_err();
        assert!(
            err.to_string()
                .contains("its actor is not the console user who connected"),
            "{login}: {err}"
        );
        db.close().await;
    }
    let ctx = officer(&s.test_db).await;
    let verified = warden_service::audit::verify(&ctx).await.unwrap();
    assert!(verified.ok, "{verified:?}");
    ctx.close().await;
}

/// The number of rows `sql` changed as `db`'s account, or the server's error number.
async fn affected(db: &Database, sql: &str) -> Result<u64, u16> {
    match sqlx::raw_sql(sql).execute(db.gov()).await {
        Ok(done) => Ok(done.rows_affected()),
        Err(sqlx::Error::Database(e)) => Err(e
            .try_downcast_ref::<MySqlDatabaseError>()
            .map_or(0, MySqlDatabaseError::number)),
        Err(other) => panic!("{sql}: {other}"),
    }
}

/// Review items and remediation, as the server holds them: a reviewer sees and decides
/// only their own items, through the definer's view, and only the decision's columns; the
/// application's grants and the rows kept for undo move only through the definer's
/// routines, which officers alone may call and which check what they are asked.
#[tokio::test]
async fn reviewers_reach_only_their_items_and_grants_move_only_through_the_routines() {
    use warden_service::reviews::{self, ItemsRequest, ReassignRequest};
    let s = seeded().await;
    let (_, rick) = account(&s.test_db, "rick", ConsoleRole::Reviewer).await;
    let (_, olga) = account(&s.test_db, "olga", ConsoleRole::Officer).await;
    let ctx = officer(&s.test_db).await;
    warden_service::policy::apply(&ctx, warden_sandbox::seed::COMPANY_POLICY, "p.toml", "b")
        .await
        .unwrap();
    let campaign = reviews::start(&ctx, finance_review("Q4"))
        .await
        .unwrap()
        .campaign;
    let items: Vec<u64> = reviews::items(
        &ctx,
        ItemsRequest {
            campaign,
            reviewer: None,
            pending: true,
        },
    )
    .await
    .unwrap()
    .items
    .iter()
    .map(|i| i.id)
    .collect();
    let (his, other) = (items[0], items[1]);
    reviews::reassign(
        &ctx,
        ReassignRequest {
            items: vec![his],
            to: "rick".into(),
            comment: "rick knows them".into(),
        },
    )
    .await
    .unwrap();

    let mine: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM warden_my_review_items")
        .fetch_one(rick.gov())
        .await
        .unwrap();
    assert_eq!(mine, 1, "the view shows rick his one item");
    let set =
        |id: u64, what: &str| format!("UPDATE warden_my_review_items SET {what} WHERE id = {id}");
    assert_eq!(
        affected(&rick, &set(other, "decision = 'keep'")).await,
        Ok(0),
        "not his"
    );
    assert_eq!(
        affected(&rick, &set(his, "reviewer_key = 'olga'")).await,
        Err(1143)
    );
    assert_eq!(
        affected(&rick, "UPDATE warden_review_items SET decision = 'keep'").await,
        Err(1142)
    );
    assert_eq!(
        affected(&rick, &set(his, "decision = 'keep'")).await,
        Ok(1),
        "his own"
    );
    // The routines: only officers may call them …
    for call in [
        format!("CALL warden_grant_remove({other}, NOW(), @kept)"),
        "CALL warden_grant_restore(1, NOW())".to_string(),
        "CALL warden_console_user_put('x', 'x', 'x', '%', 'officer', FALSE, NOW())".to_string(),
    ] {
        assert_eq!(affected(&rick, &call).await, Err(1370), "{call}");
    }
    // … which check what they are asked: an undecided item is no revocation to carry out,
    // and nobody writes the rows undo puts back.
    let remove = format!("CALL warden_grant_remove({other}, NOW(), @kept)");
    assert_eq!(affected(&olga, &remove).await, Err(1644));
    assert_eq!(
        affected(
            &olga,
            "INSERT INTO warden_remediations (campaign_id, item_id, user_id, role_id, removed_row, removed_at) \
             VALUES (1, 1, 1, 1, '{}', NOW())"
        )
        .await,
        Err(1142)
    );
    assert_eq!(affected(&olga, "DELETE FROM user_roles").await, Err(1142));
    rick.close().await;
    olga.close().await;
    ctx.close().await;
}

/// The routine removes the grant the campaign reviewed, not one made again since: a grant
/// revoked and granted anew after launch (a new time of grant) is left alone, its item
/// recorded as already gone, while the other revocation is carried out.
#[tokio::test]
async fn a_grant_made_again_since_launch_is_not_the_one_removed() {
    use warden_service::reviews::{self, DecideRequest, ItemsRequest, ReassignRequest};
    let s = seeded().await;
    let ctx = officer(&s.test_db).await;
    warden_service::policy::apply(&ctx, warden_sandbox::seed::COMPANY_POLICY, "p.toml", "b")
        .await
        .unwrap();
    let campaign = reviews::start(&ctx, finance_review("Q4"))
        .await
        .unwrap()
        .campaign;
    let items = reviews::items(
        &ctx,
        ItemsRequest {
            campaign,
            reviewer: None,
            pending: true,
        },
    )
    .await
    .unwrap()
    .items;
    // Two grants of two different people.
    let first = &items[0];
    let second = items.iter().find(|i| i.login != first.login).unwrap();
    let ids = vec![first.id, second.id];
    reviews::reassign(
        &ctx,
        ReassignRequest {
            items: ids.clone(),
            to: OFFICER.into(),
            comment: "the officer decides these".into(),
        },
    )
    .await
    .unwrap();
    reviews::decide(
        &ctx,
        DecideRequest {
            items: ids,
            decision: warden_core::review::Verdict::Revoke,
            comment: "not needed".into(),
            key: "again".into(),
        },
    )
    .await
    .unwrap();
    let root = Database::connect(&s.test_db.spec().unwrap()).await.unwrap();
    let grant_of = |item: u64| {
        let db = root.clone();
        async move {
            let (user, role): (i64, i64) =
                sqlx::query_as("SELECT user_id, role_id FROM warden_review_items WHERE id = ?")
                    .bind(item)
                    .fetch_one(db.gov())
                    .await
                    .unwrap();
            (user, role)
        }
    };
    let (user, role) = grant_of(first.id).await;
    let (other_user, other_role) = grant_of(second.id).await;
    // Revoked and granted again by the application after launch.
    sqlx::query("UPDATE user_roles SET granted_at = ? WHERE user_id = ? AND role_id = ?")
        .bind(sql_now())
        .bind(user)
        .bind(role)
        .execute(root.app())
        .await
        .unwrap();
    reviews::close(&ctx, campaign, false).await.unwrap();
    let held = |user: i64, role: i64| {
        let db = root.clone();
        async move {
            sqlx::query_scalar::<_, i64>(
                "SELECT COUNT(*) FROM user_roles WHERE user_id = ? AND role_id = ?",
            )
            .bind(user)
            .bind(role)
            .fetch_one(db.app())
            .await
            .unwrap()
        }
    };
    assert_eq!(held(user, role).await, 1, "the grant made since stays");
    assert_eq!(
        held(other_user, other_role).await,
        0,
        "the reviewed grant is removed"
    );
    let remediation: Vec<(u64, Option<String>)> = sqlx::query_as(
        "SELECT id, remediation FROM warden_review_items WHERE id IN (?, ?) ORDER BY id",
    )
    .bind(first.id)
    .bind(second.id)
    .fetch_all(root.gov())
    .await
    .unwrap();
    let of = |id: u64| remediation.iter().find(|r| r.0 == id).unwrap().1.clone();
    assert_eq!(of(first.id).as_deref(), Some("absent"));
    assert_eq!(of(second.id).as_deref(), Some("revoked"));
    root.close().await;
    ctx.close().await;
}

/// A session keeps a role it had active when the role is revoked, until it reconnects: so
/// removing or re-roling someone ends the sessions they have open, and a removed person's
/// account is locked for any new one.
#[tokio::test]
async fn removing_or_re_roling_someone_ends_their_open_sessions() {
    use sqlx::{Connection, Executor};
    let s = seeded().await;
    add_console_user(&s.test_db, "rick", ConsoleRole::Reviewer).await;
    add_console_user(&s.test_db, "olga", ConsoleRole::Officer).await;
    let open = |login: &str| {
        let spec = account_spec(&s.test_db, login);
        let url = format!(
            "mysql://{}:{}@localhost/{}?socket={}",
            spec.user,
            password_of(login).expose(),
            s.test_db.name,
            s.test_db.socket.display()
        );
        async move { sqlx::MySqlConnection::connect(&url).await.unwrap() }
    };
    let mut rick = open("rick").await;
    let mut olga = open("olga").await;
    for conn in [&mut rick, &mut olga] {
        conn.execute("SELECT COUNT(*) FROM warden_campaigns")
            .await
            .unwrap();
    }
    let ctx = officer(&s.test_db).await;
    setup::remove_console_user(&ctx, "rick").await.unwrap();
    setup::add_console_user(
        &ctx,
        setup::AddConsoleUser {
            login: "olga".into(),
            role: ConsoleRole::Auditor,
            host: None,
        },
    )
    .await
    .unwrap();
    for (who, conn) in [("rick", &mut rick), ("olga", &mut olga)] {
        let err = conn
            .execute("SELECT COUNT(*) FROM warden_campaigns")
            .await
            .unwrap_err();
        assert!(
            !matches!(err, sqlx::Error::Database(_)),
            "{who}'s open session was ended, not refused: {err}"
        );
    }
    let again = Database::connect(&account_spec(&s.test_db, "rick"))
        .await
        .unwrap_err();
    assert!(again.to_string().contains("locked"), "{again}");
    // Olga signs in again, as an auditor now.
    let olga = ctx_as(&s.test_db, "olga", None).await;
    assert_eq!(olga.role(), ConsoleRole::Auditor);
    olga.close().await;
    ctx.close().await;
}

/// The trigger checks every column against the hashed body, its time and details included
/// (what `audit verify` recomputes from): an event whose columns say something else than
/// its body is refused, so nobody can plant one the chain's verification would then
/// stumble on forever; the same event with agreeing columns goes in.
#[tokio::test]
async fn an_event_whose_columns_disagree_with_its_body_is_refused() {
    let s = seeded().await;
    let (user, olga) = account(&s.test_db, "olga", ConsoleRole::Officer).await;
    let (seq, prev): (u64, String) =
        sqlx::query_as("SELECT seq, hash FROM warden_audit_head WHERE id = 1")
            .fetch_one(olga.gov())
            .await
            .unwrap();
    let event = warden_core::audit::AuditEvent {
        seq: seq + 1,
        occurred_at: now(),
        actor: "olga".into(),
        db_account: format!("{user}@localhost"),
        action: "test.raw".into(),
        target: "t".into(),
        details: serde_json::json!({ "n": 1 }),
    };
    let insert = |occurred: String, details: &str| {
        let body = event.canonical();
        let details = details.to_string();
        let prev = prev.clone();
        let db = olga.clone();
        let e = event.clone();
        async move {
            sqlx::query(
                "INSERT INTO warden_audit_events \
                 (seq, occurred_at, actor, db_account, action, target, details, prev_hash, hash, body) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, REPEAT('0', 64), ?)",
            )
            .bind(e.seq)
            .bind(occurred)
            .bind(&e.actor)
            .bind(&e.db_account)
            .bind(&e.action)
            .bind(&e.target)
            .bind(details)
            .bind(prev)
            .bind(body)
            .execute(db.gov())
            .await
        }
    };
    let at = sql_time(now().naive_utc());
    for (occurred, details) in [
        (at.clone(), r#"{"n": 2}"#),
        ("2020-01-01 00:00:00".into(), r#"{"n":1}"#),
    ] {
        let err = insert(occurred, details).await.unwrap_err().to_string();
        assert!(err.contains("does not match its columns"), "{err}");
    }
    insert(at, r#"{ "n" : 1 }"#)
        .await
        .expect("the same JSON, spelt otherwise");
    olga.close().await;
    let ctx = officer(&s.test_db).await;
    assert!(warden_service::audit::verify(&ctx).await.unwrap().ok);
    ctx.close().await;
}

/// A routine called around Warden — an officer's raw `CALL` that adds a console user of
/// their making, with no event — is found by `audit verify`, named, from the call the
/// routine recorded itself; Warden's own calls are each matched with their event.
#[tokio::test]
async fn a_routine_called_around_warden_is_found_by_audit_verify() {
    let s = seeded().await;
    add_console_user(&s.test_db, "rick", ConsoleRole::Reviewer).await;
    let ctx = officer(&s.test_db).await;
    setup::remove_console_user(&ctx, "rick").await.unwrap();
    let verified = warden_service::audit::verify(&ctx).await.unwrap();
    assert!(verified.ok, "Warden's own calls are recorded: {verified:?}");
    let (_, olga) = account(&s.test_db, "olga", ConsoleRole::Officer).await;
    let user = format!("{}mallory", account_prefix(&s.test_db));
    sqlx::raw_sql(&format!(
        "CALL warden_console_user_put('mallory', 'mallory', '{user}', 'localhost', 'officer', FALSE, NOW())"
    ))
    .execute(olga.gov())
    .await
    .unwrap();
    let verified = warden_service::audit::verify(&ctx).await.unwrap();
    assert!(!verified.ok);
    assert_eq!(verified.unrecorded_calls.len(), 1, "{verified:?}");
    assert!(
        verified.unrecorded_calls[0].contains("warden_console_user_put on mallory by"),
        "{verified:?}"
    );
    assert!(
        verified.unrecorded_calls[0].contains("olga"),
        "{verified:?}"
    );
    olga.close().await;
    ctx.close().await;
}
