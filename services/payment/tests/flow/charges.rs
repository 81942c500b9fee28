//! Charging orders: the test cards, duplicates, poison.

use std::time::Duration;

use serde_json::json;
use sqlx::PgPool;
use test_support::wait_until;
use wire::events::PaymentSucceeded;

use crate::helpers::{PATIENCE, Payment, order};

#[sqlx::test(migrator = "payment::MIGRATOR")]
async fn a_4242_card_is_approved_with_one_charge_and_the_derived_transaction_id(pool: PgPool) {
    let app = Payment::start(pool).await;
    let order = order("4242");
    app.place(&order).await;

    let event = app.next_event().await;
    let order_id = order.order_id;
    let transaction_id = payment::transaction_id(order_id);
    assert_eq!(event.kind, "payment.succeeded");
    assert_eq!(event.routing_key, "payment.succeeded");
    assert_eq!(
        event.message_id,
        format!("{}:payment.succeeded", order.order_id)
    );
    assert_eq!(
        event.body,
        json!({"order_id": order.order_id, "transaction_id": transaction_id})
    );
    let paid: PaymentSucceeded = event.event();
    assert_eq!(
        (paid.order_id, paid.transaction_id),
        (order_id, transaction_id.clone())
    );

    let row: (String, String, Option<String>, i64, String, String) = sqlx::query_as(
        "SELECT transaction_id, outcome, reason, amount_minor, currency, card_last4
         FROM charges WHERE order_id = $1",
    )
    .bind(order_id)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(
        row,
        (
            transaction_id,
            "succeeded".into(),
            None,
            8249,
            "USD".into(),
            "4242".into()
        )
    );
    assert_eq!(app.charges().await, 1);
    app.stop(0).await;
}

#[sqlx::test(migrator = "payment::MIGRATOR")]
async fn the_failing_test_cards_publish_payment_failed_with_their_reason(pool: PgPool) {
    let app = Payment::start(pool).await;
    let cases = [
        ("0002", "card_declined", "4000 0000 0000 0002 is declined"),
        (
            "9995",
            "insufficient_funds",
            "4000 0000 0000 9995 lacks funds",
        ),
    ];
    for (last4, reason, why) in cases {
        let order = order(last4);
        app.place(&order).await;
        let event = app.next_event().await;
        assert_eq!(event.kind, "payment.failed", "{why}");
        assert_eq!(
            event.message_id,
            format!("{}:payment.failed", order.order_id)
        );
        assert_eq!(
            event.body,
            json!({"order_id": order.order_id, "reason": reason}),
            "{why}"
        );
        let recorded: (String, Option<String>) =
            sqlx::query_as("SELECT outcome, reason FROM charges WHERE order_id = $1::uuid")
                .bind(order.order_id)
                .fetch_one(&app.pool)
                .await
                .unwrap();
        assert_eq!(recorded, ("failed".into(), Some(reason.into())), "{why}");
    }
    app.stop(0).await;
}

#[sqlx::test(migrator = "payment::MIGRATOR")]
async fn the_same_order_delivered_twice_is_charged_once_and_its_outcome_published_twice(
    pool: PgPool,
) {
    let app = Payment::start(pool).await;
    let order = order("4242");
    app.place(&order).await;
    let first = app.next_event().await;
    app.place(&order).await;
    let second = app.next_event().await;

    assert_eq!(first.kind, "payment.succeeded");
    assert_eq!(
        (&second.kind, &second.message_id, &second.body),
        (&first.kind, &first.message_id, &first.body),
        "the duplicate re-publishes the same outcome"
    );
    assert_eq!(app.charges().await, 1);
    app.events.assert_quiet(Duration::from_millis(500)).await;
    app.stop(0).await;
}

#[sqlx::test(migrator = "payment::MIGRATOR")]
async fn a_redelivered_order_keeps_its_first_decision(pool: PgPool) {
    // Whatever a later copy says, the ledger's first answer stands.
    let app = Payment::start(pool).await;
    let declined = order("0002");
    app.place(&declined).await;
    assert_eq!(app.next_event().await.kind, "payment.failed");
    let mut altered = declined.clone();
    altered.card.last4 = "4242".into();
    app.place(&altered).await;
    let event = app.next_event().await;
    assert_eq!(event.kind, "payment.failed");
    assert_eq!(event.body["reason"], "card_declined");
    assert_eq!(app.charges().await, 1);
    app.stop(0).await;
}

#[sqlx::test(migrator = "payment::MIGRATOR")]
async fn messages_that_can_never_be_charged_are_dead_lettered_without_a_charge(pool: PgPool) {
    let app = Payment::start(pool).await;
    let mut bad_id = serde_json::to_value(order("4242")).unwrap();
    bad_id["order_id"] = json!("not-a-uuid");
    let mut bad_card = order("4242");
    bad_card.card.last4 = "42x2".into();
    let poison: [(&str, Vec<u8>, &str); 3] = [
        ("p-1", b"{\"order_id\": ".to_vec(), "not JSON"),
        (
            "p-2",
            serde_json::to_vec(&bad_id).unwrap(),
            "order id not a UUID",
        ),
        (
            "p-3",
            serde_json::to_vec(&bad_card).unwrap(),
            "last four not digits",
        ),
    ];
    for (id, body, _why) in &poison {
        app.publish_raw(id, body).await;
    }
    let dlq = messaging::dead_letter_queue(messaging::QueueSpec::PAYMENT.name);
    wait_until(
        "every poison message is dead-lettered",
        PATIENCE,
        || async { app.vhost.queue_depth(&dlq) == Some(poison.len() as u64) },
    )
    .await;
    assert_eq!(app.charges().await, 0);
    app.events.assert_quiet(Duration::from_millis(300)).await;
    app.stop(poison.len() as u64).await;
}

#[sqlx::test(migrator = "payment::MIGRATOR")]
async fn readiness_needs_postgres_and_a_consuming_broker_session(pool: PgPool) {
    let app = Payment::start(pool).await;
    wait_until("payment is ready", PATIENCE, || async {
        app.server.get("/readyz").await.status() == 200
    })
    .await;
    let body: serde_json::Value = app.server.get("/readyz").await.json().await.unwrap();
    assert_eq!(body["checks"], json!({"postgres": "ok", "rabbitmq": "ok"}));
    app.stop(0).await;
}
