//! Outcome events from payment, shipping and email, published as those services will,
//! move the order along; duplicates change nothing; what cannot be used is dead-lettered.

use std::time::Duration;

use messaging::{QueueSpec, dead_letter_queue};
use serde_json::{Value, json};
use sqlx::PgPool;
use test_support::wait_until;
use uuid::Uuid;

use crate::harness::{Shop, Shopper};

/// Publishes the events and waits until checkout has handled them all.
async fn deliver(shop: &Shop, events: &[(&str, Value)]) {
    for (kind, body) in events {
        shop.publish_event(kind, body.clone()).await;
    }
    let queue = QueueSpec::CHECKOUT_EVENTS.name;
    wait_until(
        "checkout handled the events",
        Duration::from_secs(15),
        || async { shop.vhost.queue_depth(queue) == Some(0) },
    )
    .await;
}

#[sqlx::test(migrator = "checkout::MIGRATOR")]
async fn payment_shipment_and_email_events_show_on_the_order_and_duplicates_change_nothing(
    pool: PgPool,
) {
    let shop = Shop::open(pool).await;
    let order = shop.placed_order(Shopper::anonymous()).await;
    let id = order["id"].as_str().unwrap();
    let outcomes = [
        (
            "payment.succeeded",
            json!({"order_id": id, "transaction_id": "tx-1"}),
        ),
        (
            "shipment.created",
            json!({"order_id": id, "tracking_id": "TRK-1"}),
        ),
        ("email.sent", json!({"order_id": id})),
    ];
    deliver(&shop, &outcomes).await;
    shop.wait_for_order(id, "the order shows every outcome", |o| {
        o["status"] == "paid"
            && o["transaction_id"] == "tx-1"
            && o["tracking_id"] == "TRK-1"
            && o["email_sent"] == true
    })
    .await;
    let settled = shop.order(id).await;
    assert_ne!(settled["updated_at"], order["updated_at"]);

    // Each again, and conflicting late news: the first outcome stands.
    let mut again = outcomes.to_vec();
    again.push(("payment.failed", json!({"order_id": id, "reason": "late"})));
    again.push((
        "shipment.created",
        json!({"order_id": id, "tracking_id": "TRK-2"}),
    ));
    deliver(&shop, &again).await;
    assert_eq!(
        shop.order(id).await,
        settled,
        "duplicates are no-ops, even updated_at"
    );
    shop.assert_settled().await;
    shop.stop().await;
}

#[sqlx::test(migrator = "checkout::MIGRATOR")]
async fn a_failed_payment_marks_the_order_and_a_cancelled_shipment_is_recorded(pool: PgPool) {
    let shop = Shop::open(pool).await;
    let order = shop.placed_order(Shopper::anonymous()).await;
    let id = order["id"].as_str().unwrap();
    deliver(
        &shop,
        &[
            (
                "payment.failed",
                json!({"order_id": id, "reason": "card declined"}),
            ),
            ("shipment.cancelled", json!({"order_id": id})),
        ],
    )
    .await;
    shop.wait_for_order(id, "the payment failure shows", |o| {
        o["status"] == "payment_failed"
            && o["payment_failure_reason"] == "card declined"
            && o["shipment_cancelled"] == true
            && o["transaction_id"].is_null()
    })
    .await;
    deliver(
        &shop,
        &[(
            "payment.succeeded",
            json!({"order_id": id, "transaction_id": "tx-late"}),
        )],
    )
    .await;
    assert_eq!(
        shop.order(id).await["status"],
        "payment_failed",
        "failed stays failed"
    );
    shop.assert_settled().await;
    shop.stop().await;
}

#[sqlx::test(migrator = "checkout::MIGRATOR")]
async fn events_that_cannot_apply_end_in_the_dead_letter_queue(pool: PgPool) {
    let shop = Shop::open(pool).await;
    let unknown = Uuid::new_v4().to_string();
    deliver(
        &shop,
        &[
            (
                "payment.succeeded",
                json!({"order_id": unknown, "transaction_id": "tx"}),
            ),
            ("email.sent", json!({"order_id": "not-a-uuid"})),
            ("shipment.created", json!({"order": "no order_id field"})),
        ],
    )
    .await;
    let dlq = dead_letter_queue(QueueSpec::CHECKOUT_EVENTS.name);
    wait_until(
        "all three are dead-lettered",
        Duration::from_secs(15),
        || async { shop.vhost.queue_depth(&dlq) == Some(3) },
    )
    .await;
    shop.stop().await;
}
