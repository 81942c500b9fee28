//! catalog: products, categories and ranked full-text search, on PostgreSQL.

mod routes;
mod store;

use serving::{Readiness, ServeConfig, Service, Started, postgres::Database};
use sqlx::{PgPool, migrate::Migrator};

/// Schema and seed catalog, applied at start.
pub static MIGRATOR: Migrator = sqlx::migrate!();

#[derive(Debug, Clone, clap::Parser)]
#[command(about = "microshop catalog service")]
pub struct Config {
    #[command(flatten)]
    pub serve: ServeConfig,
    /// PostgreSQL database holding the catalog.
    #[arg(long = "database-url", env = "DATABASE_URL")]
    pub database: Database,
}

/// The service, connected and migrated.
pub struct Catalog {
    pool: PgPool,
    serve: ServeConfig,
}

impl Service for Catalog {
    const NAME: &'static str = "catalog";
    const DEFAULT_PORT: u16 = 8101;
    type Config = Config;

    fn serve_config(config: &Config) -> &ServeConfig {
        &config.serve
    }

    async fn build(config: Config) -> anyhow::Result<Self> {
        let pool = config.database.connect_and_migrate(&MIGRATOR).await?;
        Ok(Self {
            pool,
            serve: config.serve,
        })
    }

    fn start(self) -> Started {
        let readiness = serving::postgres::readiness(Readiness::new(), self.pool.clone());
        let router = serving::http::skeleton(routes::routes(self.pool), readiness, &self.serve);
        Started::routes_only(router)
    }
}
