//! catalog: products, categories and ranked full-text search, on PostgreSQL.

mod routes;
mod store;

use axum::Router;
use serving::{Readiness, ServeConfig};
use sqlx::{PgPool, migrate::Migrator, postgres::PgConnectOptions};

pub const DEFAULT_PORT: u16 = 8101;

/// Schema and seed catalog, applied at start.
pub static MIGRATOR: Migrator = sqlx::migrate!();

#[derive(Debug, Clone, clap::Parser)]
#[command(about = "microshop catalog service")]
pub struct Config {
    #[command(flatten)]
    pub serve: ServeConfig,
    /// PostgreSQL database holding the catalog.
    #[arg(long, env = "DATABASE_URL")]
    pub database_url: String,
}

/// Connects, migrates and returns the app's router.
pub async fn build(config: &Config) -> anyhow::Result<Router> {
    let options: PgConnectOptions = config.database_url.parse()?;
    let pool = serving::postgres::connect_and_migrate(options, &MIGRATOR).await?;
    Ok(router(pool, &config.serve))
}

/// The app on an already migrated pool; tests call this.
pub fn router(pool: PgPool, serve: &ServeConfig) -> Router {
    let readiness = serving::postgres::readiness(Readiness::new(), pool.clone());
    serving::http::skeleton(routes::routes(pool), readiness, serve)
}
