//! `profile add | list | remove`: connection profiles, their passwords in the OS keyring.

use std::io::{BufRead, IsTerminal};
use std::path::Path;

use warden_core::console::AuthMode;
use warden_core::mapping::Mapping;
use warden_service::ErrorCode;
use warden_store::{Secret, profiles};

use crate::args::{Cli, ProfileCommand};
use crate::context::{Result, note};
use crate::failure::Failure;
use crate::output::print;
use crate::render::{Message, ProfileList};

impl ProfileCommand {
    pub fn run(&self, cli: &Cli) -> Result<u8> {
        match self {
            ProfileCommand::Add(a) => {
                let hosts = a
                    .host
                    .iter()
                    .map(|h| match a.port {
                        Some(p) if !h.contains(':') => format!("{h}:{p}"),
                        _ => h.clone(),
                    })
                    .collect();
                let auth = match a.auth.as_str() {
                    "local" => AuthMode::Local,
                    "oidc" => AuthMode::Oidc,
                    other => {
                        return Err(Failure::usage(format!(
                            "--auth {other}: expected local or oidc"
                        )));
                    }
                };
                if Mapping::preset(&a.mapping).is_none() && !Path::new(&a.mapping).is_file() {
                    return Err(Failure::usage(format!(
                        "--mapping {}: neither a preset (reference, django, laravel-permission) nor a file",
                        a.mapping
                    )));
                }
                let profile = profiles::Profile {
                    hosts,
                    socket: None,
                    database: a.database.clone(),
                    user: a.user.clone(),
                    tls: a.tls.parse()?,
                    tls_ca: a.tls_ca.clone(),
                    mapping: a.mapping.clone(),
                    auth,
                    governance_schema: a.governance_schema.clone(),
                };
                let password = read_password(cli, &a.name)?;
                profiles::add(&a.name, profile, &password)?;
                let text = format!(
                    "profile `{}` saved in {}; its password is in the OS keyring",
                    a.name,
                    profiles::config_path()?.display()
                );
                print(
                    cli.format,
                    &Message::new(text).with("profile", a.name.clone()),
                )?;
                Ok(0)
            }
            ProfileCommand::List => {
                print(
                    cli.format,
                    &ProfileList {
                        profiles: profiles::list()?,
                    },
                )?;
                Ok(0)
            }
            ProfileCommand::Remove { name } => {
                profiles::remove(name)?;
                print(
                    cli.format,
                    &Message::new(format!("profile `{name}` removed")),
                )?;
                Ok(0)
            }
        }
    }
}

fn read_password(cli: &Cli, name: &str) -> Result<Secret> {
    let password = if std::io::stdin().is_terminal() {
        rpassword::prompt_password(format!("password for profile {name}: "))
            .map_err(|e| Failure::usage(format!("cannot read the password: {e}")))?
    } else {
        note(cli, "reading the password from the first line of stdin");
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|e| Failure::usage(format!("cannot read the password: {e}")))?;
        line.trim_end_matches(['\n', '\r']).to_string()
    };
    if password.is_empty() {
        return Err(Failure::new(ErrorCode::Input, "the password is empty"));
    }
    Ok(Secret::new(password))
}
