//! The built `warden` binary against MariaDB servers this test binary starts itself.

// Test code: a failed unwrap is a failed test, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod commands;
mod exit_codes;
mod keyring;
mod sandbox;
mod sqli;
mod support;
mod tls;
