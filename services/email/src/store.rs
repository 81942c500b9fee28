//! The `emails` ledger: which orders have had their confirmation.

use sqlx::PgPool;
use tracing::Instrument;
use uuid::Uuid;

pub async fn is_sent(pool: &PgPool, order_id: Uuid) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM emails WHERE order_id = $1)")
        .bind(order_id)
        .fetch_one(pool)
        .instrument(serving::db_span!("postgresql", "SELECT", "emails"))
        .await
}

/// Records the confirmation as sent; a second record of the same order is a no-op.
pub async fn record_sent(
    pool: &PgPool,
    order_id: Uuid,
    recipient: &str,
    subject: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO emails (order_id, recipient, subject) VALUES ($1, $2, $3)
         ON CONFLICT (order_id) DO NOTHING",
    )
    .bind(order_id)
    .bind(recipient)
    .bind(subject)
    .execute(pool)
    .instrument(serving::db_span!("postgresql", "INSERT", "emails"))
    .await
    .map(drop)
}
