use warden_core::console::ConsoleRole;
use warden_service::findings::{self, PolicySource};
use warden_service::{ErrorCode, policy};

use crate::support::*;

const POLICY: &str = "[dormancy]\ndays = 90\n\n[[job_function]]\nname = \"support\"\nmatch = { department = \"support\" }\nallow = [\"customer.contact:read\", \"ticket:*\"]\n";

/// A TOML basic string holding `s` exactly.
pub fn toml_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[tokio::test]
async fn versions_are_stored_once_audited_and_readable() {
    let s = seeded().await;
    let ctx = officer(&s.test_db).await;
    let first = policy::apply(&ctx, POLICY, "p.toml", "first baseline")
        .await
        .unwrap();
    assert_eq!((first.version, first.changed), (1, true));
    assert_eq!(first.sha256, warden_core::policy::sha256(POLICY));
    let again = policy::apply(&ctx, POLICY, "p.toml", "same again")
        .await
        .unwrap();
    assert_eq!(
        (again.version, again.changed, again.audit_seq),
        (1, false, None)
    );
    let tighter = POLICY.replace("\"ticket:*\"", "\"ticket:read\"");
    let second = policy::apply(&ctx, &tighter, "p.toml", "tighter")
        .await
        .unwrap();
    assert_eq!(second.version, 2);
    assert!(second.audit_seq.unwrap() > first.audit_seq.unwrap());

    let current = policy::show(&ctx, None).await.unwrap();
    assert_eq!(
        (current.version, current.body.as_str()),
        (2, tighter.as_str())
    );
    assert_eq!(current.author, OFFICER);
    assert_eq!(policy::show(&ctx, Some(1)).await.unwrap().body, POLICY);
    let history = policy::history(&ctx).await.unwrap().versions;
    assert_eq!(
        history.iter().map(|v| v.version).collect::<Vec<_>>(),
        [2, 1]
    );
    assert_eq!(history[1].comment, "first baseline");
    assert_eq!(
        policy::show(&ctx, Some(9)).await.unwrap_err().code(),
        ErrorCode::NotFound
    );

    let err = policy::apply(&ctx, "[[job_function]]\nname = 1\n", "bad.toml", "")
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Input);
    assert!(
        err.to_string().contains("bad.toml: policy: line 2"),
        "{err}"
    );

    add_console_user(&s.test_db, "adam.auditor", ConsoleRole::Auditor).await;
    let auditor = ctx_as(&s.test_db, "adam.auditor", None).await;
    assert_eq!(policy::history(&auditor).await.unwrap().versions.len(), 2);
    let err = policy::apply(&auditor, POLICY, "p.toml", "")
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Forbidden);

    let db = warden_store::Database::connect(&s.test_db.spec().unwrap())
        .await
        .unwrap();
    let events = warden_store::governance::audit_events(&db).await.unwrap();
    let applies: Vec<&str> = events
        .iter()
        .filter(|(e, _, _)| e.action == "policy.apply")
        .map(|(e, _, _)| e.target.as_str())
        .collect();
    assert_eq!(applies, ["policy v1", "policy v2"]);
}

#[tokio::test]
async fn the_sqli_corpus_through_every_text_field_of_a_policy() {
    let s = seeded().await;
    let ctx = officer(&s.test_db).await;
    let db = warden_store::Database::connect(&s.test_db.spec().unwrap())
        .await
        .unwrap();
    let app_tables = |sums: Vec<(String, Option<i64>)>| {
        sums.into_iter()
            .filter(|(t, _)| !t.starts_with("warden_"))
            .collect::<Vec<_>>()
    };
    let before = app_tables(checksum(&db).await);
    let mut stored = 0;
    for (file, payload) in crate::sqli::corpus() {
        let text = format!(
            "[[job_function]]\nname = {n}\nmatch = {{ department = {n}, title = {n}, role = {n} }}\nallow = [\"ticket:*\"]\n\n\
             [[separation_of_duties]]\nname = {n}\nconflict = [\"refund:request\", \"refund:approve\"]\n",
            n = toml_string(&payload)
        );
        match policy::apply(&ctx, &text, &file, &payload).await {
            Ok(applied) => {
                let shown = policy::show(&ctx, Some(applied.version)).await.unwrap();
                assert_eq!(shown.body, text, "{file}: {payload:?}");
                if applied.changed {
                    assert_eq!(shown.comment, payload, "{file}: {payload:?}");
                }
                stored += 1;
            }
            // Only a blank name is refused, and as input, never as a database error.
            Err(e) => {
                assert!(payload.trim().is_empty(), "{file}: {payload:?}: {e}");
                assert_eq!(e.code(), ErrorCode::Input);
            }
        }
    }
    assert!(stored > 1_000, "{stored} policies stored");
    assert_eq!(
        app_tables(checksum(&db).await),
        before,
        "no application table changed"
    );
}

#[tokio::test]
async fn a_policy_rewritten_behind_wardens_back_is_judged_by_nothing() {
    let s = seeded().await;
    let ctx = officer(&s.test_db).await;
    policy::apply(&ctx, POLICY, "p.toml", "baseline")
        .await
        .unwrap();
    assert!(findings::check(&ctx, PolicySource::Current).await.is_ok());
    // An administrator loosens the stored text, and then its stored SHA-256 too: the hash
    // its `policy.apply` event recorded in the trail still gives it away.
    let loosened = POLICY.replace("days = 90", "days = 900");
    app_sql(
        &s.test_db,
        "UPDATE warden_policy_versions SET body = ? WHERE version = 1",
        &[&loosened],
    )
    .await;
    let err = policy::show(&ctx, Some(1)).await.unwrap_err().to_string();
    assert!(
        err.contains("policy v1 was changed after it was applied"),
        "{err}"
    );
    app_sql(
        &s.test_db,
        "UPDATE warden_policy_versions SET sha256 = ? WHERE version = 1",
        &[&warden_core::policy::sha256(&loosened)],
    )
    .await;
    for err in [
        policy::show(&ctx, None).await.unwrap_err().to_string(),
        findings::check(&ctx, PolicySource::Current)
            .await
            .unwrap_err()
            .to_string(),
    ] {
        assert!(
            err.contains("no longer hashes to the SHA-256 audit event"),
            "{err}"
        );
    }
    ctx.close().await;
}
