//! Integration tests of the use cases against a real MariaDB that this test binary starts
//! itself (warden-sandbox), each test in a database of its own.

// Test code: a failed unwrap is a failed test, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod audit;
mod authz;
mod directory;
mod django;
mod export;
mod findings;
mod ha;
mod ingest;
mod laravel;
mod logs;
mod mapping;
mod matrix;
mod pack;
mod policy;
mod reviews;
mod rolify;
mod server_roles;
mod sqli;
mod support;
