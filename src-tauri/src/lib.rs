//! Warden's desktop shell: Tauri commands that are thin adapters over warden-service.

mod commands;
mod exports;
mod imports;
pub mod ipc;
mod jobs;
mod reminders;
mod state;

use tauri::Manager;

/// Starts the desktop app.
pub fn run() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("WARDEN_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .try_init();
    let result = tauri::Builder::default()
        // A second launch focuses the running window instead of opening another session.
        .plugin(tauri_plugin_single_instance::init(|app, _args, _cwd| {
            if let Some(window) = app.get_webview_window("main") {
                let _ = window.unminimize();
                let _ = window.set_focus();
            }
        }))
        .plugin(tauri_plugin_window_state::Builder::default().build())
        .plugin(tauri_plugin_notification::init())
        .manage(state::AppState::from_env())
        .manage(reminders::Shown::default())
        .manage(imports::Imports::default())
        .manage(exports::Exports::default())
        .setup(|app| {
            reminders::every_hour(app.handle().clone());
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            commands::connection,
            commands::connect,
            commands::add_profile,
            commands::dashboard,
            commands::users,
            commands::access,
            commands::roles,
            commands::role,
            commands::who_can,
            commands::permissions,
            commands::policy_show,
            commands::policy_history,
            commands::policy_diff,
            commands::policy_lint,
            commands::policy_apply,
            commands::policy_simulate,
            commands::check,
            commands::findings,
            commands::finding,
            commands::triage,
            commands::compliance,
            commands::review_list,
            commands::review_show,
            commands::review_items,
            commands::review_start,
            commands::review_decide,
            commands::review_reassign,
            commands::review_close,
            commands::logs_search,
            commands::logs_scan,
            commands::logs_timeline,
            commands::logs_import,
            commands::logs_import_status,
            commands::export_start,
            commands::export_status,
            commands::export_cancel,
            commands::export_verify,
            commands::audit_events,
            commands::audit_verify,
        ])
        .run(tauri::generate_context!());
    if let Err(e) = result {
        eprintln!("Warden could not start: {e}");
        std::process::exit(1);
    }
}
