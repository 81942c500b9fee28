//! One purchase across every backend service, on real PostgreSQL, Redis and RabbitMQ.

use std::time::Duration;

use messaging::{Broker, ORDERS_EXCHANGE, Outgoing, Publisher, QueueSpec, dead_letter_queue};
use order_flow::{APPROVED, DECLINED, INSUFFICIENT_FUNDS, Shop, fulfilled};
use sqlx::PgPool;
use test_support::wait_until;
use wire::events::OrderPlaced;

const SETTLE: Duration = Duration::from_secs(60);

#[sqlx::test(migrator = "checkout::MIGRATOR")]
async fn a_purchase_goes_from_cart_to_paid_with_a_tracking_id_and_an_email(database: PgPool) {
    let shop = Shop::open(database).await;
    let order = shop.buy(APPROVED).await;
    assert_eq!(order["status"], "placed");
    let id = order["id"].as_str().unwrap();

    let order = shop.wait_for_order(id, SETTLE, fulfilled).await;
    assert_eq!(
        order["transaction_id"],
        payment::transaction_id(id.parse().unwrap())
    );
    assert!(order["tracking_id"].as_str().unwrap().starts_with("1Z"));
    let mails: serde_json::Value = shop.email.get("/emails").await.json().await.unwrap();
    let mail = &mails["items"][0];
    assert_eq!(mail["to"], "grace@example.org");
    assert!(
        mail["text"].as_str().unwrap().contains(id),
        "the mail names the order"
    );
    assert_eq!(Shop::ledger_rows(&shop.payments, "charges", id).await, 1);
    assert_eq!(Shop::ledger_rows(&shop.shipments, "shipments", id).await, 1);
    shop.close().await;
}

#[sqlx::test(migrator = "checkout::MIGRATOR")]
async fn a_refused_card_ends_payment_failed_and_cancels_the_shipment(database: PgPool) {
    let shop = Shop::open(database).await;
    for (card, reason) in [
        (DECLINED, "card_declined"),
        (INSUFFICIENT_FUNDS, "insufficient_funds"),
    ] {
        let order = shop.buy(card).await;
        let id = order["id"].as_str().unwrap();
        let order = shop
            .wait_for_order(id, SETTLE, |o| {
                o["status"] == "payment_failed" && o["shipment_cancelled"] == true
            })
            .await;
        assert_eq!(order["payment_failure_reason"], reason, "{card}");
        assert!(
            order["transaction_id"].is_null(),
            "no transaction for a refused card"
        );
        let status: String =
            sqlx::query_scalar("SELECT status FROM shipments WHERE order_id = $1::uuid")
                .bind(id)
                .fetch_one(&shop.shipments)
                .await
                .unwrap();
        assert_eq!(status, "cancelled", "{card}");
    }
    shop.close().await;
}

#[sqlx::test(migrator = "checkout::MIGRATOR")]
async fn the_same_order_delivered_twice_charges_ships_and_mails_once(database: PgPool) {
    let shop = Shop::open(database).await;
    let order = shop.buy(APPROVED).await;
    let id = order["id"].as_str().unwrap().to_owned();
    shop.wait_for_order(&id, SETTLE, fulfilled).await;

    // Deliver the very message the relay published once more, as a broker would after a
    // consumer died before its ack.
    let body: serde_json::Value =
        sqlx::query_scalar("SELECT body FROM outbox WHERE order_id = $1::uuid")
            .bind(&id)
            .fetch_one(&shop.orders)
            .await
            .unwrap();
    let placed: OrderPlaced = serde_json::from_value(body).unwrap();
    let connection = Broker::new(&shop.vhost.url, "test")
        .connect()
        .await
        .unwrap();
    let publisher = Publisher::open(&connection).await.unwrap();
    publisher.publish(&placed).await.unwrap();

    // Each consumer answers a duplicate by publishing its outcome again; once all three
    // queues are drained the duplicate has been handled everywhere.
    for queue in [QueueSpec::PAYMENT, QueueSpec::SHIPPING, QueueSpec::EMAIL] {
        wait_until("the duplicate is consumed", SETTLE, || async {
            shop.vhost.queue_depth(queue.name) == Some(0)
        })
        .await;
    }
    assert_eq!(
        Shop::ledger_rows(&shop.payments, "charges", &id).await,
        1,
        "one charge"
    );
    assert_eq!(
        Shop::ledger_rows(&shop.shipments, "shipments", &id).await,
        1,
        "one shipment"
    );
    assert_eq!(
        Shop::ledger_rows(&shop.emails, "emails", &id).await,
        1,
        "one mail recorded"
    );
    let mails: serde_json::Value = shop.email.get("/emails").await.json().await.unwrap();
    assert_eq!(mails["items"].as_array().unwrap().len(), 1, "one mail sent");
    let order = shop.order(&id).await;
    assert!(fulfilled(&order), "the order is unchanged: {order}");
    assert_eq!(
        order["transaction_id"],
        payment::transaction_id(id.parse().unwrap())
    );
    shop.close().await;
}

#[sqlx::test(migrator = "checkout::MIGRATOR")]
async fn a_message_no_one_can_read_ends_in_every_dead_letter_queue_and_does_nothing(
    database: PgPool,
) {
    let shop = Shop::open(database).await;
    let connection = Broker::new(&shop.vhost.url, "test")
        .connect()
        .await
        .unwrap();
    let publisher = Publisher::open(&connection).await.unwrap();
    publisher
        .publish_raw(Outgoing {
            exchange: ORDERS_EXCHANGE,
            routing_key: "",
            message_id: "poison",
            kind: "order.placed",
            body: b"{not json",
        })
        .await
        .unwrap();
    for queue in [QueueSpec::PAYMENT, QueueSpec::SHIPPING, QueueSpec::EMAIL] {
        let dlq = dead_letter_queue(queue.name);
        wait_until(&format!("{dlq} holds the poison"), SETTLE, || async {
            shop.vhost.queue_depth(&dlq) == Some(1)
        })
        .await;
    }
    assert_eq!(Shop::rows(&shop.payments, "charges").await, 0);
    assert_eq!(Shop::rows(&shop.shipments, "shipments").await, 0);
    assert_eq!(Shop::rows(&shop.emails, "emails").await, 0);
    shop.close().await;
}

#[sqlx::test(migrator = "checkout::MIGRATOR")]
async fn a_checkout_retried_with_the_same_key_is_one_order_paid_once(database: PgPool) {
    let shop = Shop::open(database).await;
    let session = shop.fill_cart("walnut-cutting-board", 2).await;
    let (first_status, first) = shop.checkout(session, APPROVED, Some("retry-me")).await;
    assert_eq!(first_status, 201);
    let (again_status, again) = shop.checkout(session, APPROVED, Some("retry-me")).await;
    assert_eq!(
        again_status, 201,
        "the retry answers like the first: {again}"
    );
    assert_eq!(again["id"], first["id"]);
    let id = first["id"].as_str().unwrap();
    shop.wait_for_order(id, SETTLE, fulfilled).await;
    assert_eq!(Shop::rows(&shop.orders, "orders").await, 1);
    assert_eq!(Shop::ledger_rows(&shop.payments, "charges", id).await, 1);
    shop.close().await;
}

/// Every row of every table of every service's schema, as text.
async fn everything_stored(database: &PgPool) -> String {
    let tables: Vec<(String, String)> = sqlx::query_as(
        "SELECT table_schema::text, table_name::text FROM information_schema.tables
         WHERE table_schema IN ('public', 'catalog', 'payment', 'shipping', 'email') AND table_type = 'BASE TABLE'",
    )
    .fetch_all(database)
    .await
    .unwrap();
    assert!(tables.len() >= 8, "found the services' tables: {tables:?}");
    let mut dump = String::new();
    for (schema, table) in tables {
        let query = format!(
            "SELECT coalesce(string_agg(t::text, ' '), '') FROM \"{schema}\".\"{table}\" t"
        );
        let rows: String = sqlx::query_scalar(sqlx::AssertSqlSafe(query))
            .fetch_one(database)
            .await
            .unwrap();
        dump.push_str(&rows);
    }
    dump
}

#[sqlx::test(migrator = "checkout::MIGRATOR")]
async fn no_service_keeps_the_card_number_or_the_cvv(database: PgPool) {
    let shop = Shop::open(database.clone()).await;
    let order = shop.buy(APPROVED).await;
    let id = order["id"].as_str().unwrap();
    shop.wait_for_order(id, SETTLE, fulfilled).await;

    let number = APPROVED.replace(' ', "");
    let stored = everything_stored(&database).await;
    assert!(
        stored.contains("4242"),
        "the last four are kept, so the search reads real rows"
    );
    assert!(!stored.contains(&number), "no table holds the card number");
    assert!(!stored.contains("\"cvv\""), "no table holds a CVV");
    let mails = shop.email.get("/emails").await.text().await.unwrap();
    assert!(!mails.contains(&number), "no mail shows the card number");
    let answer = shop.order(id).await.to_string();
    assert!(
        !answer.contains(&number),
        "the order as served has no card number"
    );
    shop.close().await;
}
