//! The outcome events of payment, shipping and email (`checkout.order-events`), each
//! moving an order along once: a duplicate changes nothing and is acked.

use std::time::Duration;

use messaging::{Handler, Incoming, Outcome, Publisher};
use serde::de::DeserializeOwned;
use sqlx::PgPool;
use uuid::Uuid;
use wire::events::{
    EMAIL_SENT, EmailSent, PAYMENT_FAILED, PAYMENT_SUCCEEDED, PaymentFailed, PaymentSucceeded,
    SHIPMENT_CANCELLED, SHIPMENT_CREATED, ShipmentCancelled, ShipmentCreated,
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
                tracing::info!(order.id = %order_id, event = %kind(&message), "order updated");
                Outcome::Ack
            }
            Ok(Applied::Unchanged) => Outcome::Ack,
            Ok(Applied::UnknownOrder) => {
                tracing::warn!(order.id = %order_id, event = %kind(&message), "event for an unknown order; dead-lettered");
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

/// The event name: the AMQP `type`, else the routing key (the topic is the name too).
fn kind(message: &Incoming) -> &str {
    if message.kind.is_empty() {
        &message.routing_key
    } else {
        &message.kind
    }
}

/// The order and what happens to it, or why the message can never be used.
fn read(message: &Incoming) -> Result<(Uuid, Change), String> {
    fn body<T: DeserializeOwned>(message: &Incoming) -> Result<T, String> {
        message
            .json()
            .map_err(|err| format!("unreadable body: {err}"))
    }
    let (order_id, change) = match kind(message) {
        PAYMENT_SUCCEEDED => {
            let event: PaymentSucceeded = body(message)?;
            let transaction_id = event.transaction_id;
            (event.order_id, Change::Paid { transaction_id })
        }
        PAYMENT_FAILED => {
            let event: PaymentFailed = body(message)?;
            let reason = event.reason;
            (event.order_id, Change::PaymentFailed { reason })
        }
        SHIPMENT_CREATED => {
            let event: ShipmentCreated = body(message)?;
            let tracking_id = event.tracking_id;
            (event.order_id, Change::ShipmentCreated { tracking_id })
        }
        SHIPMENT_CANCELLED => {
            let event: ShipmentCancelled = body(message)?;
            (event.order_id, Change::ShipmentCancelled)
        }
        EMAIL_SENT => {
            let event: EmailSent = body(message)?;
            (event.order_id, Change::EmailSent)
        }
        other => return Err(format!("unknown event {other:?}")),
    };
    let order_id =
        Uuid::parse_str(&order_id).map_err(|_| format!("order id {order_id:?} is not a UUID"))?;
    Ok((order_id, change))
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
            PAYMENT_SUCCEEDED,
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
        let (_, change) =
            read(&incoming(EMAIL_SENT, &format!(r#"{{"order_id":"{id}"}}"#))).unwrap();
        assert_eq!(change, Change::EmailSent);
    }

    #[test]
    fn unusable_messages_are_refused() {
        let cases = [
            incoming("payment.refunded", r#"{"order_id":"x"}"#),
            incoming(PAYMENT_FAILED, "not json"),
            incoming(PAYMENT_FAILED, r#"{"order_id":"x"}"#),
            incoming(EMAIL_SENT, r#"{"order_id":"not-a-uuid"}"#),
        ];
        for message in cases {
            assert!(read(&message).is_err(), "{message:?}");
        }
    }
}
