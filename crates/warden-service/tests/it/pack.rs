//! The campaign evidence pack: written whole for a closed campaign, its sign-off on the
//! trail, every revocation provable from its own files, and any byte of any file altered
//! named by the offline verifier.

use warden_core::review::Verdict;
use warden_sandbox::seed::COMPANY_POLICY;
use warden_service::reviews::{self, DecideRequest, ItemsRequest, ReassignRequest};
use warden_service::{ErrorCode, policy};

use crate::support::*;

/// A closed finance campaign: everything reassigned to the officer, one item revoked, one
/// approved, the rest left to the default (keep); returns the campaign id.
async fn closed_campaign(ctx: &warden_service::Ctx) -> u64 {
    policy::apply(ctx, COMPANY_POLICY, "p.toml", "baseline")
        .await
        .unwrap();
    let started = reviews::start(ctx, finance_review("Q4 finance"))
        .await
        .unwrap();
    let id = started.campaign;
    let items = reviews::items(
        ctx,
        ItemsRequest {
            campaign: id,
            reviewer: None,
            pending: false,
        },
    )
    .await
    .unwrap()
    .items;
    assert!(items.len() >= 4, "{} items", items.len());
    let ids: Vec<u64> = items.iter().map(|i| i.id).collect();
    reviews::reassign(
        ctx,
        ReassignRequest {
            items: ids.clone(),
            to: OFFICER.into(),
            comment: "the officer reviews finance".into(),
        },
    )
    .await
    .unwrap();
    // Every CSV-injection payload rides in a decision's comment (one item is left to the
    // default).
    for (item, payload) in ids[2..ids.len() - 1].iter().zip(payloads()) {
        reviews::decide(
            ctx,
            DecideRequest {
                items: vec![*item],
                decision: Verdict::Keep,
                comment: payload,
                key: format!("p{item}"),
            },
        )
        .await
        .unwrap();
    }
    for (item, decision) in [(ids[0], "revoke"), (ids[1], "approve")] {
        reviews::decide(
            ctx,
            DecideRequest {
                items: vec![item],
                decision: Verdict::parse(decision).unwrap(),
                comment: "=HYPERLINK(\"http://evil\")".into(),
                key: format!("k{item}"),
            },
        )
        .await
        .unwrap();
    }
    // Not closed yet: no pack.
    let dir = tempfile::tempdir().unwrap();
    let open =
        warden_service::export::campaign(ctx, id, &dir.path().join("pack"), &Default::default())
            .await
            .unwrap_err();
    assert!(open.to_string().contains("close it first"), "{open}");
    assert!(!dir.path().join("pack").exists());
    reviews::close(ctx, id, false).await.unwrap();
    id
}

/// The lines of the CSV-injection corpus.
fn payloads() -> Vec<String> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/corpora/csv/payloads.txt"
    );
    (std::fs::read_to_string(path).unwrap().lines())
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

fn table(path: &std::path::Path) -> (Vec<String>, Vec<Vec<String>>) {
    warden_core::export::read_table(&std::fs::read(path).unwrap()).unwrap()
}

fn column(t: &(Vec<String>, Vec<Vec<String>>), name: &str) -> usize {
    t.0.iter()
        .position(|h| h == name)
        .unwrap_or_else(|| panic!("no column {name}"))
}

#[tokio::test]
async fn a_pack_is_verified_then_each_file_altered_by_one_byte_is_named() {
    let s = seeded().await;
    let ctx = officer(&s.test_db).await;
    let id = closed_campaign(&ctx).await;
    let dir = tempfile::tempdir().unwrap();
    let pack = dir.path().join("q4-finance");
    let done = warden_service::export::campaign(&ctx, id, &pack, &Default::default())
        .await
        .unwrap();
    // Evidence is its owner's alone: the folder 0700, every file 0600.
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&pack), 0o700);
        for entry in std::fs::read_dir(&pack).unwrap() {
            let path = entry.unwrap().path();
            assert_eq!(mode(&path), 0o600, "{}", path.display());
        }
    }
    let mut names: Vec<String> = std::fs::read_dir(&pack)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "access_after.csv",
            "access_before.csv",
            "action_log.csv",
            "manifest.json",
            "review_items.csv"
        ]
    );
    // Nothing else was left beside it (no temporary folder).
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    let checked = warden_service::export::verify(&pack).unwrap();
    assert!(checked.ok, "{:?}", checked.problems);

    // The review items: one per item, decisions, reviewer relation, remediation.
    let items = table(&pack.join("review_items.csv"));
    let before = table(&pack.join("access_before.csv"));
    let after = table(&pack.join("access_after.csv"));
    assert_eq!(items.1.len(), before.1.len());
    let (decision, result, relation, from, comment) = (
        column(&items, "decision"),
        column(&items, "result"),
        column(&items, "reviewer_relation"),
        column(&items, "reassigned_from"),
        column(&items, "comment"),
    );
    let revoked: Vec<&Vec<String>> = items.1.iter().filter(|r| r[decision] == "revoke").collect();
    assert_eq!(revoked.len(), 1);
    assert!(["revoked", "absent"].contains(&revoked[0][result].as_str()));
    assert!(
        items
            .1
            .iter()
            .all(|r| r[relation] == "reassigned" && !r[from].is_empty())
    );
    // The formula in a comment is text once the guard is stripped, and guarded on disk.
    assert!(
        items
            .1
            .iter()
            .any(|r| r[comment] == "=HYPERLINK(\"http://evil\")")
    );
    let raw = std::fs::read_to_string(pack.join("review_items.csv")).unwrap();
    assert!(raw.contains("\"'=HYPERLINK(\"\"http://evil\"\")\""));
    // So is every payload of the corpus a comment carried; no cell on disk starts with a
    // formula trigger.
    for payload in payloads().into_iter().take(items.1.len() - 3) {
        assert!(
            items.1.iter().any(|r| r[comment] == payload),
            "{payload:?} lost"
        );
    }
    for name in ["review_items.csv", "action_log.csv"] {
        let mut reader = csv::Reader::from_path(pack.join(name)).unwrap();
        for record in reader.records() {
            for cell in record.unwrap().iter() {
                assert!(
                    !cell.starts_with(['=', '+', '-', '@', '\t', '\r', '\n']),
                    "{name}: {cell:?}"
                );
            }
        }
    }
    // The revoked grant is in the population before and not after; the rest are in both.
    let (user, role) = (column(&items, "user_id"), column(&items, "role"));
    let pair = |t: &(Vec<String>, Vec<Vec<String>>), r: &Vec<String>| {
        let (u, ro) = (column(t, "user_id"), column(t, "role"));
        t.1.iter().any(|x| x[u] == r[user] && x[ro] == r[role])
    };
    for r in &items.1 {
        assert!(pair(&before, r));
        assert_eq!(pair(&after, r), r[decision] != "revoke", "{r:?}");
    }
    // The action log: the campaign's events, launch to close, with their hashes.
    let log = table(&pack.join("action_log.csv"));
    let actions: Vec<&str> = log.1.iter().map(|r| r[4].as_str()).collect();
    for a in [
        "review.start",
        "review.reassign",
        "review.decide",
        "review.default",
        "review.remediate",
        "review.close",
    ] {
        assert!(actions.contains(&a), "{a} missing from {actions:?}");
    }

    // The sign-off is on the trail, the event the manifest carries, and the chain holds.
    let manifest: warden_core::export::PackManifest =
        serde_json::from_slice(&std::fs::read(pack.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest.sign_off.seq, done.audit_seq);
    assert_eq!(manifest.sign_off.action, "review.sign_off");
    let with_payload = payloads().len().min(items.1.len() - 3) as u64;
    assert_eq!(manifest.totals["revoked"], 1);
    assert_eq!(manifest.totals["approved"], 1 + with_payload);
    assert_eq!(
        manifest.totals["no_response"],
        items.1.len() as u64 - 2 - with_payload
    );
    let trail = warden_service::audit::verify(&ctx).await.unwrap();
    assert!(trail.ok);
    let events = warden_service::audit::events(
        &ctx,
        warden_service::audit::EventsRequest {
            action: Some("review.sign_off".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(
        events.events.last().map(|e| e.hash.as_str()),
        Some(manifest.sign_off_hash.as_str())
    );

    // Each file altered by one byte, one at a time: named.
    for name in names {
        let path = pack.join(&name);
        let original = std::fs::read(&path).unwrap();
        let mut altered = original.clone();
        let at = original.len() / 2;
        altered[at] = if altered[at] == b'7' { b'8' } else { b'7' };
        std::fs::write(&path, &altered).unwrap();
        let checked = warden_service::export::verify(&pack).unwrap();
        assert!(!checked.ok, "{name} altered, yet intact");
        let named = checked.problems.iter().any(|p| p.contains(&name));
        assert!(named, "{name}: {:?}", checked.problems);
        std::fs::write(&path, &original).unwrap();
    }
    assert!(warden_service::export::verify(&pack).unwrap().ok);
    // A word of the manifest changed, still valid JSON: the sign-off no longer attests it.
    let path = pack.join("manifest.json");
    let original = std::fs::read_to_string(&path).unwrap();
    std::fs::write(
        &path,
        original.replacen("\"Q4 finance\"", "\"Q4 finance (amended)\"", 1),
    )
    .unwrap();
    let checked = warden_service::export::verify(&pack).unwrap();
    assert!(
        checked
            .problems
            .iter()
            .any(|p| p.contains("altered since the sign-off")),
        "{:?}",
        checked.problems
    );
    std::fs::write(&path, original).unwrap();

    // A file the manifest does not list: named.
    std::fs::write(pack.join("extra.csv"), b"x").unwrap();
    let checked = warden_service::export::verify(&pack).unwrap();
    assert!(
        checked.problems.iter().any(|p| p.contains("extra.csv")),
        "{:?}",
        checked.problems
    );
    std::fs::remove_file(pack.join("extra.csv")).unwrap();

    // Forged whole: a grant put back into access_after.csv and every hash recomputed, the
    // sign-off's included. Offline that cannot be told; against the trail it is.
    assert!(
        warden_service::export::verify_against_trail(&ctx, &pack)
            .await
            .unwrap()
            .ok
    );
    let forged = dir.path().join("forged");
    std::fs::create_dir(&forged).unwrap();
    for name in [
        "review_items.csv",
        "access_before.csv",
        "access_after.csv",
        "action_log.csv",
    ] {
        std::fs::copy(pack.join(name), forged.join(name)).unwrap();
    }
    let after = std::fs::read_to_string(forged.join("access_after.csv")).unwrap();
    let mut lines: Vec<&str> = after.split_inclusive("\r\n").collect();
    lines.truncate(lines.len() - 1);
    std::fs::write(forged.join("access_after.csv"), lines.concat()).unwrap();
    let mut m = manifest.clone();
    for f in &mut m.files {
        let bytes = std::fs::read(forged.join(&f.file)).unwrap();
        let (_, rows) = warden_core::export::read_table(&bytes).unwrap();
        f.rows = rows.len() as u64;
        f.bytes = bytes.len() as u64;
        f.sha256 = {
            use sha2::Digest;
            hex::encode(sha2::Sha256::digest(&bytes))
        };
        m.sign_off.details["files"][&f.file] = f.sha256.clone().into();
    }
    m.sign_off.details["manifest_sha256"] = m.body_sha256().into();
    m.sign_off_hash = m.sign_off.chain_hash(&m.sign_off_previous_hash);
    std::fs::write(
        forged.join("manifest.json"),
        serde_json::to_vec_pretty(&m).unwrap(),
    )
    .unwrap();
    assert!(
        warden_service::export::verify(&forged).unwrap().ok,
        "offline, it holds"
    );
    let against = warden_service::export::verify_against_trail(&ctx, &forged)
        .await
        .unwrap();
    assert!(!against.ok);
    assert!(
        against
            .problems
            .iter()
            .any(|p| p.contains("is not the sign-off")),
        "{:?}",
        against.problems
    );
    std::fs::remove_dir_all(&forged).unwrap();

    // Cancelled before the sign-off: no folder, no event.
    let cancel = warden_service::export::Progress::default();
    cancel.cancel();
    let before = warden_service::audit::verify(&ctx).await.unwrap().events;
    let e = warden_service::export::campaign(&ctx, id, &dir.path().join("cancelled"), &cancel)
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::Cancelled, "{e}");
    assert!(!dir.path().join("cancelled").exists());
    assert_eq!(
        warden_service::audit::verify(&ctx).await.unwrap().events,
        before
    );
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "only the pack"
    );

    // A pack is never written over, and only officers sign off.
    let again = warden_service::export::campaign(&ctx, id, &pack, &Default::default())
        .await
        .unwrap_err();
    assert!(again.to_string().contains("exists"), "{again}");
    add_console_user(
        &s.test_db,
        "ann.auditor",
        warden_core::console::ConsoleRole::Auditor,
    )
    .await;
    let auditor = ctx_as(&s.test_db, "ann.auditor", None).await;
    let err = warden_service::export::campaign(
        &auditor,
        id,
        &dir.path().join("mine"),
        &Default::default(),
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Forbidden);
    assert!(
        warden_service::export::verify(&pack).unwrap().ok,
        "verifying needs no role"
    );
    // Signed off, the revocations are attested: no undo afterwards.
    let undo = reviews::undo_remediation(&ctx, id, "changed our minds")
        .await
        .unwrap_err();
    assert_eq!(undo.code(), ErrorCode::Input, "{undo}");
    assert!(
        undo.to_string().contains("evidence pack was signed off"),
        "{undo}"
    );
    auditor.close().await;
    ctx.close().await;
}

/// The pack takes each decision from the trail's chained `review.decide` events: an item
/// whose decision was rewritten in the table behind Warden's back (by an administrator who
/// dropped the trigger that keeps decisions, the only one who can) stops the sign-off,
/// named, and nothing is written or recorded.
#[tokio::test]
async fn a_decision_rewritten_behind_wardens_back_stops_the_sign_off() {
    let s = seeded().await;
    let ctx = officer(&s.test_db).await;
    let id = closed_campaign(&ctx).await;
    let revoked: u64 = {
        let db = warden_store::Database::connect(&s.test_db.spec().unwrap())
            .await
            .unwrap();
        let item: u64 = sqlx::query_scalar(
            "SELECT id FROM warden_review_items WHERE campaign_id = ? AND decision = 'revoke'",
        )
        .bind(id)
        .fetch_one(db.gov())
        .await
        .unwrap();
        let rewrite =
            sqlx::query("UPDATE warden_review_items SET decision = 'keep' WHERE id = ?").bind(item);
        // The server keeps a decision as it was made, even against an administrator …
        let refused = rewrite.execute(db.gov()).await.unwrap_err();
        assert!(
            refused
                .to_string()
                .contains("a decided review item stays as it was decided"),
            "{refused}"
        );
        // … who can still drop the trigger first.
        sqlx::raw_sql("DROP TRIGGER warden_review_items_decided")
            .execute(db.gov())
            .await
            .unwrap();
        sqlx::query("UPDATE warden_review_items SET decision = 'keep' WHERE id = ?")
            .bind(item)
            .execute(db.gov())
            .await
            .unwrap();
        db.close().await;
        item
    };
    let before = warden_service::audit::verify(&ctx).await.unwrap().events;
    let dir = tempfile::tempdir().unwrap();
    let err =
        warden_service::export::campaign(&ctx, id, &dir.path().join("pack"), &Default::default())
            .await
            .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Input, "{err}");
    let said = err.to_string();
    assert!(
        said.contains(&format!(
            "review item {revoked}: the item table says keep by {OFFICER}"
        )),
        "{said}"
    );
    assert!(said.contains("the trail says revoke"), "{said}");
    assert!(!dir.path().join("pack").exists(), "nothing written");
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "no staged folder left"
    );
    assert_eq!(
        warden_service::audit::verify(&ctx).await.unwrap().events,
        before,
        "no sign-off recorded"
    );
    ctx.close().await;
}

/// A decision on the trail counts only as the item's reviewer's: an item whose reviewer was
/// rewritten behind Warden's back (so that the trail's decider is no longer its reviewer)
/// stops the sign-off, named.
#[tokio::test]
async fn a_decision_by_someone_other_than_the_items_reviewer_stops_the_sign_off() {
    let s = seeded().await;
    let ctx = officer(&s.test_db).await;
    let id = closed_campaign(&ctx).await;
    let db = warden_store::Database::connect(&s.test_db.spec().unwrap())
        .await
        .unwrap();
    let item: u64 = sqlx::query_scalar(
        "SELECT id FROM warden_review_items WHERE campaign_id = ? AND decision = 'revoke'",
    )
    .bind(id)
    .fetch_one(db.gov())
    .await
    .unwrap();
    for sql in [
        "DROP TRIGGER warden_review_items_decided",
        "UPDATE warden_review_items SET reviewer = 'someone.else', reviewer_key = 'someone.else' WHERE id = ?",
    ] {
        let mut q = sqlx::query(sql);
        if sql.contains('?') {
            q = q.bind(item);
        }
        q.execute(db.gov()).await.unwrap();
    }
    db.close().await;
    let dir = tempfile::tempdir().unwrap();
    let err =
        warden_service::export::campaign(&ctx, id, &dir.path().join("pack"), &Default::default())
            .await
            .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Input, "{err}");
    assert!(
        err.to_string().contains(&format!("review item {item}:"))
            && err
                .to_string()
                .contains("who is not the item's reviewer someone.else"),
        "{err}"
    );
    ctx.close().await;
}
