//! payment: mock card charges. Consumes `order.placed` from `payment.order-placed`,
//! decides by the card's last four digits, records the charge once per order in
//! PostgreSQL `payments` and publishes `payment.succeeded` or `payment.failed`.

mod charge;
mod consumer;
mod store;

use std::sync::Arc;

use messaging::{Broker, ConsumerConfig, QueueSpec};
use serving::{Background, Readiness, ServeConfig, Service, Started, postgres::Database};
use sqlx::{PgPool, migrate::Migrator};

pub use charge::{Decision, DeclineReason, decide, transaction_id};

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
    #[arg(long = "database-url", env = "DATABASE_URL")]
    pub database: Database,
    #[command(flatten)]
    pub consumer: ConsumerConfig,
}

/// The service, connected and migrated; its consumer starts with [`Service::start`].
pub struct Payment {
    pool: PgPool,
    config: Config,
}

impl Service for Payment {
    const NAME: &'static str = "payment";
    const DEFAULT_PORT: u16 = 8106;
    type Config = Config;

    fn serve_config(config: &Config) -> &ServeConfig {
        &config.serve
    }

    async fn build(config: Config) -> anyhow::Result<Self> {
        let pool = config.database.connect_and_migrate(&MIGRATOR).await?;
        Ok(Self { pool, config })
    }

    fn start(self) -> Started {
        let broker: Broker = self.config.consumer.broker(Self::NAME);
        let handler = consumer::OrderPlacedHandler::new(
            self.pool.clone(),
            self.config.consumer.retry_pause(),
        );
        let mut background = Background::default();
        messaging::spawn_consumer(
            &mut background,
            &broker,
            QueueSpec::PAYMENT,
            PREFETCH,
            Arc::new(handler),
        );
        let readiness = serving::postgres::readiness(Readiness::new(), self.pool)
            .with_check("rabbitmq", broker.probe());
        let router = serving::http::skeleton(axum::Router::new(), readiness, &self.config.serve);
        Started { router, background }
    }
}
