//! The desktop commands as data, from their one declaration (`declared.rs`), and what is
//! generated from them: the capability that grants exactly these commands, and the
//! TypeScript command map the page calls through.

include!("declared.rs");

/// A declared command: what the page sends, and what it answers (types as written).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Command {
    pub name: &'static str,
    pub args: &'static [(&'static str, &'static str)],
    pub result: &'static str,
}

macro_rules! list {
    ($($name:ident($($arg:ident: $ty:ty),*) -> $res:ty;)*) => {
        &[$(Command {
            name: stringify!($name),
            args: &[$((stringify!($arg), stringify!($ty))),*],
            result: stringify!($res),
        }),*]
    };
}

/// Every command, in the order declared.
pub const COMMANDS: &[Command] = with_commands!(list);

/// `capabilities/default.json`: the main window may call these commands and nothing else.
pub fn capability() -> String {
    let allowed: Vec<String> = (COMMANDS.iter())
        .map(|c| format!("    \"allow-{}\"", c.name.replace('_', "-")))
        .collect();
    format!(
        "{{\n  \"$schema\": \"../gen/schemas/desktop-schema.json\",\n  \"identifier\": \"default\",\n  \
         \"description\": \"The main window may call Warden's own commands and nothing else: no shell, \
         no file system, no HTTP, no core window or event APIs.\",\n  \"windows\": [\n    \"main\"\n  ],\n  \
         \"permissions\": [\n{}\n  ]\n}}\n",
        allowed.join(",\n")
    )
}

/// `ui/src/lib/commands.ts`: each command's arguments and answer, typed from the bindings.
pub fn typescript() -> String {
    let mut imports = std::collections::BTreeSet::new();
    let mut lines = Vec::new();
    for c in COMMANDS {
        let args: Vec<String> = (c.args.iter())
            .map(|(name, ty)| format!("{name}: {}", ts_type(ty, &mut imports)))
            .collect();
        let args = match args.is_empty() {
            true => "Record<string, never>".to_string(),
            false => format!("{{ {} }}", args.join("; ")),
        };
        let result = ts_type(c.result, &mut imports);
        lines.push(format!(
            "  {}: {{ args: {args}; result: {result} }};",
            c.name
        ));
    }
    let mut out = String::from(
        "// Generated from src-tauri/src/declared.rs by `UPDATE_BINDINGS=1 cargo test -p \
         warden-desktop --test ui`; do not edit.\n",
    );
    for name in &imports {
        out.push_str(&format!(
            "import type {{ {name} }} from \"../bindings/{name}\";\n"
        ));
    }
    out.push_str("\nexport type Commands = {\n");
    out.push_str(&lines.join("\n"));
    out.push_str("\n};\n");
    out
}

/// The TypeScript of a declared type; a named type is imported from the bindings.
fn ts_type(rust: &str, imports: &mut std::collections::BTreeSet<String>) -> String {
    let rust: String = rust.chars().filter(|c| !c.is_whitespace()).collect();
    if let Some(inner) = rust
        .strip_prefix("Option<")
        .and_then(|r| r.strip_suffix('>'))
    {
        return format!("{} | null", ts_type(inner, imports));
    }
    match rust.as_str() {
        "bool" => "boolean".into(),
        "String" => "string".into(),
        "()" => "null".into(),
        "u8" | "u16" | "u32" | "u64" | "i8" | "i16" | "i32" | "i64" | "f64" => "number".into(),
        name => {
            imports.insert(name.to_string());
            name.to_string()
        }
    }
}
