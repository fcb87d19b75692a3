fn main() {
    // Every command the UI may call is declared here; capabilities/default.json grants each
    // by name, and nothing else (no shell, no file system, no HTTP).
    let commands = &[
        "connection",
        "connect",
        "add_profile",
        "dashboard",
        "users",
        "access",
        "roles",
        "role",
        "who_can",
        "permissions",
        "policy_show",
        "policy_history",
        "policy_diff",
        "policy_lint",
        "policy_apply",
        "policy_simulate",
        "check",
        "findings",
        "finding",
        "triage",
        "compliance",
        "review_list",
        "review_show",
        "review_items",
        "review_start",
        "review_decide",
        "review_reassign",
        "review_close",
        "logs_search",
        "logs_scan",
        "logs_timeline",
        "logs_import",
        "logs_import_status",
        "export_start",
        "export_status",
        "export_cancel",
        "export_verify",
        "audit_events",
        "audit_verify",
    ];
    let attributes = tauri_build::Attributes::new()
        .app_manifest(tauri_build::AppManifest::new().commands(commands));
    if let Err(e) = tauri_build::try_build(attributes) {
        eprintln!("tauri-build failed: {e:#}");
        std::process::exit(1);
    }
}
