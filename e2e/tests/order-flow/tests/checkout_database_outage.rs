//! Checkout's database cut for 30 s while payment outcomes arrive: its event consumer
//! hands each event back after a pause that grows with each delivery (instead of burning
//! the delivery limit in milliseconds), and once the database is back every order ends
//! paid, with nothing dead-lettered. Payment's queue is unbound from `orders` first, so
//! every outcome comes during the outage (published here as payment publishes it) and no
//! order is paid before. Alone in its binary: it takes about 45 s.

use std::time::Duration;

use lapin::types::FieldTable;
use messaging::{Broker, ORDERS_EXCHANGE, Publisher, QueueSpec, dead_letter_queue};
use order_flow::{APPROVED, Shop};
use sqlx::PgPool;
use test_support::OutageProxy;
use wire::events::PaymentSucceeded;

const OUTAGE: Duration = Duration::from_secs(30);
/// Deliveries at 0, 3, 9, 21 and 45 s: the fifth comes after the outage.
const PAUSE: Duration = Duration::from_secs(3);

#[sqlx::test(migrator = "checkout::MIGRATOR")]
async fn outcomes_that_arrive_while_checkouts_database_is_away_are_applied_when_it_returns(
    database: PgPool,
) {
    let options = database.connect_options();
    let upstream = tokio::net::lookup_host((options.get_host(), options.get_port()))
        .await
        .unwrap()
        .next()
        .unwrap();
    let proxy = OutageProxy::start(upstream).await;
    let through_proxy = (*options).clone().host("127.0.0.1").port(proxy.addr.port());
    let checkout_pool = serving::postgres::pool_options()
        .connect_with(through_proxy)
        .await
        .unwrap();
    let shop = Shop::open_with(database, checkout_pool, PAUSE).await;
    let connection = Broker::new(&shop.vhost.url, "payment-outcomes")
        .connect()
        .await
        .unwrap();
    let channel = connection.create_channel().await.unwrap();
    channel
        .queue_unbind(
            QueueSpec::PAYMENT.name.into(),
            ORDERS_EXCHANGE.into(),
            "".into(),
            FieldTable::default(),
        )
        .await
        .unwrap();
    let mut orders = Vec::new();
    for _ in 0..5 {
        let order = shop.buy(APPROVED).await;
        orders.push(order["id"].as_str().unwrap().to_owned());
    }

    for id in &orders {
        assert_eq!(shop.order(id).await["status"], "placed");
    }
    proxy.cut();
    // payment's outcome for each order, as payment publishes it, arrives now.
    let publisher = Publisher::open(&connection).await.unwrap();
    for id in &orders {
        let order_id = id.parse().unwrap();
        let paid = PaymentSucceeded {
            order_id,
            transaction_id: payment::transaction_id(order_id),
        };
        publisher.publish(&paid).await.unwrap();
    }
    tokio::time::sleep(OUTAGE).await;
    proxy.restore().await;

    // Payment never saw these orders: only the events sent during the outage can pay them.
    for id in &orders {
        let order = shop
            .wait_for_order(id, Duration::from_secs(60), |o| o["status"] == "paid")
            .await;
        assert_eq!(
            order["transaction_id"],
            payment::transaction_id(id.parse().unwrap())
        );
    }
    let dead = dead_letter_queue(QueueSpec::CHECKOUT_EVENTS.name);
    assert_eq!(
        shop.vhost.queue_depth(&dead),
        Some(0),
        "no outcome was dead-lettered"
    );
    shop.close().await;
}
