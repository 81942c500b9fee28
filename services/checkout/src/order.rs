//! An order as checkout keeps it, and the JSON the API answers with (DESIGN.md "order").

use serde::Serialize;
use time::{OffsetDateTime, format_description::well_known::Rfc3339};
use uuid::Uuid;
use wire::{CardSummary, Money, events::OrderLine};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Placed,
    Paid,
    PaymentFailed,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Placed => "placed",
            Status::Paid => "paid",
            Status::PaymentFailed => "payment_failed",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Status::Placed, Status::Paid, Status::PaymentFailed]
            .into_iter()
            .find(|status| status.as_str() == text)
    }
}

#[derive(Debug, Clone)]
pub struct Order {
    pub id: Uuid,
    /// `u:{uuid}` or `s:{uuid}`.
    pub owner: String,
    pub user_id: Option<Uuid>,
    pub email: String,
    pub address: wire::Address,
    pub status: Status,
    pub lines: Vec<OrderLine>,
    pub shipping_cost: Money,
    pub total: Money,
    pub card: CardSummary,
    pub transaction_id: Option<String>,
    pub payment_failure_reason: Option<String>,
    pub tracking_id: Option<String>,
    pub shipment_cancelled: bool,
    pub email_sent: bool,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

/// The order as the API shows it. Neither e-mail nor address: the order id alone opens
/// this view (a capability for anonymous shoppers), so it carries no personal data.
#[derive(Debug, Serialize)]
pub struct OrderView<'a> {
    pub id: Uuid,
    pub status: Status,
    pub items: &'a [OrderLine],
    pub shipping_cost: Money,
    pub total: Money,
    pub card: CardView<'a>,
    pub transaction_id: Option<&'a str>,
    pub payment_failure_reason: Option<&'a str>,
    pub tracking_id: Option<&'a str>,
    pub shipment_cancelled: bool,
    pub email_sent: bool,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Serialize)]
pub struct CardView<'a> {
    pub brand: &'a str,
    pub last4: &'a str,
}

impl Order {
    pub fn view(&self) -> OrderView<'_> {
        OrderView {
            id: self.id,
            status: self.status,
            items: &self.lines,
            shipping_cost: self.shipping_cost,
            total: self.total,
            card: CardView {
                brand: &self.card.brand,
                last4: &self.card.last4,
            },
            transaction_id: self.transaction_id.as_deref(),
            payment_failure_reason: self.payment_failure_reason.as_deref(),
            tracking_id: self.tracking_id.as_deref(),
            shipment_cancelled: self.shipment_cancelled,
            email_sent: self.email_sent,
            created_at: rfc3339(self.created_at),
            updated_at: rfc3339(self.updated_at),
        }
    }

    /// The `order.placed` message: the order without the owner's session.
    pub fn placed_event(&self) -> wire::events::OrderPlaced {
        wire::events::OrderPlaced {
            order_id: self.id.to_string(),
            user_id: self.user_id.map(|id| id.to_string()),
            email: self.email.clone(),
            address: self.address.clone(),
            items: self.lines.clone(),
            shipping_cost: self.shipping_cost,
            total: self.total,
            card: self.card.clone(),
            placed_at: rfc3339(self.created_at),
        }
    }
}

pub fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&Rfc3339).unwrap_or_default()
}

/// Now, to the microsecond PostgreSQL keeps, so what is answered equals what is read back.
pub fn now() -> OffsetDateTime {
    let now = OffsetDateTime::now_utc();
    now.replace_nanosecond(now.nanosecond() / 1_000 * 1_000)
        .unwrap_or(now)
}
