//! High availability (issue 18): Warden on a three-node Galera cluster that the test starts
//! itself (warden-sandbox's `galera`), shared by this file's tests, each in a database of
//! its own.

use std::sync::OnceLock;

use warden_sandbox::galera::Cluster;
use warden_service::{Clock, setup};

use crate::support::*;

static CLUSTER: OnceLock<Cluster> = OnceLock::new();

fn cluster() -> &'static Cluster {
    CLUSTER.get_or_init(|| Cluster::start(3).expect("a Galera cluster of three nodes"))
}

/// Root over node `i`'s socket, on `database`.
fn root_on(i: usize, database: &str) -> warden_store::ConnectSpec {
    warden_store::ConnectSpec::from_url(&cluster().nodes[i].root_url(database)).unwrap()
}

/// `warden migrate` started on two nodes at once: one run migrates, the other waits for it
/// and finds everything applied — each migration once, the trail whole (`GET_LOCK` is a
/// node's own and would have let both in).
#[tokio::test]
async fn two_nodes_migrating_at_once_apply_each_migration_once() {
    let name = "ha_migrate";
    cluster().create_database(name).await.unwrap();
    let opts = setup::MigrateOptions {
        account_prefix: Some(format!("{name}_")),
        grant_target: None,
    };
    let (one, two) = (
        warden_store::Database::connect(&root_on(0, name))
            .await
            .unwrap(),
        warden_store::Database::connect(&root_on(1, name))
            .await
            .unwrap(),
    );
    let (a, b) = tokio::join!(
        setup::migrate(&one, Clock::Fixed(now()), &opts),
        setup::migrate(&two, Clock::Fixed(now()), &opts)
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    let mut applied = [a.applied.clone(), b.applied.clone()];
    applied.sort_by_key(Vec::len);
    assert!(
        applied[0].is_empty(),
        "one run found everything done: {a:?} {b:?}"
    );
    assert!(!applied[1].is_empty());
    assert_eq!(
        [a.first_officer.is_some(), b.first_officer.is_some()]
            .iter()
            .filter(|x| **x)
            .count(),
        1,
        "one first officer"
    );
    let three = warden_store::Database::connect(&root_on(2, name))
        .await
        .unwrap();
    let (migrations, distinct): (i64, i64) =
        sqlx::query_as("SELECT COUNT(*), COUNT(DISTINCT version) FROM warden_schema_migrations")
            .fetch_one(three.gov())
            .await
            .unwrap();
    assert_eq!(migrations, distinct);
    assert_eq!(migrations as usize, applied[1].len());
    let ctx = warden_service::Ctx::establish(three, None).await.unwrap();
    assert!(warden_service::audit::verify(&ctx).await.unwrap().ok);
    one.close().await;
    two.close().await;
    ctx.close().await;
}
