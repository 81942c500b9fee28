//! identity: accounts, argon2id password hashes, and the claims of an access token
//! that the gateway signs (identity never holds a key), on PostgreSQL `users`.

mod domain;
mod password;
mod routes;
mod store;
mod throttle;
mod token;

use serving::{Readiness, ServeConfig, Service, Started, postgres::Database};
use sqlx::{PgPool, migrate::Migrator};

pub use token::TokenConfig;

/// The `users` schema, applied at start.
pub static MIGRATOR: Migrator = sqlx::migrate!();

#[derive(Debug, Clone, clap::Parser)]
#[command(about = "microshop identity service")]
pub struct Config {
    #[command(flatten)]
    pub serve: ServeConfig,
    /// PostgreSQL database holding the accounts (`users`).
    #[arg(long = "database-url", env = "DATABASE_URL")]
    pub database: Database,
    #[command(flatten)]
    pub token: TokenConfig,
}

/// The service, connected and migrated.
pub struct Identity {
    pool: PgPool,
    config: Config,
}

impl Service for Identity {
    const NAME: &'static str = "identity";
    const DEFAULT_PORT: u16 = 8103;
    type Config = Config;

    fn serve_config(config: &Config) -> &ServeConfig {
        &config.serve
    }

    async fn build(config: Config) -> anyhow::Result<Self> {
        let pool = config.database.connect_and_migrate(&MIGRATOR).await?;
        // Pay for the dummy hash now, or the first login with an unknown e-mail would be
        // measurably slower than a wrong password.
        password::warm_up();
        Ok(Self { pool, config })
    }

    fn start(self) -> Started {
        let readiness = serving::postgres::readiness(Readiness::new(), self.pool.clone());
        let routes = routes::routes(self.pool, self.config.token);
        Started::routes_only(serving::http::skeleton(
            routes,
            readiness,
            &self.config.serve,
        ))
    }
}
