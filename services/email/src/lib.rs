//! email: order confirmations. Consumes `order.placed` from `email.order-placed`,
//! renders the mail from templates, sends it over SMTP (or, without `SMTP_URL`, keeps it
//! in a development outbox at `GET /emails`), records it once per order in PostgreSQL
//! `email` and publishes `email.sent`.

mod consumer;
mod mailer;
mod outbox;
mod render;
mod store;

use std::{sync::Arc, time::Duration};

use axum::Router;
use messaging::{Background, Broker, ConsumerConfig, QueueSpec};
use serving::{CancellationToken, Readiness, ServeConfig};
use sqlx::{PgPool, migrate::Migrator, postgres::PgConnectOptions};

pub use mailer::Mailer;
pub use render::{Rendered, confirmation, format_money};

pub const DEFAULT_PORT: u16 = 8107;

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
    #[arg(long, env = "DATABASE_URL")]
    pub database_url: String,
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

/// Connects, migrates, starts the consumer and returns the router.
pub async fn build(
    config: &Config,
    shutdown: CancellationToken,
) -> anyhow::Result<(Router, Background)> {
    let mailer = Mailer::new(config.smtp_url.as_deref(), &config.smtp_from)?;
    let options: PgConnectOptions = config.database_url.parse()?;
    let pool = serving::postgres::connect_and_migrate(options, &MIGRATOR).await?;
    let broker = config.consumer.broker("email");
    let pause = config.consumer.retry_pause();
    Ok(start(pool, broker, mailer, &config.serve, pause, shutdown))
}

/// The consumer and the router on an already migrated pool; tests call this.
pub fn start(
    pool: PgPool,
    broker: Broker,
    mailer: Mailer,
    serve: &ServeConfig,
    retry_pause: Duration,
    shutdown: CancellationToken,
) -> (Router, Background) {
    let routes = match mailer.dev_outbox() {
        Some(outbox) => outbox::routes(outbox.clone()),
        None => Router::new(),
    };
    let handler = consumer::OrderPlacedHandler::new(pool.clone(), mailer, retry_pause);
    let mut consumers = Background::default();
    consumers.spawn(messaging::consume(
        broker.clone(),
        QueueSpec::EMAIL,
        PREFETCH,
        Arc::new(handler),
        shutdown,
    ));
    let readiness =
        serving::postgres::readiness(Readiness::new(), pool).with_check("rabbitmq", broker.probe());
    let router = serving::http::skeleton(routes, readiness, serve);
    (router, consumers)
}
