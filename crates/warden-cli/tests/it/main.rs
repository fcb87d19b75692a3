//! The built `warden` binary against MariaDB servers this test binary starts itself.

mod commands;
mod exit_codes;
mod keyring;
mod sandbox;
mod sqli;
mod support;
