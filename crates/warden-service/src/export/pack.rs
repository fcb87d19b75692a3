//! The campaign evidence pack (DESIGN.md, Exports and evidence): one folder per closed
//! campaign with what an auditor of SOX, SOC 2 (CC6) or ISO 27001 (A.5.18) asks for: every
//! review item with its person, grant, context, decision and remediation; the population
//! at launch and after remediation; every action taken on the campaign; and a manifest
//! with the SHA-256 of each file and the officer's sign-off, which is itself an event on
//! the audit trail attesting those hashes.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

use serde::Serialize;
use warden_core::audit::AuditEvent;
use warden_core::export::{CsvOut, Described, PACK_FORMAT, PackManifest, TRAIL_COLUMNS};
use warden_store::governance::Change;
use warden_store::reviews as store;

use super::{Staged, file_error};
use crate::context::Ctx;
use crate::error::{Error, Result};

#[derive(Debug, Clone, Serialize)]
pub struct PackResponse {
    pub dir: String,
    pub campaign: u64,
    pub files: Vec<Described>,
    /// SHA-256 of manifest.json: the pack's fingerprint.
    pub manifest_sha256: String,
    /// The sign-off's event on the audit trail.
    pub audit_seq: u64,
}

const REVIEW_ITEMS: [&str; 31] = [
    "item_id",
    "user_id",
    "login",
    "name",
    "email",
    "department",
    "manager",
    "account_status",
    "created",
    "last_login",
    "role",
    "permissions",
    "granted",
    "granted_at",
    "granted_by",
    "baseline",
    "outside_baseline",
    "sod_conflicts",
    "last_used",
    "suggestion",
    "reviewer",
    "reviewer_relation",
    "decision",
    "decided_by",
    "decided_at",
    "comment",
    "reassigned_from",
    "remediation",
    "applied_at",
    "applied_by",
    "result",
];

const ACCESS: [&str; 7] = [
    "user_id",
    "login",
    "department",
    "role",
    "granted_at",
    "granted_by",
    "item_id",
];

fn time(t: Option<chrono::NaiveDateTime>) -> String {
    t.map(|t| t.format("%Y-%m-%dT%H:%M:%S").to_string())
        .unwrap_or_default()
}

/// Whether an audit event concerns campaign `id`: it names the campaign, or (events
/// written before decisions named theirs) it names one of its items.
fn concerns(e: &AuditEvent, id: u64, items: &HashSet<u64>) -> bool {
    if !e.action.starts_with("review.") {
        return false;
    }
    match &e.details["campaign"] {
        serde_json::Value::Number(n) => n.as_u64() == Some(id),
        serde_json::Value::Array(a) => a.iter().any(|n| n.as_u64() == Some(id)),
        _ => (e.details["items"].as_array()).is_some_and(|a| {
            a.iter()
                .any(|n| n.as_u64().is_some_and(|i| items.contains(&i)))
        }),
    }
}

/// What the action log says of each item: who it was reassigned from (last), who applied
/// its remediation, and when the campaign closed.
#[derive(Default)]
struct History {
    reassigned_from: HashMap<u64, String>,
    remediated_by: HashMap<u64, String>,
    closed_at: Option<String>,
}

impl History {
    fn learn(&mut self, e: &AuditEvent) {
        let items =
            || (e.details["items"].as_array().into_iter().flatten()).filter_map(|n| n.as_u64());
        match e.action.as_str() {
            "review.reassign" => {
                for item in items() {
                    let from = e.details["from"][item.to_string()].as_str();
                    self.reassigned_from.insert(
                        item,
                        from.unwrap_or("(not recorded: reassigned before Warden kept it)")
                            .to_string(),
                    );
                }
            }
            "review.remediate" => {
                for item in items() {
                    self.remediated_by.insert(item, e.actor.clone());
                }
            }
            "review.close" => {
                self.closed_at = Some(
                    e.occurred_at
                        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                );
            }
            _ => {}
        }
    }
}

/// Writes the evidence pack of closed campaign `id` to the new folder `dest` and records
/// the officer's sign-off on the audit trail (officers only: the export is the sign-off).
pub async fn campaign(
    ctx: &Ctx,
    id: u64,
    dest: &Path,
    progress: &super::Progress,
) -> Result<PackResponse> {
    let o = ctx.as_officer("signing off a campaign's evidence pack")?;
    let db = o.db();
    let c = store::campaign(db, id)
        .await?
        .ok_or_else(|| Error::NotFound(format!("no campaign {id}")))?;
    if c.status != "closed" {
        return Err(Error::Invalid(format!(
            "campaign {id} is {}: the evidence pack is signed off once the review is complete \
             (close it first: warden review close {id})",
            c.status
        )));
    }
    let r = crate::Reader::from(o);
    let loaded = crate::directory::load(&r).await?;
    let items = store::items(db, id, None, false).await?;
    let remediations: HashMap<u64, store::Remediation> = (store::remediations(db, id).await?)
        .into_iter()
        .map(|rm| (rm.item, rm))
        .collect();
    let source = warden_store::governance::server_identity(db).await?;

    let staged = Staged::create_dir(dest)?;
    let dir = staged.temp.clone();
    let mut files = Vec::new();
    let csv = |name: &'static str, header: &[&str]| -> Result<(std::path::PathBuf, Out)> {
        let path = dir.join(name);
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|e| file_error(&path, e))?;
        let out = CsvOut::new(std::io::BufWriter::new(file), header, false)
            .map_err(|e| file_error(&path, e))?;
        Ok((path, out))
    };
    let close = |name: &str, path: &Path, out: Out| -> Result<Described> {
        let fail = |e: std::io::Error| file_error(path, e);
        let (buffered, written) = out.finish().map_err(fail)?;
        let file = buffered.into_inner().map_err(|e| fail(e.into_error()))?;
        file.sync_all().map_err(fail)?;
        Ok(Described::of(name, &written))
    };

    // The action log first: what it says of each item goes into review_items.csv.
    let item_ids: HashSet<u64> = items.iter().map(|i| i.id).collect();
    let mut history = History::default();
    let (path, mut log) = csv("action_log.csv", &TRAIL_COLUMNS)?;
    warden_store::governance::stream_audit_events(db, |e, hash| {
        if !concerns(e, id, &item_ids) {
            return Ok(());
        }
        history.learn(e);
        log.row(warden_core::export::trail_row(e, hash))
    })
    .await?;
    let action_log = close("action_log.csv", &path, log)?;

    let users: HashMap<_, _> = loaded.users.iter().map(|u| (u.id.0, u)).collect();
    let login_of = |id: warden_core::directory::UserId| {
        users
            .get(&id.0)
            .map(|u| u.login.clone())
            .unwrap_or_default()
    };
    let keys: HashMap<_, _> = (loaded.permissions.iter())
        .map(|p| (p.id, p.key.as_str()))
        .collect();
    let role_ids: HashMap<&str, _> = (loaded.roles.iter())
        .map(|r| (r.name.as_str(), r.id))
        .collect();
    let permissions = |role: &str| {
        let mut held: Vec<&str> = match role_ids.get(role) {
            Some(r) => (loaded.model.permissions_of(*r).iter())
                .filter_map(|p| keys.get(p).copied())
                .collect(),
            None => Vec::new(),
        };
        held.sort_unstable();
        held.join(" ")
    };

    let (path, mut out) = csv("review_items.csv", &REVIEW_ITEMS)?;
    let mut totals: BTreeMap<&str, u64> = [
        "items",
        "approved",
        "revoked",
        "no_response",
        "reassigned",
        "remediated",
        "restored",
    ]
    .into_iter()
    .map(|k| (k, 0))
    .collect();
    for i in &items {
        let u = users.get(&i.user_id);
        let text = |f: fn(&warden_core::directory::User) -> Option<String>| {
            u.and_then(|u| f(u)).unwrap_or_default()
        };
        let reassigned_from = history.reassigned_from.get(&i.id);
        let relation = if reassigned_from.is_some() {
            "reassigned"
        } else if i.reviewer.eq_ignore_ascii_case(&c.fallback) {
            "fallback"
        } else {
            c.reviewer_rule.as_str()
        };
        let rm = remediations.get(&i.id);
        let decision = i.decision.as_deref().unwrap_or("");
        *totals.entry("items").or_default() += 1;
        let defaulted = i.comment.as_deref() == Some(store::DEFAULT_COMMENT);
        match decision {
            _ if defaulted => *totals.entry("no_response").or_default() += 1,
            "keep" => *totals.entry("approved").or_default() += 1,
            "revoke" => *totals.entry("revoked").or_default() += 1,
            _ => {}
        }
        match i.remediation.as_deref() {
            Some("revoked" | "absent") => *totals.entry("remediated").or_default() += 1,
            Some("restored") => *totals.entry("restored").or_default() += 1,
            _ => {}
        }
        out.row([
            i.id.to_string(),
            i.user_id.to_string(),
            i.login.clone(),
            text(|u| u.name.clone()),
            text(|u| u.email.clone()),
            i.department.clone().unwrap_or_default(),
            text(|u| u.manager.clone()),
            u.map_or_else(|| "gone".into(), |u| u.status.clone()),
            time(u.and_then(|u| u.created)),
            time(u.and_then(|u| u.last_login)),
            i.role.clone(),
            permissions(&i.role),
            "role".into(),
            time(i.granted_at),
            i.granted_by.clone().unwrap_or_default(),
            i.baseline.clone(),
            i.outside.clone(),
            i.sod.clone(),
            time(i.last_used),
            i.suggestion.clone(),
            i.reviewer.clone(),
            relation.into(),
            decision.into(),
            i.decided_by.clone().unwrap_or_default(),
            time(i.decided_at),
            i.comment.clone().unwrap_or_default(),
            reassigned_from.cloned().unwrap_or_default(),
            if decision == "revoke" {
                "revoke"
            } else {
                "none"
            }
            .into(),
            time(rm.map(|r| r.removed_at)),
            (history.remediated_by.get(&i.id).cloned()).unwrap_or_default(),
            i.remediation.clone().unwrap_or_default(),
        ])
        .map_err(|e| file_error(&path, e))?;
    }
    let review_items = close("review_items.csv", &path, out)?;
    totals.insert("reassigned", history.reassigned_from.len() as u64);

    // The population at launch is the items as they were written then.
    let (path, mut out) = csv("access_before.csv", &ACCESS)?;
    for i in &items {
        out.row([
            i.user_id.to_string(),
            i.login.clone(),
            i.department.clone().unwrap_or_default(),
            i.role.clone(),
            time(i.granted_at),
            i.granted_by.clone().unwrap_or_default(),
            i.id.to_string(),
        ])
        .map_err(|e| file_error(&path, e))?;
    }
    let before = close("access_before.csv", &path, out)?;

    // After remediation: every grant now held by a person of the population, of a role of
    // the population (a revoked grant is absent; one granted since is present, unmatched).
    let people: HashSet<i64> = items.iter().map(|i| i.user_id).collect();
    let roles: HashSet<&str> = items.iter().map(|i| i.role.as_str()).collect();
    let item_of: HashMap<(i64, &str), u64> = (items.iter())
        .map(|i| ((i.user_id, i.role.as_str()), i.id))
        .collect();
    let role_names: HashMap<_, _> = (loaded.roles.iter())
        .map(|r| (r.id, r.name.as_str()))
        .collect();
    let mut now: Vec<_> = (loaded.grants.iter())
        .filter_map(|g| Some((g, *role_names.get(&g.role)?)))
        .filter(|(g, role)| people.contains(&g.user.0) && roles.contains(role))
        .collect();
    now.sort_by_key(|(g, role)| (g.user.0, *role));
    // Revoked at the close but held again now (granted anew since): counted, and so
    // attested by the sign-off, rather than hidden.
    let held: HashSet<(i64, &str)> = now.iter().map(|(g, role)| (g.user.0, *role)).collect();
    let held_again = (items.iter())
        .filter(|i| i.remediation.as_deref() == Some("revoked"))
        .filter(|i| held.contains(&(i.user_id, i.role.as_str())))
        .count();
    totals.insert("held_again", held_again as u64);
    let (path, mut out) = csv("access_after.csv", &ACCESS)?;
    for (g, role) in now {
        let u = users.get(&g.user.0);
        out.row([
            g.user.0.to_string(),
            u.map(|u| u.login.clone()).unwrap_or_default(),
            u.and_then(|u| u.department.clone()).unwrap_or_default(),
            role.to_string(),
            time(g.granted_at),
            g.granted_by.map(login_of).unwrap_or_default(),
            (item_of.get(&(g.user.0, role)))
                .map(u64::to_string)
                .unwrap_or_default(),
        ])
        .map_err(|e| file_error(&path, e))?;
    }
    let after = close("access_after.csv", &path, out)?;
    files.extend([review_items, before, after, action_log]);

    let me = ctx.actor().login.clone();
    let scope: serde_json::Value =
        serde_json::from_str(&c.scope).unwrap_or_else(|_| c.scope.clone().into());
    let at = o.clock().now();
    let mut manifest = PackManifest {
        format: PACK_FORMAT.into(),
        campaign: serde_json::json!({
            "id": id, "name": c.name, "status": c.status,
            "reviewer_rule": c.reviewer_rule, "fallback": c.fallback, "undecided": c.undecided,
            "policy_version": c.policy_version,
            "launched_at": time(Some(c.created_at)), "launched_by": c.created_by,
            "due": c.due.to_string(), "closed_at": history.closed_at,
        }),
        scope,
        population_query: [
            "every (user, role) grant of the application's user-role table, read through the \
             mapping, whose user is of the scope's departments and job functions and whose role \
             is of its roles (an empty list does not narrow), as written at launch: ",
            warden_store::reviews::ITEM_COLUMNS,
            " WHERE campaign_id = ? ORDER BY login, role, id",
        ]
        .concat(),
        source,
        totals: serde_json::to_value(&totals).unwrap_or_default(),
        files: files.clone(),
        sign_off: AuditEvent {
            seq: 0,
            occurred_at: at,
            actor: me.clone(),
            db_account: String::new(),
            action: String::new(),
            target: String::new(),
            details: serde_json::Value::Null,
        },
        sign_off_previous_hash: String::new(),
        sign_off_hash: String::new(),
        generated_at: at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        generated_by: me.clone(),
    };
    // The sign-off: an event on the trail attesting every file's hash and the manifest's
    // digest, carried whole in the manifest so that the auditor can recompute its hash and
    // find it in the trail.
    let attested: serde_json::Map<String, serde_json::Value> = (files.iter())
        .map(|f| (f.file.clone(), f.sha256.clone().into()))
        .collect();
    if progress.is_cancelled() {
        return Err(super::cancelled(dest));
    }
    // The event is written but committed only once the pack is in place: a pack that
    // could not be written leaves no sign-off behind, and a sign-off always has its pack.
    let mut change = Change::begin(db, &me, at).await?;
    let (event, previous, hash) = change
        .append(
            "review.sign_off",
            &format!("campaign {id}"),
            serde_json::json!({
                "campaign": id, "files": attested, "totals": totals,
                "manifest_sha256": manifest.body_sha256(),
            }),
        )
        .await?;
    manifest.sign_off = event.clone();
    manifest.sign_off_previous_hash = previous;
    manifest.sign_off_hash = hash;
    let path = dir.join("manifest.json");
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
        .map_err(|e| file_error(&path, e))?;
    let fail = |e: std::io::Error| file_error(&path, e);
    let mut text = serde_json::to_vec_pretty(&manifest).map_err(|e| file_error(&path, e))?;
    text.push(b'\n');
    std::io::Write::write_all(&mut file, &text).map_err(fail)?;
    let manifest_sha256 = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(&text))
    };
    file.sync_all().map_err(fail)?;
    staged.commit_dir()?;
    let rows = files.iter().map(|f| f.rows).sum();
    progress
        .rows
        .store(rows, std::sync::atomic::Ordering::Relaxed);
    if let Err(e) = change.finish().await {
        // Not recorded: the pack is not evidence of a sign-off, and goes.
        let _ = std::fs::remove_dir_all(dest);
        return Err(e.into());
    }
    Ok(PackResponse {
        dir: dest.display().to_string(),
        campaign: id,
        files,
        manifest_sha256,
        audit_seq: event.seq,
    })
}

type Out = CsvOut<std::io::BufWriter<std::fs::File>>;

/// Re-checks a pack folder offline against its manifest.json (see
/// [`warden_core::export::verify_pack`]).
pub fn verify(dir: &Path) -> Result<super::VerifyResponse> {
    let path = dir.join("manifest.json");
    let bytes = std::fs::read(&path).map_err(|e| file_error(&path, e))?;
    let altered = |problem: String| super::VerifyResponse {
        ok: false,
        file: dir.display().to_string(),
        rows: 0,
        problems: vec![problem],
    };
    let manifest: PackManifest = match serde_json::from_slice(&bytes) {
        Ok(m) => m,
        Err(e) => return Ok(altered(format!("manifest.json does not read as one: {e}"))),
    };
    let mut problems = Vec::new();
    // A manifest names files of its own folder only: an altered one must not make the
    // verifier read elsewhere.
    for f in &manifest.files {
        if Path::new(&f.file).file_name() != Some(std::ffi::OsStr::new(&f.file)) {
            problems.push(format!(
                "manifest.json names {:?}, which is not a file of the pack",
                f.file
            ));
        }
    }
    if !problems.is_empty() {
        return Ok(super::VerifyResponse {
            ok: false,
            file: dir.display().to_string(),
            rows: 0,
            problems,
        });
    }
    let present: Vec<String> = std::fs::read_dir(dir)
        .map_err(|e| file_error(dir, e))?
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    let read = |name: &str| std::fs::read(dir.join(name)).ok();
    problems = warden_core::export::verify_pack(&manifest, read, &present);
    Ok(super::VerifyResponse {
        ok: problems.is_empty(),
        file: dir.display().to_string(),
        rows: manifest.files.iter().map(|f| f.rows).sum(),
        problems,
    })
}
