//! The `charges` ledger. Recording is insert-if-absent followed by a read, two
//! statements so the read sees a row another replica committed meanwhile: whoever
//! comes second gets the first decision back.

use sqlx::PgPool;
use tracing::Instrument;
use uuid::Uuid;

/// A charge as recorded.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Charge {
    pub order_id: Uuid,
    pub transaction_id: String,
    /// `succeeded` or `failed`.
    pub outcome: String,
    pub reason: Option<String>,
    pub amount_minor: i64,
    pub currency: String,
    pub card_last4: String,
}

/// Records `charge` unless the order has one already; answers the recorded charge and
/// whether it was this call that recorded it.
pub async fn record(pool: &PgPool, charge: &Charge) -> Result<(Charge, bool), sqlx::Error> {
    let inserted = sqlx::query(
        "INSERT INTO charges
             (order_id, transaction_id, outcome, reason, amount_minor, currency, card_last4)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (order_id) DO NOTHING",
    )
    .bind(charge.order_id)
    .bind(&charge.transaction_id)
    .bind(&charge.outcome)
    .bind(&charge.reason)
    .bind(charge.amount_minor)
    .bind(&charge.currency)
    .bind(&charge.card_last4)
    .execute(pool)
    .instrument(serving::db_span!("postgresql", "INSERT", "charges"))
    .await?
    .rows_affected()
        == 1;
    let recorded = sqlx::query_as(
        "SELECT order_id, transaction_id, outcome, reason, amount_minor, currency, card_last4
         FROM charges WHERE order_id = $1",
    )
    .bind(charge.order_id)
    .fetch_one(pool)
    .instrument(serving::db_span!("postgresql", "SELECT", "charges"))
    .await?;
    Ok((recorded, inserted))
}
