//! checkout: turns a cart into an order. Prices come from catalog, the shipping cost
//! from shipping; the order and its `order.placed` outbox row are written in one
//! PostgreSQL transaction (database `orders`), a relay publishes the outbox to RabbitMQ,
//! and a consumer moves the order along as payment, shipping and email report back.

mod card;
mod events;
mod order;
mod relay;
mod request;
mod routes;
mod store;
mod upstream;

use std::{sync::Arc, time::Duration};

use messaging::{ConsumerConfig, QueueSpec};
use serving::{
    Background, CancellationToken, Readiness, ServeConfig, Service, Started, postgres::Database,
};
use sqlx::{PgPool, migrate::Migrator};
use tokio::sync::Notify;

pub use relay::OutboxRelay;
pub use upstream::{Peer, UpstreamError};

/// The `orders` schema, applied at start.
pub static MIGRATOR: Migrator = sqlx::migrate!();

/// Outcome events handled at once; each is one short UPDATE holding a connection of the
/// pool (16) while it runs, so they leave most of it to `POST /orders` and the relay.
const EVENTS_PREFETCH: u16 = 6;

#[derive(Debug, Clone, clap::Parser)]
#[command(about = "microshop checkout service")]
pub struct Config {
    #[command(flatten)]
    pub serve: ServeConfig,
    /// PostgreSQL database holding the orders (`orders`).
    #[arg(long = "database-url", env = "DATABASE_URL")]
    pub database: Database,
    /// RabbitMQ, for `order.placed` out and the outcome events in (`AMQP_URL`), and the
    /// first pause before an outcome event is handed back (`RETRY_PAUSE_MS`).
    #[command(flatten)]
    pub consumer: ConsumerConfig,
    #[arg(long, env = "CART_URL", default_value = "http://127.0.0.1:8102")]
    pub cart_url: String,
    #[arg(long, env = "CATALOG_URL", default_value = "http://127.0.0.1:8101")]
    pub catalog_url: String,
    #[arg(long, env = "SHIPPING_URL", default_value = "http://127.0.0.1:8105")]
    pub shipping_url: String,
}

/// The service, connected and migrated, with its upstream clients; the relay, the key
/// sweep and the consumer start with [`Service::start`].
pub struct Checkout {
    pool: PgPool,
    upstream: upstream::Upstream,
    config: Config,
}

impl Service for Checkout {
    const NAME: &'static str = "checkout";
    const DEFAULT_PORT: u16 = 8104;
    type Config = Config;

    fn serve_config(config: &Config) -> &ServeConfig {
        &config.serve
    }

    async fn build(config: Config) -> anyhow::Result<Self> {
        let upstream = upstream::Upstream::new(&config, UPSTREAM_TIMEOUT)?;
        let pool = config.database.connect_and_migrate(&MIGRATOR).await?;
        Ok(Self {
            pool,
            upstream,
            config,
        })
    }

    fn start(self) -> Started {
        let Self {
            pool,
            upstream,
            config,
        } = self;
        let broker = config.consumer.broker(Self::NAME);
        let wake = Arc::new(Notify::new());
        let relay = OutboxRelay::new(pool.clone(), broker.clone(), wake.clone());
        let handler = Arc::new(events::OrderEvents::new(
            pool.clone(),
            config.consumer.retry_pause(),
        ));
        let mut background = Background::default();
        background.spawn(|stop| relay.run(stop));
        let sweeping = pool.clone();
        background.spawn(|stop| forget_old_keys(sweeping, stop));
        messaging::spawn_consumer(
            &mut background,
            &broker,
            QueueSpec::CHECKOUT_EVENTS,
            EVENTS_PREFETCH,
            handler,
        );
        let readiness = serving::postgres::readiness(Readiness::new(), pool.clone())
            // Orders are taken while the broker is away (they wait in the outbox), so a
            // broker outage must not take checkout out of its Service: reported, not fatal.
            // See README "Broker down".
            .with_degrading_check("rabbitmq", broker.probe());
        let state = routes::AppState {
            pool,
            upstream: Arc::new(upstream),
            relay_wake: wake,
        };
        let router = serving::http::skeleton(routes::routes(state), readiness, &config.serve);
        Started { router, background }
    }
}

/// How long an `Idempotency-Key` answers with its order: a day, as payment APIs do.
/// After that the key is free again (kept at most [`KEY_SWEEP`] longer).
pub const IDEMPOTENCY_KEY_LIFETIME: Duration = Duration::from_secs(24 * 3600);
const KEY_SWEEP: Duration = Duration::from_secs(3600);

/// Forgets expired idempotency keys now; the service does it every hour.
pub async fn forget_expired_keys(pool: &PgPool) -> sqlx::Result<u64> {
    store::forget_keys_older_than(pool, IDEMPOTENCY_KEY_LIFETIME).await
}

async fn forget_old_keys(pool: PgPool, shutdown: CancellationToken) {
    let mut sweep = tokio::time::interval(KEY_SWEEP);
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = sweep.tick() => {}
        }
        match forget_expired_keys(&pool).await {
            Ok(0) => {}
            Ok(forgotten) => tracing::info!(forgotten, "expired idempotency keys forgotten"),
            // The next sweep tries again; a key kept longer does no harm.
            Err(err) => tracing::warn!(error = %err, "forgetting expired idempotency keys failed"),
        }
    }
}

/// How long cart, catalog or shipping may take before checkout answers 503.
const UPSTREAM_TIMEOUT: Duration = Duration::from_secs(3);
