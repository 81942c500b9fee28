//! RabbitMQ goes away: orders are still taken and wait in the outbox; when it comes
//! back the relay reconnects by itself and publishes them.

use std::time::Duration;

use messaging::QueueSpec;
use sqlx::PgPool;
use test_support::wait_until;

use crate::harness::{Shop, Shopper};

#[sqlx::test(migrator = "checkout::MIGRATOR")]
async fn orders_are_taken_while_the_broker_is_down_and_published_when_it_returns(pool: PgPool) {
    let (shop, broker) = Shop::open_behind_broker_proxy(pool).await;
    wait_until("checkout is ready", Duration::from_secs(20), || async {
        shop.checkout.get("/readyz").await.status() == 200
    })
    .await;

    broker.cut();
    // Still ready (it takes orders), with the broker reported as degraded.
    let readiness = || async {
        let response = shop.checkout.get("/readyz").await;
        (
            response.status(),
            response.json::<serde_json::Value>().await.unwrap(),
        )
    };
    wait_until(
        "readiness reports the broker",
        Duration::from_secs(20),
        || async {
            readiness().await.1["checks"]["rabbitmq"]
                .as_str()
                .is_some_and(|s| s.starts_with("degraded"))
        },
    )
    .await;
    let (status, report) = readiness().await;
    assert_eq!(status, 200, "checkout stays in its Service: {report}");
    assert_eq!(report["checks"]["postgres"], "ok", "{report}");

    let order = shop.placed_order(Shopper::anonymous()).await;
    let id = order["id"].as_str().unwrap();
    // Proving that nothing is sent takes time: give the relay its poll interval twice.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let outbox = shop.outbox().await;
    assert_eq!(outbox.len(), 1);
    assert!(!outbox[0].1, "not marked sent while the broker is away");

    broker.restore().await;
    wait_until(
        "the relay sent the order",
        Duration::from_secs(30),
        || async { shop.outbox().await.iter().all(|(_, sent)| *sent) },
    )
    .await;
    let message = shop.next_message(QueueSpec::PAYMENT.name).await;
    let message_id = message.delivery.properties.message_id().clone().unwrap();
    assert_eq!(message_id.as_str(), id);
    wait_until(
        "the broker is reported back",
        Duration::from_secs(30),
        || async { readiness().await.1["checks"]["rabbitmq"] == "ok" },
    )
    .await;
    shop.assert_settled().await;
    shop.stop().await;
}
