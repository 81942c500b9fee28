//! A running email service in its own vhost, with checkout played by the test's
//! `OrderBus` (a publisher, and a tap on `order-events`).

use std::{ops::Deref, time::Duration};

use email::Mailer;
use messaging::Background;
use messaging::{Broker, QueueSpec};
use serving::{CancellationToken, ServeConfig};
use sqlx::PgPool;
pub use test_support::PATIENCE;
use test_support::{OrderBus, TestServer, order_placed};
use wire::{
    Money,
    events::{OrderLine, OrderPlaced},
};

pub struct EmailService {
    pub bus: OrderBus,
    pub pool: PgPool,
    pub server: TestServer,
    shutdown: CancellationToken,
    consumers: Background,
}

/// `app.place(..)`, `app.events`, `app.vhost`: the bus is the test's side of the broker.
impl Deref for EmailService {
    type Target = OrderBus;

    fn deref(&self) -> &OrderBus {
        &self.bus
    }
}

impl EmailService {
    pub async fn start(pool: PgPool, mailer: Mailer) -> Self {
        Self::start_with_pause(pool, mailer, Duration::from_millis(300)).await
    }

    /// With `retry_pause` between attempts while a dependency is away.
    pub async fn start_with_pause(pool: PgPool, mailer: Mailer, retry_pause: Duration) -> Self {
        let bus = OrderBus::open("#").await;
        let shutdown = CancellationToken::new();
        let (router, consumers) = email::start(
            pool.clone(),
            Broker::new(&bus.vhost.url, "email-test"),
            mailer,
            &ServeConfig::for_tests(),
            retry_pause,
            shutdown.clone(),
        );
        Self {
            bus,
            pool,
            server: TestServer::spawn(router).await,
            shutdown,
            consumers,
        }
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
        self.bus
            .assert_left_behind(&[(QueueSpec::EMAIL.name, dead)])
            .await;
    }
}

/// An order of two lines: 2 × $24.00 and 1 × $12.99, $16.49 shipping, $77.48 in all.
pub fn order() -> OrderPlaced {
    order_placed(
        vec![
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
        Money::usd(1649),
        Money::usd(7748),
    )
}
/// The subject a confirmation of `order` gets.
pub fn subject_of(order: &OrderPlaced) -> String {
    format!(
        "Your microshop order {}",
        &order.order_id.replace('-', "")[..8]
    )
}
