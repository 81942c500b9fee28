//! An order as the API shows it (DESIGN.md "order"): what checkout answers and the
//! frontend reads, so both hold the same fields and the same statuses.

use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::Money;

/// Where an order stands. Only payment moves it: `placed` → `paid` | `payment_failed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    Placed,
    Paid,
    PaymentFailed,
}

impl OrderStatus {
    pub const ALL: [OrderStatus; 3] = [
        OrderStatus::Placed,
        OrderStatus::Paid,
        OrderStatus::PaymentFailed,
    ];

    /// The status as the API and the `orders.status` column spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::Placed => "placed",
            OrderStatus::Paid => "paid",
            OrderStatus::PaymentFailed => "payment_failed",
        }
    }
}

impl fmt::Display for OrderStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown order status {0:?}: expected placed, paid or payment_failed")]
pub struct UnknownStatus(pub String);

impl FromStr for OrderStatus {
    type Err = UnknownStatus;

    fn from_str(text: &str) -> Result<Self, UnknownStatus> {
        OrderStatus::ALL
            .into_iter()
            .find(|status| status.as_str() == text)
            .ok_or_else(|| UnknownStatus(text.to_owned()))
    }
}

/// One line of an order, priced by the server: `{"product_id", "name", "quantity",
/// "unit_price"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderLine {
    pub product_id: String,
    pub name: String,
    pub quantity: u32,
    pub unit_price: Money,
}

/// The card as an order shows it: brand and last four digits, nothing more.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CardBrief {
    pub brand: String,
    pub last4: String,
}

/// The order as `POST /orders` and `GET /orders/{id}` answer it. Neither e-mail nor
/// address: the order id alone opens it (a capability for anonymous shoppers), so it
/// carries no personal data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Order {
    pub id: Uuid,
    pub status: OrderStatus,
    pub items: Vec<OrderLine>,
    pub shipping_cost: Money,
    pub total: Money,
    pub card: CardBrief,
    pub transaction_id: Option<String>,
    /// Why the payment failed (`card_declined`, ...), once it has.
    pub payment_failure_reason: Option<String>,
    pub tracking_id: Option<String>,
    /// DESIGN.md does not name it; an answer without it has no cancelled shipment.
    #[serde(default)]
    pub shipment_cancelled: bool,
    pub email_sent: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// `GET /orders?user=`: `{"items": [order]}`, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderList {
    pub items: Vec<Order>,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn order_json(status: &str) -> serde_json::Value {
        let usd = |amount_minor: i64| json!({"currency": "USD", "amount_minor": amount_minor});
        json!({
            "id": "6f1c2a9e-8d4b-4c1e-9f3a-2b7d5e6c8a10",
            "status": status,
            "items": [{"product_id": "cast-iron-skillet", "name": "Cast Iron Skillet",
                       "quantity": 2, "unit_price": usd(3900)}],
            "shipping_cost": usd(599),
            "total": usd(8399),
            "card": {"brand": "visa", "last4": "4242"},
            "transaction_id": "txn_abc",
            "payment_failure_reason": null,
            "tracking_id": null,
            "shipment_cancelled": false,
            "email_sent": true,
            "created_at": "2026-01-31T10:00:00.123456Z",
            "updated_at": "2026-01-31T10:00:01Z",
        })
    }

    #[test]
    fn an_order_reads_and_writes_back_the_same_json() {
        let json = order_json("payment_failed");
        let order: Order = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(order.status, OrderStatus::PaymentFailed);
        assert_eq!(order.id.to_string(), "6f1c2a9e-8d4b-4c1e-9f3a-2b7d5e6c8a10");
        assert_eq!(order.created_at.microsecond(), 123_456);
        assert_eq!(serde_json::to_value(&order).unwrap(), json);
    }

    #[test]
    fn an_unknown_status_is_refused_naming_it_and_the_known_ones() {
        let err = serde_json::from_value::<Order>(order_json("shipped")).unwrap_err();
        let message = err.to_string();
        assert!(
            message.contains("shipped") && message.contains("payment_failed"),
            "{message}"
        );
        let err = "Paid".parse::<OrderStatus>().unwrap_err();
        assert_eq!(
            err.to_string(),
            r#"unknown order status "Paid": expected placed, paid or payment_failed"#
        );
    }

    #[test]
    fn each_status_is_spelled_as_the_design_says() {
        for (status, text) in [
            (OrderStatus::Placed, "placed"),
            (OrderStatus::Paid, "paid"),
            (OrderStatus::PaymentFailed, "payment_failed"),
        ] {
            assert_eq!(serde_json::to_value(status).unwrap(), json!(text));
            assert_eq!(text.parse::<OrderStatus>(), Ok(status));
        }
    }
}
