//! An order as checkout keeps it; what the API answers (`wire::order::Order`) and the
//! `order.placed` message are views of it.

use time::OffsetDateTime;
use uuid::Uuid;
use wire::{
    CardSummary, Money,
    events::OrderPlaced,
    order::{self as api, OrderLine, OrderStatus},
};

#[derive(Debug, Clone)]
pub struct Order {
    pub id: Uuid,
    /// `u:{uuid}` or `s:{uuid}`.
    pub owner: String,
    pub user_id: Option<Uuid>,
    pub email: String,
    pub address: wire::Address,
    pub status: OrderStatus,
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

impl Order {
    /// The order as the API shows it: neither e-mail nor address (see `wire::order`).
    pub fn view(&self) -> api::Order {
        api::Order {
            id: self.id,
            status: self.status,
            items: self.lines.clone(),
            shipping_cost: self.shipping_cost,
            total: self.total,
            card: api::CardBrief {
                brand: self.card.brand.clone(),
                last4: self.card.last4.clone(),
            },
            transaction_id: self.transaction_id.clone(),
            payment_failure_reason: self.payment_failure_reason.clone(),
            tracking_id: self.tracking_id.clone(),
            shipment_cancelled: self.shipment_cancelled,
            email_sent: self.email_sent,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }

    /// The `order.placed` message: the order without the owner's session.
    pub fn placed_event(&self) -> OrderPlaced {
        OrderPlaced {
            order_id: self.id,
            user_id: self.user_id,
            email: self.email.clone(),
            address: self.address.clone(),
            items: self.lines.clone(),
            shipping_cost: self.shipping_cost,
            total: self.total,
            card: self.card.clone(),
            placed_at: self.created_at,
        }
    }
}

/// Now, to the microsecond PostgreSQL keeps, so what is answered equals what is read back.
pub fn now() -> OffsetDateTime {
    let now = OffsetDateTime::now_utc();
    now.replace_nanosecond(now.nanosecond() / 1_000 * 1_000)
        .unwrap_or(now)
}
