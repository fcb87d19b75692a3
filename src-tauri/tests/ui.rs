//! Checks on the UI sources that need no display: the TypeScript types of everything that
//! crosses IPC are generated from Rust (this regenerates them and fails when ui/src/bindings
//! differs; `UPDATE_BINDINGS=1 cargo test -p warden-desktop --test ui` rewrites them), and
//! no source uses an HTML sink.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ts_rs::{Config, TS};
use warden_desktop::ipc::{
    AddProfileRequest, ChosenFile, ConnectionInfo, ExportStart, ExportStatus, FilePurpose,
    ImportStatus, IpcError,
};
use warden_service::directory::*;
use warden_service::findings::{
    CheckResponse, ComplianceSummary, FindingDetail, FindingsRequest, FindingsResponse,
    TriageRequest, TriageResponse,
};
use warden_service::logs::{ScanResponse, SearchRequest, SearchResponse, TimelineResponse};
use warden_service::policy::{
    AppliedPolicy, PolicyDiff, PolicyHistory, PolicyLint, PolicyVersionView, SimulateResponse,
};
use warden_service::reviews::{
    CampaignDetail, CampaignList, CloseResponse, DecideRequest, DecideResponse, ItemsRequest,
    ItemsResponse, ReassignRequest, ReassignResponse, StartRequest, Started,
};

fn generate(dir: &Path) {
    // JSON numbers are doubles; ids and counts stay well within 2^53.
    let cfg = Config::new().with_large_int("number").with_out_dir(dir);
    ConnectionInfo::export_all(&cfg).unwrap();
    AddProfileRequest::export_all(&cfg).unwrap();
    IpcError::export_all(&cfg).unwrap();
    DashboardResponse::export_all(&cfg).unwrap();
    UsersRequest::export_all(&cfg).unwrap();
    UsersResponse::export_all(&cfg).unwrap();
    AccessRequest::export_all(&cfg).unwrap();
    AccessResponse::export_all(&cfg).unwrap();
    RolesResponse::export_all(&cfg).unwrap();
    RoleRequest::export_all(&cfg).unwrap();
    RoleDetail::export_all(&cfg).unwrap();
    WhoCanRequest::export_all(&cfg).unwrap();
    WhoCanResponse::export_all(&cfg).unwrap();
    PermissionsResponse::export_all(&cfg).unwrap();
    PolicyVersionView::export_all(&cfg).unwrap();
    PolicyHistory::export_all(&cfg).unwrap();
    PolicyDiff::export_all(&cfg).unwrap();
    PolicyLint::export_all(&cfg).unwrap();
    AppliedPolicy::export_all(&cfg).unwrap();
    SimulateResponse::export_all(&cfg).unwrap();
    CheckResponse::export_all(&cfg).unwrap();
    FindingsRequest::export_all(&cfg).unwrap();
    FindingsResponse::export_all(&cfg).unwrap();
    FindingDetail::export_all(&cfg).unwrap();
    TriageRequest::export_all(&cfg).unwrap();
    TriageResponse::export_all(&cfg).unwrap();
    ComplianceSummary::export_all(&cfg).unwrap();
    CampaignList::export_all(&cfg).unwrap();
    CampaignDetail::export_all(&cfg).unwrap();
    ItemsRequest::export_all(&cfg).unwrap();
    ItemsResponse::export_all(&cfg).unwrap();
    StartRequest::export_all(&cfg).unwrap();
    Started::export_all(&cfg).unwrap();
    DecideRequest::export_all(&cfg).unwrap();
    DecideResponse::export_all(&cfg).unwrap();
    ReassignRequest::export_all(&cfg).unwrap();
    ReassignResponse::export_all(&cfg).unwrap();
    CloseResponse::export_all(&cfg).unwrap();
    SearchRequest::export_all(&cfg).unwrap();
    SearchResponse::export_all(&cfg).unwrap();
    ScanResponse::export_all(&cfg).unwrap();
    TimelineResponse::export_all(&cfg).unwrap();
    ImportStatus::export_all(&cfg).unwrap();
    ExportStart::export_all(&cfg).unwrap();
    FilePurpose::export_all(&cfg).unwrap();
    ChosenFile::export_all(&cfg).unwrap();
    ExportStatus::export_all(&cfg).unwrap();
    warden_service::export::VerifyResponse::export_all(&cfg).unwrap();
    warden_service::audit::EventsRequest::export_all(&cfg).unwrap();
    warden_service::audit::EventsResponse::export_all(&cfg).unwrap();
    warden_service::audit::ChainState::export_all(&cfg).unwrap();
}

fn read_dir(dir: &Path) -> BTreeMap<String, String> {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .map(|e| e.unwrap().path())
                .filter(|p| p.extension().is_some_and(|x| x == "ts"))
                .map(|p| {
                    (
                        p.file_name().unwrap().to_string_lossy().to_string(),
                        std::fs::read_to_string(&p).unwrap(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn bindings_are_current() {
    let fresh = std::env::temp_dir().join(format!("warden-bindings-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&fresh);
    generate(&fresh);
    let committed_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../ui/src/bindings");
    let generated = read_dir(&fresh);
    assert!(
        generated.len() > 15,
        "{} bindings generated",
        generated.len()
    );
    if std::env::var("UPDATE_BINDINGS").is_ok_and(|v| v == "1") {
        let _ = std::fs::remove_dir_all(&committed_dir);
        std::fs::create_dir_all(&committed_dir).unwrap();
        for (name, text) in &generated {
            std::fs::write(committed_dir.join(name), text).unwrap();
        }
    }
    let committed = read_dir(&committed_dir);
    for (name, text) in &generated {
        assert_eq!(
            committed.get(name),
            Some(text),
            "ui/src/bindings/{name} is stale: run UPDATE_BINDINGS=1 cargo test -p warden-desktop --test ui"
        );
    }
    for name in committed.keys() {
        assert!(
            generated.contains_key(name),
            "ui/src/bindings/{name} is no longer generated: delete it"
        );
    }
}

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|x| {
            ["ts", "tsx", "js", "jsx", "html", "svelte"].contains(&x.to_str().unwrap_or(""))
        }) {
            out.push(path);
        }
    }
}

#[test]
fn no_html_sinks_in_the_ui() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../ui");
    let mut files = Vec::new();
    sources(&root.join("src"), &mut files);
    files.push(root.join("index.html"));
    assert!(files.len() > 10, "{} UI sources found", files.len());
    // Spelled in pieces so that greps for sinks do not flag this list itself.
    let sinks = [
        concat!("inner", "HTML"),
        concat!("outer", "HTML"),
        concat!("insertAdjacent", "HTML"),
        concat!("dangerouslySet", "InnerHTML"),
        concat!("document", ".write"),
        concat!("{@", "html"),
        concat!("createContextual", "Fragment"),
        concat!("ev", "al("),
        concat!("new ", "Function"),
    ];
    let mut found = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        for (n, line) in text.lines().enumerate() {
            for sink in sinks {
                if line.contains(sink) {
                    found.push(format!("{}:{}: {sink}", file.display(), n + 1));
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "HTML sinks in the UI (render text as text):\n{}",
        found.join("\n")
    );
}

/// `--name: #rrggbb;` declarations of one CSS block.
fn colours(block: &str) -> BTreeMap<String, String> {
    block
        .lines()
        .filter_map(|l| {
            let (name, value) = l.trim().strip_prefix("--")?.split_once(':')?;
            let value = value.trim().trim_end_matches(';').trim();
            (value.starts_with('#') && value.len() == 7)
                .then(|| (name.to_string(), value.to_string()))
        })
        .collect()
}

fn luminance(hex: &str) -> f64 {
    let channel = |i: usize| {
        let c = f64::from(u8::from_str_radix(&hex[i..i + 2], 16).unwrap()) / 255.0;
        if c <= 0.039_28 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * channel(1) + 0.7152 * channel(3) + 0.0722 * channel(5)
}

fn contrast(a: &str, b: &str) -> f64 {
    let (x, y) = (luminance(a), luminance(b));
    (x.max(y) + 0.05) / (x.min(y) + 0.05)
}

#[test]
fn both_themes_meet_wcag_aa_contrast() {
    let css = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../ui/src/styles.css"),
    )
    .unwrap();
    let dark_at = css
        .find("@media (prefers-color-scheme: dark)")
        .expect("a dark theme");
    let light = colours(&css[..dark_at]);
    let dark = colours(&css[dark_at..]);
    // Text on the backgrounds it is drawn on.
    let pairs = [
        ("text", "bg"),
        ("text", "surface"),
        ("text-2", "surface"),
        ("text-2", "surface-2"),
        ("text-2", "bg"),
        ("accent", "surface"),
        ("accent-text", "accent"),
        ("danger", "surface"),
        ("warn-text", "warn-bg"),
        ("text", "row-active"),
        ("text", "row-hover"),
        ("ok", "surface"),
        ("code-key", "surface-2"),
        ("code-string", "surface-2"),
        ("code-section", "surface-2"),
        ("surface", "danger"),
    ];
    for (theme, vars) in [("light", &light), ("dark", &dark)] {
        for (fg, bg) in pairs {
            let ratio = contrast(&vars[fg], &vars[bg]);
            assert!(
                ratio >= 4.5,
                "{theme}: --{fg} on --{bg} is {ratio:.2}:1, below AA's 4.5:1"
            );
        }
    }
}

/// A file generated from the command declaration: rewritten with UPDATE_BINDINGS=1, else
/// compared.
fn generated_file(relative: &str, wanted: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(relative);
    if std::env::var("UPDATE_BINDINGS").is_ok_and(|v| v == "1") {
        std::fs::write(&path, wanted).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == wanted,
        "{relative} drifted from src/declared.rs: run UPDATE_BINDINGS=1 cargo test -p warden-desktop --test ui"
    );
}

#[test]
fn the_capability_and_the_typescript_command_map_are_generated_from_the_declaration() {
    use warden_desktop::contract::{COMMANDS, capability, typescript};
    assert!(COMMANDS.len() > 30, "{} commands declared", COMMANDS.len());
    generated_file("capabilities/default.json", &capability());
    generated_file("../ui/src/lib/commands.ts", &typescript());
    let capability: serde_json::Value = serde_json::from_str(&capability()).unwrap();
    assert_eq!(
        capability["permissions"].as_array().unwrap().len(),
        COMMANDS.len(),
        "one grant per command, nothing else"
    );
}

/// The page reaches files only through what the person chose in a native dialog: no
/// command takes a path, a URL or a connection target from it, and the capability grants
/// no plugin's own commands (the dialog, the file system, the shell, HTTP) — only
/// Warden's, each `allow-<command>`.
#[test]
fn the_page_names_no_path_and_reaches_no_plugin() {
    use warden_desktop::contract::{COMMANDS, capability};
    for c in COMMANDS {
        for (arg, ty) in c.args {
            let arg = arg.to_lowercase();
            assert!(
                !["path", "url", "target", "dir", "folder", "file_name"]
                    .iter()
                    .any(|w| arg.contains(w)),
                "{}({arg}: {ty}) takes a path or a target from the page",
                c.name
            );
        }
    }
    let capability: serde_json::Value = serde_json::from_str(&capability()).unwrap();
    let declared: Vec<String> = COMMANDS
        .iter()
        .map(|c| format!("allow-{}", c.name.replace('_', "-")))
        .collect();
    for p in capability["permissions"].as_array().unwrap() {
        let p = p.as_str().unwrap();
        assert!(
            !p.contains(':') && declared.iter().any(|d| d == p),
            "{p} is not one of Warden's own commands"
        );
    }
    // The request types the page sends carry no path either.
    for binding in ["ExportStart", "AddProfileRequest"] {
        let ts = std::fs::read_to_string(
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join(format!("../ui/src/bindings/{binding}.ts")),
        )
        .unwrap();
        let fields: String = ts
            .lines()
            .filter(|l| !l.trim_start().starts_with('*'))
            .collect();
        assert!(!fields.contains("path"), "{binding} carries a path: {ts}");
    }
}

/// A command's arguments (name, type) and its answer's type.
type Signature = (Vec<(String, String)>, String);

/// Each `#[tauri::command]` of the shell: its name, the arguments the page sends (those
/// that are not Tauri's own: the app, the state, the window), and what it answers.
fn rust_commands() -> Vec<(String, Signature)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        // The attribute on a line of its own (not a mention in a comment).
        for piece in text.split("#[tauri::command]\n").skip(1) {
            let head = &piece[..piece.find('{').unwrap()];
            let name = head.split("fn ").nth(1).unwrap();
            let name: String = (name.chars())
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            let open = head.find('(').unwrap();
            let mut depth = 0;
            let close = (head.char_indices().skip(open))
                .find(|&(_, c)| {
                    depth += match c {
                        '(' => 1,
                        ')' => -1,
                        _ => 0,
                    };
                    depth == 0
                })
                .unwrap()
                .0;
            let (params, result) = (&head[open + 1..close], &head[close + 1..]);
            let mut args = Vec::new();
            let (mut depth, mut start) = (0, 0);
            for (i, c) in params.char_indices().chain([(params.len(), ',')]) {
                match c {
                    '<' | '(' => depth += 1,
                    '>' | ')' => depth -= 1,
                    ',' if depth == 0 => {
                        let param = params[start..i].trim();
                        start = i + 1;
                        let Some((arg, ty)) = param.split_once(':') else {
                            continue;
                        };
                        let ty = ty.trim();
                        if ["AppHandle", "State<", "tauri::", "Window"]
                            .iter()
                            .any(|t| ty.starts_with(t))
                        {
                            continue;
                        }
                        args.push((arg.trim().to_string(), last_segment(ty)));
                    }
                    _ => {}
                }
            }
            let result = result.trim().trim_start_matches("->").trim();
            let result = result
                .strip_prefix("Result<")
                .and_then(|r| r.strip_suffix('>'));
            out.push((name, (args, last_segment(result.unwrap()))));
        }
    }
    out
}

/// `a::b::C<…>` as `C<…>`, spaces gone: how the declaration writes a type.
fn last_segment(ty: &str) -> String {
    let ty: String = ty.chars().filter(|c| !c.is_whitespace()).collect();
    match ty.split_once('<') {
        Some((outer, rest)) => format!("{}<{}", outer.rsplit("::").next().unwrap(), rest),
        None => ty.rsplit("::").next().unwrap().to_string(),
    }
}

#[test]
fn every_command_is_declared_once_with_its_rust_signature() {
    use warden_desktop::contract::COMMANDS;
    let declared: BTreeMap<String, Signature> = (COMMANDS.iter())
        .map(|c| {
            let args = (c.args.iter())
                .map(|(a, t)| (a.to_string(), last_segment(t)))
                .collect();
            (c.name.to_string(), (args, last_segment(c.result)))
        })
        .collect();
    assert_eq!(declared.len(), COMMANDS.len(), "a command declared twice");
    let rust: BTreeMap<String, Signature> = rust_commands().into_iter().collect();
    assert!(rust.len() > 30, "{} commands found in src/", rust.len());
    assert_eq!(
        declared, rust,
        "src/declared.rs and the #[tauri::command] signatures differ"
    );
}
