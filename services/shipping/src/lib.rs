//! shipping: quotes over HTTP (`POST /quotes`), and mock shipments. Consumes
//! `order.placed` (creates a shipment with a tracking id derived from the order id) and
//! `payment.failed` (cancels it), recorded in PostgreSQL `shipping`, and publishes
//! `shipment.created` / `shipment.cancelled`.

mod consumer;
mod quote;
mod routes;
mod store;

use std::{sync::Arc, time::Duration};

use axum::Router;
use messaging::{Background, Broker, ConsumerConfig, QueueSpec};
use serving::{CancellationToken, Readiness, ServeConfig};
use sqlx::{PgPool, migrate::Migrator, postgres::PgConnectOptions};

pub use quote::quote;
pub use store::tracking_id;

pub const DEFAULT_PORT: u16 = 8105;

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
    #[arg(long, env = "DATABASE_URL")]
    pub database_url: String,
    #[command(flatten)]
    pub consumer: ConsumerConfig,
}

/// Connects, migrates, starts the consumers and returns the router.
pub async fn build(
    config: &Config,
    shutdown: CancellationToken,
) -> anyhow::Result<(Router, Background)> {
    let options: PgConnectOptions = config.database_url.parse()?;
    let pool = serving::postgres::connect_and_migrate(options, &MIGRATOR).await?;
    let broker = config.consumer.broker("shipping");
    let pause = config.consumer.retry_pause();
    Ok(start(pool, broker, &config.serve, pause, shutdown))
}

/// The consumers and the router on an already migrated pool; tests call this.
pub fn start(
    pool: PgPool,
    broker: Broker,
    serve: &ServeConfig,
    retry_pause: Duration,
    shutdown: CancellationToken,
) -> (Router, Background) {
    let shipments = Arc::new(consumer::Shipments::new(pool.clone(), retry_pause));
    let mut consumers = Background::default();
    consumers.spawn(messaging::consume(
        broker.clone(),
        QueueSpec::SHIPPING,
        PREFETCH,
        Arc::new(consumer::OrderPlacedHandler(shipments.clone())),
        shutdown.clone(),
    ));
    consumers.spawn(messaging::consume(
        broker.clone(),
        QueueSpec::SHIPPING_PAYMENT_FAILED,
        PREFETCH,
        Arc::new(consumer::PaymentFailedHandler(shipments)),
        shutdown,
    ));
    (router(pool, &broker, serve), consumers)
}

/// The HTTP side alone: quotes and health.
pub fn router(pool: PgPool, broker: &Broker, serve: &ServeConfig) -> Router {
    let readiness =
        serving::postgres::readiness(Readiness::new(), pool).with_check("rabbitmq", broker.probe());
    serving::http::skeleton(routes::routes(), readiness, serve)
}
