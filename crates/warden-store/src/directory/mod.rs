//! Reading the application's directory through a resolved mapping: bulk reads that let the
//! core compute effective permissions in one pass, never a query per user.
//!
//! Every identifier here comes from a [`Resolved`](crate::schema::Resolved) mapping and goes
//! through `warden_core::ident::quote`; every value is bound.

mod activity;
mod counts;
mod fetch;
mod grants;
mod holders;
mod passwords;
mod roles;
mod users;

pub use activity::{Usage, active_since, usage_since};
pub use counts::{DepartmentCounts, department_counts, headline_counts};
pub use grants::{
    GrantsOf, direct_grantees, direct_grants, role_grants, role_grants_keyed, role_member_counts,
    role_members,
};
pub use holders::{Holder, user_index};
pub use passwords::password_schemes;
pub use roles::{permissions, role_hierarchy, role_permissions, roles};
pub use users::{UserFilter, user_by_login, users, users_by_ids};
