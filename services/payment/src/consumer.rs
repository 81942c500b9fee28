//! `order.placed` in, `payment.succeeded` / `payment.failed` out. The order of steps is
//! what makes a redelivery harmless: record (or read back) the charge, publish its
//! outcome with a confirm, and only then ack. A duplicate re-publishes the recorded
//! outcome, since the first publication may be the one that was lost.

use std::time::Duration;

use messaging::{Handler, Incoming, Outcome, PublishError, Publisher};
use sqlx::PgPool;
use wire::events::{OrderPlaced, PaymentFailed, PaymentSucceeded};

use crate::{
    charge::{self, Decision, DeclineReason},
    store::{self, Charge},
};

pub struct OrderPlacedHandler {
    pool: PgPool,
    retry_pause: Duration,
}

impl OrderPlacedHandler {
    pub fn new(pool: PgPool, retry_pause: Duration) -> Self {
        Self { pool, retry_pause }
    }

    /// A failed database call: the message is handed back after a pause (the database
    /// is likely away), while the consumer goes on.
    fn retry_later(&self, message: &Incoming, err: &sqlx::Error) -> Outcome {
        serving::postgres::log_retried(err, "recording the charge");
        Outcome::retry_later(self.retry_pause, message)
    }
}

impl Handler for OrderPlacedHandler {
    async fn handle(&self, message: Incoming, publisher: &Publisher) -> Outcome {
        let charge = match charge_for(&message) {
            Ok(charge) => charge,
            Err(why) => {
                tracing::warn!(error = why, "unusable order.placed; dead-lettering it");
                return Outcome::DeadLetter;
            }
        };
        let (charge, first) = match store::record(&self.pool, &charge).await {
            Ok(recorded) => recorded,
            Err(err) => return self.retry_later(&message, &err),
        };
        tracing::info!(
            order.id = %charge.order_id,
            payment.outcome = charge.decision.outcome(),
            payment.reason = charge.decision.reason().map(DeclineReason::as_str),
            duplicate = !first,
            "charge {}",
            if first { "recorded" } else { "already recorded; re-publishing its outcome" },
        );
        match publish_outcome(publisher, &charge).await {
            Ok(()) => Outcome::Ack,
            Err(err) => {
                tracing::warn!(error = %err, order.id = %charge.order_id, "publishing the payment outcome failed; the order will be retried");
                // At once: the link is what failed, and the consumer's reconnection paces it.
                Outcome::RetryAfter(Duration::ZERO)
            }
        }
    }
}

/// The charge an order asks for, or why the message can never be charged.
fn charge_for(message: &Incoming) -> Result<Charge, String> {
    let order: OrderPlaced = message.event().map_err(|err| err.to_string())?;
    let order_id = order.order_id;
    if !charge::is_last4(&order.card.last4) {
        return Err("card.last4 is not four digits".into());
    }
    if order.total.amount_minor < 0 {
        return Err("the total is negative".into());
    }
    Ok(Charge {
        order_id,
        transaction_id: charge::transaction_id(order_id),
        decision: charge::decide(&order.card.last4),
        amount_minor: order.total.amount_minor,
        currency: order.total.currency.code().to_owned(),
        card_last4: order.card.last4,
    })
}

/// Publishes the recorded outcome to `order-events`, routed by its event name.
async fn publish_outcome(publisher: &Publisher, charge: &Charge) -> Result<(), PublishError> {
    let order_id = charge.order_id;
    match charge.decision {
        Decision::Approved => {
            let paid = PaymentSucceeded {
                order_id,
                transaction_id: charge.transaction_id.clone(),
            };
            publisher.publish(&paid).await
        }
        Decision::Declined(reason) => {
            let failed = PaymentFailed {
                order_id,
                reason: reason.as_str().to_owned(),
            };
            publisher.publish(&failed).await
        }
    }
}
