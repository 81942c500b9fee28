//! Several services' tables in one test database: each service gets a schema of its own,
//! migrated by its own migrator, so a test that runs many services still gets one
//! database that `#[sqlx::test]` creates and drops.

use sqlx::{PgPool, migrate::Migrator, postgres::PgPoolOptions};

/// A pool on a new schema `name` of `database`'s database, migrated by `migrator`.
pub async fn schema_pool(database: &PgPool, name: &str, migrator: &Migrator) -> PgPool {
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA \"{name}\"")))
        .execute(database)
        .await
        .expect("create schema");
    let options = (*database.connect_options())
        .clone()
        .options([("search_path", name)]);
    let pool = PgPoolOptions::new()
        .max_connections(8)
        .connect_with(options)
        .await
        .expect("connect to the schema");
    migrator.run(&pool).await.expect("migrate the schema");
    pool
}
