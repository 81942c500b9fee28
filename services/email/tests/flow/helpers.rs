//! A running email service in its own vhost, with checkout played by the test's
//! `OrderBus` (a publisher, and a tap on `order-events`).

use std::{ops::Deref, time::Duration};

use messaging::{ConsumerConfig, QueueSpec};
use serving::{ServeConfig, postgres::Database};
use sqlx::PgPool;
pub use test_support::PATIENCE;
use test_support::{ConsumingService, order_placed};
use wire::{
    Money,
    events::{OrderLine, OrderPlaced},
};

pub struct EmailService {
    service: ConsumingService,
    pub pool: PgPool,
}

/// `app.server`, `app.place(..)`, `app.events`: the running service and the test's bus.
impl Deref for EmailService {
    type Target = ConsumingService;

    fn deref(&self) -> &ConsumingService {
        &self.service
    }
}

impl EmailService {
    /// Sends over SMTP at `smtp_url`, or, without one, into the development outbox.
    pub async fn start(pool: PgPool, smtp_url: Option<&str>) -> Self {
        Self::start_with_pause(pool, smtp_url, Duration::from_millis(300)).await
    }

    /// With `retry_pause` between attempts while a dependency is away.
    pub async fn start_with_pause(
        pool: PgPool,
        smtp_url: Option<&str>,
        retry_pause: Duration,
    ) -> Self {
        let service = ConsumingService::start::<email::Email>("#", |amqp_url| email::Config {
            serve: ServeConfig::for_tests(),
            database: Database::of(&pool),
            smtp_url: smtp_url.map(str::to_owned),
            smtp_from: "microshop <orders@microshop.dev>".into(),
            consumer: ConsumerConfig {
                amqp_url: amqp_url.into(),
                retry_pause_ms: retry_pause.as_millis() as u64,
            },
        })
        .await;
        Self { service, pool }
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
        self.service.stop(&[(QueueSpec::EMAIL.name, dead)]).await;
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
        &order.order_id.simple().to_string()[..8]
    )
}
