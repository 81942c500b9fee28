//! shipping: quotes over HTTP (`POST /quotes`), and mock shipments. Consumes
//! `order.placed` (creates a shipment with a tracking id derived from the order id) and
//! `payment.failed` (cancels it), recorded in PostgreSQL `shipping`, and publishes
//! `shipment.created` / `shipment.cancelled`.

mod consumer;
mod quote;
mod routes;
mod store;

use std::sync::Arc;

use axum::Router;
use messaging::{Broker, ConsumerConfig, QueueSpec};
use serving::{Background, Readiness, ServeConfig, Service, Started, postgres::Database};
use sqlx::{PgPool, migrate::Migrator};

pub use quote::quote;
pub use store::tracking_id;

/// Messages taken from each queue ahead of the one being handled.
const PREFETCH: u16 = 10;

/// The `shipments` ledger, applied at start.
pub static MIGRATOR: Migrator = sqlx::migrate!();

#[derive(Debug, Clone, clap::Parser)]
#[command(about = "microshop shipping service")]
pub struct Config {
    #[command(flatten)]
    pub serve: ServeConfig,
    /// PostgreSQL database holding the shipments ledger (`shipping`).
    #[arg(long = "database-url", env = "DATABASE_URL")]
    pub database: Database,
    #[command(flatten)]
    pub consumer: ConsumerConfig,
}

/// The service, connected and migrated; its consumers start with [`Service::start`].
pub struct Shipping {
    pool: PgPool,
    config: Config,
}

impl Service for Shipping {
    const NAME: &'static str = "shipping";
    const DEFAULT_PORT: u16 = 8105;
    type Config = Config;

    fn serve_config(config: &Config) -> &ServeConfig {
        &config.serve
    }

    async fn build(config: Config) -> anyhow::Result<Self> {
        let pool = config.database.connect_and_migrate(&MIGRATOR).await?;
        Ok(Self { pool, config })
    }

    fn start(self) -> Started {
        let broker = self.config.consumer.broker(Self::NAME);
        let shipments = Arc::new(consumer::Shipments::new(
            self.pool.clone(),
            self.config.consumer.retry_pause(),
        ));
        let mut background = Background::default();
        messaging::spawn_consumer(
            &mut background,
            &broker,
            QueueSpec::SHIPPING,
            PREFETCH,
            Arc::new(consumer::OrderPlacedHandler(shipments.clone())),
        );
        messaging::spawn_consumer(
            &mut background,
            &broker,
            QueueSpec::SHIPPING_PAYMENT_FAILED,
            PREFETCH,
            Arc::new(consumer::PaymentFailedHandler(shipments)),
        );
        let router = router(self.pool, &broker, &self.config.serve);
        Started { router, background }
    }
}

/// The HTTP side: quotes and health. A broker outage only degrades readiness: quotes do
/// not need the broker, and checkout takes orders during the outage (they wait in its
/// outbox) only if shipping stays in its Service to quote them.
fn router(pool: PgPool, broker: &Broker, serve: &ServeConfig) -> Router {
    let readiness = serving::postgres::readiness(Readiness::new(), pool)
        .with_degrading_check("rabbitmq", broker.probe());
    serving::http::skeleton(routes::routes(), readiness, serve)
}
