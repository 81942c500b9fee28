//! The services upstream of a consumer, played by the test: a publisher on the test's
//! own vhost sending what checkout (or payment) would, a tap on `order-events`, and the
//! check that a stopped consumer left nothing behind.

use std::time::Duration;

use messaging::{
    Broker, ORDER_EVENTS_EXCHANGE, ORDERS_EXCHANGE, Outgoing, Publisher, dead_letter_queue,
};
use uuid::Uuid;
use wire::{
    Address, CardSummary, Money,
    events::{ORDER_PLACED, OrderLine, OrderPlaced},
};

use crate::{Event, EventTap, RabbitVhost, wait_until};

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
        let body = serde_json::to_vec(order).unwrap();
        self.publish_raw(&order.order_id, &body).await;
    }

    /// Publishes `body` as an `order.placed`, whatever it holds.
    pub async fn publish_raw(&self, message_id: &str, body: &[u8]) {
        self.publish(ORDERS_EXCHANGE, "", message_id, ORDER_PLACED, body)
            .await;
    }

    pub async fn publish(
        &self,
        exchange: &str,
        routing_key: &str,
        message_id: &str,
        kind: &str,
        body: &[u8],
    ) {
        self.publisher
            .publish(Outgoing {
                exchange,
                routing_key,
                message_id,
                kind,
                body,
            })
            .await
            .expect("message published");
    }

    pub async fn next_event(&self) -> Event {
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
        order_id: Uuid::new_v4().to_string(),
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
        placed_at: "2026-01-02T03:04:05Z".into(),
    }
}
