//! Shipments: created once per order, cancelled when payment fails, whichever comes first.

use std::time::Duration;

use messaging::{ORDERS_EXCHANGE, QueueSpec, dead_letter_queue};
use serde_json::json;
use sqlx::PgPool;
use test_support::wait_until;

use crate::helpers::{PATIENCE, Shipping, order};

#[sqlx::test(migrator = "shipping::MIGRATOR")]
async fn an_order_gets_a_shipment_with_the_tracking_id_derived_from_its_id(pool: PgPool) {
    let app = Shipping::start(pool).await;
    let order = order();
    app.place(&order).await;

    let event = app.next_event().await;
    let tracking_id = shipping::tracking_id(order.order_id);
    assert_eq!(event.kind, "shipment.created");
    assert_eq!(event.routing_key, "shipment.created");
    assert_eq!(
        event.message_id,
        format!("{}:shipment.created", order.order_id)
    );
    assert_eq!(
        event.body,
        json!({"order_id": order.order_id, "tracking_id": tracking_id})
    );
    assert_eq!(
        app.shipment(order.order_id).await,
        Some((tracking_id, "created".into()))
    );
    app.stop([0, 0]).await;
}

#[sqlx::test(migrator = "shipping::MIGRATOR")]
async fn the_same_order_twice_makes_one_shipment_and_publishes_it_twice(pool: PgPool) {
    let app = Shipping::start(pool).await;
    let order = order();
    app.place(&order).await;
    let first = app.next_event().await;
    app.place(&order).await;
    let second = app.next_event().await;

    assert_eq!(first.kind, "shipment.created");
    assert_eq!(
        (&second.kind, &second.message_id, &second.body),
        (&first.kind, &first.message_id, &first.body)
    );
    assert_eq!(app.shipments().await, 1);
    app.events.assert_quiet(Duration::from_millis(500)).await;
    app.stop([0, 0]).await;
}

#[sqlx::test(migrator = "shipping::MIGRATOR")]
async fn a_failed_payment_cancels_the_shipment(pool: PgPool) {
    let app = Shipping::start(pool).await;
    let order = order();
    app.place(&order).await;
    assert_eq!(app.next_event().await.kind, "shipment.created");

    app.fail_payment(order.order_id).await;
    let event = app.next_event().await;
    assert_eq!(event.kind, "shipment.cancelled");
    assert_eq!(
        event.message_id,
        format!("{}:shipment.cancelled", order.order_id)
    );
    assert_eq!(event.body, json!({"order_id": order.order_id}));
    let (_, status) = app.shipment(order.order_id).await.unwrap();
    assert_eq!(status, "cancelled");

    // A redelivered payment.failed changes nothing and says the same again.
    app.fail_payment(order.order_id).await;
    let again = app.next_event().await;
    assert_eq!((again.kind, again.body), (event.kind, event.body));
    assert_eq!(app.shipments().await, 1);
    app.stop([0, 0]).await;
}

#[sqlx::test(migrator = "shipping::MIGRATOR")]
async fn an_order_placed_after_its_payment_failed_is_cancelled_not_shipped(pool: PgPool) {
    let app = Shipping::start(pool).await;
    let order = order();
    app.fail_payment(order.order_id).await;
    assert_eq!(app.next_event().await.kind, "shipment.cancelled");
    assert_eq!(
        app.shipment(order.order_id).await.map(|(_, status)| status),
        Some("cancelled".into()),
        "the cancellation is remembered without a shipment"
    );

    app.place(&order).await;
    let event = app.next_event().await;
    assert_eq!(event.kind, "shipment.cancelled");
    assert_eq!(event.body, json!({"order_id": order.order_id}));
    app.events.assert_quiet(Duration::from_millis(500)).await;
    let (_, status) = app.shipment(order.order_id).await.unwrap();
    assert_eq!(status, "cancelled");
    app.stop([0, 0]).await;
}

#[sqlx::test(migrator = "shipping::MIGRATOR")]
async fn unreadable_messages_are_dead_lettered_from_both_queues(pool: PgPool) {
    let app = Shipping::start(pool).await;
    app.publish(ORDERS_EXCHANGE, "", "p-1", "order.placed", b"not json")
        .await;
    app.publish(
        messaging::ORDER_EVENTS_EXCHANGE,
        "payment.failed",
        "p-2",
        "payment.failed",
        br#"{"order_id": "not-a-uuid", "reason": "card_declined"}"#,
    )
    .await;
    wait_until("both are dead-lettered", PATIENCE, || async {
        [QueueSpec::SHIPPING, QueueSpec::SHIPPING_PAYMENT_FAILED]
            .iter()
            .all(|spec| app.vhost.queue_depth(&dead_letter_queue(spec.name)) == Some(1))
    })
    .await;
    assert_eq!(app.shipments().await, 0);
    app.events.assert_quiet(Duration::from_millis(300)).await;
    app.stop([1, 1]).await;
}

#[sqlx::test(migrator = "shipping::MIGRATOR")]
async fn readiness_reports_the_broker_ok_once_both_consumers_are_connected(pool: PgPool) {
    let app = Shipping::start(pool).await;
    wait_until("both consumers are connected", PATIENCE, || async {
        let response = app.server.get("/readyz").await;
        response.status() == 200
            && response.json::<serde_json::Value>().await.unwrap()["checks"]
                == json!({"postgres": "ok", "rabbitmq": "ok"})
    })
    .await;
    app.stop([0, 0]).await;
}
