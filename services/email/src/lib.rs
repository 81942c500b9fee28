//! email: order confirmations. Consumes `order.placed` from `email.order-placed`,
//! renders the mail from templates, sends it over SMTP (or, without `SMTP_URL`, keeps it
//! in a development outbox at `GET /emails`), records it once per order in PostgreSQL
//! `email` and publishes `email.sent`.

mod consumer;
mod mailer;
mod outbox;
mod render;
mod store;

use std::sync::Arc;

use axum::Router;
use messaging::{ConsumerConfig, QueueSpec};
use serving::{Background, Readiness, ServeConfig, Service, Started, postgres::Database};
use sqlx::{PgPool, migrate::Migrator};

pub use mailer::Mailer;
pub use render::{Rendered, confirmation, format_money};

/// Messages taken from the queue ahead of the one being handled.
const PREFETCH: u16 = 10;

/// The `emails` ledger, applied at start.
pub static MIGRATOR: Migrator = sqlx::migrate!();

#[derive(Debug, Clone, clap::Parser)]
#[command(about = "microshop email service")]
pub struct Config {
    #[command(flatten)]
    pub serve: ServeConfig,
    /// PostgreSQL database holding the sent-mail ledger (`email`).
    #[arg(long = "database-url", env = "DATABASE_URL")]
    pub database: Database,
    /// SMTP relay, `smtp://host:port` (credentials as `smtp://user:pass@host:port`).
    /// Without it mails are logged and kept at `GET /emails` for development.
    #[arg(long, env = "SMTP_URL")]
    pub smtp_url: Option<String>,
    /// Sender of every mail.
    #[arg(
        long,
        env = "SMTP_FROM",
        default_value = "microshop <orders@microshop.dev>"
    )]
    pub smtp_from: String,
    #[command(flatten)]
    pub consumer: ConsumerConfig,
}

/// The service, connected and migrated, with its mailer; the consumer starts with
/// [`Service::start`].
pub struct Email {
    pool: PgPool,
    mailer: Mailer,
    config: Config,
}

impl Service for Email {
    const NAME: &'static str = "email";
    const DEFAULT_PORT: u16 = 8107;
    type Config = Config;

    fn serve_config(config: &Config) -> &ServeConfig {
        &config.serve
    }

    async fn build(config: Config) -> anyhow::Result<Self> {
        let mailer = Mailer::new(config.smtp_url.as_deref(), &config.smtp_from)?;
        let pool = config.database.connect_and_migrate(&MIGRATOR).await?;
        Ok(Self {
            pool,
            mailer,
            config,
        })
    }

    fn start(self) -> Started {
        let routes = match self.mailer.dev_outbox() {
            Some(outbox) => outbox::routes(outbox.clone()),
            None => Router::new(),
        };
        let broker = self.config.consumer.broker(Self::NAME);
        let handler = consumer::OrderPlacedHandler::new(
            self.pool.clone(),
            self.mailer,
            self.config.consumer.retry_pause(),
        );
        let mut background = Background::default();
        messaging::spawn_consumer(
            &mut background,
            &broker,
            QueueSpec::EMAIL,
            PREFETCH,
            Arc::new(handler),
        );
        let readiness = serving::postgres::readiness(Readiness::new(), self.pool)
            .with_check("rabbitmq", broker.probe());
        let router = serving::http::skeleton(routes, readiness, &self.config.serve);
        Started { router, background }
    }
}
