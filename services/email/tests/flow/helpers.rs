//! A running email service in its own vhost, a publisher playing checkout, and a tap on
//! `order-events`.

use std::time::Duration;

use email::{Consumers, Mailer};
use messaging::{
    Broker, ORDER_EVENTS_EXCHANGE, ORDERS_EXCHANGE, Outgoing, Publisher, QueueSpec,
    dead_letter_queue,
};
use serving::{CancellationToken, ServeConfig};
use sqlx::PgPool;
use test_support::{Event, EventTap, RabbitVhost, TestServer, wait_until};
use uuid::Uuid;
use wire::{
    Address, CardSummary, Money,
    events::{ORDER_PLACED, OrderLine, OrderPlaced},
};

/// How long a test waits for an outcome.
pub const PATIENCE: Duration = Duration::from_secs(15);

pub struct EmailService {
    pub vhost: RabbitVhost,
    pub pool: PgPool,
    pub server: TestServer,
    pub events: EventTap,
    publisher: Publisher,
    _connection: messaging::lapin::Connection,
    shutdown: CancellationToken,
    consumers: Consumers,
}

impl EmailService {
    pub async fn start(pool: PgPool, mailer: Mailer) -> Self {
        Self::start_with_pause(pool, mailer, Duration::from_millis(300)).await
    }

    /// With `retry_pause` between attempts while a dependency is away.
    pub async fn start_with_pause(pool: PgPool, mailer: Mailer, retry_pause: Duration) -> Self {
        let vhost = RabbitVhost::create();
        let connection = Broker::new(&vhost.url, "test-checkout")
            .connect()
            .await
            .expect("connect the test publisher");
        let publisher = Publisher::open(&connection)
            .await
            .expect("open a publisher");
        let events = EventTap::bind(&vhost.url, ORDER_EVENTS_EXCHANGE, "#").await;
        let shutdown = CancellationToken::new();
        let (router, consumers) = email::start(
            pool.clone(),
            Broker::new(&vhost.url, "email-test"),
            mailer,
            &ServeConfig::for_tests(),
            retry_pause,
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
        self.publish_raw(&order.order_id, &body).await;
    }

    pub async fn publish_raw(&self, message_id: &str, body: &[u8]) {
        self.publisher
            .publish(Outgoing {
                exchange: ORDERS_EXCHANGE,
                routing_key: "",
                message_id,
                kind: ORDER_PLACED,
                body,
            })
            .await
            .expect("order published");
    }

    pub async fn next_event(&self) -> Event {
        self.events.next(PATIENCE).await
    }

    /// Rows in the ledger.
    pub async fn ledger(&self) -> Vec<(String, String)> {
        sqlx::query_as("SELECT recipient, subject FROM emails ORDER BY sent_at")
            .fetch_all(&self.pool)
            .await
            .unwrap()
    }

    /// Stops the consumer and checks nothing was left behind: no message waiting or
    /// unacked in its queue, exactly `dead` messages dead-lettered.
    pub async fn stop(self, dead: u64) {
        self.shutdown.cancel();
        self.consumers.stopped().await;
        let queue = QueueSpec::EMAIL.name;
        let dlq = dead_letter_queue(queue);
        // The broker's counters trail acks by a moment: wait for them, bounded.
        wait_until("no message is left behind", PATIENCE, || async {
            self.vhost.queue_depth(queue) == Some(0) && self.vhost.queue_depth(&dlq) == Some(dead)
        })
        .await;
    }
}

/// An order of two lines: 2 × $24.00 and 1 × $12.99, $16.49 shipping, $77.48 in all.
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
        items: vec![
            OrderLine {
                product_id: "stoneware-mug-pair".into(),
                name: "Stoneware Mug Pair".into(),
                quantity: 2,
                unit_price: Money::usd(2400),
            },
            OrderLine {
                product_id: "soy-wax-candle".into(),
                name: "Soy Wax Candle".into(),
                quantity: 1,
                unit_price: Money::usd(1299),
            },
        ],
        shipping_cost: Money::usd(1649),
        total: Money::usd(7748),
        card: CardSummary {
            brand: "visa".into(),
            last4: "4242".into(),
            exp_month: 12,
            exp_year: 2030,
        },
        placed_at: "2026-01-02T03:04:05Z".into(),
    }
}

/// The subject a confirmation of `order` gets.
pub fn subject_of(order: &OrderPlaced) -> String {
    format!(
        "Your microshop order {}",
        &order.order_id.replace('-', "")[..8]
    )
}
