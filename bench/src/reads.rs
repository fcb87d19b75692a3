//! Reading the directory: effective permissions, `warden check` and `warden who-can`,
//! each next to its naive or client-side baseline.

use std::collections::HashMap;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use warden_core::directory::{Effective, RoleModel, UserId, effective_permissions};
use warden_core::mapping::Mapping;
use warden_sandbox::TestDatabase;
use warden_service::findings::{self, PolicySource};
use warden_service::{Clock, Ctx, directory};
use warden_store::Database;
use warden_store::directory::{self as store, GrantsOf, UserFilter};

use super::{Row, format_count, futures_runs, median, warden_json};

/// Effective permissions of everyone: one pass, next to a query per user.
pub(crate) async fn effective_row(db: &TestDatabase, ctx: &Ctx, scale: u32) -> anyhow::Result<Row> {
    let one_pass = median(
        futures_runs(3, || async {
            let t = Instant::now();
            let all = directory::effective_for_everyone(ctx).await?;
            anyhow::ensure!(all.len() == scale as usize, "{} users", all.len());
            Ok(t.elapsed())
        })
        .await?,
    );
    eprintln!("naive loop over {scale} staff …");
    let naive = naive_loop(db).await?;
    Ok(Row {
        what: format!("effective permissions, {scale} staff"),
        warden: one_pass,
        baseline: naive,
        baseline_name: "a query per user",
        budget: if scale >= 100_000 {
            "< 2 s, ≥ 20× faster".into()
        } else {
            "≥ 20× faster".into()
        },
        megabytes: false,
    })
}

/// `warden check`: the first run and a steady re-check, next to reading the directory.
pub(crate) async fn check_rows(ctx: &Ctx, scale: u32) -> anyhow::Result<Vec<Row>> {
    let read = median(
        futures_runs(3, || async {
            let t = Instant::now();
            let (users, _) = directory::read_directory(ctx).await?;
            anyhow::ensure!(users == scale as usize, "{users} users");
            Ok(t.elapsed())
        })
        .await?,
    );
    let t = Instant::now();
    let first = findings::check(ctx, PolicySource::Current).await?;
    let first_run = t.elapsed();
    anyhow::ensure!(
        first.stored && first.opened > 0,
        "the first check recorded nothing"
    );
    let steady = median(
        futures_runs(3, || async {
            let t = Instant::now();
            let again = findings::check(ctx, PolicySource::Current).await?;
            anyhow::ensure!(again.opened == 0, "a re-check opened {}", again.opened);
            Ok(t.elapsed())
        })
        .await?,
    );
    let budget = if scale >= 100_000 { "< 2 s" } else { "" };
    Ok(vec![
        Row {
            what: format!(
                "check, first run ({} findings), {scale} staff",
                format_count(first.findings.len())
            ),
            warden: first_run,
            baseline: read,
            baseline_name: "directory read alone",
            budget: budget.into(),
            megabytes: false,
        },
        Row {
            what: format!("check, re-check, {scale} staff"),
            warden: steady,
            baseline: read,
            baseline_name: "directory read alone",
            budget: budget.into(),
            megabytes: false,
        },
    ])
}

/// The naive way: the role model once, then for each user their grants and direct
/// permissions with a query each.
async fn naive_loop(db: &TestDatabase) -> anyhow::Result<Duration> {
    let conn = Database::connect(&db.spec()?).await?;
    let mapping =
        warden_store::schema::resolve(&conn, Mapping::preset("reference").context("preset")?)
            .await?;
    let t = Instant::now();
    let roles = store::roles(&conn, &mapping).await?;
    let permissions = store::permissions(&conn, &mapping).await?;
    let model = RoleModel::new(
        roles.iter().map(|r| r.id),
        &store::role_hierarchy(&conn, &mapping).await?,
        &store::role_permissions(&conn, &mapping).await?,
    );
    let users = store::users(&conn, &mapping, &UserFilter::default()).await?;
    let mut all: HashMap<UserId, Effective> = HashMap::with_capacity(users.len());
    let now = Clock::System.now_naive();
    for u in &users {
        let grants = store::role_grants(&conn, &mapping, &GrantsOf::User(u.id), now).await?;
        let direct = store::direct_grants(&conn, &mapping, Some(u.id)).await?;
        let eff = effective_permissions(
            u,
            mapping.mapping().semantics,
            &model,
            grants.iter().map(|g| g.role),
            direct.iter().map(|d| d.permission),
            &permissions,
        );
        all.insert(u.id, eff);
    }
    let elapsed = t.elapsed();
    if all.len() != users.len() {
        bail!("naive loop covered {} of {} users", all.len(), users.len());
    }
    conn.close().await;
    Ok(elapsed)
}

/// The whole `warden who-can` command against the equivalent SQL through the client.
pub(crate) fn who_can(db: &TestDatabase) -> anyhow::Result<(Duration, Duration)> {
    let run_warden = || -> anyhow::Result<Duration> {
        let (elapsed, doc) = warden_json(db, &["who-can", "customer.contact:read"])?;
        anyhow::ensure!(
            doc["users"].as_array().is_some_and(|u| u.len() > 1_000),
            "few holders"
        );
        Ok(elapsed)
    };
    let sql = "SELECT u.login, r.name FROM user_roles ur JOIN staff_users u ON u.id = ur.user_id \
               JOIN roles r ON r.id = ur.role_id \
               WHERE ur.role_id IN (SELECT rp.role_id FROM role_permissions rp JOIN permissions p ON p.id = rp.permission_id \
                 WHERE p.perm_key = 'customer.contact:read' \
                 UNION SELECT ri.role_id FROM role_inheritance ri JOIN role_permissions rp ON rp.role_id = ri.parent_role_id \
                 JOIN permissions p ON p.id = rp.permission_id WHERE p.perm_key = 'customer.contact:read') \
               AND u.status = 'active' AND (ur.expires_at IS NULL OR ur.expires_at > NOW()) \
               UNION ALL SELECT u.login, 'superuser' FROM staff_users u WHERE u.is_superuser <> 0 AND u.status = 'active'";
    let run_client = || -> anyhow::Result<Duration> {
        let t = Instant::now();
        let out = Command::new("mariadb")
            .args(["--no-defaults", "-uroot", "--socket"])
            .arg(&db.socket)
            .args(["--batch", "--quick", &db.name, "-e", sql])
            .output()
            .context("the mariadb client (apt: mariadb-client)")?;
        let elapsed = t.elapsed();
        anyhow::ensure!(
            out.status.success(),
            "mariadb: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Ok(elapsed)
    };
    run_warden()?; // warm the page cache and the binary
    let warden_t = median(
        (0..5)
            .map(|_| run_warden())
            .collect::<anyhow::Result<_>>()?,
    );
    let client_t = median(
        (0..5)
            .map(|_| run_client())
            .collect::<anyhow::Result<_>>()?,
    );
    Ok((warden_t, client_t))
}
