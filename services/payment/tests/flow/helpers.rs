//! A running payment service in its own vhost, with checkout played by the test's
//! `OrderBus` (a publisher, and a tap on `order-events`).

use std::ops::Deref;

use messaging::{ConsumerConfig, QueueSpec};
use serving::{ServeConfig, postgres::Database};
use sqlx::PgPool;
pub use test_support::PATIENCE;
use test_support::{ConsumingService, order_placed};
use wire::{
    Money,
    events::{OrderLine, OrderPlaced},
};

pub struct Payment {
    service: ConsumingService,
    pub pool: PgPool,
}

/// `app.server`, `app.place(..)`, `app.events`: the running service and the test's bus.
impl Deref for Payment {
    type Target = ConsumingService;

    fn deref(&self) -> &ConsumingService {
        &self.service
    }
}

impl Payment {
    pub async fn start(pool: PgPool) -> Self {
        Self::start_with(pool.clone(), pool).await
    }

    /// The service on `service_pool`; the test reads the ledger through `pool`.
    pub async fn start_with(service_pool: PgPool, pool: PgPool) -> Self {
        let service = ConsumingService::start::<payment::Payment>("#", |amqp_url| {
            config(&service_pool, amqp_url)
        })
        .await;
        Self { service, pool }
    }

    /// Rows in the ledger.
    pub async fn charges(&self) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM charges")
            .fetch_one(&self.pool)
            .await
            .unwrap()
    }

    /// Stops the consumer and checks nothing was left behind: no message waiting or
    /// unacked in its queue, exactly `dead` messages dead-lettered.
    pub async fn stop(self, dead: u64) {
        self.service.stop(&[(QueueSpec::PAYMENT.name, dead)]).await;
    }
}

/// The service's config for the database `pool` reaches and the broker at `amqp_url`.
pub fn config(pool: &PgPool, amqp_url: &str) -> payment::Config {
    payment::Config {
        serve: ServeConfig::for_tests(),
        database: Database::of(pool),
        consumer: ConsumerConfig {
            amqp_url: amqp_url.into(),
            retry_pause_ms: 300,
        },
    }
}

/// An order of two lines paid with the card ending in `last4`.
pub fn order(last4: &str) -> OrderPlaced {
    let mut order = order_placed(
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
                unit_price: Money::usd(1800),
            },
        ],
        Money::usd(1649),
        Money::usd(8249),
    );
    order.card.last4 = last4.into();
    order
}
