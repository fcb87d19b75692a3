//! The reference application's tables, replaced wholesale by every seeding.

use rust_embed::RustEmbed;
use sqlx::{Executor, MySql, MySqlConnection, QueryBuilder};

use crate::error::{Error, Result};

/// The reference application's schema, embedded.
#[derive(RustEmbed)]
#[folder = "../../migrations/reference-app/"]
struct ReferenceSchema;

/// Drops the reference application's tables and creates them afresh from the embedded
/// schema, leaving foreign-key and unique checks off until [`restore_checks`].
pub(super) async fn replace_tables(c: &mut MySqlConnection) -> Result<()> {
    c.execute("SET foreign_key_checks = 0, unique_checks = 0")
        .await
        .map_err(failed)?;
    for table in [
        "access_log",
        "customer_accounts",
        "support_tickets",
        "customers",
        "user_permissions",
        "user_roles",
        "role_permissions",
        "permissions",
        "role_inheritance",
        "roles",
        "staff_users",
    ] {
        let mut qb = QueryBuilder::<MySql>::new("DROP TABLE IF EXISTS ");
        qb.push(warden_core::ident::quote(table));
        qb.build().execute(&mut *c).await.map_err(failed)?;
    }
    let mut files: Vec<_> = ReferenceSchema::iter().collect();
    files.sort();
    for file in files {
        let sql = ReferenceSchema::get(&file)
            .ok_or_else(|| Error::Input(format!("embedded schema file {file} is missing")))?;
        let text = String::from_utf8_lossy(&sql.data).to_string();
        sqlx::raw_sql(&text)
            .execute(&mut *c)
            .await
            .map_err(failed)?;
    }
    Ok(())
}

pub(super) async fn restore_checks(c: &mut MySqlConnection) -> Result<()> {
    c.execute("SET foreign_key_checks = 1, unique_checks = 1")
        .await
        .map_err(failed)?;
    Ok(())
}

fn failed(e: sqlx::Error) -> Error {
    Error::Server(format!("seeding failed: {e}"))
}
