//! The services upstream of a consumer, played by the test: a publisher on the test's
//! own vhost sending what checkout (or payment) would, a tap on `order-events`, and the
//! check that a stopped consumer left nothing behind.

use std::time::Duration;

use messaging::{
    Broker, ORDER_EVENTS_EXCHANGE, ORDERS_EXCHANGE, Outgoing, Publisher, dead_letter_queue,
};
use time::{OffsetDateTime, format_description::well_known::Rfc3339};
use uuid::Uuid;
use wire::{
    Address, CardSummary, Money,
    events::{Event, OrderLine, OrderPlaced},
};

use crate::{EventTap, RabbitVhost, Tapped, wait_until};

/// How long a test waits for an outcome.
pub const PATIENCE: Duration = Duration::from_secs(15);

pub struct OrderBus {
    pub vhost: RabbitVhost,
    pub events: EventTap,
    publisher: Publisher,
    _connection: messaging::lapin::Connection,
}

impl OrderBus {
    /// A fresh vhost, a publisher on it and a tap on `order-events` for `pattern`.
    pub async fn open(pattern: &str) -> Self {
        let vhost = RabbitVhost::create();
        let connection = Broker::new(&vhost.url, "test-upstream")
            .connect()
            .await
            .expect("connect the test publisher");
        let publisher = Publisher::open(&connection)
            .await
            .expect("open a publisher");
        let events = EventTap::bind(&vhost.url, ORDER_EVENTS_EXCHANGE, pattern).await;
        Self {
            vhost,
            events,
            publisher,
            _connection: connection,
        }
    }

    /// Publishes `order` as checkout's outbox relay does.
    pub async fn place(&self, order: &OrderPlaced) {
        self.publish_event(order).await;
    }

    /// Publishes `event` as the service that owns it does.
    pub async fn publish_event(&self, event: &impl Event) {
        self.publisher
            .publish(event)
            .await
            .expect("event published");
    }

    /// Publishes `body` as an `order.placed`, whatever it holds.
    pub async fn publish_raw(&self, message_id: &str, body: &[u8]) {
        self.publish(ORDERS_EXCHANGE, "", message_id, OrderPlaced::NAME, body)
            .await;
    }

    /// Publishes bytes as they are, under any name: for what no event type describes.
    pub async fn publish(
        &self,
        exchange: &str,
        routing_key: &str,
        message_id: &str,
        kind: &str,
        body: &[u8],
    ) {
        self.publisher
            .publish_raw(Outgoing {
                exchange,
                routing_key,
                message_id,
                kind,
                body,
            })
            .await
            .expect("message published");
    }

    pub async fn next_event(&self) -> Tapped {
        self.events.next(PATIENCE).await
    }

    /// Waits until each queue is empty (nothing waiting or unacked) and exactly its
    /// count of messages sits in its dead-letter queue. The broker's counters trail acks
    /// by a moment, hence a bounded wait.
    pub async fn assert_left_behind(&self, queues: &[(&str, u64)]) {
        wait_until("no message is left behind", PATIENCE, || async {
            queues.iter().all(|(queue, dead)| {
                self.vhost.queue_depth(queue) == Some(0)
                    && self.vhost.queue_depth(&dead_letter_queue(queue)) == Some(*dead)
            })
        })
        .await;
    }
}

/// An order of `items` from Ada Lovelace in London, paid with the visa ending in 4242.
pub fn order_placed(items: Vec<OrderLine>, shipping_cost: Money, total: Money) -> OrderPlaced {
    OrderPlaced {
        order_id: Uuid::new_v4(),
        user_id: None,
        email: "ada@example.org".into(),
        address: Address {
            name: "Ada Lovelace".into(),
            street: "12 St James's Square".into(),
            city: "London".into(),
            postal_code: "SW1Y 4JH".into(),
            country: "GB".into(),
        },
        items,
        shipping_cost,
        total,
        card: CardSummary {
            brand: "visa".into(),
            last4: "4242".into(),
            exp_month: 12,
            exp_year: 2030,
        },
        placed_at: OffsetDateTime::parse("2026-01-02T03:04:05Z", &Rfc3339).expect("a time"),
    }
}
