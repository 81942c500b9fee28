//! PostgreSQL going away under the consumer, through a proxy in front of the real server.

use std::time::Duration;

use serde_json::json;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use test_support::{OutageProxy, problem, wait_until};

use crate::helpers::{PATIENCE, Payment, config, order};

#[sqlx::test(migrator = "payment::MIGRATOR")]
async fn an_order_taken_during_a_database_outage_is_retried_and_charged_once_it_returns(
    _: PgPoolOptions,
    options: PgConnectOptions,
) {
    let upstream = tokio::net::lookup_host((options.get_host(), options.get_port()))
        .await
        .unwrap()
        .next()
        .expect("the test database's address");
    let proxy = OutageProxy::start(upstream).await;
    let service_pool = serving::postgres::pool_options()
        .connect_with(options.clone().host("127.0.0.1").port(proxy.addr.port()))
        .await
        .unwrap();
    let direct = PgPoolOptions::new().connect_with(options).await.unwrap();
    let app = Payment::start_with(service_pool, direct).await;

    proxy.cut();
    let order = order("4242");
    app.place(&order).await;
    // At least one attempt fails (2 s pool timeout) and is handed back, not dead-lettered.
    app.events.assert_quiet(Duration::from_secs(3)).await;
    let (status, body) = problem(app.server.get("/readyz").await).await;
    assert_eq!((status, &body["dependency"]), (503, &json!("postgres")));

    proxy.restore().await;
    let event = app.events.next(PATIENCE).await;
    assert_eq!(event.kind, "payment.succeeded");
    assert_eq!(event.body["order_id"], order.order_id.to_string());
    assert_eq!(app.charges().await, 1);
    wait_until("payment is ready again", PATIENCE, || async {
        app.server.get("/readyz").await.status() == 200
    })
    .await;
    app.stop(0).await;
}

#[sqlx::test(migrator = "payment::MIGRATOR")]
async fn payment_is_not_ready_while_it_cannot_reach_the_broker(pool: sqlx::PgPool) {
    let unreachable = "amqp://guest:guest@127.0.0.1:1/%2f";
    let server =
        test_support::TestService::start::<payment::Payment>(config(&pool, unreachable)).await;
    let (status, body) = problem(server.get("/readyz").await).await;
    assert_eq!(status, 503);
    assert_eq!(body["checks"]["postgres"], "ok");
    assert_eq!(body["checks"]["rabbitmq"], "not connected to RabbitMQ");
    server.stop().await;
}
