// The commands the window may call come from their one declaration; capabilities/default.json
// grants each by name, and nothing else (no shell, no file system, no HTTP).
include!("src/declared.rs");

macro_rules! names {
    ($($name:ident($($arg:ident: $ty:ty),*) -> $res:ty;)*) => {
        &[$(stringify!($name)),*]
    };
}

fn main() {
    println!("cargo:rerun-if-changed=src/declared.rs");
    let commands: &[&str] = with_commands!(names);
    let attributes = tauri_build::Attributes::new()
        .app_manifest(tauri_build::AppManifest::new().commands(commands));
    if let Err(e) = tauri_build::try_build(attributes) {
        eprintln!("tauri-build failed: {e:#}");
        std::process::exit(1);
    }
}
