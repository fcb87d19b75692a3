//! Who is acting, with which console role, and the proofs that unlock the database.

use warden_core::console::{Actor, ConsoleRole};
use warden_core::mapping::Mapping;
use warden_store::governance::Change;
use warden_store::{Database, Resolved};

use crate::clock::Clock;
use crate::error::{Error, Result};

/// The context of every use case: the connection, the checked mapping, and the actor with
/// the console role read from Warden's tables, and the clock every use case reads "now"
/// from. Its fields are private: the database is reached only through a role proof.
#[derive(Debug)]
pub struct Ctx {
    db: Database,
    mapping: Option<Resolved>,
    actor: Actor,
    role: ConsoleRole,
    clock: Clock,
}

impl Ctx {
    /// Establishes who acts: the console user whose account is the one the server
    /// authenticated (`CURRENT_USER()`), never a name the client chose; and checks the
    /// mapping (when one is given) against the database. On failure the connection is
    /// closed.
    pub async fn establish(db: Database, mapping: Option<Mapping>) -> Result<Self> {
        match Self::check(&db, mapping).await {
            Ok((actor, role, mapping)) => Ok(Self {
                db,
                mapping,
                actor,
                role,
                clock: Clock::System,
            }),
            Err(e) => {
                db.close().await;
                Err(e)
            }
        }
    }

    async fn check(
        db: &Database,
        mapping: Option<Mapping>,
    ) -> Result<(Actor, ConsoleRole, Option<Resolved>)> {
        if !warden_store::governance::is_migrated(db).await? {
            return Err(warden_store::Error::NotMigrated.into());
        }
        let session = warden_store::accounts::session_user(db).await?;
        let (login, role) = session
            .console
            .ok_or_else(|| Error::NotConsoleUser(session.account.clone()))?;
        // A reviewer reads none of the application's tables (the server shows them only
        // their items, which carry what they need): there is no directory to map.
        let mapping = match mapping {
            Some(m) if role.reads_whole_directory() => {
                Some(warden_store::schema::resolve(db, m).await?)
            }
            _ => None,
        };
        Ok((Actor::local(login)?, role, mapping))
    }

    /// The same context reading time from `clock` (the system's by default): tests pin it.
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    pub fn clock(&self) -> Clock {
        self.clock
    }

    pub fn actor(&self) -> &Actor {
        &self.actor
    }

    pub fn role(&self) -> ConsoleRole {
        self.role
    }

    /// `user@host/db` of the connection, for display.
    pub fn target(&self) -> &str {
        self.db.target()
    }

    /// The host in use (`host:port`): the first of those given that served, or the one
    /// the session moved to when that was lost.
    pub fn host(&self) -> String {
        self.db.host()
    }

    /// Why this session only reads (no host took writes: a replica, a Galera node without
    /// quorum), if it does: every change is refused, reads go on.
    pub fn read_only(&self) -> Option<String> {
        self.db.read_only()
    }

    /// The connection, for the audit trail's head only: every console role reads the
    /// trail and appends to it (`audit::remember_head`).
    pub(crate) fn trail_db(&self) -> &Database {
        &self.db
    }

    /// Proof that the actor is an officer.
    pub fn as_officer(&self, what: &'static str) -> Result<Officer<'_>> {
        match self.role {
            ConsoleRole::Officer => Ok(Officer(self)),
            role => Err(Error::Forbidden {
                actor: self.actor.login.clone(),
                role,
                needed: "officer",
                what,
            }),
        }
    }

    /// Proof that the actor may read the whole directory (officers and auditors).
    /// Reviewers read only what their own review items show.
    pub fn as_reader(&self, what: &'static str) -> Result<Reader<'_>> {
        if self.role.reads_whole_directory() {
            Ok(Reader(self))
        } else {
            Err(Error::Forbidden {
                actor: self.actor.login.clone(),
                role: self.role,
                needed: "officer or auditor",
                what,
            })
        }
    }

    /// Proof that the actor may decide review items (reviewers and officers); which items
    /// are theirs is checked item by item.
    pub fn as_reviewer(&self, what: &'static str) -> Result<Decider<'_>> {
        match self.role {
            ConsoleRole::Officer | ConsoleRole::Reviewer => Ok(Decider(self)),
            role => Err(Error::Forbidden {
                actor: self.actor.login.clone(),
                role,
                needed: "reviewer or officer",
                what,
            }),
        }
    }

    pub async fn close(self) {
        self.db.close().await;
    }
}

/// An officer's access: everything, writes included.
#[derive(Debug, Clone, Copy)]
pub struct Officer<'a>(&'a Ctx);

/// Read access to the whole directory.
#[derive(Debug, Clone, Copy)]
pub struct Reader<'a>(&'a Ctx);

/// A reviewer's access: their own review items.
#[derive(Debug, Clone, Copy)]
pub struct Decider<'a>(&'a Ctx);

macro_rules! proof_access {
    ($t:ident, $needed:literal, $allows:expr) => {
        impl<'a> $t<'a> {
            pub fn db(&self) -> &'a Database {
                &self.0.db
            }

            pub fn actor(&self) -> &'a Actor {
                &self.0.actor
            }

            pub fn clock(&self) -> Clock {
                self.0.clock
            }

            /// Starts a change by this actor, at this moment of the context's clock. The
            /// console role is read again inside the change (behind the trail's head lock,
            /// so no role change can slip in between): a user removed or demoted since the
            /// session began loses the right at their next action.
            pub async fn change(&self) -> Result<Change<'a>> {
                let (db, actor) = (&self.0.db, &self.0.actor.login);
                let mut change = Change::begin(db, actor, self.0.clock.now()).await?;
                let allows: fn(ConsoleRole) -> bool = $allows;
                match warden_store::governance::role_in_change(&mut change, actor).await? {
                    Some(role) if allows(role) => Ok(change),
                    Some(role) => Err(Error::Forbidden {
                        actor: actor.clone(),
                        role,
                        needed: $needed,
                        what: "this change (the console role changed since the session began)",
                    }),
                    None => Err(Error::NotConsoleUser(actor.clone())),
                }
            }

            /// The checked mapping; a use case that reads the application needs one.
            pub fn mapping(&self) -> Result<&'a Resolved> {
                self.0.mapping.as_ref().ok_or_else(|| {
                    Error::Invalid(format!(
                        "this needs a mapping (--mapping {}|FILE)",
                        warden_core::mapping::PRESETS.join("|")
                    ))
                })
            }
        }
    };
}

proof_access!(Officer, "officer", |r| r == ConsoleRole::Officer);
proof_access!(
    Reader,
    "officer or auditor",
    ConsoleRole::reads_whole_directory
);
proof_access!(Decider, "reviewer or officer", |r| matches!(
    r,
    ConsoleRole::Officer | ConsoleRole::Reviewer
));

impl<'a> From<Officer<'a>> for Reader<'a> {
    fn from(o: Officer<'a>) -> Self {
        Reader(o.0)
    }
}
