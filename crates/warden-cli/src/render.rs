//! How each result looks as a table or CSV (JSON is the service's own shape).

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Serialize;
use warden_sandbox::{SandboxInfo, SeedReport};
use warden_service::directory::{AccessResponse, RolesResponse, UsersResponse, WhoCanResponse};
use warden_service::findings::{
    CheckResponse, FindingDetail, FindingView, FindingsResponse, TriageResponse,
};
use warden_service::mapping::MappingCheckResponse;
use warden_service::policy::{
    AppliedPolicy, PolicyDiff, PolicyHistory, PolicyValidation, PolicyVersionView,
    PolicyWarningView, SimulateResponse,
};
use warden_service::reviews::{
    CampaignDetail, CampaignList, CloseResponse, DecideResponse, ItemsResponse, ReassignResponse,
    Started, UndoResponse,
};
use warden_service::setup::{ConsoleUserChange, ConsoleUsersResponse, MigrateResponse};
use warden_store::profiles::Profile;

use crate::output::{Render, Table, opt};

impl Render for UsersResponse {
    fn table(&self) -> Table {
        let mut t = Table::new(&[
            "id",
            "login",
            "name",
            "email",
            "department",
            "manager",
            "status",
            "last_login",
        ]);
        for u in &self.users {
            t.row(vec![
                u.id.to_string(),
                u.login.clone(),
                opt(&u.name),
                opt(&u.email),
                opt(&u.department),
                opt(&u.manager),
                u.status.clone(),
                opt(&u.last_login),
            ]);
        }
        t
    }
}

impl Render for RolesResponse {
    fn table(&self) -> Table {
        let mut t = Table::new(&["id", "name", "owner", "members", "permissions", "inherits"]);
        for r in &self.roles {
            t.row(vec![
                r.id.to_string(),
                r.name.clone(),
                opt(&r.owner),
                r.members.to_string(),
                r.permissions.to_string(),
                r.inherits.join(", "),
            ]);
        }
        t
    }
}

impl Render for AccessResponse {
    fn table(&self) -> Table {
        let mut t = Table::new(&["login", "permission", "via"]);
        for p in &self.permissions {
            t.row(vec![
                self.user.login.clone(),
                p.key.clone(),
                p.via.join(", "),
            ]);
        }
        t
    }
}

impl Render for WhoCanResponse {
    fn table(&self) -> Table {
        let mut t = Table::new(&["permission", "login", "via"]);
        for u in &self.users {
            t.row(vec![
                self.permission.clone(),
                u.login.clone(),
                u.via.join(", "),
            ]);
        }
        t
    }
}

impl Render for MappingCheckResponse {
    fn table(&self) -> Table {
        let mut t = Table::new(&["field", "problem", "suggestion"]);
        for p in &self.problems {
            t.row(vec![p.field.clone(), p.message.clone(), opt(&p.suggestion)]);
        }
        if self.ok {
            t.row(vec![
                "(all)".into(),
                "ok: every table and column exists".into(),
                String::new(),
            ]);
        }
        for i in &self.ignored {
            t.row(vec![
                format!("{}.where", i.section),
                i.message.clone(),
                "if those rows are the application's, the filter is wrong".into(),
            ]);
        }
        t
    }
}

impl Render for ConsoleUsersResponse {
    fn table(&self) -> Table {
        let mut t = Table::new(&[
            "login",
            "account",
            "role",
            "locked",
            "created_at",
            "created_by",
        ]);
        for u in &self.users {
            t.row(vec![
                u.login.clone(),
                opt(&u.account),
                u.role.to_string(),
                if u.locked { "locked" } else { "" }.to_string(),
                u.created_at.clone(),
                u.created_by.clone(),
            ]);
        }
        t
    }
}

impl Render for ConsoleUserChange {
    fn table(&self) -> Table {
        let mut t = Table::new(&[
            "login",
            "account",
            "role",
            "previous_role",
            "audit_seq",
            "initial_password",
        ]);
        t.row(vec![
            self.login.clone(),
            opt(&self.account),
            self.role
                .map(|r| r.to_string())
                .unwrap_or_else(|| "(removed)".into()),
            self.previous_role
                .map(|r| r.to_string())
                .unwrap_or_default(),
            self.audit_seq
                .map(|s| s.to_string())
                .unwrap_or_else(|| "(unchanged)".into()),
            // Shown once: the person signs in with it and must choose their own.
            opt(&self.initial_password),
        ]);
        t
    }
}

impl Render for MigrateResponse {
    fn table(&self) -> Table {
        let mut t = Table::new(&["applied", "already_applied", "first_officer"]);
        let list = |v: &[i64]| v.iter().map(i64::to_string).collect::<Vec<_>>().join(", ");
        t.row(vec![
            list(&self.applied),
            list(&self.already_applied),
            opt(&self.first_officer),
        ]);
        t
    }
}

impl Render for SeedReport {
    fn table(&self) -> Table {
        let mut t = Table::new(&["what", "count"]);
        for (what, n) in [
            ("staff users", self.users),
            ("roles", self.roles),
            ("permissions", self.permissions),
            ("customers", self.customers),
            ("tickets", self.tickets),
            ("accounts", self.accounts),
            ("access-log rows", self.log_rows),
        ] {
            t.row(vec![what.into(), n.to_string()]);
        }
        t.row(vec!["seconds".into(), format!("{:.1}", self.seconds)]);
        t
    }
}

/// `sandbox start|status|url`: {"url","data_dir","pid"} while running.
#[derive(Debug, Serialize)]
pub struct SandboxStatus {
    pub running: bool,
    pub url: Option<String>,
    pub data_dir: PathBuf,
    pub pid: Option<u32>,
    pub port: Option<u16>,
}

impl SandboxStatus {
    pub fn running(info: SandboxInfo) -> Self {
        Self {
            running: true,
            url: Some(info.url),
            data_dir: info.data_dir,
            pid: Some(info.pid),
            port: Some(info.port),
        }
    }

    pub fn stopped(data_dir: PathBuf) -> Self {
        Self {
            running: false,
            url: None,
            data_dir,
            pid: None,
            port: None,
        }
    }
}

impl Render for SandboxStatus {
    fn table(&self) -> Table {
        let mut t = Table::new(&["running", "url", "data_dir", "pid"]);
        t.row(vec![
            self.running.to_string(),
            opt(&self.url),
            self.data_dir.display().to_string(),
            self.pid.map(|p| p.to_string()).unwrap_or_default(),
        ]);
        t
    }
}

/// A plain confirmation, with a few machine-readable fields in JSON.
#[derive(Debug, Serialize)]
pub struct Message {
    pub message: String,
    #[serde(flatten)]
    pub fields: BTreeMap<&'static str, serde_json::Value>,
}

impl Message {
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            fields: BTreeMap::new(),
        }
    }

    pub fn with(mut self, key: &'static str, value: impl Serialize) -> Self {
        self.fields.insert(
            key,
            serde_json::to_value(value).unwrap_or(serde_json::Value::Null),
        );
        self
    }
}

impl Render for Message {
    fn table(&self) -> Table {
        let mut t = Table::new(&["message"]);
        t.row(vec![self.message.clone()]);
        t
    }
}

/// `profile list`: names, hosts and settings, never passwords.
#[derive(Debug, Serialize)]
pub struct ProfileList {
    pub profiles: BTreeMap<String, Profile>,
}

impl Render for ProfileList {
    fn table(&self) -> Table {
        let mut t = Table::new(&[
            "name", "hosts", "database", "user", "tls", "mapping", "auth",
        ]);
        for (name, p) in &self.profiles {
            t.row(vec![
                name.clone(),
                p.hosts.join(","),
                p.database.clone(),
                p.user.clone(),
                serde_json::to_value(p.tls)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default(),
                p.mapping.clone(),
                serde_json::to_value(p.auth)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default(),
            ]);
        }
        t
    }
}

impl Render for PolicyValidation {
    fn table(&self) -> Table {
        let mut t = Table::new(&["kind", "name"]);
        for j in &self.job_functions {
            t.row(vec!["job function".into(), j.clone()]);
        }
        for r in &self.separation_of_duties {
            t.row(vec!["separation of duties".into(), r.clone()]);
        }
        if let Some(d) = self.dormancy_days {
            t.row(vec!["dormancy".into(), format!("{d} days")]);
        }
        t
    }
}

impl Render for AppliedPolicy {
    fn table(&self) -> Table {
        let mut t = Table::new(&["version", "sha256", "changed"]);
        t.row(vec![
            self.version.to_string(),
            self.sha256.clone(),
            self.changed.to_string(),
        ]);
        t
    }
}

impl Render for PolicyVersionView {
    fn table(&self) -> Table {
        let mut t = Table::new(&["version", "applied_at", "author", "sha256", "comment"]);
        t.row(vec![
            self.version.to_string(),
            self.applied_at.clone(),
            self.author.clone(),
            self.sha256.clone(),
            self.comment.clone(),
        ]);
        t
    }
}

impl Render for PolicyHistory {
    fn table(&self) -> Table {
        let mut t = Table::new(&["version", "applied_at", "author", "sha256", "comment"]);
        for v in &self.versions {
            t.rows.extend(v.table().rows);
        }
        t
    }
}

/// A policy warning as one line: where, then what.
pub fn warning(w: &PolicyWarningView) -> String {
    match (w.line, w.column) {
        (Some(l), Some(c)) => format!("line {l}, column {c}: {}", w.message),
        _ => w.message.clone(),
    }
}

impl Render for PolicyDiff {
    fn table(&self) -> Table {
        let mut t = Table::new(&["change", "rule", "details"]);
        for c in &self.changes {
            t.row(vec![c.change.clone(), c.rule.clone(), c.details.join("; ")]);
        }
        t
    }
}

impl Render for SimulateResponse {
    fn table(&self) -> Table {
        let mut t = Table::new(&["login", "permission", "count", "last_seen", "reason"]);
        for d in &self.would_deny {
            t.row(vec![
                d.login.clone(),
                d.permission.clone(),
                d.count.to_string(),
                d.last_seen.clone(),
                match &d.job_function {
                    Some(j) => format!("{} ({j})", d.reason),
                    None => d.reason.clone(),
                },
            ]);
        }
        t
    }
}

fn finding_rows(t: &mut Table, findings: &[FindingView]) {
    for f in findings {
        t.row(vec![
            f.id.map(|i| i.to_string()).unwrap_or_default(),
            f.severity.to_string(),
            f.kind.to_string(),
            f.subject.clone(),
            f.status.to_string(),
            f.detail.clone(),
        ]);
    }
}

const FINDING_COLUMNS: [&str; 6] = ["id", "severity", "kind", "subject", "status", "detail"];

impl Render for CheckResponse {
    fn table(&self) -> Table {
        let mut t = Table::new(&FINDING_COLUMNS);
        finding_rows(&mut t, &self.findings);
        t
    }
}

impl Render for FindingsResponse {
    fn table(&self) -> Table {
        let mut t = Table::new(&FINDING_COLUMNS);
        finding_rows(&mut t, &self.findings);
        t
    }
}

impl Render for FindingDetail {
    fn table(&self) -> Table {
        let f = &self.finding;
        let mut t = Table::new(&["field", "value"]);
        for (k, v) in [
            ("id", f.id.map(|i| i.to_string()).unwrap_or_default()),
            ("kind", f.kind.to_string()),
            ("severity", f.severity.to_string()),
            ("subject", f.subject.clone()),
            ("status", f.status.to_string()),
            ("detail", f.detail.clone()),
            ("fix", f.fix.clone()),
            ("evidence", f.evidence.to_string()),
            ("first_seen", opt(&f.first_seen)),
            ("last_seen", opt(&f.last_seen)),
        ] {
            t.row(vec![k.into(), v]);
        }
        for e in &self.history {
            t.row(vec![
                format!("history {}", e.at),
                format!("{} by {}: {}", e.action, e.actor, e.comment),
            ]);
        }
        t
    }
}

impl Render for TriageResponse {
    fn table(&self) -> Table {
        let mut t = Table::new(&["id", "from", "to", "audit_seq"]);
        t.row(vec![
            self.id.to_string(),
            self.from.to_string(),
            self.to.to_string(),
            self.audit_seq.to_string(),
        ]);
        t
    }
}

impl Render for Started {
    fn table(&self) -> Table {
        let mut t = Table::new(&["campaign", "items", "reviewers", "policy_version"]);
        t.row(vec![
            self.campaign.to_string(),
            self.items.to_string(),
            self.reviewers.to_string(),
            self.policy_version.to_string(),
        ]);
        t
    }
}

impl Render for CampaignList {
    fn table(&self) -> Table {
        let mut t = Table::new(&[
            "id", "name", "status", "due", "decided", "items", "overdue", "remind",
        ]);
        for c in &self.campaigns {
            t.row(vec![
                c.id.to_string(),
                c.name.clone(),
                c.status.to_string(),
                c.due.clone(),
                c.decided.to_string(),
                c.items.to_string(),
                c.overdue.to_string(),
                c.remind.join(" "),
            ]);
        }
        t
    }
}

impl Render for CampaignDetail {
    fn table(&self) -> Table {
        let mut t = Table::new(&["by", "name", "decided", "items"]);
        for (by, list) in [
            ("reviewer", &self.by_reviewer),
            ("department", &self.by_department),
        ] {
            for p in list {
                t.row(vec![
                    by.into(),
                    p.name.clone(),
                    p.decided.to_string(),
                    p.items.to_string(),
                ]);
            }
        }
        t
    }
}

impl Render for ItemsResponse {
    fn table(&self) -> Table {
        let mut t = Table::new(&[
            "id",
            "login",
            "role",
            "reviewer",
            "suggestion",
            "reason",
            "decision",
        ]);
        for i in &self.items {
            t.row(vec![
                i.id.to_string(),
                i.login.clone(),
                i.role.clone(),
                i.reviewer.clone(),
                i.suggestion.to_string(),
                i.reason.clone(),
                i.decision.map_or_else(String::new, |d| d.to_string()),
            ]);
        }
        t
    }
}

impl Render for DecideResponse {
    fn table(&self) -> Table {
        let mut t = Table::new(&["decided"]);
        for id in &self.decided {
            t.row(vec![id.to_string()]);
        }
        t
    }
}

impl Render for ReassignResponse {
    fn table(&self) -> Table {
        let mut t = Table::new(&["reassigned"]);
        for id in &self.reassigned {
            t.row(vec![id.to_string()]);
        }
        t
    }
}

impl Render for CloseResponse {
    fn table(&self) -> Table {
        let mut t = Table::new(&["item", "login", "role", "revoked"]);
        for r in &self.revocations {
            t.row(vec![
                r.item.to_string(),
                r.login.clone(),
                r.role.clone(),
                (!self.dry_run).to_string(),
            ]);
        }
        t
    }
}

impl Render for UndoResponse {
    fn table(&self) -> Table {
        let mut t = Table::new(&["campaign", "restored_rows", "users", "skipped"]);
        t.row(vec![
            self.campaign.to_string(),
            self.restored_rows.to_string(),
            self.users.to_string(),
            (self.skipped.iter())
                .map(|r| format!("item {}: {}", r.item, r.reason))
                .collect::<Vec<_>>()
                .join("; "),
        ]);
        t
    }
}

impl Render for warden_service::logs::ScanResponse {
    fn table(&self) -> Table {
        let mut t = Table::new(&[
            "scan",
            "full",
            "from_id",
            "to_id",
            "scanned",
            "skipped",
            "found",
            "new_findings",
            "extended",
        ]);
        t.row(vec![
            self.scan.to_string(),
            self.full.to_string(),
            self.from_id.to_string(),
            self.to_id.to_string(),
            self.scanned.to_string(),
            self.skipped.to_string(),
            self.found.to_string(),
            self.new_findings.to_string(),
            self.extended.to_string(),
        ]);
        t
    }
}

impl Render for warden_service::logs::SearchResponse {
    fn table(&self) -> Table {
        let mut t = Table::new(&[
            "id",
            "at",
            "login",
            "action",
            "resource",
            "resource_id",
            "outcome",
            "client",
        ]);
        for r in &self.rows {
            let text = |v: &Option<String>| v.clone().unwrap_or_default();
            t.row(vec![
                r.id.to_string(),
                text(&r.at),
                text(&r.login),
                text(&r.action),
                text(&r.resource_type),
                text(&r.resource_id),
                text(&r.outcome),
                text(&r.client_address),
                text(&r.statement),
            ]);
        }
        t
    }
}

impl Render for warden_service::logs::IngestResponse {
    fn table(&self) -> Table {
        let mut t = Table::new(&[
            "file",
            "format",
            "read",
            "imported",
            "duplicates",
            "malformed",
        ]);
        t.row(vec![
            self.file.clone(),
            self.format.clone(),
            self.read.to_string(),
            self.imported.to_string(),
            self.duplicates.to_string(),
            self.malformed.to_string(),
        ]);
        t
    }
}

impl Render for warden_service::logs::TableStatus {
    fn table(&self) -> Table {
        let mut t = Table::new(&["source", "table", "checkpoint", "newest_id", "waiting"]);
        t.row(vec![
            self.source.clone(),
            self.table.clone(),
            self.checkpoint.to_string(),
            self.newest_id.map(|n| n.to_string()).unwrap_or_default(),
            self.waiting.to_string(),
        ]);
        t
    }
}

impl Render for warden_core::audit::Verification {
    fn table(&self) -> Table {
        let mut t = Table::new(&["ok", "events", "first_bad_seq", "reason"]);
        t.row(vec![
            self.ok.to_string(),
            self.events.to_string(),
            self.first_bad_seq
                .map(|s| s.to_string())
                .unwrap_or_default(),
            opt(&self.reason),
        ]);
        t
    }
}

impl Render for warden_service::export::ExportResponse {
    fn table(&self) -> Table {
        let mut t = Table::new(&["file", "manifest", "rows", "sha256", "audit_seq"]);
        t.row(vec![
            self.file.clone(),
            self.manifest.clone(),
            self.rows.to_string(),
            self.sha256.clone(),
            self.audit_seq.to_string(),
        ]);
        t
    }
}

impl Render for warden_service::export::VerifyResponse {
    fn table(&self) -> Table {
        let mut t = Table::new(&["ok", "file", "rows", "problems"]);
        t.row(vec![
            self.ok.to_string(),
            self.file.clone(),
            self.rows.to_string(),
            self.problems.join("; "),
        ]);
        t
    }
}

impl Render for warden_service::export::PackResponse {
    fn table(&self) -> Table {
        let mut t = Table::new(&["file", "rows", "sha256"]);
        for f in &self.files {
            t.row(vec![f.file.clone(), f.rows.to_string(), f.sha256.clone()]);
        }
        t
    }
}

impl Render for warden_service::audit::EventsResponse {
    fn table(&self) -> Table {
        let mut t = Table::new(&["seq", "occurred_at", "actor", "action", "target", "hash"]);
        for e in &self.events {
            t.row(vec![
                e.seq.to_string(),
                e.occurred_at.clone(),
                e.actor.clone(),
                e.action.clone(),
                e.target.clone(),
                e.hash.chars().take(12).collect(),
            ]);
        }
        t
    }
}
