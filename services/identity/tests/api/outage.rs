//! PostgreSQL going away and coming back, through a proxy in front of the real server.

use std::time::{Duration, Instant};

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use test_support::{OutageProxy, problem, wait_until};

use crate::helpers::{Identity, PASSWORD};

#[sqlx::test(migrator = "identity::MIGRATOR")]
async fn a_database_outage_is_a_quick_503_and_recovery_needs_no_restart(
    _: PgPoolOptions,
    options: PgConnectOptions,
) {
    let upstream = tokio::net::lookup_host((options.get_host(), options.get_port()))
        .await
        .unwrap()
        .next()
        .expect("the test database's address");
    let proxy = OutageProxy::start(upstream).await;
    // The app's own pool settings, so the 2 s acquire timeout under test is the real one.
    let pool = serving::postgres::pool_options()
        .connect_with(options.host("127.0.0.1").port(proxy.addr.port()))
        .await
        .unwrap();
    let app = Identity::spawn(pool).await;
    app.account("ada@example.org").await;

    proxy.cut();
    let (status, body) = problem(app.server.get("/readyz").await).await;
    assert_eq!(status, 503);
    assert_eq!(body["dependency"], "postgres");
    let started = Instant::now();
    let (status, body) = problem(app.login("ada@example.org", PASSWORD).await).await;
    assert_eq!(status, 503, "{body}");
    assert!(
        body["type"]
            .as_str()
            .unwrap()
            .ends_with("/dependency-unavailable")
    );
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "answered in {:?}, not hung",
        started.elapsed()
    );

    proxy.restore().await;
    wait_until(
        "identity is ready again",
        Duration::from_secs(20),
        || async { app.server.get("/readyz").await.status() == 200 },
    )
    .await;
    assert_eq!(app.login("ada@example.org", PASSWORD).await.status(), 200);
}
