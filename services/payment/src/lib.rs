//! payment: mock card charges. Consumes `order.placed` from `payment.order-placed`,
//! decides by the card's last four digits, records the charge once per order in
//! PostgreSQL `payments` and publishes `payment.succeeded` or `payment.failed`.

mod charge;
mod consumer;
mod store;

use std::{sync::Arc, time::Duration};

use axum::Router;
use messaging::{Background, Broker, ConsumerConfig, QueueSpec};
use serving::{CancellationToken, Readiness, ServeConfig};
use sqlx::{PgPool, migrate::Migrator, postgres::PgConnectOptions};

pub use charge::{Decision, decide, transaction_id};

pub const DEFAULT_PORT: u16 = 8106;

/// Messages taken from the queue ahead of the one being handled.
const PREFETCH: u16 = 10;

/// The `charges` ledger, applied at start.
pub static MIGRATOR: Migrator = sqlx::migrate!();

#[derive(Debug, Clone, clap::Parser)]
#[command(about = "microshop payment service")]
pub struct Config {
    #[command(flatten)]
    pub serve: ServeConfig,
    /// PostgreSQL database holding the charges ledger (`payments`).
    #[arg(long, env = "DATABASE_URL")]
    pub database_url: String,
    #[command(flatten)]
    pub consumer: ConsumerConfig,
}

/// Connects, migrates, starts the consumer and returns the router.
pub async fn build(
    config: &Config,
    shutdown: CancellationToken,
) -> anyhow::Result<(Router, Background)> {
    let options: PgConnectOptions = config.database_url.parse()?;
    let pool = serving::postgres::connect_and_migrate(options, &MIGRATOR).await?;
    let broker = config.consumer.broker("payment");
    let pause = config.consumer.retry_pause();
    Ok(start(pool, broker, &config.serve, pause, shutdown))
}

/// The consumer and the router on an already migrated pool; tests call this.
pub fn start(
    pool: PgPool,
    broker: Broker,
    serve: &ServeConfig,
    retry_pause: Duration,
    shutdown: CancellationToken,
) -> (Router, Background) {
    let handler = consumer::OrderPlacedHandler::new(pool.clone(), retry_pause);
    let mut consumers = Background::default();
    consumers.spawn(messaging::consume(
        broker.clone(),
        QueueSpec::PAYMENT,
        PREFETCH,
        Arc::new(handler),
        shutdown,
    ));
    let readiness =
        serving::postgres::readiness(Readiness::new(), pool).with_check("rabbitmq", broker.probe());
    let router = serving::http::skeleton(Router::new(), readiness, serve);
    (router, consumers)
}
