//! Warden's own tables (prefix `warden_`): migrations, console users, and the audit trail
//! that every change appends to inside the change's own transaction.

use chrono::{DateTime, NaiveDateTime, Utc};
use sqlx::migrate::Migrator;
use sqlx::{MySql, MySqlConnection, Transaction};
use warden_core::audit::AuditEvent;
use warden_core::console::ConsoleRole;

use crate::connect::Database;
use crate::error::{Error, Result};

/// Warden's migrations, embedded at build time. They are only ever appended to.
static MIGRATOR: Migrator = sqlx::migrate!("../../migrations/governance");

/// What `warden migrate` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationReport {
    pub applied: Vec<i64>,
    pub already: Vec<i64>,
}

/// Who is migrating this database: a row in `warden_migration_claim`, taken by inserting
/// it. Unlike `GET_LOCK`, which is local to one node of a Galera cluster, a row replicates:
/// two runs started on two nodes at once cannot both insert it (one gets a duplicate key,
/// or fails certification), so one migrates and the other waits for it, then finds
/// everything applied. A claim left by a run that died is taken over after ten minutes
/// without a sign of life (the server's clock, UTC); a live run renews it before each
/// migration ([`MigrationClaim::hold`]) and stops if it was taken over.
pub struct MigrationClaim {
    holder: String,
}

/// How long a run waits for another's claim before it gives up.
const CLAIM_WAIT: std::time::Duration = std::time::Duration::from_secs(120);

impl MigrationClaim {
    pub async fn take(db: &Database) -> Result<Self> {
        sqlx::query(
            "CREATE TABLE IF NOT EXISTS warden_migration_claim (
                id          TINYINT UNSIGNED NOT NULL PRIMARY KEY,
                holder      VARCHAR(200)     NOT NULL,
                claimed_at  DATETIME(6)      NOT NULL
            ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
        )
        .execute(db.gov())
        .await?;
        let holder: String = sqlx::query_scalar(
            "SELECT CAST(CONCAT(@@hostname, ':', @@port, ':', CONNECTION_ID(), ':', UUID()) AS CHAR)",
        )
        .fetch_one(db.gov())
        .await?;
        let started = std::time::Instant::now();
        let mut pause = std::time::Duration::from_millis(20);
        loop {
            sqlx::query(
                "DELETE FROM warden_migration_claim \
                 WHERE id = 1 AND claimed_at < UTC_TIMESTAMP(6) - INTERVAL 10 MINUTE",
            )
            .execute(db.gov())
            .await?;
            let taken = sqlx::query(
                "INSERT INTO warden_migration_claim (id, holder, claimed_at) \
                 VALUES (1, ?, UTC_TIMESTAMP(6))",
            )
            .bind(&holder)
            .execute(db.gov())
            .await;
            match taken {
                Ok(_) => return Ok(Self { holder }),
                Err(e) if is_contention(&e) => {}
                Err(e) => return Err(e.into()),
            }
            if started.elapsed() > CLAIM_WAIT {
                return Err(Error::Conflict(
                    "another `warden migrate` has been running on this database for two \
                     minutes; retry when it is done"
                        .into(),
                ));
            }
            // Another run holds the claim: wait for it to finish, a little longer each time.
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(std::time::Duration::from_millis(500));
        }
    }

    /// Renews the claim, or says it was lost (taken over after ten minutes without a sign
    /// of life): the run stops before its next migration.
    pub async fn hold(&self, db: &Database) -> Result<()> {
        let renewed = sqlx::query(
            "UPDATE warden_migration_claim SET claimed_at = UTC_TIMESTAMP(6) \
             WHERE id = 1 AND holder = ?",
        )
        .bind(&self.holder)
        .execute(db.gov())
        .await?
        .rows_affected();
        if renewed == 0 {
            return Err(Error::Conflict(
                "this run's claim on Warden's migrations was taken over by another run (it \
                 went ten minutes without a sign of life): stopped before the next migration; \
                 run `warden migrate` again"
                    .into(),
            ));
        }
        Ok(())
    }

    /// Gives the claim back.
    pub async fn release(self, db: &Database) -> Result<()> {
        sqlx::query("DELETE FROM warden_migration_claim WHERE id = 1 AND holder = ?")
            .bind(&self.holder)
            .execute(db.gov())
            .await?;
        Ok(())
    }
}

/// A duplicate key (the claim is held) or a conflict with a concurrent transaction (Galera's
/// certification, InnoDB's deadlock or lock wait).
fn is_contention(e: &sqlx::Error) -> bool {
    let code = e
        .as_database_error()
        .and_then(|d| d.try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>())
        .map(|m| m.number());
    matches!(code, Some(1062 | 1213 | 1205))
}

/// Applies Warden's migrations that are not applied yet.
///
/// Bookkeeping lives in `warden_schema_migrations` (not sqlx's `_sqlx_migrations`, so
/// nothing of Warden's can clash with an application that also uses sqlx). The caller holds
/// the [`MigrationClaim`], so two runs never interleave, on one server or on a cluster; a
/// checksum mismatch of an applied migration is refused, since migrations must never be
/// edited once landed. Each applied migration is recorded as applied `at`.
pub async fn migrate(
    db: &Database,
    claim: &MigrationClaim,
    at: NaiveDateTime,
) -> Result<MigrationReport> {
    let mut conn = db.gov().acquire().await?;
    migrate_locked(db, claim, &mut conn, at).await
}

async fn migrate_locked(
    db: &Database,
    claim: &MigrationClaim,
    conn: &mut MySqlConnection,
    at: NaiveDateTime,
) -> Result<MigrationReport> {
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS warden_schema_migrations (
            version      BIGINT       NOT NULL PRIMARY KEY,
            description  VARCHAR(300) NOT NULL,
            checksum     CHAR(96)     NOT NULL,
            applied_at   DATETIME(6)  NOT NULL
        ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
    )
    .execute(&mut *conn)
    .await?;
    let applied: Vec<(i64, String)> =
        sqlx::query_as("SELECT version, checksum FROM warden_schema_migrations")
            .fetch_all(&mut *conn)
            .await?;
    let mut report = MigrationReport {
        applied: Vec::new(),
        already: Vec::new(),
    };
    for migration in MIGRATOR.iter() {
        let checksum = hex_encode(&migration.checksum);
        if let Some((_, have)) = applied.iter().find(|(v, _)| *v == migration.version) {
            if *have != checksum {
                return Err(Error::Conflict(format!(
                    "migration {} ({}) was changed after it was applied to this database; \
                     migrations may only be appended",
                    migration.version, migration.description
                )));
            }
            report.already.push(migration.version);
            continue;
        }
        // Still this run's to make (a run past ten minutes may have lost its claim).
        claim.hold(db).await?;
        // DDL commits implicitly in MySQL, so each statement runs on its own; the migration
        // is recorded once all of them succeeded.
        sqlx::raw_sql(&migration.sql).execute(&mut *conn).await?;
        sqlx::query(
            "INSERT INTO warden_schema_migrations (version, description, checksum, applied_at) \
             VALUES (?, ?, ?, ?)",
        )
        .bind(migration.version)
        .bind(migration.description.as_ref())
        .bind(checksum)
        .bind(at)
        .execute(&mut *conn)
        .await?;
        report.applied.push(migration.version);
    }
    Ok(report)
}

fn hex_encode(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether Warden's tables exist in the governance schema.
pub async fn is_migrated(db: &Database) -> Result<bool> {
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM information_schema.TABLES \
         WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'warden_console_users'",
    )
    .fetch_one(db.gov())
    .await?;
    Ok(n > 0)
}

/// The console role of an active console user, by login (in its identity form).
pub async fn console_role(db: &Database, login: &str) -> Result<Option<ConsoleRole>> {
    if !is_migrated(db).await? {
        return Err(Error::NotMigrated);
    }
    Ok(sqlx::query_scalar(
        "SELECT role FROM warden_console_users WHERE login_key = ? AND locked_at IS NULL",
    )
    .bind(warden_core::console::identity(login))
    .fetch_optional(db.gov())
    .await?)
}

/// A change being made: one transaction that ends with its audit event. It happens at one
/// moment, given by the caller's clock: every time it writes, its event's included.
pub struct Change<'a> {
    db: &'a Database,
    tx: Transaction<'a, MySql>,
    actor: String,
    at: DateTime<Utc>,
}

impl<'a> Change<'a> {
    /// Starts a change on Warden's tables, made by `actor` at `at`.
    pub async fn begin(db: &'a Database, actor: &str, at: DateTime<Utc>) -> Result<Self> {
        // No host took writes when last chosen: one may now (a primary back, quorum
        // regained), so the hosts are asked again; if none does, say so, and which hosts
        // were tried, before anything starts.
        if db.read_only().is_some() {
            if let Err(e) = db.reconnect().await {
                tracing::debug!(error = %e, "no host answered again");
            }
            if let Some(why) = db.read_only() {
                return Err(Error::ReadOnly {
                    target: db.target().to_string(),
                    reason: why,
                });
            }
        }
        let tx = db.gov().begin().await?;
        let mut change = Self {
            db,
            tx,
            actor: actor.to_string(),
            at,
        };
        // Lock the head of the audit chain first: every change is serialized behind it, so
        // the checks a change makes (is there an officer yet?) cannot race another change.
        sqlx::query("SELECT seq FROM warden_audit_head WHERE id = 1 FOR UPDATE")
            .execute(&mut *change.tx)
            .await?;
        Ok(change)
    }

    /// The same change, made by `actor` (the first officer, recorded inside it).
    pub fn acting_as(mut self, actor: &str) -> Self {
        self.actor = actor.to_string();
        self
    }

    pub fn conn(&mut self) -> &mut MySqlConnection {
        &mut self.tx
    }

    /// The database (borrowed for the change's lifetime, not the call's).
    pub fn db(&self) -> &'a Database {
        self.db
    }

    pub fn actor(&self) -> &str {
        &self.actor
    }

    /// The moment of the change, as Warden's tables hold times (UTC, no zone).
    pub fn at(&self) -> NaiveDateTime {
        self.at.naive_utc()
    }

    /// Appends the audit event and commits the change with it.
    pub async fn commit(
        self,
        action: &str,
        target: &str,
        details: serde_json::Value,
    ) -> Result<AuditEvent> {
        Ok(self.commit_chained(action, target, details).await?.0)
    }

    /// [`Change::commit`], answering the event with its previous hash and its hash (for
    /// evidence that carries the event itself).
    pub async fn commit_chained(
        mut self,
        action: &str,
        target: &str,
        details: serde_json::Value,
    ) -> Result<warden_core::audit::StoredEvent> {
        let event = self.append(action, target, details).await?;
        self.finish().await?;
        Ok(event)
    }

    /// Commits a change whose event [`Change::append`] wrote.
    pub async fn finish(self) -> Result<()> {
        Ok(self.tx.commit().await?)
    }

    /// Writes the change's audit event without committing it yet: for a change whose
    /// evidence carries its own event (a campaign's sign-off), made durable first and only
    /// then committed with [`Change::finish`]; dropped instead, nothing is recorded.
    ///
    /// The server keeps the chain: this sends the event with its canonical body, and the
    /// trail's trigger (`warden migrate`) checks that it extends the head and names the
    /// account that connected, stamps that account, hashes it and advances the head. The
    /// head is read back: if it did not move, the trigger is missing; if the server's hash
    /// is not the one `audit verify` will recompute, the two disagree on the bytes hashed.
    /// Either way nothing is kept.
    pub async fn append(
        &mut self,
        action: &str,
        target: &str,
        details: serde_json::Value,
    ) -> Result<warden_core::audit::StoredEvent> {
        let (seq, prev): (u64, String) =
            sqlx::query_as("SELECT seq, hash FROM warden_audit_head WHERE id = 1 FOR UPDATE")
                .fetch_one(&mut *self.tx)
                .await?;
        let db_account: String = sqlx::query_scalar("SELECT CAST(SESSION_USER() AS CHAR)")
            .fetch_one(&mut *self.tx)
            .await?;
        let event = AuditEvent {
            seq: seq + 1,
            occurred_at: self.at,
            actor: self.actor.clone(),
            db_account,
            action: action.to_string(),
            target: target.to_string(),
            details,
        };
        // The column wants a value; the trigger replaces it with the server's.
        let expected = event.chain_hash(&prev);
        sqlx::query(
            "INSERT INTO warden_audit_events \
             (seq, occurred_at, actor, db_account, action, target, details, prev_hash, hash, body) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(event.seq)
        .bind(event.occurred_at.naive_utc())
        .bind(&event.actor)
        .bind(&event.db_account)
        .bind(&event.action)
        .bind(&event.target)
        .bind(event.details.to_string())
        .bind(&prev)
        .bind(&expected)
        .bind(event.canonical())
        .execute(&mut *self.tx)
        .await?;
        let (head_seq, hash): (u64, String) =
            sqlx::query_as("SELECT seq, hash FROM warden_audit_head WHERE id = 1")
                .fetch_one(&mut *self.tx)
                .await?;
        if head_seq != event.seq {
            return Err(Error::Database(
                "the audit trail's chain trigger is missing: an administrator runs `warden migrate`"
                    .into(),
            ));
        }
        if hash != expected {
            // On a Galera cluster another node's write set may reach the head while this
            // change holds it (the lock is the node's own): the server then chained this
            // event after another previous hash. A concurrent change won; nothing is kept,
            // and the change is made again whole.
            let chained_after: Option<String> =
                sqlx::query_scalar("SELECT prev_hash FROM warden_audit_events WHERE seq = ?")
                    .bind(event.seq)
                    .fetch_optional(&mut *self.tx)
                    .await?;
            if chained_after.as_deref() != Some(prev.as_str()) {
                return Err(Error::Contended(
                    "another change reached the audit trail's head at the same time; retry".into(),
                ));
            }
            return Err(Error::Database(format!(
                "the server hashed audit event {} differently from Warden; nothing was kept",
                event.seq
            )));
        }
        Ok((event, prev, hash))
    }
}

/// Within a change: how many active officers there are.
pub async fn officer_count(change: &mut Change<'_>) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "SELECT COUNT(*) FROM warden_console_users WHERE role = 'officer' AND locked_at IS NULL",
    )
    .fetch_one(change.conn())
    .await?)
}

/// Within a change: an active console user's current role (logins compare in their
/// identity form, as the binary-collated `login_key` holds them).
pub async fn role_in_change(change: &mut Change<'_>, login: &str) -> Result<Option<ConsoleRole>> {
    Ok(sqlx::query_scalar(
        "SELECT role FROM warden_console_users WHERE login_key = ? AND locked_at IS NULL",
    )
    .bind(warden_core::console::identity(login))
    .fetch_optional(change.conn())
    .await?)
}

/// The audit trail's events in order, each passed to `each` as it arrives (constant
/// memory whatever the trail's length).
pub async fn stream_audit_events(
    db: &Database,
    mut each: impl FnMut(&AuditEvent, &str) -> std::io::Result<()>,
) -> Result<u64> {
    use futures_util::TryStreamExt;
    let mut rows = sqlx::query_as::<_, AuditRow>(AUDIT_EVENTS).fetch(db.gov());
    let mut n = 0;
    while let Some(row) = rows.try_next().await? {
        let (event, _, hash) = audit_event(row)?;
        each(&event, &hash).map_err(|e| Error::Input(format!("writing the export: {e}")))?;
        n += 1;
    }
    Ok(n)
}

/// The trail read for verification in one consistent snapshot (its head, the routine calls
/// and every event as of one moment, whatever is appended meanwhile), events streamed in
/// order (constant memory whatever the trail's length).
pub struct TrailSnapshot {
    conn: sqlx::pool::PoolConnection<MySql>,
}

impl TrailSnapshot {
    pub async fn begin(db: &Database) -> Result<Self> {
        use sqlx::Executor;
        let mut conn = db.gov().acquire().await?;
        conn.execute("START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY")
            .await?;
        Ok(Self { conn })
    }

    /// The head Warden recorded with the last event it appended.
    pub async fn head(&mut self) -> Result<(u64, String)> {
        Ok(
            sqlx::query_as("SELECT seq, hash FROM warden_audit_head WHERE id = 1")
                .fetch_one(&mut *self.conn)
                .await?,
        )
    }

    /// Every recorded call of Warden's definer routines, in order.
    pub async fn routine_calls(&mut self) -> Result<Vec<warden_core::routine_calls::RoutineCall>> {
        let rows: Vec<(u64, String, String, String, u64)> = sqlx::query_as(
            "SELECT id, CAST(routine AS CHAR), CAST(db_account AS CHAR), CAST(subject AS CHAR), \
             head_seq FROM warden_routine_calls ORDER BY id",
        )
        .fetch_all(&mut *self.conn)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, routine, db_account, subject, head_seq)| {
                warden_core::routine_calls::RoutineCall {
                    id,
                    routine,
                    db_account,
                    subject,
                    head_seq,
                }
            })
            .collect())
    }

    /// Every event in order, each with its stored previous hash and hash, to `each`.
    pub async fn events(&mut self, mut each: impl FnMut(&AuditEvent, &str, &str)) -> Result<u64> {
        use futures_util::TryStreamExt;
        let mut rows = sqlx::query_as::<_, AuditRow>(AUDIT_EVENTS).fetch(&mut *self.conn);
        let mut n = 0;
        while let Some(row) = rows.try_next().await? {
            let (event, previous, hash) = audit_event(row)?;
            each(&event, &previous, &hash);
            n += 1;
        }
        Ok(n)
    }

    pub async fn end(mut self) -> Result<()> {
        use sqlx::Executor;
        self.conn.execute("COMMIT").await?;
        Ok(())
    }
}

/// Which audit events to list: each filter optional; `before` the previous page's last
/// sequence number.
#[derive(Debug, Clone, Default)]
pub struct AuditSearch {
    /// Actions starting with this (`review.` lists every review action).
    pub action: Option<String>,
    pub actor: Option<String>,
    /// Targets containing this text.
    pub target: Option<String>,
    pub since: Option<chrono::NaiveDateTime>,
    pub until: Option<chrono::NaiveDateTime>,
    pub before: Option<u64>,
    pub limit: u32,
}

/// One page of audit events matching `s`, newest first, by keyset on the sequence number.
pub async fn search_audit_events(
    db: &Database,
    s: &AuditSearch,
) -> Result<Vec<warden_core::audit::StoredEvent>> {
    let mut qb = sqlx::QueryBuilder::<MySql>::new(
        "SELECT seq, occurred_at, actor, db_account, action, target, details, prev_hash, hash \
         FROM warden_audit_events WHERE 1 = 1",
    );
    let like = crate::mapped::like_literal;
    if let Some(a) = &s.action {
        qb.push(" AND action LIKE ")
            .push_bind([&like(a), "%"].concat())
            .push(crate::mapped::LIKE_ESCAPE);
    }
    if let Some(a) = &s.actor {
        qb.push(" AND actor = ").push_bind(a.clone());
    }
    if let Some(t) = &s.target {
        qb.push(" AND target LIKE ")
            .push_bind(["%", &like(t), "%"].concat())
            .push(crate::mapped::LIKE_ESCAPE);
    }
    if let Some(t) = s.since {
        qb.push(" AND occurred_at >= ").push_bind(t);
    }
    if let Some(t) = s.until {
        qb.push(" AND occurred_at < ").push_bind(t);
    }
    if let Some(b) = s.before {
        qb.push(" AND seq < ").push_bind(b);
    }
    qb.push(" ORDER BY seq DESC LIMIT ").push_bind(s.limit);
    let rows: Vec<AuditRow> = qb.build_query_as().fetch_all(db.gov()).await?;
    rows.into_iter().map(audit_event).collect()
}

/// The query behind [`audit_events`] and [`stream_audit_events`].
pub const AUDIT_EVENTS: &str = "SELECT seq, occurred_at, actor, db_account, action, target, \
     details, prev_hash, hash FROM warden_audit_events ORDER BY seq";

type AuditRow = (
    u64,
    chrono::NaiveDateTime,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
);

fn audit_event(
    (seq, at, actor, db_account, action, target, details, prev, hash): AuditRow,
) -> Result<warden_core::audit::StoredEvent> {
    let details = serde_json::from_str(&details)
        .map_err(|e| Error::Database(format!("audit event {seq}: details: {e}")))?;
    Ok((
        AuditEvent {
            seq,
            occurred_at: at.and_utc(),
            actor,
            db_account,
            action,
            target,
            details,
        },
        prev,
        hash,
    ))
}

/// Who the server is and where it stands: `@@server_uuid` (MySQL only), `@@server_id`,
/// `@@version`, and the GTID position (MySQL's `@@gtid_executed`, MariaDB's
/// `@@gtid_current_pos`); what a server lacks is None.
pub async fn server_identity(db: &Database) -> Result<warden_core::export::Source> {
    let (server_id, version): (Option<u64>, String) =
        sqlx::query_as("SELECT CAST(@@server_id AS UNSIGNED), CAST(@@version AS CHAR)")
            .fetch_one(db.app())
            .await?;
    let optional = |sql: &'static str| async move {
        sqlx::query_scalar::<_, Option<String>>(sql)
            .fetch_one(db.app())
            .await
            .ok()
            .flatten()
            .filter(|s| !s.is_empty())
    };
    let server_uuid = optional("SELECT CAST(@@server_uuid AS CHAR)").await;
    let position = match optional("SELECT CAST(@@gtid_executed AS CHAR)").await {
        Some(p) => Some(p),
        None => optional("SELECT CAST(@@gtid_current_pos AS CHAR)").await,
    };
    Ok(warden_core::export::Source {
        server_uuid,
        server_id,
        version,
        position,
    })
}

/// The sequence number and hash of the last event Warden appended.
pub async fn audit_head(db: &Database) -> Result<(u64, String)> {
    Ok(
        sqlx::query_as("SELECT seq, hash FROM warden_audit_head WHERE id = 1")
            .fetch_one(db.gov())
            .await?,
    )
}

/// The stored hash of event `seq`, if there is one.
pub async fn event_hash(db: &Database, seq: u64) -> Result<Option<String>> {
    Ok(
        sqlx::query_scalar("SELECT hash FROM warden_audit_events WHERE seq = ?")
            .bind(seq)
            .fetch_optional(db.gov())
            .await?,
    )
}

/// The audit trail in order (for verification and display).
pub async fn audit_events(db: &Database) -> Result<Vec<warden_core::audit::StoredEvent>> {
    let rows: Vec<AuditRow> = sqlx::query_as(AUDIT_EVENTS).fetch_all(db.gov()).await?;
    rows.into_iter().map(audit_event).collect()
}

/// A stored policy version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyVersion {
    pub version: u32,
    pub sha256: String,
    pub author: String,
    pub comment: String,
    pub applied_at: chrono::NaiveDateTime,
    /// The document; empty in listings.
    pub body: String,
}

type PolicyRow = (u32, String, String, String, chrono::NaiveDateTime, String);

fn policy_from_row(
    (version, sha256, author, comment, applied_at, body): PolicyRow,
) -> PolicyVersion {
    PolicyVersion {
        version,
        sha256,
        author,
        comment,
        applied_at,
        body,
    }
}

/// Within a change: stores a new policy version after the newest; returns its number.
pub async fn insert_policy_version(
    change: &mut Change<'_>,
    body: &str,
    sha256: &str,
    comment: &str,
) -> Result<u32> {
    let actor = change.actor.clone();
    let newest: Option<u32> = sqlx::query_scalar("SELECT MAX(version) FROM warden_policy_versions")
        .fetch_one(change.conn())
        .await?;
    let version = newest.unwrap_or(0) + 1;
    sqlx::query(
        "INSERT INTO warden_policy_versions (version, body, sha256, author, comment, applied_at) \
         VALUES (?, ?, ?, ?, ?, ?)",
    )
    .bind(version)
    .bind(body)
    .bind(sha256)
    .bind(actor)
    .bind(comment)
    .bind(change.at())
    .execute(change.conn())
    .await?;
    Ok(version)
}

/// One version with its body (the newest when `version` is None).
pub async fn policy_version(db: &Database, version: Option<u32>) -> Result<Option<PolicyVersion>> {
    let row: Option<PolicyRow> = match version {
        Some(v) => {
            sqlx::query_as(
                "SELECT version, sha256, author, comment, applied_at, body \
             FROM warden_policy_versions WHERE version = ?",
            )
            .bind(v)
            .fetch_optional(db.gov())
            .await
        }
        None => {
            sqlx::query_as(
                "SELECT version, sha256, author, comment, applied_at, body \
             FROM warden_policy_versions ORDER BY version DESC LIMIT 1",
            )
            .fetch_optional(db.gov())
            .await
        }
    }?;
    match row.map(policy_from_row) {
        Some(p) => Ok(Some(attested(db, p).await?)),
        None => Ok(None),
    }
}

/// A stored policy version as it was applied: its text still hashes to the SHA-256 stored
/// beside it and to the one its `policy.apply` event recorded in the trail. Policy
/// versions are INSERT-only for every console role; only an administrator could rewrite
/// one, and then Warden judges nothing against it.
async fn attested(db: &Database, p: PolicyVersion) -> Result<PolicyVersion> {
    let actual = warden_core::policy::sha256(&p.body);
    let recorded: Option<(u64, String)> = sqlx::query_as(
        "SELECT seq, details FROM warden_audit_events \
         WHERE action = 'policy.apply' AND target = ? ORDER BY seq DESC LIMIT 1",
    )
    .bind(format!("policy v{}", p.version))
    .fetch_optional(db.gov())
    .await?;
    let in_trail = recorded.as_ref().and_then(|(_, details)| {
        serde_json::from_str::<serde_json::Value>(details)
            .ok()
            .and_then(|d| d["sha256"].as_str().map(str::to_string))
    });
    let problem = match (&in_trail, recorded.as_ref()) {
        (None, _) => Some("the audit trail holds no `policy.apply` event for it".to_string()),
        (Some(t), Some((seq, _))) if *t != actual || p.sha256 != actual => Some(format!(
            "its text no longer hashes to the SHA-256 audit event {seq} recorded when it was applied"
        )),
        _ => None,
    };
    match problem {
        Some(why) => Err(Error::Database(format!(
            "policy v{} was changed after it was applied ({why}); nothing is judged against \
             it: run `warden audit verify` and have an administrator look at \
             warden_policy_versions",
            p.version
        ))),
        None => Ok(p),
    }
}

/// Every version, newest first, without bodies.
pub async fn policy_history(db: &Database) -> Result<Vec<PolicyVersion>> {
    let rows: Vec<PolicyRow> = sqlx::query_as(
        "SELECT version, sha256, author, comment, applied_at, '' \
         FROM warden_policy_versions ORDER BY version DESC",
    )
    .fetch_all(db.gov())
    .await?;
    Ok(rows.into_iter().map(policy_from_row).collect())
}
