//! Throwaway MariaDB servers and the synthetic company.
//!
//! [`server`] starts a private `mariadbd` as a plain process on a data directory copied from
//! a template (about half a second), for the demo (`warden sandbox start`) and for tests
//! ([`test_server`], one per test process, each test in its own database). [`seed`] loads
//! the reference application and a deterministic synthetic company into a database.

pub mod error;
pub mod galera;
pub mod process;
pub mod replica;
pub mod rng;
pub mod seed;
pub mod server;
pub mod tls;

pub use error::{Error, Result};
pub use seed::{Planted, Scenario, SeedOptions, SeedReport};
pub use server::{SandboxInfo, TestDatabase, TestServer, test_server};
pub use tls::{TlsTestServer, tls_test_server};
