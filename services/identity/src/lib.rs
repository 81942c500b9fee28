//! identity: accounts, argon2id password hashes, and the claims of an access token
//! that the gateway signs (identity never holds a key), on PostgreSQL `users`.

mod domain;
mod password;
mod routes;
mod store;
mod throttle;
mod token;

use axum::Router;
use serving::{Readiness, ServeConfig};
use sqlx::{PgPool, migrate::Migrator, postgres::PgConnectOptions};

pub use token::TokenConfig;

pub const DEFAULT_PORT: u16 = 8103;

/// The `users` schema, applied at start.
pub static MIGRATOR: Migrator = sqlx::migrate!();

#[derive(Debug, Clone, clap::Parser)]
#[command(about = "microshop identity service")]
pub struct Config {
    #[command(flatten)]
    pub serve: ServeConfig,
    /// PostgreSQL database holding the accounts (`users`).
    #[arg(long, env = "DATABASE_URL")]
    pub database_url: String,
    #[command(flatten)]
    pub token: TokenConfig,
}

/// Connects, migrates and returns the app's router.
pub async fn build(config: &Config) -> anyhow::Result<Router> {
    let options: PgConnectOptions = config.database_url.parse()?;
    let pool = serving::postgres::connect_and_migrate(options, &MIGRATOR).await?;
    Ok(router(pool, &config.serve, config.token.clone()))
}

/// The app on an already migrated pool; tests call this.
pub fn router(pool: PgPool, serve: &ServeConfig, token: TokenConfig) -> Router {
    // Pay for the dummy hash now, or the first login with an unknown e-mail would be
    // measurably slower than a wrong password.
    password::warm_up();
    let readiness = serving::postgres::readiness(Readiness::new(), pool.clone());
    serving::http::skeleton(routes::routes(pool, token), readiness, serve)
}
