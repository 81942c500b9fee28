//! A running payment service in its own vhost, with checkout played by the test's
//! `OrderBus` (a publisher, and a tap on `order-events`).

use std::{ops::Deref, time::Duration};

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

pub struct Payment {
    pub bus: OrderBus,
    pub pool: PgPool,
    pub server: TestServer,
    shutdown: CancellationToken,
    consumers: Background,
}

/// `app.place(..)`, `app.events`, `app.vhost`: the bus is the test's side of the broker.
impl Deref for Payment {
    type Target = OrderBus;

    fn deref(&self) -> &OrderBus {
        &self.bus
    }
}

impl Payment {
    pub async fn start(pool: PgPool) -> Self {
        Self::start_with(pool.clone(), pool).await
    }

    /// The service on `service_pool`; the test reads the ledger through `pool`.
    pub async fn start_with(service_pool: PgPool, pool: PgPool) -> Self {
        let bus = OrderBus::open("#").await;
        let shutdown = CancellationToken::new();
        let (router, consumers) = payment::start(
            service_pool,
            Broker::new(&bus.vhost.url, "payment-test"),
            &ServeConfig::for_tests(),
            Duration::from_millis(300),
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
    pub async fn charges(&self) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM charges")
            .fetch_one(&self.pool)
            .await
            .unwrap()
    }

    /// Stops the consumer and checks nothing was left behind: no message waiting or
    /// unacked in its queue, exactly `dead` messages dead-lettered.
    pub async fn stop(self, dead: u64) {
        self.shutdown.cancel();
        self.consumers.stopped().await;
        self.bus
            .assert_left_behind(&[(QueueSpec::PAYMENT.name, dead)])
            .await;
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
