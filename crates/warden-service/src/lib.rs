//! Warden's use cases, shared by the CLI and the desktop app.
//!
//! Each use case is `async fn(&Ctx, Request) -> Result<Response>`. The database is reachable
//! only through a role proof obtained from the context ([`Ctx::as_officer`],
//! [`Ctx::as_reader`]), so a use case that forgets its authorization check does not compile.

pub mod audit;
pub mod clock;
pub mod context;
pub mod directory;
pub mod error;
pub mod export;
pub mod findings;
mod input;
pub mod logs;
pub mod mapping;
pub mod policy;
mod retry;
pub mod reviews;
pub mod session;
pub mod setup;

pub use clock::Clock;
pub use context::{Ctx, Decider, Officer, Reader};
pub use error::{Error, ErrorCode, Result};
