//! The `charges` ledger. Recording is insert-if-absent followed by a read, two
//! statements so the read sees a row another replica committed meanwhile: whoever
//! comes second gets the first decision back.

use sqlx::PgPool;
use tracing::Instrument;
use uuid::Uuid;

use crate::charge::{Decision, DeclineReason};

/// A charge as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Charge {
    pub order_id: Uuid,
    pub transaction_id: String,
    pub decision: Decision,
    pub amount_minor: i64,
    pub currency: String,
    pub card_last4: String,
}

/// A ledger row; its `outcome` and `reason` columns hold the [`Decision`].
#[derive(sqlx::FromRow)]
struct Row {
    order_id: Uuid,
    transaction_id: String,
    outcome: String,
    reason: Option<String>,
    amount_minor: i64,
    currency: String,
    card_last4: String,
}

impl TryFrom<Row> for Charge {
    type Error = sqlx::Error;

    fn try_from(row: Row) -> Result<Self, sqlx::Error> {
        let decision =
            Decision::from_ledger(&row.outcome, row.reason.as_deref()).ok_or_else(|| {
                sqlx::Error::Decode(
                    format!(
                        "charge outcome {:?} with reason {:?}",
                        row.outcome, row.reason
                    )
                    .into(),
                )
            })?;
        Ok(Charge {
            order_id: row.order_id,
            transaction_id: row.transaction_id,
            decision,
            amount_minor: row.amount_minor,
            currency: row.currency,
            card_last4: row.card_last4,
        })
    }
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
    .bind(charge.decision.outcome())
    .bind(charge.decision.reason().map(DeclineReason::as_str))
    .bind(charge.amount_minor)
    .bind(&charge.currency)
    .bind(&charge.card_last4)
    .execute(pool)
    .instrument(serving::db_span!("postgresql", "INSERT", "charges"))
    .await?
    .rows_affected()
        == 1;
    let recorded: Row = sqlx::query_as(
        "SELECT order_id, transaction_id, outcome, reason, amount_minor, currency, card_last4
         FROM charges WHERE order_id = $1",
    )
    .bind(charge.order_id)
    .fetch_one(pool)
    .instrument(serving::db_span!("postgresql", "SELECT", "charges"))
    .await?;
    Ok((recorded.try_into()?, inserted))
}
