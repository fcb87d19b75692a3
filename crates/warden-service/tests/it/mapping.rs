use warden_core::mapping::Mapping;
use warden_service::mapping as mapping_service;

use crate::support::*;

#[tokio::test]
async fn every_problem_is_reported_at_once_with_suggestions() {
    let s = seeded().await;
    let ctx = ctx_as(&s.test_db, OFFICER, None).await;
    let mut m = Mapping::preset("reference").unwrap();
    m.users.last_login = Some("last_logn_at".into());
    m.users.email = Some("mail".into());
    m.roles.table = "role".into();
    m.users.mfa = Some("email".into()); // a varchar cannot be a flag
    let report = mapping_service::check(&ctx, &m).await.unwrap();
    assert!(!report.ok);
    let find = |field: &str| {
        report
            .problems
            .iter()
            .find(|p| p.field == field)
            .unwrap_or_else(|| panic!("{field}: {:?}", report.problems))
    };
    assert_eq!(
        find("users.last_login").suggestion.as_deref(),
        Some("last_login_at")
    );
    assert!(
        find("users.email")
            .message
            .contains("`staff_users.mail` does not exist")
    );
    assert_eq!(find("roles.id").suggestion.as_deref(), Some("roles"));
    assert!(
        find("users.mfa")
            .message
            .contains("must hold a boolean or number")
    );
    assert_eq!(
        report.problems.iter().filter(|p| p.table == "role").count(),
        1,
        "a missing table once"
    );

    let good = mapping_service::check(&ctx, &Mapping::preset("reference").unwrap())
        .await
        .unwrap();
    assert!(good.ok, "{:?}", good.problems);
}

#[tokio::test]
async fn identifiers_carrying_injection_are_refused_before_any_query() {
    let s = seeded().await;
    let sqli = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/corpora/sqli/Generic_ErrorBased.txt"
    ))
    .expect("the SQL injection corpus in ../shared/corpora");
    let (_, db) = fresh().await;
    // A closed pool: if anything tried to run a query, it would fail as unavailable.
    db.close().await;
    let mut refused = 0;
    for payload in sqli
        .lines()
        .filter(|l| warden_core::ident::check(l).is_err())
    {
        let mut m = Mapping::preset("reference").unwrap();
        m.users.table = payload.to_string();
        m.permissions.key = format!("perm_key{payload}");
        let problems = warden_store::schema::check(&db, &m)
            .await
            .expect("checked without a query");
        assert!(
            problems
                .iter()
                .any(|p| p.field.starts_with("users.") && p.column.is_none()),
            "{payload}"
        );
        assert!(
            problems.iter().any(|p| p.field == "permissions.key"),
            "{payload}"
        );
        let err = warden_store::schema::resolve(&db, m).await.unwrap_err();
        assert!(
            matches!(err, warden_store::Error::Mapping(_)),
            "{payload}: {err}"
        );
        refused += 1;
    }
    assert!(refused > 100, "the corpus was read ({refused} payloads)");
    let _ = s;
}
