//! A running shipping service in its own vhost, a publisher playing checkout and
//! payment, and a tap on `order-events`.

use std::time::Duration;

use messaging::{
    Broker, ORDER_EVENTS_EXCHANGE, ORDERS_EXCHANGE, Outgoing, Publisher, QueueSpec,
    dead_letter_queue,
};
use serving::{CancellationToken, ServeConfig};
use shipping::Consumers;
use sqlx::PgPool;
use test_support::{Event, EventTap, RabbitVhost, TestServer, wait_until};
use uuid::Uuid;
use wire::{
    Address, CardSummary, Money,
    events::{ORDER_PLACED, OrderLine, OrderPlaced, PAYMENT_FAILED, PaymentFailed},
};

/// How long a test waits for an outcome.
pub const PATIENCE: Duration = Duration::from_secs(15);

pub struct Shipping {
    pub vhost: RabbitVhost,
    pub pool: PgPool,
    pub server: TestServer,
    pub events: EventTap,
    publisher: Publisher,
    _connection: messaging::lapin::Connection,
    shutdown: CancellationToken,
    consumers: Consumers,
}

impl Shipping {
    pub async fn start(pool: PgPool) -> Self {
        let vhost = RabbitVhost::create();
        let connection = Broker::new(&vhost.url, "test-publisher")
            .connect()
            .await
            .expect("connect the test publisher");
        let publisher = Publisher::open(&connection)
            .await
            .expect("open a publisher");
        let events = EventTap::bind(&vhost.url, ORDER_EVENTS_EXCHANGE, "shipment.*").await;
        let shutdown = CancellationToken::new();
        let (router, consumers) = shipping::start(
            pool.clone(),
            Broker::new(&vhost.url, "shipping-test"),
            &ServeConfig::for_tests(),
            Duration::from_millis(300),
            shutdown.clone(),
        );
        Self {
            vhost,
            pool,
            server: TestServer::spawn(router).await,
            events,
            publisher,
            _connection: connection,
            shutdown,
            consumers,
        }
    }

    /// Publishes `order` as checkout's outbox relay does.
    pub async fn place(&self, order: &OrderPlaced) {
        let body = serde_json::to_vec(order).unwrap();
        self.publish(ORDERS_EXCHANGE, "", &order.order_id, ORDER_PLACED, &body)
            .await;
    }

    /// Publishes `payment.failed` as payment does.
    pub async fn fail_payment(&self, order_id: &str) {
        let body = serde_json::to_vec(&PaymentFailed {
            order_id: order_id.into(),
            reason: "card_declined".into(),
        })
        .unwrap();
        let id = wire::events::outcome_message_id(order_id, PAYMENT_FAILED);
        self.publish(
            ORDER_EVENTS_EXCHANGE,
            PAYMENT_FAILED,
            &id,
            PAYMENT_FAILED,
            &body,
        )
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

    /// The ledger's row for an order: tracking id and status.
    pub async fn shipment(&self, order_id: &str) -> Option<(String, String)> {
        sqlx::query_as("SELECT tracking_id, status FROM shipments WHERE order_id = $1::uuid")
            .bind(order_id)
            .fetch_optional(&self.pool)
            .await
            .unwrap()
    }

    pub async fn shipments(&self) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM shipments")
            .fetch_one(&self.pool)
            .await
            .unwrap()
    }

    /// Stops the consumers and checks nothing was left behind: no message waiting or
    /// unacked in their queues, exactly `dead` messages dead-lettered from each.
    pub async fn stop(self, dead: [u64; 2]) {
        self.shutdown.cancel();
        self.consumers.stopped().await;
        // The broker's counters trail acks by a moment: wait for them, bounded.
        wait_until("no message is left behind", PATIENCE, || async {
            [QueueSpec::SHIPPING, QueueSpec::SHIPPING_PAYMENT_FAILED]
                .iter()
                .zip(dead)
                .all(|(spec, dead)| {
                    self.vhost.queue_depth(spec.name) == Some(0)
                        && self.vhost.queue_depth(&dead_letter_queue(spec.name)) == Some(dead)
                })
        })
        .await;
    }
}

/// An order of three items.
pub fn order() -> OrderPlaced {
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
        items: vec![OrderLine {
            product_id: "stoneware-mug-pair".into(),
            name: "Stoneware Mug Pair".into(),
            quantity: 3,
            unit_price: Money::usd(2400),
        }],
        shipping_cost: Money::usd(1799),
        total: Money::usd(8999),
        card: CardSummary {
            brand: "visa".into(),
            last4: "4242".into(),
            exp_month: 12,
            exp_year: 2030,
        },
        placed_at: "2026-01-02T03:04:05Z".into(),
    }
}
