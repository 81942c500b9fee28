//! Messages of the order flow (DESIGN.md "Orders: the asynchronous flow"). Each event
//! knows, through [`Event`], its name (the AMQP `type`), the exchange and routing key it
//! travels by, and its message id: the order id for `order.placed`, `{order_id}:{name}`
//! for outcomes, one per order and event, so consumers can deduplicate.

use serde::{Deserialize, Serialize, de::DeserializeOwned};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{Address, CardSummary, Money};

pub use crate::order::OrderLine;

/// Fanout exchange of `order.placed`: every consumer gets every order.
pub const ORDERS_EXCHANGE: &str = "orders";
/// Topic exchange of outcomes, routed by event name (`payment.succeeded`, ...).
pub const ORDER_EVENTS_EXCHANGE: &str = "order-events";

/// A message of the order flow, tied to how it travels.
pub trait Event: Serialize + DeserializeOwned {
    /// The event's name, carried as the message's AMQP `type`.
    const NAME: &'static str;
    /// The exchange it is published to.
    const EXCHANGE: &'static str;
    /// Its routing key: on the topic exchange of outcomes, the name itself.
    const ROUTING_KEY: &'static str = Self::NAME;

    /// The order it is about.
    fn order_id(&self) -> Uuid;

    /// The id consumers deduplicate on: one per order and event, so a re-published
    /// outcome carries the id of the first.
    fn message_id(&self) -> String {
        format!("{}:{}", self.order_id(), Self::NAME)
    }
}

/// Published once per accepted order. Carries no card number: only brand, last four
/// and expiry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderPlaced {
    pub order_id: Uuid,
    pub user_id: Option<Uuid>,
    pub email: String,
    pub address: Address,
    pub items: Vec<OrderLine>,
    pub shipping_cost: Money,
    pub total: Money,
    pub card: CardSummary,
    #[serde(with = "time::serde::rfc3339")]
    pub placed_at: OffsetDateTime,
}

impl Event for OrderPlaced {
    const NAME: &'static str = "order.placed";
    const EXCHANGE: &'static str = ORDERS_EXCHANGE;
    /// A fanout exchange ignores the key.
    const ROUTING_KEY: &'static str = "";

    fn order_id(&self) -> Uuid {
        self.order_id
    }

    /// The order id: the relay may publish an order twice, never two orders.
    fn message_id(&self) -> String {
        self.order_id.to_string()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentSucceeded {
    pub order_id: Uuid,
    pub transaction_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentFailed {
    pub order_id: Uuid,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShipmentCreated {
    pub order_id: Uuid,
    pub tracking_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShipmentCancelled {
    pub order_id: Uuid,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailSent {
    pub order_id: Uuid,
}

/// An outcome event: published to `order-events` and routed by its name.
macro_rules! outcome {
    ($event:ty, $name:literal) => {
        impl Event for $event {
            const NAME: &'static str = $name;
            const EXCHANGE: &'static str = ORDER_EVENTS_EXCHANGE;

            fn order_id(&self) -> Uuid {
                self.order_id
            }
        }
    };
}

outcome!(PaymentSucceeded, "payment.succeeded");
outcome!(PaymentFailed, "payment.failed");
outcome!(ShipmentCreated, "shipment.created");
outcome!(ShipmentCancelled, "shipment.cancelled");
outcome!(EmailSent, "email.sent");

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const ORDER_ID: &str = "0b9e7d2a-58c4-4f13-a1e6-7d3f5c2b8a90";

    fn order_placed_json() -> serde_json::Value {
        let usd = |amount_minor: i64| json!({"currency": "USD", "amount_minor": amount_minor});
        json!({
            "order_id": ORDER_ID,
            "user_id": "5d0c6b1e-2f4a-4e8b-9c7d-1a2b3c4d5e6f",
            "email": "ada@example.org",
            "address": {"name": "Ada Lovelace", "street": "12 St James's Square",
                        "city": "London", "postal_code": "SW1Y 4JH", "country": "GB"},
            "items": [{"product_id": "soy-wax-candle", "name": "Soy Wax Candle",
                       "quantity": 1, "unit_price": usd(1800)}],
            "shipping_cost": usd(599),
            "total": usd(2399),
            "card": {"brand": "visa", "last4": "4242", "exp_month": 12, "exp_year": 2030},
            "placed_at": "2026-01-02T03:04:05.120001Z",
        })
    }

    #[test]
    fn order_placed_round_trips_through_its_json_unchanged() {
        let json = order_placed_json();
        let event: OrderPlaced = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(event.order_id.to_string(), ORDER_ID);
        assert_eq!(event.placed_at.unix_timestamp(), 1_767_323_045);
        assert_eq!(serde_json::to_value(&event).unwrap(), json);
        let bytes = serde_json::to_vec(&event).unwrap();
        assert_eq!(
            serde_json::from_slice::<OrderPlaced>(&bytes).unwrap(),
            event
        );
    }

    #[test]
    fn an_order_id_that_is_not_a_uuid_is_refused() {
        let mut json = order_placed_json();
        json["order_id"] = json!("order-1");
        assert!(serde_json::from_value::<OrderPlaced>(json).is_err());
        let outcome = json!({"order_id": "not-a-uuid", "reason": "card_declined"});
        assert!(serde_json::from_value::<PaymentFailed>(outcome).is_err());
    }

    #[test]
    fn each_event_travels_by_its_name_and_the_design_s_message_id() {
        let order_id: Uuid = ORDER_ID.parse().unwrap();
        let placed: OrderPlaced = serde_json::from_value(order_placed_json()).unwrap();
        assert_eq!(
            (
                OrderPlaced::NAME,
                OrderPlaced::EXCHANGE,
                OrderPlaced::ROUTING_KEY
            ),
            ("order.placed", "orders", "")
        );
        assert_eq!(placed.message_id(), ORDER_ID);

        let paid = PaymentSucceeded {
            order_id,
            transaction_id: "txn_1".into(),
        };
        assert_eq!(
            (
                PaymentSucceeded::NAME,
                PaymentSucceeded::EXCHANGE,
                PaymentSucceeded::ROUTING_KEY
            ),
            ("payment.succeeded", "order-events", "payment.succeeded")
        );
        assert_eq!(paid.message_id(), format!("{ORDER_ID}:payment.succeeded"));
        assert_eq!(
            serde_json::to_value(&paid).unwrap(),
            json!({"order_id": ORDER_ID, "transaction_id": "txn_1"})
        );
        let names = [
            PaymentFailed::NAME,
            ShipmentCreated::NAME,
            ShipmentCancelled::NAME,
            EmailSent::NAME,
        ];
        assert_eq!(
            names,
            [
                "payment.failed",
                "shipment.created",
                "shipment.cancelled",
                "email.sent"
            ]
        );
        assert_eq!(
            EmailSent { order_id }.message_id(),
            format!("{ORDER_ID}:email.sent")
        );
    }
}
