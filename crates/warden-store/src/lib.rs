//! Warden's access to MySQL and MariaDB through sqlx.
//!
//! Values are always bound. Identifiers come only from a mapping that [`schema::resolve`]
//! checked against information_schema, and are quoted by `warden_core::ident::quote`.
//! Database errors are turned into [`Error`] here, so raw SQL never reaches a user.

pub mod accounts;
pub mod connect;
pub mod directory;
pub mod error;
pub mod findings;
pub mod governance;
pub mod logs;
mod mapped;
mod peer;
pub mod profiles;
pub mod reviews;
pub mod schema;
pub mod secret;
pub mod server_roles;
mod wire;
pub mod witness;

pub use connect::{ConnectSpec, Database};
pub use error::{Error, Result};
pub use schema::Resolved;
pub use secret::Secret;
