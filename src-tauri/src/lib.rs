//! Warden's desktop shell: Tauri commands that are thin adapters over warden-service.

mod chosen;
mod commands;
#[macro_use]
pub mod contract;
mod exports;
mod imports;
pub mod ipc;
mod jobs;
mod reminders;
mod state;

use tauri::Manager;

/// The Tauri handler of every declared command (`declared.rs`), each `commands::NAME`.
macro_rules! handler {
    ($($name:ident($($arg:ident: $ty:ty),*) -> $res:ty;)*) => {
        tauri::generate_handler![$(commands::$name),*]
    };
}

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
        // Its dialogs are shown from Rust only (`choose_file`): the capability grants the
        // page none of the plugin's own commands.
        .plugin(tauri_plugin_dialog::init())
        .manage(state::AppState::from_env())
        .manage(reminders::Shown::default())
        .manage(imports::Imports::default())
        .manage(exports::Exports::default())
        .manage(chosen::Chosen::default())
        .setup(|app| {
            reminders::every_hour(app.handle().clone());
            Ok(())
        })
        .invoke_handler(with_commands!(handler))
        .run(tauri::generate_context!());
    if let Err(e) = result {
        eprintln!("Warden could not start: {e}");
        std::process::exit(1);
    }
}
