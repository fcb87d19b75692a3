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
