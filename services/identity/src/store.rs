//! Queries on the `users` table. E-mails are looked up by `lower(email)`, the expression
//! the unique index is on.

use serde::Serialize;
use sqlx::{PgPool, types::Json};
use tracing::Instrument;
use uuid::Uuid;
use wire::{address::PostalAddress, email::Email};

use crate::domain::DisplayName;

/// An account as `GET /me` shows it.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Profile {
    pub id: Uuid,
    pub email: String,
    pub name: String,
    pub address: Option<Json<PostalAddress>>,
}

/// An account and its stored password hash, for login.
#[derive(sqlx::FromRow)]
pub struct Credentials {
    pub id: Uuid,
    pub email: String,
    pub name: String,
    pub password_hash: String,
}

pub struct NewAccount<'a> {
    pub id: Uuid,
    pub email: &'a Email,
    pub name: &'a DisplayName,
    pub password_hash: &'a str,
}

/// What `PATCH /me` changes; `None` leaves a field as it is, `Some(None)` clears the address.
pub struct ProfileChanges<'a> {
    pub name: Option<&'a DisplayName>,
    pub email: Option<&'a Email>,
    pub address: Option<Option<&'a PostalAddress>>,
}

/// Fails with a unique violation (see [`is_email_taken`]) when the e-mail is in use.
pub async fn insert(pool: &PgPool, account: &NewAccount<'_>) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO users (id, email, name, password_hash) VALUES ($1, $2, $3, $4)")
        .bind(account.id)
        .bind(account.email.as_str())
        .bind(account.name.as_str())
        .bind(account.password_hash)
        .execute(pool)
        .instrument(serving::db_span!("postgresql", "INSERT", "users"))
        .await
        .map(drop)
}

pub async fn credentials(pool: &PgPool, email: &Email) -> Result<Option<Credentials>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, email, name, password_hash FROM users WHERE lower(email) = lower($1)",
    )
    .bind(email.as_str())
    .fetch_optional(pool)
    .instrument(serving::db_span!("postgresql", "SELECT", "users"))
    .await
}

pub async fn profile(pool: &PgPool, id: Uuid) -> Result<Option<Profile>, sqlx::Error> {
    sqlx::query_as("SELECT id, email, name, address FROM users WHERE id = $1")
        .bind(id)
        .fetch_optional(pool)
        .instrument(serving::db_span!("postgresql", "SELECT", "users"))
        .await
}

/// Applies the changes and answers the account as it now is, or `None` if it is gone.
pub async fn update_profile(
    pool: &PgPool,
    id: Uuid,
    changes: &ProfileChanges<'_>,
) -> Result<Option<Profile>, sqlx::Error> {
    sqlx::query_as(
        "UPDATE users SET
            name = COALESCE($2::text, name),
            email = COALESCE($3::text, email),
            address = CASE WHEN $4::bool THEN $5::jsonb ELSE address END,
            updated_at = now()
         WHERE id = $1
         RETURNING id, email, name, address",
    )
    .bind(id)
    .bind(changes.name.map(DisplayName::as_str))
    .bind(changes.email.map(Email::as_str))
    .bind(changes.address.is_some())
    .bind(changes.address.flatten().map(Json))
    .fetch_optional(pool)
    .instrument(serving::db_span!("postgresql", "UPDATE", "users"))
    .await
}

pub async fn password_hash(pool: &PgPool, id: Uuid) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT password_hash FROM users WHERE id = $1")
        .bind(id)
        .fetch_optional(pool)
        .instrument(serving::db_span!("postgresql", "SELECT", "users"))
        .await
}

/// Answers whether the account still exists.
pub async fn set_password_hash(pool: &PgPool, id: Uuid, hash: &str) -> Result<bool, sqlx::Error> {
    let result =
        sqlx::query("UPDATE users SET password_hash = $2, updated_at = now() WHERE id = $1")
            .bind(id)
            .bind(hash)
            .execute(pool)
            .instrument(serving::db_span!("postgresql", "UPDATE", "users"))
            .await?;
    Ok(result.rows_affected() == 1)
}

/// Answers whether there was an account to delete.
pub async fn delete(pool: &PgPool, id: Uuid) -> Result<bool, sqlx::Error> {
    let result = sqlx::query("DELETE FROM users WHERE id = $1")
        .bind(id)
        .execute(pool)
        .instrument(serving::db_span!("postgresql", "DELETE", "users"))
        .await?;
    Ok(result.rows_affected() == 1)
}

/// Whether an insert or update failed because another account has the e-mail.
pub fn is_email_taken(err: &sqlx::Error) -> bool {
    err.as_database_error()
        .is_some_and(|db| db.is_unique_violation() && db.constraint() == Some("users_email_key"))
}
