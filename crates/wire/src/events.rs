//! Messages of the order flow (DESIGN.md "Orders: the asynchronous flow"). The AMQP
//! `type` property carries the event name; the `message_id` is the order id for
//! `order.placed` and `{order_id}:{event}` for outcomes, so consumers can deduplicate.

use serde::{Deserialize, Serialize};

use crate::{Address, CardSummary, Money};

pub const ORDER_PLACED: &str = "order.placed";
pub const PAYMENT_SUCCEEDED: &str = "payment.succeeded";
pub const PAYMENT_FAILED: &str = "payment.failed";
pub const SHIPMENT_CREATED: &str = "shipment.created";
pub const SHIPMENT_CANCELLED: &str = "shipment.cancelled";
pub const EMAIL_SENT: &str = "email.sent";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderLine {
    pub product_id: String,
    pub name: String,
    pub quantity: u32,
    pub unit_price: Money,
}

/// Published once per accepted order. Carries no card number: only brand, last four
/// and expiry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderPlaced {
    pub order_id: String,
    pub user_id: Option<String>,
    pub email: String,
    pub address: Address,
    pub items: Vec<OrderLine>,
    pub shipping_cost: Money,
    pub total: Money,
    pub card: CardSummary,
    pub placed_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentSucceeded {
    pub order_id: String,
    pub transaction_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentFailed {
    pub order_id: String,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShipmentCreated {
    pub order_id: String,
    pub tracking_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShipmentCancelled {
    pub order_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailSent {
    pub order_id: String,
}

/// The message id of an outcome event: one per order and event name.
pub fn outcome_message_id(order_id: &str, event: &str) -> String {
    format!("{order_id}:{event}")
}
