//! The user access listing: who has what, through which role, granted when and by whom.

use std::path::Path;
use std::sync::atomic::Ordering;

use super::{ExportResponse, Out, Progress, Report, file_error, write_report};
use crate::context::Ctx;
use crate::error::Result;

/// The user access listing: who has what, through which role (or directly), granted when
/// and by whom; one row per role held, with the permissions it brings (inheritance
/// included), and one per direct grant (officers and auditors). Read as the directory is
/// read everywhere in Warden: a handful of bulk queries, bounded by the directory.
pub async fn access(
    ctx: &Ctx,
    out: &Path,
    bom: bool,
    progress: &Progress,
) -> Result<ExportResponse> {
    crate::retry::retried(ctx.trail_db(), || access_once(ctx, out, bom, progress)).await
}

async fn access_once(
    ctx: &Ctx,
    out: &Path,
    bom: bool,
    progress: &Progress,
) -> Result<ExportResponse> {
    let r = ctx.as_reader("exporting the access listing")?;
    let db = r.db();
    let loaded = crate::directory::load(&r).await?;
    let rows = loaded.grants.len() + loaded.direct.len();
    progress.total.store(rows as u64, Ordering::Relaxed);
    // A filtered mapping's rows outside its filters are not in the population: said in
    // the evidence, with the filters themselves.
    let filters = r.mapping()?.mapping().filters_json();
    let mut parameters = serde_json::json!({ "bom": bom });
    if let (Some(f), Some(p)) = (&filters, parameters.as_object_mut()) {
        p.insert("filters".into(), f.clone());
    }
    let mut population = String::from(
        "the directory through the mapping: every user, every unexpired role grant (with when \
         and by whom), every direct permission grant, and the role hierarchy's permissions",
    );
    if filters.is_some() {
        population.push_str(
            "; of each filtered table only the rows its `where` keeps (parameters.filters), and \
             no grant or link to a row another filter leaves out",
        );
    }
    let report = Report {
        kind: "access",
        parameters,
        population_query: population,
        header: &[
            "login",
            "name",
            "department",
            "status",
            "via",
            "role",
            "permissions",
            "granted_at",
            "granted_by",
        ],
        out,
        bom,
        progress,
    };
    write_report(ctx, db, report, async |csv: &mut Out| {
        use std::collections::HashMap;
        let fail = |e: std::io::Error| file_error(out, e);
        let users: HashMap<_, _> = loaded.users.iter().map(|u| (u.id, u)).collect();
        let roles: HashMap<_, _> = loaded.roles.iter().map(|r| (r.id, r)).collect();
        let keys: HashMap<_, _> = (loaded.permissions.iter())
            .map(|p| (p.id, p.key.as_str()))
            .collect();
        let login = |id| users.get(&id).map(|u| u.login.clone()).unwrap_or_default();
        let time = |t: Option<chrono::NaiveDateTime>| {
            t.map(|t| t.format("%Y-%m-%dT%H:%M:%S").to_string())
                .unwrap_or_default()
        };
        let mut grants: Vec<_> = loaded.grants.iter().collect();
        grants.sort_by_key(|g| (login(g.user), g.role, g.scope.clone()));
        // A grant to someone the directory does not list (a dangling row) is evidence too:
        // it is written with the id it names.
        let person = |id: warden_core::directory::UserId| match users.get(&id) {
            Some(u) => [
                u.login.clone(),
                u.name.clone().unwrap_or_default(),
                u.department.clone().unwrap_or_default(),
                u.status.clone(),
            ],
            None => [
                format!("#{}", id.0),
                String::new(),
                String::new(),
                "unknown".into(),
            ],
        };
        for g in grants {
            let [who, name, department, status] = person(g.user);
            let mut permissions: Vec<&str> = (loaded.model.permissions_of(g.role).iter())
                .filter_map(|p| keys.get(p).copied())
                .collect();
            permissions.sort_unstable();
            csv.row([
                who,
                name,
                department,
                status,
                "role".into(),
                // A scoped grant is its role where it holds: `support @ team 7`.
                g.scope.qualify(
                    &(roles.get(&g.role))
                        .map_or_else(|| format!("#{}", g.role.0), |r| r.name.clone()),
                ),
                permissions.join(" "),
                time(g.granted_at),
                g.granted_by.map(login).unwrap_or_default(),
            ])
            .map_err(fail)?;
        }
        let mut direct: Vec<_> = loaded.direct.iter().collect();
        direct.sort_by_key(|d| (login(d.user), d.permission, d.scope.clone()));
        for d in direct {
            let [who, name, department, status] = person(d.user);
            csv.row([
                who,
                name,
                department,
                status,
                d.scope.qualify("direct"),
                String::new(),
                keys.get(&d.permission)
                    .map(|k| k.to_string())
                    .unwrap_or_default(),
                String::new(),
                String::new(),
            ])
            .map_err(fail)?;
        }
        Ok(())
    })
    .await
}
