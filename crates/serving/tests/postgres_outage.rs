//! A PostgreSQL server that answers but refuses is an outage too: each way a real server
//! refuses for now (the database not accepting connections, sessions terminated by the
//! administrator, no connection left for the role) is `is_unavailable`, a 503 problem
//! with `Retry-After`, and the pool recovers by itself once the server serves again.
#![cfg(feature = "postgres")]

use serving::{
    Problem,
    postgres::{is_unavailable, pool_options},
};
use sqlx::{PgPool, postgres::PgConnectOptions};

fn admin_url() -> String {
    std::env::var("DATABASE_URL").expect("DATABASE_URL (e2e/local/stores.sh's server)")
}

/// Runs one administrative statement (names cannot be bound as parameters).
async fn run(admin: &PgPool, sql: String) {
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
        .execute(admin)
        .await
        .unwrap();
}

async fn admin() -> PgPool {
    PgPool::connect(&admin_url()).await.unwrap()
}

/// A database of its own, so refusing it disturbs no other test.
async fn scratch_database(admin: &PgPool, tag: &str) -> (String, PgConnectOptions) {
    let name = format!("refusing_{tag}_{}", std::process::id());
    run(
        admin,
        format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
    )
    .await;
    run(admin, format!("CREATE DATABASE {name}")).await;
    let options: PgConnectOptions = admin_url().parse().unwrap();
    (name.clone(), options.database(&name))
}

async fn terminate_sessions(admin: &PgPool, database: &str) {
    sqlx::query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1")
        .bind(database)
        .execute(admin)
        .await
        .unwrap();
}

fn assert_outage(err: sqlx::Error, why: &str) {
    assert!(
        is_unavailable(&err),
        "{why}: {err:?} is not taken for an outage"
    );
    let problem = Problem::from(err);
    assert_eq!(problem.status, 503, "{why}");
    assert!(problem.retry_after_secs.is_some(), "{why}: no Retry-After");
}

#[tokio::test]
async fn a_database_refusing_connections_is_an_outage_and_recovers() {
    let admin = admin().await;
    let (name, options) = scratch_database(&admin, "allow").await;
    let pool = pool_options().connect_with(options).await.unwrap();
    sqlx::query("SELECT 1").execute(&pool).await.unwrap();

    run(
        &admin,
        format!("ALTER DATABASE {name} ALLOW_CONNECTIONS false"),
    )
    .await;
    terminate_sessions(&admin, &name).await;
    for attempt in 0..3 {
        let err = sqlx::query("SELECT 1").execute(&pool).await.unwrap_err();
        assert_outage(err, &format!("refusing, attempt {attempt}"));
    }

    run(
        &admin,
        format!("ALTER DATABASE {name} ALLOW_CONNECTIONS true"),
    )
    .await;
    sqlx::query("SELECT 1")
        .execute(&pool)
        .await
        .expect("the pool reconnects by itself");
    pool.close().await;
    run(&admin, format!("DROP DATABASE {name} WITH (FORCE)")).await;
}

#[tokio::test]
async fn a_session_terminated_by_the_administrator_is_an_outage() {
    let admin = admin().await;
    let (name, options) = scratch_database(&admin, "terminated").await;
    let pool = pool_options()
        .test_before_acquire(false)
        .connect_with(options)
        .await
        .unwrap();
    let mut connection = pool.acquire().await.unwrap();
    sqlx::query("SELECT 1")
        .execute(&mut *connection)
        .await
        .unwrap();
    terminate_sessions(&admin, &name).await;
    let err = sqlx::query("SELECT 1")
        .execute(&mut *connection)
        .await
        .unwrap_err();
    assert_outage(err, "terminated by the administrator");
    drop(connection);
    pool.close().await;
    run(&admin, format!("DROP DATABASE {name} WITH (FORCE)")).await;
}

#[tokio::test]
async fn no_connection_left_is_an_outage() {
    let admin = admin().await;
    let (name, options) = scratch_database(&admin, "full").await;
    let role = format!("full_{}", std::process::id());
    run(&admin, format!("DROP ROLE IF EXISTS {role}")).await;
    run(
        &admin,
        format!("CREATE ROLE {role} LOGIN PASSWORD 'full' CONNECTION LIMIT 0"),
    )
    .await;
    let err = pool_options()
        .min_connections(0)
        .connect_with(options.username(&role).password("full"))
        .await
        .unwrap_err();
    assert_outage(err, "too many connections for the role");
    run(&admin, format!("DROP ROLE {role}")).await;
    run(&admin, format!("DROP DATABASE {name} WITH (FORCE)")).await;
}
