//! cart: each shopper's cart in Redis, kept for 3 h after its last write.
//!
//! A cart is the hash `{prefix}cart:{owner}` (owner `u:{uuid}` or `s:{uuid}`): one field
//! per product id holding its quantity, plus `_updated_at` (RFC 3339) in the same hash.
//! Product ids never start with `_`, so the two cannot clash, and one key means one TTL
//! and one atomic script per write. An empty cart is no key at all.

mod line;
mod owner;
mod products;
mod routes;
mod store;

use serving::{Readiness, ServeConfig, Service, Started};

pub use store::MAX_LINES;

#[derive(Debug, Clone, clap::Parser)]
#[command(about = "microshop cart service")]
pub struct Config {
    #[command(flatten)]
    pub serve: ServeConfig,
    /// Redis holding the carts.
    #[arg(long, env = "REDIS_URL")]
    pub redis_url: String,
    /// Catalog, asked whether a product exists before it goes into a cart.
    #[arg(long, env = "CATALOG_URL", default_value = "http://127.0.0.1:8101")]
    pub catalog_url: String,
    /// Put before every key, so several shops (or tests) can share one Redis.
    #[arg(long, env = "CART_KEY_PREFIX", default_value = "")]
    pub key_prefix: String,
    /// A cart not written to for this long expires.
    #[arg(long, env = "CART_TTL_SECS", default_value_t = 10_800,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub ttl_secs: u64,
}

/// The service, connected to Redis.
pub struct Cart {
    state: routes::AppState,
    readiness: Readiness,
    serve: ServeConfig,
}

impl Service for Cart {
    const NAME: &'static str = "cart";
    const DEFAULT_PORT: u16 = 8102;
    type Config = Config;

    fn serve_config(config: &Config) -> &ServeConfig {
        &config.serve
    }

    async fn build(config: Config) -> anyhow::Result<Self> {
        let connection = serving::redis::connect(&config.redis_url).await?;
        let state = routes::AppState {
            store: store::CartStore::new(connection.clone(), &config.key_prefix, config.ttl_secs),
            products: products::KnownProducts::new(&config.catalog_url)?.into(),
        };
        // Only Redis: catalog is asked per request, and its outage must not take carts away.
        let readiness = serving::redis::readiness(Readiness::new(), connection);
        Ok(Self {
            state,
            readiness,
            serve: config.serve,
        })
    }

    fn start(self) -> Started {
        let routes = routes::routes(self.state);
        Started::routes_only(serving::http::skeleton(routes, self.readiness, &self.serve))
    }
}
