//! `order.placed` creates a shipment, `payment.failed` cancels it; both publish the
//! shipment's state to `order-events`. Steps in the order that makes redeliveries
//! harmless: write (or read back) the ledger, publish with a confirm, then ack. A
//! duplicate re-publishes the same outcome, since the first one may have been lost.

use std::{sync::Arc, time::Duration};

use messaging::{Handler, Incoming, Outcome, PublishError, Publisher};
use sqlx::PgPool;
use wire::events::{OrderPlaced, PaymentFailed, ShipmentCancelled, ShipmentCreated};

use crate::store::{self, Shipment, Status};

/// What both consumers share.
pub struct Shipments {
    pool: PgPool,
    retry_pause: Duration,
}

impl Shipments {
    pub fn new(pool: PgPool, retry_pause: Duration) -> Self {
        Self { pool, retry_pause }
    }

    /// A failed database call: the message is handed back after a pause (the database
    /// is likely away), while the consumer goes on.
    fn retry_later(&self, message: &Incoming, err: &sqlx::Error) -> Outcome {
        serving::postgres::log_retried(err, "writing the shipment");
        Outcome::retry_later(self.retry_pause, message)
    }
}

/// Consumes `shipping.order-placed`.
pub struct OrderPlacedHandler(pub Arc<Shipments>);

impl Handler for OrderPlacedHandler {
    async fn handle(&self, message: Incoming, publisher: &Publisher) -> Outcome {
        let order_id = match message.event::<OrderPlaced>() {
            Ok(order) => order.order_id,
            Err(why) => return dead_letter(&why.to_string()),
        };
        let (shipment, created) = match store::create(&self.0.pool, order_id).await {
            Ok(written) => written,
            Err(err) => return self.0.retry_later(&message, &err),
        };
        tracing::info!(
            order.id = %order_id,
            shipment.tracking_id = shipment.tracking_id,
            shipment.status = ?shipment.status,
            duplicate = !created && shipment.status == Status::Created,
            "order placed",
        );
        publish_or_retry(publisher, &shipment).await
    }
}

/// Consumes `shipping.payment-failed`.
pub struct PaymentFailedHandler(pub Arc<Shipments>);

impl Handler for PaymentFailedHandler {
    async fn handle(&self, message: Incoming, publisher: &Publisher) -> Outcome {
        let order_id = match message.event::<PaymentFailed>() {
            Ok(failed) => failed.order_id,
            Err(why) => return dead_letter(&why.to_string()),
        };
        let changed = match store::cancel(&self.0.pool, order_id).await {
            Ok(changed) => changed,
            Err(err) => return self.0.retry_later(&message, &err),
        };
        tracing::info!(order.id = %order_id, duplicate = !changed, "payment failed; shipment cancelled");
        let shipment = Shipment {
            order_id,
            tracking_id: store::tracking_id(order_id),
            status: Status::Cancelled,
        };
        publish_or_retry(publisher, &shipment).await
    }
}

fn dead_letter(why: &str) -> Outcome {
    tracing::warn!(error = why, "unusable message; dead-lettering it");
    Outcome::DeadLetter
}

async fn publish_or_retry(publisher: &Publisher, shipment: &Shipment) -> Outcome {
    match publish_state(publisher, shipment).await {
        Ok(()) => Outcome::Ack,
        Err(err) => {
            tracing::warn!(error = %err, order.id = %shipment.order_id, "publishing the shipment's state failed; the message will be retried");
            // At once: the link is what failed, and the consumer's reconnection paces it.
            Outcome::RetryAfter(Duration::ZERO)
        }
    }
}

/// `shipment.created` or `shipment.cancelled`, whichever the ledger says.
async fn publish_state(publisher: &Publisher, shipment: &Shipment) -> Result<(), PublishError> {
    let order_id = shipment.order_id;
    match shipment.status {
        Status::Created => {
            let created = ShipmentCreated {
                order_id,
                tracking_id: shipment.tracking_id.clone(),
            };
            publisher.publish(&created).await
        }
        Status::Cancelled => publisher.publish(&ShipmentCancelled { order_id }).await,
    }
}
