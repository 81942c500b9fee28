//! The `shipments` ledger. Each write is an idempotent upsert followed by a read, two
//! statements so the read sees what another replica committed meanwhile.

use sha2::{Digest, Sha256};
use sqlx::PgPool;
use tracing::Instrument;
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Created,
    Cancelled,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shipment {
    pub order_id: Uuid,
    pub tracking_id: String,
    pub status: Status,
}

/// `1Z` and the first 16 hex digits (upper case) of the SHA-256 of the order id's
/// hyphenated lower-case form: the same order always gets the same tracking id.
pub fn tracking_id(order_id: Uuid) -> String {
    let digest = Sha256::digest(order_id.hyphenated().to_string().as_bytes());
    let hex: String = digest[..8].iter().map(|b| format!("{b:02X}")).collect();
    format!("1Z{hex}")
}

/// Creates the order's shipment unless it has a row already (created before, or
/// cancelled because payment failed first). Answers the row and whether this call made it.
pub async fn create(pool: &PgPool, order_id: Uuid) -> Result<(Shipment, bool), sqlx::Error> {
    let created = sqlx::query(
        "INSERT INTO shipments (order_id, tracking_id, status) VALUES ($1, $2, 'created')
         ON CONFLICT (order_id) DO NOTHING",
    )
    .bind(order_id)
    .bind(tracking_id(order_id))
    .execute(pool)
    .instrument(serving::db_span!("postgresql", "INSERT", "shipments"))
    .await?
    .rows_affected()
        == 1;
    Ok((read(pool, order_id).await?, created))
}

/// Cancels the order's shipment, recording the cancellation even when no shipment
/// exists yet, so an `order.placed` arriving later does not ship. Answers whether this
/// call changed anything.
pub async fn cancel(pool: &PgPool, order_id: Uuid) -> Result<bool, sqlx::Error> {
    let changed = sqlx::query(
        "INSERT INTO shipments (order_id, tracking_id, status) VALUES ($1, $2, 'cancelled')
         ON CONFLICT (order_id) DO UPDATE SET status = 'cancelled', updated_at = now()
         WHERE shipments.status <> 'cancelled'",
    )
    .bind(order_id)
    .bind(tracking_id(order_id))
    .execute(pool)
    .instrument(serving::db_span!("postgresql", "INSERT", "shipments"))
    .await?
    .rows_affected();
    Ok(changed == 1)
}

async fn read(pool: &PgPool, order_id: Uuid) -> Result<Shipment, sqlx::Error> {
    let (tracking_id, status): (String, String) =
        sqlx::query_as("SELECT tracking_id, status FROM shipments WHERE order_id = $1")
            .bind(order_id)
            .fetch_one(pool)
            .instrument(serving::db_span!("postgresql", "SELECT", "shipments"))
            .await?;
    let status = match status.as_str() {
        "created" => Status::Created,
        _ => Status::Cancelled,
    };
    Ok(Shipment {
        order_id,
        tracking_id,
        status,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tracking_id_is_derived_from_the_order_id_alone() {
        let order = Uuid::parse_str("7d3c1c9e-5f0a-4f55-9a0e-2b1d6b0f9a11").unwrap();
        let id = tracking_id(order);
        assert_eq!(id, tracking_id(order), "deterministic");
        assert_eq!(id.len(), 18);
        assert!(id.starts_with("1Z"));
        assert!(
            id[2..]
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b))
        );
        assert_ne!(id, tracking_id(Uuid::new_v4()));
    }
}
