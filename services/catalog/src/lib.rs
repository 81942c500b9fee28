//! catalog: products, categories and ranked full-text search, on PostgreSQL.

mod answers;
mod routes;
mod store;

use serving::{Background, Readiness, ServeConfig, Service, Started, postgres::Database};
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
    /// Memory for answers kept between requests (products, listings, categories), in
    /// MiB; 0 reads the database on every request.
    #[arg(long = "answers-mib", env = "CATALOG_ANSWERS_MIB", default_value_t = 4)]
    pub answers_mib: u64,
}

/// The service, connected and migrated.
pub struct Catalog {
    pool: PgPool,
    answers_mib: u64,
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
            answers_mib: config.answers_mib,
            serve: config.serve,
        })
    }

    fn start(self) -> Started {
        let readiness = serving::postgres::readiness(Readiness::new(), self.pool.clone());
        let answers = answers::Answers::new(self.answers_mib << 20);
        let mut background = Background::default();
        if self.answers_mib > 0 {
            let (pool, answers) = (self.pool.clone(), answers.clone());
            background.spawn(move |stop| answers::follow_changes(pool, answers, stop));
        }
        let catalog = routes::Catalog {
            pool: self.pool,
            answers,
        };
        let router = serving::http::skeleton(routes::routes(catalog), readiness, &self.serve);
        Started { router, background }
    }
}
