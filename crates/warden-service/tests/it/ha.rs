//! High availability (issue 18): Warden on a three-node Galera cluster that the test starts
//! itself (warden-sandbox's `galera`), shared by this file's tests, each in a database of
//! its own.

use std::sync::OnceLock;

use warden_sandbox::galera::Cluster;
use warden_service::{Clock, setup};

use crate::support::*;

static CLUSTER: OnceLock<Cluster> = OnceLock::new();

/// This file's tests take turns on the cluster: each measures one thing (a DDL of one
/// test replicating in total order would otherwise stall another's writes).
static TURN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

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
    let _turn = TURN.lock().await;
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

/// 60 finding triages sent at once through the three nodes (20 each), as officers working
/// on different nodes would: every one lands once (a change refused at certification for
/// another node's is made again, whole), and the trail stays one chain that verifies.
#[tokio::test]
async fn triages_through_three_nodes_at_once_all_land_once() {
    let _turn = TURN.lock().await;
    use warden_service::findings::{self, FindingsRequest, TriageRequest};

    let name = "ha_triage";
    cluster().create_database(name).await.unwrap();
    let first = warden_store::Database::connect(&root_on(0, name))
        .await
        .unwrap();
    warden_sandbox::seed::seed(
        &first,
        &warden_sandbox::SeedOptions {
            users: 400,
            log_rows: 500,
            seed: 7,
            ..warden_sandbox::SeedOptions::at(now())
        },
    )
    .await
    .unwrap();
    let opts = setup::MigrateOptions {
        account_prefix: Some(format!("{name}_")),
        grant_target: None,
    };
    setup::migrate(&first, clock(), &opts).await.unwrap();
    first.close().await;
    let mut ctxs = Vec::new();
    for i in 0..3 {
        let db = warden_store::Database::connect(&root_on(i, name))
            .await
            .unwrap();
        let mapping = warden_core::mapping::Mapping::preset("reference");
        ctxs.push(
            warden_service::Ctx::establish(db, mapping)
                .await
                .unwrap()
                .with_clock(clock()),
        );
    }
    warden_service::policy::apply(
        &ctxs[0],
        warden_sandbox::seed::COMPANY_POLICY,
        "p.toml",
        "baseline",
    )
    .await
    .unwrap();
    findings::check(&ctxs[0], warden_service::findings::PolicySource::Current)
        .await
        .unwrap();
    let open = findings::findings(&ctxs[1], FindingsRequest::default())
        .await
        .unwrap()
        .findings;
    assert!(open.len() >= 60, "{} findings", open.len());
    let triages = open.iter().take(60).enumerate().map(|(n, f)| {
        let ctx = &ctxs[n % 3];
        let id = f.id.expect("a recorded finding");
        async move {
            findings::triage(
                ctx,
                TriageRequest {
                    id,
                    action: warden_core::findings::Triage::Ack,
                    comment: format!("seen on node {}", n % 3 + 1),
                },
            )
            .await
        }
    });
    let done = futures_util::future::join_all(triages).await;
    let failed: Vec<String> = (done.iter())
        .filter_map(|r| r.as_ref().err().map(|e| e.to_string()))
        .collect();
    assert!(failed.is_empty(), "{} failed: {failed:?}", failed.len());
    let check = warden_store::Database::connect(&root_on(2, name))
        .await
        .unwrap();
    let (events, findings_triaged): (i64, i64) = sqlx::query_as(
        "SELECT COUNT(*), COUNT(DISTINCT target) FROM warden_audit_events \
         WHERE action = 'finding.triage'",
    )
    .fetch_one(check.gov())
    .await
    .unwrap();
    assert_eq!((events, findings_triaged), (60, 60), "each once");
    let (seqs, max_seq): (i64, i64) =
        sqlx::query_as("SELECT COUNT(*), CAST(MAX(seq) AS SIGNED) FROM warden_audit_events")
            .fetch_one(check.gov())
            .await
            .unwrap();
    assert_eq!(seqs, max_seq, "the chain has no gap");
    check.close().await;
    assert!(warden_service::audit::verify(&ctxs[2]).await.unwrap().ok);
    for ctx in ctxs {
        ctx.close().await;
    }
}

/// A URL may list hosts: Warden connects to the first that answers as a ready node (one
/// that does not answer is passed over), and there every read waits for what the cluster
/// committed before it (`wsrep_sync_wait`), so a change made through another node is seen.
#[tokio::test]
async fn a_host_list_connects_to_the_first_ready_node_and_reads_what_others_wrote() {
    let _turn = TURN.lock().await;
    let c = cluster();
    let root = warden_store::Database::connect(&root_on(0, "mysql"))
        .await
        .unwrap();
    for sql in [
        "CREATE USER IF NOT EXISTS 'ha_reader'@'127.0.0.1' IDENTIFIED BY 'pw'",
        "GRANT SELECT ON *.* TO 'ha_reader'@'127.0.0.1'",
    ] {
        sqlx::query(sql).execute(root.app()).await.unwrap();
    }
    let gone = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut spec = warden_store::ConnectSpec::from_url(&format!(
        "mysql://ha_reader@127.0.0.1:{gone},127.0.0.1:{},127.0.0.1:{}/mysql",
        c.nodes[1].port, c.nodes[2].port
    ))
    .unwrap();
    spec.password = Some(warden_store::Secret::new("pw"));
    let db = warden_store::Database::connect(&spec).await.unwrap();
    let (port, sync_wait): (i64, i64) =
        sqlx::query_as("SELECT CAST(@@port AS SIGNED), CAST(@@SESSION.wsrep_sync_wait AS SIGNED)")
            .fetch_one(db.app())
            .await
            .unwrap();
    assert_eq!(
        port,
        i64::from(c.nodes[1].port),
        "the first node that answers"
    );
    assert_eq!(sync_wait, 1, "reads wait for what the cluster committed");
    // Written through node 1, read at once through node 2.
    for n in 0..20 {
        let name = format!("ha_seen_{n}");
        let create = ["CREATE DATABASE ", &name].concat();
        sqlx::query(&create).execute(root.app()).await.unwrap();
        let seen: Option<String> = sqlx::query_scalar(
            "SELECT CAST(SCHEMA_NAME AS CHAR) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?",
        )
        .bind(&name)
        .fetch_optional(db.app())
        .await
        .unwrap();
        assert_eq!(seen.as_deref(), Some(name.as_str()));
    }
    db.close().await;
    root.close().await;
}

/// A backup taken with mariadb-backup and restored into a fresh server: the trail verifies
/// as a chain, and a client that saw later events — its own witness, or an export manifest
/// made after the backup — is told the trail is behind ("restored from an older backup").
#[tokio::test]
async fn a_trail_restored_from_an_older_backup_verifies_but_is_behind_its_witnesses() {
    // The profile the client reaches the database by: after the restore, it names the
    // restored server.
    const PLACE: &str = "profile prod";
    let server = warden_sandbox::server::own_test_server("-backup").unwrap();
    let test_db = server.create_database("bk").await.unwrap();
    let db = warden_store::Database::connect(&test_db.spec().unwrap())
        .await
        .unwrap();
    let opts = setup::MigrateOptions {
        account_prefix: Some("bk_".into()),
        grant_target: None,
    };
    setup::migrate(&db, clock(), &opts).await.unwrap();
    let ctx = warden_service::Ctx::establish(db, None).await.unwrap();
    let state = tempfile::tempdir().unwrap();
    let witness = state.path().join("witness.json");
    // Each export of the trail is an event of its own: the trail grows.
    let export = async |name: &str| {
        warden_service::export::audit_trail(
            &ctx,
            &state.path().join(name),
            false,
            &warden_service::export::Progress::default(),
        )
        .await
        .unwrap()
    };
    export("first.csv").await;
    warden_service::audit::remember_head(&ctx, &witness, PLACE)
        .await
        .unwrap();

    // The backup, prepared.
    let backup = state.path().join("backup");
    let run = |args: &[&str]| {
        let out = std::process::Command::new("mariadb-backup")
            .args(args)
            .output()
            .expect("mariadb-backup (./dev setup installs it)");
        assert!(
            out.status.success(),
            "mariadb-backup {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let socket = format!("--socket={}", server.socket.display());
    let target = format!("--target-dir={}", backup.display());
    run(&["--backup", "--user=root", &socket, &target]);
    run(&["--prepare", &target]);

    // After the backup: more events, seen by this client and by an export's manifest.
    export("second.csv").await;
    let exported = export("third.csv").await;
    warden_service::audit::remember_head(&ctx, &witness, PLACE)
        .await
        .unwrap();
    let manifest: warden_core::export::Manifest =
        serde_json::from_slice(&std::fs::read(&exported.manifest).unwrap()).unwrap();
    let seen = warden_service::audit::client_witness(&ctx, &witness, PLACE)
        .await
        .unwrap();
    assert!(
        warden_service::audit::verify_against(&ctx, seen.clone())
            .await
            .unwrap()
            .ok
    );
    ctx.close().await;

    // Restored into a fresh server.
    let restored_data = state.path().join("restored");
    std::fs::create_dir_all(&restored_data).unwrap();
    run(&[
        "--copy-back",
        &target,
        &format!("--datadir={}", restored_data.display()),
    ]);
    let restored = warden_sandbox::server::test_server_on(&restored_data, "-restored").unwrap();
    let spec = warden_store::ConnectSpec::from_url(&format!(
        "mysql://root@localhost/bk?socket={}",
        restored.socket.display()
    ))
    .unwrap();
    let db = warden_store::Database::connect(&spec).await.unwrap();
    let ctx = warden_service::Ctx::establish(db, None).await.unwrap();
    let plain = warden_service::audit::verify(&ctx).await.unwrap();
    assert!(plain.ok, "a whole chain: {plain:?}");
    let mine = warden_service::audit::client_witness(&ctx, &witness, PLACE)
        .await
        .unwrap();
    assert_eq!(mine.len(), 1, "the witness of this place");
    let behind = warden_service::audit::verify_against(&ctx, mine)
        .await
        .unwrap();
    assert!(!behind.ok);
    let why = behind.reason.unwrap();
    assert!(why.contains("older backup"), "{why}");
    let by_manifest = warden_service::audit::verify_against(
        &ctx,
        vec![warden_core::witness::Witness {
            seq: manifest.audit_head.seq,
            hash: manifest.audit_head.hash.clone(),
            source: "the manifest".into(),
            first: None,
        }],
    )
    .await
    .unwrap();
    assert!(!by_manifest.ok && by_manifest.reason.unwrap().contains("the manifest"));
    // A restored trail behind the witness does not lower it.
    warden_service::audit::remember_head(&ctx, &witness, PLACE)
        .await
        .unwrap();
    let still = warden_service::audit::client_witness(&ctx, &witness, PLACE)
        .await
        .unwrap();
    assert_eq!(still, seen);
    ctx.close().await;
}

/// With two of three nodes lost the last one has no quorum: Warden still reads through it
/// (dirty reads: all it can answer), refuses every change as read-only — saying why and
/// which hosts it tried — and, once the cluster has a primary component again (the
/// operator bootstraps it), a new session writes as before (nothing to restart).
#[tokio::test]
async fn without_quorum_warden_reads_and_refuses_writes_until_a_primary_returns() {
    use warden_service::findings::{self, FindingsRequest, TriageRequest};

    let _turn = TURN.lock().await;
    // A cluster of its own: this test kills nodes.
    let c = Cluster::start(3).expect("a Galera cluster of three nodes");
    let name = "ha_quorum";
    c.create_database(name).await.unwrap();
    let on = |i: usize| warden_store::ConnectSpec::from_url(&c.nodes[i].root_url(name)).unwrap();
    let first = warden_store::Database::connect(&on(0)).await.unwrap();
    warden_sandbox::seed::seed(
        &first,
        &warden_sandbox::SeedOptions {
            users: 400,
            log_rows: 500,
            seed: 7,
            ..warden_sandbox::SeedOptions::at(now())
        },
    )
    .await
    .unwrap();
    let opts = setup::MigrateOptions {
        account_prefix: Some(format!("{name}_")),
        grant_target: None,
    };
    setup::migrate(&first, clock(), &opts).await.unwrap();
    let ctx =
        warden_service::Ctx::establish(first, warden_core::mapping::Mapping::preset("reference"))
            .await
            .unwrap()
            .with_clock(clock());
    warden_service::policy::apply(&ctx, warden_sandbox::seed::COMPANY_POLICY, "p.toml", "b")
        .await
        .unwrap();
    findings::check(&ctx, findings::PolicySource::Current)
        .await
        .unwrap();
    let open = findings::findings(&ctx, FindingsRequest::default())
        .await
        .unwrap()
        .findings;
    ctx.close().await;

    c.kill(1).unwrap();
    c.kill(2).unwrap();
    c.wait_cluster_status(0, "non-Primary").unwrap();
    let db = warden_store::Database::connect(&on(0)).await.unwrap();
    let why = db.read_only().expect("no quorum: read-only").to_string();
    assert!(why.contains("no quorum"), "{why}");
    let ctx =
        warden_service::Ctx::establish(db, warden_core::mapping::Mapping::preset("reference"))
            .await
            .unwrap()
            .with_clock(clock());
    let read = findings::findings(&ctx, FindingsRequest::default())
        .await
        .unwrap()
        .findings;
    assert_eq!(read.len(), open.len(), "reads go on");
    let triage = TriageRequest {
        id: open[0].id.unwrap(),
        action: warden_core::findings::Triage::Ack,
        comment: "seen".into(),
    };
    let refused = findings::triage(&ctx, triage.clone()).await.unwrap_err();
    assert_eq!(
        refused.code(),
        warden_service::ErrorCode::ReadOnly,
        "{refused}"
    );
    let said = refused.to_string();
    assert!(
        said.starts_with("read-only:") && said.contains("no quorum"),
        "{said}"
    );

    // The operator gives the cluster a primary component again (the last node bootstraps
    // it, as after a quorum lost for good): writes resume in the same session, without a
    // restart — the next change asks the hosts again.
    c.bootstrap(0).unwrap();
    findings::triage(&ctx, triage).await.unwrap();
    assert_eq!(ctx.read_only(), None);
    assert!(warden_service::audit::verify(&ctx).await.unwrap().ok);
    ctx.close().await;
}

/// Galera replicates rows by their primary key: every table Warden creates has one.
#[tokio::test]
async fn every_table_warden_creates_has_a_primary_key() {
    let (test_db, db) = fresh().await;
    migrate(&db, &test_db, clock()).await;
    let tables: Vec<(String, i64)> = sqlx::query_as(
        "SELECT CAST(t.TABLE_NAME AS CHAR), \
         CAST(SUM(c.CONSTRAINT_TYPE = 'PRIMARY KEY') AS SIGNED) \
         FROM information_schema.TABLES t LEFT JOIN information_schema.TABLE_CONSTRAINTS c \
         ON c.TABLE_SCHEMA = t.TABLE_SCHEMA AND c.TABLE_NAME = t.TABLE_NAME \
         WHERE t.TABLE_SCHEMA = DATABASE() AND t.TABLE_TYPE = 'BASE TABLE' \
         AND t.TABLE_NAME LIKE 'warden\\_%' GROUP BY t.TABLE_NAME",
    )
    .fetch_all(db.gov())
    .await
    .unwrap();
    assert!(tables.len() >= 15, "{tables:?}");
    let without: Vec<&str> = (tables.iter())
        .filter(|(_, pk)| *pk == 0)
        .map(|(t, _)| t.as_str())
        .collect();
    assert!(
        without.is_empty(),
        "tables without a primary key: {without:?}"
    );
    db.close().await;
}

/// A primary with one GTID replica: when the primary is lost, the replica serves reads —
/// everything decided before the loss is there — and refuses changes as read-only; when
/// the primary returns, writes resume and nothing decided is missing.
#[tokio::test]
async fn a_replica_serves_reads_when_the_primary_is_lost_and_nothing_decided_is_missing() {
    use warden_service::findings::{self, FindingsRequest, TriageRequest};

    let mut pair = warden_sandbox::replica::Pair::start().expect("a primary and a replica");
    // While the primary is up, the replica alone is a read-only host that says how far
    // behind it is.
    let replica_alone = warden_store::Database::connect(
        &warden_store::ConnectSpec::from_url(&format!(
            "mysql://root@localhost/mysql?socket={}",
            pair.replica.socket.display()
        ))
        .unwrap(),
    )
    .await
    .unwrap();
    let lag = replica_alone.read_only().expect("read-only").to_string();
    assert!(lag.contains("s behind its primary"), "{lag}");
    replica_alone.close().await;
    let name = "ha_replica";
    let on = |server: &warden_sandbox::TestServer| {
        warden_store::ConnectSpec::from_url(&format!(
            "mysql://root@localhost/{name}?socket={}",
            server.socket.display()
        ))
        .unwrap()
    };
    pair.primary.create_database(name).await.unwrap();
    let first = warden_store::Database::connect(&on(&pair.primary))
        .await
        .unwrap();
    warden_sandbox::seed::seed(
        &first,
        &warden_sandbox::SeedOptions {
            users: 400,
            log_rows: 500,
            seed: 7,
            ..warden_sandbox::SeedOptions::at(now())
        },
    )
    .await
    .unwrap();
    let opts = setup::MigrateOptions {
        account_prefix: Some(format!("{name}_")),
        grant_target: None,
    };
    setup::migrate(&first, clock(), &opts).await.unwrap();
    let mapping = || warden_core::mapping::Mapping::preset("reference");
    let ctx = warden_service::Ctx::establish(first, mapping())
        .await
        .unwrap()
        .with_clock(clock());
    warden_service::policy::apply(&ctx, warden_sandbox::seed::COMPANY_POLICY, "p.toml", "b")
        .await
        .unwrap();
    findings::check(&ctx, findings::PolicySource::Current)
        .await
        .unwrap();
    let open = findings::findings(&ctx, FindingsRequest::default())
        .await
        .unwrap()
        .findings;
    let triage = |id: u64| TriageRequest {
        id,
        action: warden_core::findings::Triage::Ack,
        comment: "seen before the loss".into(),
    };
    for f in open.iter().take(10) {
        findings::triage(&ctx, triage(f.id.unwrap())).await.unwrap();
    }
    let acknowledged = |list: &[warden_service::findings::FindingView]| {
        list.iter()
            .filter(|f| f.status == warden_core::findings::FindingStatus::Acknowledged)
            .count()
    };
    let before = findings::findings(&ctx, FindingsRequest::default())
        .await
        .unwrap()
        .findings;
    assert_eq!(acknowledged(&before), 10);
    ctx.close().await;
    pair.caught_up().unwrap();

    pair.kill_primary().unwrap();
    let db = warden_store::Database::connect(&on(&pair.replica))
        .await
        .unwrap();
    let why = db.read_only().expect("a replica is read-only").to_string();
    assert!(
        why.contains("a replica whose primary does not answer"),
        "{why}"
    );
    let ctx = warden_service::Ctx::establish(db, mapping())
        .await
        .unwrap()
        .with_clock(clock());
    let read = findings::findings(&ctx, FindingsRequest::default())
        .await
        .unwrap()
        .findings;
    assert_eq!(
        acknowledged(&read),
        10,
        "every decision made before the loss"
    );
    let refused = findings::triage(&ctx, triage(open[10].id.unwrap()))
        .await
        .unwrap_err();
    assert_eq!(
        refused.code(),
        warden_service::ErrorCode::ReadOnly,
        "{refused}"
    );
    ctx.close().await;

    pair.restart_primary().unwrap();
    let db = warden_store::Database::connect(&on(&pair.primary))
        .await
        .unwrap();
    assert_eq!(db.read_only(), None);
    let ctx = warden_service::Ctx::establish(db, mapping())
        .await
        .unwrap()
        .with_clock(clock());
    findings::triage(&ctx, triage(open[10].id.unwrap()))
        .await
        .unwrap();
    let after = findings::findings(&ctx, FindingsRequest::default())
        .await
        .unwrap()
        .findings;
    assert_eq!(
        acknowledged(&after),
        11,
        "nothing missing, the new one added"
    );
    assert!(warden_service::audit::verify(&ctx).await.unwrap().ok);
    ctx.close().await;
}

/// An administrator's transaction on one node, holding a lock an operation of Warden's will
/// wait for: the operation is then in the middle of what it does, at a known point, when the
/// node is killed.
struct Hold {
    _tx: sqlx::pool::PoolConnection<sqlx::MySql>,
    watch: warden_store::Database,
}

impl Hold {
    /// Root on `c`'s node `i` runs `locks` (each with `bind`) in a transaction left open.
    async fn take(c: &Cluster, i: usize, database: &str, locks: &[&str], bind: u64) -> Self {
        let spec = warden_store::ConnectSpec::from_url(&c.nodes[i].root_url(database)).unwrap();
        let db = warden_store::Database::connect(&spec).await.unwrap();
        let mut tx = db.app().acquire().await.unwrap();
        sqlx::query("START TRANSACTION")
            .execute(&mut *tx)
            .await
            .unwrap();
        for lock in locks {
            sqlx::query(lock)
                .bind(bind)
                .execute(&mut *tx)
                .await
                .unwrap();
        }
        Self { _tx: tx, watch: db }
    }

    /// Returns once a statement has been running on the node for a second: waiting for
    /// this hold's lock (Warden's take milliseconds, and nothing else runs here).
    async fn until_waited_for(&self) {
        for _ in 0..12_000 {
            let waiting: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM information_schema.PROCESSLIST \
                 WHERE ID <> CONNECTION_ID() AND INFO IS NOT NULL AND TIME >= 1",
            )
            .fetch_one(self.watch.app())
            .await
            .unwrap();
            if waiting > 0 {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        let running: Vec<(Option<String>, i64)> = sqlx::query_as(
            "SELECT CAST(LEFT(INFO, 80) AS CHAR), CAST(TIME AS SIGNED) \
             FROM information_schema.PROCESSLIST WHERE INFO IS NOT NULL",
        )
        .fetch_all(self.watch.app())
        .await
        .unwrap();
        panic!("nothing came to wait for the lock within a minute: {running:?}");
    }
}

/// Runs `op` until it waits for `hold`, kills node `lost` (`kill -9`) and lets `op` go on:
/// what it answers then.
async fn killed_during<T: std::fmt::Debug>(
    c: &Cluster,
    lost: usize,
    hold: Hold,
    op: impl std::future::Future<Output = T>,
) -> T {
    tokio::pin!(op);
    tokio::select! {
        done = &mut op => panic!("it ended before it waited for the hold: {done:?}"),
        () = hold.until_waited_for() => {}
    }
    c.kill(lost).unwrap();
    drop(hold);
    op.await
}

/// Which of `c`'s nodes `host` (`127.0.0.1:PORT`) is.
fn node_at(c: &Cluster, host: &str) -> usize {
    c.nodes
        .iter()
        .position(|n| host == format!("127.0.0.1:{}", n.port))
        .unwrap_or_else(|| panic!("{host} is none of the cluster's nodes"))
}

/// The trail's last sequence number, read on `db`.
async fn last_seq(db: &warden_store::Database) -> u64 {
    sqlx::query_scalar("SELECT CAST(COALESCE(MAX(seq), 0) AS UNSIGNED) FROM warden_audit_events")
        .fetch_one(db.gov())
        .await
        .unwrap()
}

/// How many audit events of `action` the trail holds, read on `db`.
async fn events_of(db: &warden_store::Database, action: &str) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM warden_audit_events WHERE action = ?")
        .bind(action)
        .fetch_one(db.gov())
        .await
        .unwrap()
}

/// A gap lock above the trail's last event: the next event's INSERT waits for it, after
/// everything else its change wrote.
const HOLD_THE_NEXT_EVENT: &str = "SELECT seq FROM warden_audit_events WHERE seq > ? FOR UPDATE";

/// Issue 18, item 3: `kill -9` of the node Warden is using, in the middle of a bulk decide of
/// 1,000 items, a campaign close, an export and an import — each held at a known point (a
/// lock an administrator holds on that node) so that the kill lands inside it. Warden moves
/// to another node of its host list and makes the interrupted change again, whole: each
/// operation completes; afterwards every decision and audit event exists once, and the
/// trail verifies.
#[tokio::test]
async fn a_node_killed_mid_operation_each_completes_once_on_another_node() {
    use warden_core::review::{ReviewerRule, Verdict};
    use warden_service::reviews::{self, DecideRequest, ItemsRequest, ReassignRequest};

    let _turn = TURN.lock().await;
    // A cluster of its own: this test kills nodes.
    let c = Cluster::start(3).expect("a Galera cluster of three nodes");
    let name = "ha_loss";
    c.create_database(name).await.unwrap();
    let first = warden_store::Database::connect(
        &warden_store::ConnectSpec::from_url(&c.nodes[0].root_url(name)).unwrap(),
    )
    .await
    .unwrap();
    warden_sandbox::seed::seed(
        &first,
        &warden_sandbox::SeedOptions {
            users: 1_150,
            log_rows: 100,
            seed: 7,
            ..warden_sandbox::SeedOptions::at(now())
        },
    )
    .await
    .unwrap();
    let opts = setup::MigrateOptions {
        account_prefix: Some(format!("{name}_")),
        grant_target: Some(
            warden_core::mapping::Mapping::preset("reference")
                .unwrap()
                .grant_target(),
        ),
    };
    setup::migrate(&first, clock(), &opts).await.unwrap();
    // The officer signs in over TCP with the cluster's three nodes as their host list.
    let root = warden_service::Ctx::establish(first, None).await.unwrap();
    let added = setup::add_console_user(
        &root,
        setup::AddConsoleUser {
            login: OFFICER.into(),
            role: warden_core::console::ConsoleRole::Officer,
            host: Some("127.0.0.1".into()),
        },
    )
    .await
    .unwrap();
    root.close().await;
    let hosts: Vec<String> = (c.nodes.iter())
        .map(|n| format!("127.0.0.1:{}", n.port))
        .collect();
    let mut spec = warden_store::ConnectSpec::from_url(&format!(
        "mysql://{name}_{}@{}/{name}",
        warden_core::console::identity(OFFICER),
        hosts.join(",")
    ))
    .unwrap();
    first_sign_in(&spec, OFFICER, &added.initial_password.unwrap()).await;
    spec.password = Some(password_of(OFFICER));
    let ctx = warden_service::Ctx::establish(
        warden_store::Database::connect(&spec).await.unwrap(),
        warden_core::mapping::Mapping::preset("reference"),
    )
    .await
    .unwrap()
    .with_clock(clock());
    let watch = warden_store::Database::connect(&spec).await.unwrap();
    warden_service::policy::apply(&ctx, warden_sandbox::seed::COMPANY_POLICY, "p.toml", "b")
        .await
        .unwrap();

    // A campaign over every grant, all of it the officer's to review: 1,000 items for the
    // bulk decide, 20 left undecided for the close to revoke, the rest kept beforehand.
    let campaign = reviews::start(
        &ctx,
        reviews::StartRequest {
            name: "through node loss".into(),
            due: day(30),
            scope: reviews::Scope::default(),
            reviewer: ReviewerRule::Manager,
            fallback: OFFICER.into(),
            undecided: Verdict::Revoke,
        },
    )
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
    assert!(items.len() > 1_050, "{} items", items.len());
    let ids: Vec<u64> = items.iter().map(|i| i.id).collect();
    reviews::reassign(
        &ctx,
        ReassignRequest {
            items: ids.clone(),
            to: OFFICER.into(),
            comment: "all mine".into(),
        },
    )
    .await
    .unwrap();
    let (bulk, rest) = ids.split_at(1_000);
    let (kept, left) = rest.split_at(rest.len() - 20);
    let decide = |items: &[u64], key: &str| DecideRequest {
        items: items.to_vec(),
        decision: Verdict::Keep,
        comment: "still needed".into(),
        key: key.into(),
    };
    reviews::decide(&ctx, decide(kept, "kept")).await.unwrap();

    // 1. The bulk decide: all 1,000 decisions written, its event waiting, when the node dies.
    let lost = node_at(&c, &ctx.host());
    let hold = Hold::take(
        &c,
        lost,
        name,
        &[HOLD_THE_NEXT_EVENT],
        last_seq(&watch).await,
    )
    .await;
    let decided = killed_during(&c, lost, hold, async {
        reviews::decide(&ctx, decide(bulk, "bulk")).await
    })
    .await;
    let decided = decided.expect("the bulk decide completes on another node");
    assert_eq!(decided.decided.len(), 1_000);
    assert_ne!(node_at(&c, &ctx.host()), lost, "moved to another node");
    c.restart(lost).unwrap();
    watch.reconnect().await.unwrap();

    // 2. The close: the default given, two users' revocations made, the third's waiting for
    // its grant rows when the node dies (revocations go user by user, by user id).
    let logins: Vec<&str> = (items.iter())
        .filter(|i| left.contains(&i.id))
        .map(|i| i.login.as_str())
        .collect();
    let mut users: Vec<u64> = Vec::new();
    for login in &logins {
        let id: u64 = sqlx::query_scalar("SELECT id FROM staff_users WHERE login = ?")
            .bind(login)
            .fetch_one(watch.app())
            .await
            .unwrap();
        users.push(id);
    }
    users.sort_unstable();
    users.dedup();
    assert!(users.len() >= 3, "{} users to remediate", users.len());
    let lost = node_at(&c, &ctx.host());
    let hold = Hold::take(
        &c,
        lost,
        name,
        &[
            "SELECT role_id FROM user_roles WHERE user_id = ? FOR UPDATE",
            "SELECT permission_id FROM user_permissions WHERE user_id = ? FOR UPDATE",
        ],
        users[2],
    )
    .await;
    let closed = killed_during(&c, lost, hold, async {
        reviews::close(&ctx, campaign, false).await
    })
    .await;
    let closed = closed.expect("the close completes on another node");
    assert_eq!(closed.revocations.len(), 20);
    assert_ne!(node_at(&c, &ctx.host()), lost);
    c.restart(lost).unwrap();
    watch.reconnect().await.unwrap();

    // 3. An export: its files staged, its event waiting, when the node dies.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("access.csv");
    let lost = node_at(&c, &ctx.host());
    let hold = Hold::take(
        &c,
        lost,
        name,
        &[HOLD_THE_NEXT_EVENT],
        last_seq(&watch).await,
    )
    .await;
    let progress = warden_service::export::Progress::default();
    let exported = killed_during(&c, lost, hold, async {
        warden_service::export::access(&ctx, &out, false, &progress).await
    })
    .await;
    let exported = exported.expect("the export completes on another node");
    assert_ne!(node_at(&c, &ctx.host()), lost);
    assert!(warden_service::export::verify(&out).unwrap().ok);
    let left_behind: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n != "access.csv" && n != "access.csv.manifest.json")
        .collect();
    assert!(left_behind.is_empty(), "{left_behind:?}");
    c.restart(lost).unwrap();
    watch.reconnect().await.unwrap();

    // 4. An import of 100,000 audit-log lines: some chunks committed, the next one's
    // checkpoint waiting, when the node dies.
    const LINES: u64 = 100_000;
    let log = dir.path().join("server_audit.log");
    write_server_audit(&log, LINES);
    let lost = node_at(&c, &ctx.host());
    let progress = std::sync::Arc::new(warden_service::logs::Progress::default());
    let ingested = {
        let ingest = warden_service::logs::ingest_with(&ctx, "server-audit", &log, progress);
        tokio::pin!(ingest);
        // Held once its first chunk is in: the file's row locked, the next chunk's checkpoint
        // waits for it.
        let hold = tokio::select! {
            done = &mut ingest => panic!("the import ended before it was held: {done:?}"),
            hold = async {
                loop {
                    let through: Option<u64> =
                        sqlx::query_scalar("SELECT through_line FROM warden_db_audit_files")
                            .fetch_optional(watch.gov())
                            .await
                            .unwrap();
                    match through {
                        Some(line) if line > 0 => break,
                        _ => tokio::time::sleep(std::time::Duration::from_millis(2)).await,
                    }
                }
                Hold::take(
                    &c,
                    lost,
                    name,
                    &["SELECT through_line FROM warden_db_audit_files WHERE id > ? FOR UPDATE"],
                    0,
                )
                .await
            } => hold,
        };
        let held: u64 = sqlx::query_scalar("SELECT through_line FROM warden_db_audit_files")
            .fetch_one(hold.watch.gov())
            .await
            .unwrap();
        assert!(held < LINES, "the import ended before it was held");
        killed_during(&c, lost, hold, ingest).await
    };
    let ingested = ingested.expect("the import completes on another node");
    assert_eq!(ingested.through_line, LINES);
    assert_ne!(node_at(&c, &ctx.host()), lost);
    c.restart(lost).unwrap();
    watch.reconnect().await.unwrap();

    // Every decision and audit event once; the trail one chain.
    let (decisions, distinct): (i64, i64) = sqlx::query_as(
        "SELECT COUNT(*), COUNT(DISTINCT id) FROM warden_review_items \
         WHERE campaign_id = ? AND decision IS NOT NULL",
    )
    .bind(campaign)
    .fetch_one(watch.gov())
    .await
    .unwrap();
    assert_eq!((decisions, distinct), (ids.len() as i64, ids.len() as i64));
    let in_events: Vec<String> = sqlx::query_scalar(
        "SELECT CAST(JSON_EXTRACT(details, '$.items') AS CHAR) FROM warden_audit_events \
         WHERE action = 'review.decide'",
    )
    .fetch_all(watch.gov())
    .await
    .unwrap();
    let mut recorded: Vec<u64> = in_events
        .iter()
        .flat_map(|items| serde_json::from_str::<Vec<u64>>(items).unwrap())
        .collect();
    let all = recorded.len();
    recorded.sort_unstable();
    recorded.dedup();
    assert_eq!(all, recorded.len(), "no item decided in two events");
    assert_eq!(all, kept.len() + bulk.len());
    assert_eq!(events_of(&watch, "review.default").await, 1);
    assert_eq!(
        events_of(&watch, "review.remediate").await,
        users.len() as i64
    );
    assert_eq!(events_of(&watch, "review.close").await, 1);
    assert_eq!(events_of(&watch, "export.access").await, 1);
    assert_eq!(events_of(&watch, "logs.ingest").await, 1);
    let names_it: i64 = sqlx::query_scalar(
        "SELECT CAST(JSON_EXTRACT(details, '$.sha256') AS CHAR) = ? FROM warden_audit_events \
         WHERE action = 'export.access'",
    )
    .bind(format!("\"{}\"", exported.sha256))
    .fetch_one(watch.gov())
    .await
    .unwrap();
    assert_eq!(names_it, 1, "the export's event names the file placed");
    let (blocks_events, lines): (i64, i64) = sqlx::query_as(
        "SELECT CAST(SUM(events) AS SIGNED), CAST(SUM(last_line - first_line + 1) AS SIGNED) \
         FROM warden_db_audit_blocks",
    )
    .fetch_one(watch.gov())
    .await
    .unwrap();
    assert_eq!(blocks_events, LINES as i64, "every line imported once");
    assert_eq!(lines, LINES as i64, "no line in two blocks");
    let verified = warden_service::audit::verify(&ctx).await.unwrap();
    assert!(verified.ok, "{verified:?}");
    watch.close().await;
    ctx.close().await;
}

/// A server_audit log of `lines` query events, one a second.
fn write_server_audit(file: &std::path::Path, lines: u64) {
    use std::io::Write;
    let mut w = std::io::BufWriter::new(std::fs::File::create(file).unwrap());
    for i in 0..lines {
        writeln!(
            w,
            "20261128 {:02}:{:02}:{:02},db1,app{},10.0.{}.{},{},{},QUERY,crm,'SELECT name FROM customers WHERE id = {}',0",
            (i / 3600) % 24,
            (i / 60) % 60,
            i % 60,
            i % 50,
            i % 250,
            i % 200,
            1000 + i % 5000,
            i,
            i
        )
        .unwrap();
    }
    w.flush().unwrap();
}
