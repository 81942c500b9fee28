//! A running shipping service in its own vhost, with checkout and payment played by
//! the test's `OrderBus` (a publisher, and a tap on `order-events`).

use std::ops::Deref;

use messaging::{ConsumerConfig, QueueSpec};
use serving::{ServeConfig, postgres::Database};
use sqlx::PgPool;
pub use test_support::PATIENCE;
use test_support::{ConsumingService, order_placed};
use uuid::Uuid;
use wire::{
    Money,
    events::{OrderLine, OrderPlaced, PaymentFailed},
};

pub struct Shipping {
    service: ConsumingService,
    pub pool: PgPool,
}

/// `app.server`, `app.place(..)`, `app.events`: the running service and the test's bus.
impl Deref for Shipping {
    type Target = ConsumingService;

    fn deref(&self) -> &ConsumingService {
        &self.service
    }
}

impl Shipping {
    pub async fn start(pool: PgPool) -> Self {
        let service = ConsumingService::start::<shipping::Shipping>("shipment.*", |amqp_url| {
            shipping::Config {
                serve: ServeConfig::for_tests(),
                database: Database::of(&pool),
                consumer: ConsumerConfig {
                    amqp_url: amqp_url.into(),
                    retry_pause_ms: 300,
                },
            }
        })
        .await;
        Self { service, pool }
    }

    /// Publishes `payment.failed` as payment does.
    pub async fn fail_payment(&self, order_id: Uuid) {
        let failed = PaymentFailed {
            order_id,
            reason: "card_declined".into(),
        };
        self.publish_event(&failed).await;
    }

    /// The ledger's row for an order: tracking id and status.
    pub async fn shipment(&self, order_id: Uuid) -> Option<(String, String)> {
        sqlx::query_as("SELECT tracking_id, status FROM shipments WHERE order_id = $1")
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
        self.service
            .stop(&[
                (QueueSpec::SHIPPING.name, dead[0]),
                (QueueSpec::SHIPPING_PAYMENT_FAILED.name, dead[1]),
            ])
            .await;
    }
}

/// An order of three items.
pub fn order() -> OrderPlaced {
    order_placed(
        vec![OrderLine {
            product_id: "stoneware-mug-pair".into(),
            name: "Stoneware Mug Pair".into(),
            quantity: 3,
            unit_price: Money::usd(2400),
        }],
        Money::usd(1799),
        Money::usd(8999),
    )
}
