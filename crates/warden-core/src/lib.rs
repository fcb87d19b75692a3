//! Warden's pure domain: plain data and plain functions, no I/O.
//!
//! Everything here is tested without a database. The store reads rows into these types,
//! the service composes them, and both front ends render them.

pub mod audit;
pub mod auditlog;
pub mod console;
pub mod console_accounts;
pub mod csv_guard;
pub mod detectors;
pub mod directory;
pub mod error;
pub mod export;
pub mod findings;
pub mod glob;
pub mod ident;
pub mod mapping;
mod named;
pub mod policy;
pub mod remediation;
pub mod review;
pub mod review_access;
pub mod routine_calls;
pub mod server_roles;
pub mod snapshot;
pub mod suggest;
pub mod vocabulary;
pub mod witness;

pub use error::{Error, Result};
