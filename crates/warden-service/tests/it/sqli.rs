//! Every line of every SQL injection corpus, as search text and as a login: the right rows
//! (none, for text no user has), no SQL error, and no data changed.

use warden_service::ErrorCode;
use warden_service::directory::{self, AccessRequest, UsersRequest, WhoCanRequest};

use crate::support::*;

pub fn corpus() -> Vec<(String, String)> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/corpora/sqli");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .expect("the SQL injection corpus in ../shared/corpora/sqli")
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let mut lines = Vec::new();
    for f in files {
        let text = String::from_utf8_lossy(&std::fs::read(&f).unwrap()).to_string();
        for line in text.lines() {
            lines.push((
                f.file_name().unwrap().to_string_lossy().to_string(),
                line.to_string(),
            ));
        }
    }
    assert!(lines.len() > 1_000, "{} payloads", lines.len());
    lines
}

#[tokio::test]
async fn the_sqli_corpus_is_only_ever_data() {
    let s = seeded().await;
    let ctx = officer(&s.test_db).await;
    let db = warden_store::Database::connect(&s.test_db.spec().unwrap())
        .await
        .unwrap();
    let before = checksum(&db).await;
    let all = directory::users(&ctx, UsersRequest::default())
        .await
        .unwrap()
        .users;
    for (file, payload) in corpus() {
        let found = directory::users(
            &ctx,
            UsersRequest {
                search: Some(payload.clone()),
                ..Default::default()
            },
        )
        .await
        .unwrap_or_else(|e| panic!("{file}: {payload:?}: {e}"));
        // The right rows: exactly the users whose login, name or email contain the text.
        let needle = payload.to_lowercase();
        let expected = all
            .iter()
            .filter(|u| {
                payload.is_empty()
                    || [Some(&u.login), u.name.as_ref(), u.email.as_ref()]
                        .into_iter()
                        .flatten()
                        .any(|v| v.to_lowercase().contains(&needle))
            })
            .count();
        assert_eq!(found.users.len(), expected, "{file}: {payload:?}");

        match directory::access(
            &ctx,
            AccessRequest {
                login: payload.clone(),
            },
        )
        .await
        {
            Ok(a) => assert!(
                a.user.login.eq_ignore_ascii_case(payload.trim_end()),
                "{payload:?}"
            ),
            Err(e) => assert_eq!(e.code(), ErrorCode::NotFound, "{file}: {payload:?}: {e}"),
        }
        match directory::users(
            &ctx,
            UsersRequest {
                department: Some(payload.clone()),
                status: Some(payload.clone()),
                ..Default::default()
            },
        )
        .await
        {
            Ok(r) => assert!(r.users.is_empty(), "{payload:?}"),
            Err(e) => panic!("{file}: {payload:?}: {e}"),
        }
        if let Err(e) = directory::who_can(
            &ctx,
            WhoCanRequest {
                permission: payload.clone(),
            },
        )
        .await
        {
            assert_eq!(e.code(), ErrorCode::NotFound, "{file}: {payload:?}: {e}");
        }
    }
    assert_eq!(checksum(&db).await, before, "no table changed");
}

/// Every payload in every text field of a policy (job function names, match values, rule
/// names, exception reasons): stored and shown back byte for byte, judged as plain text
/// (matching no one), and the application's data untouched.
#[tokio::test]
async fn the_sqli_corpus_through_every_text_field_of_a_policy() {
    use std::collections::BTreeSet;
    use warden_sandbox::seed::COMPANY_POLICY;
    use warden_service::findings::{self, PolicySource};
    use warden_service::policy;

    let s = seeded().await;
    let ctx = officer(&s.test_db).await;
    policy::apply(&ctx, COMPANY_POLICY, "p.toml", "baseline")
        .await
        .unwrap();
    let baseline = findings::check(&ctx, PolicySource::Current).await.unwrap();
    let db = warden_store::Database::connect(&s.test_db.spec().unwrap())
        .await
        .unwrap();
    let app_tables = |sums: Vec<(String, Option<i64>)>| {
        sums.into_iter()
            .filter(|(t, _)| !t.starts_with("warden_"))
            .collect::<Vec<_>>()
    };
    let before = app_tables(checksum(&db).await);

    let payloads: BTreeSet<String> = corpus()
        .into_iter()
        .map(|(_, line)| line)
        .filter(|l| !l.trim().is_empty())
        .collect();
    let mut text = COMPANY_POLICY.to_string();
    for p in &payloads {
        let q = crate::policy::toml_string(p);
        text.push_str(&format!(
            "\n[[job_function]]\nname = {q}\nmatch = {{ department = {q}, role = {q}, title = {q} }}\nallow = [\"ticket:read\"]\n\n[[separation_of_duties]]\nname = {q}\nconflict = [\"refund:request\", \"refund:approve\"]\n\n[[exception]]\nkind = \"no_mfa\"\nmatch = {{ department = {q} }}\nreason = {q}\n"
        ));
    }
    let applied = policy::apply(&ctx, &text, "corpus.toml", "every payload")
        .await
        .unwrap();
    assert_eq!(applied.version, 2);
    assert_eq!(policy::show(&ctx, Some(2)).await.unwrap().body, text);
    let checked = findings::check(&ctx, PolicySource::Current).await.unwrap();
    // The payload rules match no one; the duplicated four-eyes rules are the only change.
    let kinds = |r: &findings::CheckResponse| -> BTreeSet<(String, String)> {
        r.findings
            .iter()
            .filter(|f| f.kind.as_str() != "sod_conflict")
            .map(|f| (f.kind.to_string(), f.subject.clone()))
            .collect()
    };
    assert_eq!(kinds(&checked), kinds(&baseline));
    let diff = policy::diff(&ctx, 1, 2).await.unwrap();
    assert_eq!(
        diff.changes.iter().filter(|c| c.change == "added").count(),
        payloads.len() * 3
    );
    let sim = policy::simulate(&ctx, &text, "corpus.toml", 30)
        .await
        .unwrap();
    assert!(sim.replayed > 0);
    assert_eq!(
        app_tables(checksum(&db).await),
        before,
        "the application's data changed"
    );
    db.close().await;
}
