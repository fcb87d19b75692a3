//! Writing the company into the reference application's tables, one multi-row INSERT batch
//! after another.

use sqlx::{MySql, MySqlConnection, QueryBuilder};

use super::access_log::LogRow;
use super::catalogue::{PERMISSIONS, ROLES, perm_id, role_id};
use super::company::{Company, DirectGrant, Grant, StaffUser};
use super::customers::{Account, Book, Customer, Ticket};
use crate::error::{Error, Result};

/// Every table, the ones referred to first.
pub(super) async fn all(
    c: &mut MySqlConnection,
    company: &mut Company,
    customers: &[Customer],
    book: &Book,
    log: &[LogRow],
) -> Result<()> {
    permissions(c).await?;
    staff_users(c, &company.users).await?;
    roles(c, company).await?;
    role_inheritance(c).await?;
    role_permissions(c).await?;
    user_roles(c, &mut company.grants).await?;
    user_permissions(c, &company.direct).await?;
    customer_rows(c, customers).await?;
    support_tickets(c, &book.tickets).await?;
    customer_accounts(c, &book.accounts).await?;
    access_log(c, log).await
}

async fn permissions(c: &mut MySqlConnection) -> Result<()> {
    insert(
        c,
        "INSERT INTO permissions (id, perm_key, description) ",
        PERMISSIONS.iter().enumerate(),
        |b, (i, (k, d))| {
            b.push_bind(i as u64 + 1).push_bind(*k).push_bind(*d);
        },
    )
    .await
}

async fn staff_users(c: &mut MySqlConnection, users: &[StaffUser]) -> Result<()> {
    insert(c, "INSERT INTO staff_users (id, login, display_name, email, department, title, manager_id, status, mfa_enabled, password_algo, is_superuser, last_login_at, created_at) ", users.iter(), |b, u| {
        b.push_bind(u.id).push_bind(&u.login).push_bind(&u.name).push_bind(format!("{}@example.com", u.login))
            .push_bind(u.dept).push_bind(&u.title).push_bind(u.manager).push_bind(u.status).push_bind(u.mfa)
            .push_bind(u.algo).push_bind(u.superuser).push_bind(u.last_login).push_bind(u.created);
    }).await
}

/// The catalogue's roles, owned by their departments, then those named after hostile text,
/// owned by the CEO.
async fn roles(c: &mut MySqlConnection, company: &Company) -> Result<()> {
    insert(
        c,
        "INSERT INTO roles (id, name, description, owner_id) ",
        ROLES.iter().enumerate(),
        |b, (i, r)| {
            b.push_bind(i as u64 + 1)
                .push_bind(r.name)
                .push_bind(r.description)
                .push_bind(company.owner_of(r.dept));
        },
    )
    .await?;
    insert(
        c,
        "INSERT INTO roles (id, name, description, owner_id) ",
        company.extra_roles.iter(),
        |b, (id, name)| {
            b.push_bind(*id)
                .push_bind(name)
                .push_bind(name)
                .push_bind(company.ceo);
        },
    )
    .await
}

async fn role_inheritance(c: &mut MySqlConnection) -> Result<()> {
    insert(
        c,
        "INSERT INTO role_inheritance (role_id, parent_role_id) ",
        ROLES.iter().filter(|r| r.parent.is_some()),
        |b, r| {
            b.push_bind(role_id(r.name))
                .push_bind(role_id(r.parent.unwrap_or_default()));
        },
    )
    .await
}

async fn role_permissions(c: &mut MySqlConnection) -> Result<()> {
    let role_perms: Vec<(u64, u64)> = ROLES
        .iter()
        .flat_map(|r| r.perms.iter().map(|p| (role_id(r.name), perm_id(p))))
        .collect();
    insert(
        c,
        "INSERT INTO role_permissions (role_id, permission_id) ",
        role_perms.iter(),
        |b, (r, p)| {
            b.push_bind(*r).push_bind(*p);
        },
    )
    .await
}

/// A user holds a role once: of two grants of it, the first made is the one written.
async fn user_roles(c: &mut MySqlConnection, grants: &mut Vec<Grant>) -> Result<()> {
    grants.sort_by_key(|g| (g.user, g.role));
    grants.dedup_by_key(|g| (g.user, g.role));
    insert(
        c,
        "INSERT INTO user_roles (user_id, role_id, granted_at, granted_by, expires_at) ",
        grants.iter(),
        |b, g| {
            b.push_bind(g.user)
                .push_bind(g.role)
                .push_bind(g.at)
                .push_bind(g.by)
                .push_bind(g.expires);
        },
    )
    .await
}

async fn user_permissions(c: &mut MySqlConnection, direct: &[DirectGrant]) -> Result<()> {
    insert(
        c,
        "INSERT INTO user_permissions (user_id, permission_id, granted_at, granted_by) ",
        direct.iter(),
        |b, d| {
            b.push_bind(d.user)
                .push_bind(d.permission)
                .push_bind(d.at)
                .push_bind(d.by);
        },
    )
    .await
}

async fn customer_rows(c: &mut MySqlConnection, customers: &[Customer]) -> Result<()> {
    insert(
        c,
        "INSERT INTO customers (id, name, email, phone, country, card_last4, created_at) ",
        customers.iter(),
        |b, k| {
            b.push_bind(k.id)
                .push_bind(&k.name)
                .push_bind(&k.email)
                .push_bind(&k.phone)
                .push_bind(k.country)
                .push_bind(&k.card_last4)
                .push_bind(k.created);
        },
    )
    .await
}

async fn support_tickets(c: &mut MySqlConnection, tickets: &[Ticket]) -> Result<()> {
    insert(
        c,
        "INSERT INTO support_tickets (customer_id, assignee_id, subject, status, opened_at) ",
        tickets.iter(),
        |b, t| {
            b.push_bind(t.customer)
                .push_bind(t.assignee)
                .push_bind("Customer request")
                .push_bind(t.status)
                .push_bind(t.opened);
        },
    )
    .await
}

async fn customer_accounts(c: &mut MySqlConnection, accounts: &[Account]) -> Result<()> {
    insert(
        c,
        "INSERT INTO customer_accounts (customer_id, owner_id, tier, opened_at) ",
        accounts.iter(),
        |b, a| {
            b.push_bind(a.customer)
                .push_bind(a.owner)
                .push_bind(a.tier)
                .push_bind(a.opened);
        },
    )
    .await
}

async fn access_log(c: &mut MySqlConnection, log: &[LogRow]) -> Result<()> {
    insert(c, "INSERT INTO access_log (occurred_at, user_id, action, resource_type, resource_id, outcome, client_ip, user_agent) ", log.iter(), |b, r| {
        b.push_bind(r.at).push_bind(r.user).push_bind(r.action).push_bind(r.rtype).push_bind(&r.rid)
            .push_bind(if r.allowed { "allowed" } else { "denied" }).push_bind(&r.ip).push_bind(r.ua);
    }).await
}

/// Multi-row INSERTs in batches that stay under the 65,535-placeholder limit.
async fn insert<'r, T: 'r, I>(
    c: &mut MySqlConnection,
    head: &'static str,
    rows: I,
    mut bind: impl FnMut(&mut sqlx::query_builder::Separated<'_, 'r, MySql, &'static str>, T),
) -> Result<()>
where
    I: Iterator<Item = T>,
{
    let columns = head.matches(',').count() + 1;
    let per_batch = (60_000 / columns).min(4_000);
    let mut rows = rows.peekable();
    while rows.peek().is_some() {
        let batch: Vec<T> = rows.by_ref().take(per_batch).collect();
        let mut qb = QueryBuilder::<MySql>::new(head);
        qb.push_values(batch, |mut b, row| bind(&mut b, row));
        qb.build()
            .execute(&mut *c)
            .await
            .map_err(|e| Error::Server(format!("seeding failed ({head}): {e}")))?;
    }
    Ok(())
}
