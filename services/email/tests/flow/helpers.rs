//! A running email service in its own vhost, with checkout played by the test's
//! `OrderBus` (a publisher, and a tap on `order-events`).

use std::{ops::Deref, time::Duration};

use email::Mailer;
use messaging::QueueSpec;
use serving::ServeConfig;
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
    pub async fn start(pool: PgPool, mailer: Mailer) -> Self {
        Self::start_with_pause(pool, mailer, Duration::from_millis(300)).await
    }

    /// With `retry_pause` between attempts while a dependency is away.
    pub async fn start_with_pause(pool: PgPool, mailer: Mailer, retry_pause: Duration) -> Self {
        let service = ConsumingService::start("email-test", "#", |broker, shutdown| {
            email::start(
                pool.clone(),
                broker,
                mailer,
                &ServeConfig::for_tests(),
                retry_pause,
                shutdown,
            )
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
