//! The outcome events of payment, shipping and email (`checkout.order-events`), each
//! moving an order along once: a duplicate changes nothing and is acked.

use std::time::Duration;

use messaging::{Handler, Incoming, Outcome, Publisher};
use sqlx::PgPool;
use uuid::Uuid;
use wire::events::{
    EmailSent, Event, PaymentFailed, PaymentSucceeded, ShipmentCancelled, ShipmentCreated,
};

use crate::store::{self, Applied, Change};

pub struct OrderEvents {
    pool: PgPool,
    retry_pause: Duration,
}

impl OrderEvents {
    pub fn new(pool: PgPool, retry_pause: Duration) -> Self {
        Self { pool, retry_pause }
    }
}

impl Handler for OrderEvents {
    async fn handle(&self, message: Incoming, _: &Publisher) -> Outcome {
        let (order_id, change) = match read(&message) {
            Ok(event) => event,
            Err(why) => {
                tracing::warn!(message.id = %message.message_id, kind = %message.kind, why, "unusable event; dead-lettered");
                return Outcome::DeadLetter;
            }
        };
        match store::apply(&self.pool, order_id, &change).await {
            Ok(Applied::Changed) => {
                tracing::info!(order.id = %order_id, event = %message.name(), "order updated");
                Outcome::Ack
            }
            Ok(Applied::Unchanged) => Outcome::Ack,
            Ok(Applied::UnknownOrder) => {
                tracing::warn!(order.id = %order_id, event = %message.name(), "event for an unknown order; dead-lettered");
                Outcome::DeadLetter
            }
            Err(err) => {
                // Unavailable or not, a database error may pass: handed back after a
                // pause that grows with each delivery, and the delivery limit
                // dead-letters what keeps failing.
                serving::postgres::log_retried(&err, "recording an order event");
                Outcome::retry_later(self.retry_pause, &message)
            }
        }
    }
}

/// The order and what happens to it, or why the message can never be used.
fn read(message: &Incoming) -> Result<(Uuid, Change), String> {
    fn event<E: Event>(message: &Incoming) -> Result<E, String> {
        message.event().map_err(|err| err.to_string())
    }
    Ok(match message.name() {
        PaymentSucceeded::NAME => {
            let paid: PaymentSucceeded = event(message)?;
            let transaction_id = paid.transaction_id;
            (paid.order_id, Change::Paid { transaction_id })
        }
        PaymentFailed::NAME => {
            let failed: PaymentFailed = event(message)?;
            let reason = failed.reason;
            (failed.order_id, Change::PaymentFailed { reason })
        }
        ShipmentCreated::NAME => {
            let created: ShipmentCreated = event(message)?;
            let tracking_id = created.tracking_id;
            (created.order_id, Change::ShipmentCreated { tracking_id })
        }
        ShipmentCancelled::NAME => {
            let cancelled: ShipmentCancelled = event(message)?;
            (cancelled.order_id, Change::ShipmentCancelled)
        }
        EmailSent::NAME => {
            let sent: EmailSent = event(message)?;
            (sent.order_id, Change::EmailSent)
        }
        other => return Err(format!("unknown event {other:?}")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn incoming(kind: &str, body: &str) -> Incoming {
        Incoming {
            message_id: "m".into(),
            kind: kind.into(),
            routing_key: kind.into(),
            redelivered: false,
            delivery_count: 0,
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn each_event_becomes_its_change() {
        let id = "0b9e7d2a-58c4-4f13-a1e6-7d3f5c2b8a90";
        let (order, change) = read(&incoming(
            PaymentSucceeded::NAME,
            &format!(r#"{{"order_id":"{id}","transaction_id":"tx-1"}}"#),
        ))
        .unwrap();
        assert_eq!(order.to_string(), id);
        assert_eq!(
            change,
            Change::Paid {
                transaction_id: "tx-1".into()
            }
        );
        let (_, change) = read(&incoming(
            EmailSent::NAME,
            &format!(r#"{{"order_id":"{id}"}}"#),
        ))
        .unwrap();
        assert_eq!(change, Change::EmailSent);
    }

    #[test]
    fn unusable_messages_are_refused() {
        let cases = [
            incoming("payment.refunded", r#"{"order_id":"x"}"#),
            incoming(PaymentFailed::NAME, "not json"),
            incoming(PaymentFailed::NAME, r#"{"order_id":"x"}"#),
            incoming(EmailSent::NAME, r#"{"order_id":"not-a-uuid"}"#),
        ];
        for message in cases {
            assert!(read(&message).is_err(), "{message:?}");
        }
    }
}
