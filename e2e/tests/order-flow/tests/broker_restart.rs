//! RabbitMQ restarts in the middle of 200 checkouts: every accepted order still ends
//! paid, charged once, shipped once, mailed once. This restarts the one broker every
//! test shares, so it is the only test in its binary (cargo runs test binaries one at a
//! time).

use std::{
    process::Command,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use futures::{StreamExt, stream};
use order_flow::{APPROVED, Shop, fulfilled};
use sqlx::PgPool;
use test_support::wait_until;
use tokio::sync::Notify;

const ORDERS: usize = 200;
const AT_ONCE: usize = 8;
const STOP_AT: usize = 50;
const START_AT: usize = 125;

fn rabbitmqctl(args: &[&str]) {
    let status = Command::new("rabbitmqctl")
        .arg("-q")
        .args(args)
        .status()
        .expect("run rabbitmqctl");
    assert!(status.success(), "rabbitmqctl {args:?}");
}

#[sqlx::test(migrator = "checkout::MIGRATOR")]
async fn every_order_accepted_across_a_broker_restart_is_paid_exactly_once(database: PgPool) {
    let shop = Arc::new(Shop::open(database).await);
    let sessions: Vec<_> = stream::iter(0..ORDERS)
        .map(|_| shop.fill_cart("stoneware-mug-pair", 1))
        .buffer_unordered(AT_ONCE)
        .collect()
        .await;

    // The broker stops when the 50th checkout starts; checkouts wait until it is down,
    // so orders 50..125 are taken while there is no broker at all; the 125th starts it
    // again and the rest are placed while it comes back.
    let (stop_now, start_now) = (Arc::new(Notify::new()), Arc::new(Notify::new()));
    let (down_tx, down_rx) = tokio::sync::watch::channel(false);
    let restart = {
        let (stop_now, start_now) = (stop_now.clone(), start_now.clone());
        tokio::spawn(async move {
            stop_now.notified().await;
            tokio::task::spawn_blocking(|| rabbitmqctl(&["stop_app"]))
                .await
                .unwrap();
            down_tx.send(true).unwrap();
            start_now.notified().await;
            tokio::task::spawn_blocking(|| {
                rabbitmqctl(&["start_app"]);
                rabbitmqctl(&["await_startup"]);
            })
            .await
            .unwrap();
        })
    };
    let started = Arc::new(AtomicUsize::new(0));
    let orders: Vec<(u16, serde_json::Value)> = stream::iter(sessions)
        .map(|session| {
            let (shop, started, down_rx) = (shop.clone(), started.clone(), down_rx.clone());
            let (stop_now, start_now) = (stop_now.clone(), start_now.clone());
            async move {
                match started.fetch_add(1, Ordering::SeqCst) + 1 {
                    STOP_AT => {
                        stop_now.notify_one();
                        down_rx.clone().wait_for(|down| *down).await.unwrap();
                    }
                    START_AT => start_now.notify_one(),
                    _ => {}
                }
                shop.checkout(session, APPROVED, None).await
            }
        })
        .buffer_unordered(AT_ONCE)
        .collect()
        .await;
    restart.await.unwrap();

    for (status, order) in &orders {
        assert_eq!(
            *status, 201,
            "checkout accepts orders while the broker is away: {order}"
        );
    }
    let ids: Vec<String> = orders
        .iter()
        .map(|(_, o)| o["id"].as_str().unwrap().to_owned())
        .collect();
    wait_until("every order is paid, shipped and mailed", Duration::from_secs(240), || async {
        let fulfilled_count: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM orders WHERE status = 'paid' AND tracking_id IS NOT NULL AND email_sent",
        )
        .fetch_one(&shop.orders)
        .await
        .unwrap();
        fulfilled_count == ORDERS as i64
    })
    .await;

    assert_eq!(
        Shop::rows(&shop.orders, "orders").await,
        ORDERS as i64,
        "no order lost or doubled"
    );
    assert_eq!(
        Shop::rows(&shop.payments, "charges").await,
        ORDERS as i64,
        "one charge per order"
    );
    assert_eq!(
        Shop::rows(&shop.shipments, "shipments").await,
        ORDERS as i64,
        "one shipment per order"
    );
    assert_eq!(
        Shop::rows(&shop.emails, "emails").await,
        ORDERS as i64,
        "one mail per order"
    );
    let unsent: i64 = sqlx::query_scalar("SELECT count(*) FROM outbox WHERE sent_at IS NULL")
        .fetch_one(&shop.orders)
        .await
        .unwrap();
    assert_eq!(unsent, 0, "the outbox is drained");
    for id in ids.iter().take(5) {
        let order = shop.order(id).await;
        assert!(fulfilled(&order));
        assert_eq!(
            order["transaction_id"],
            payment::transaction_id(id.parse().unwrap())
        );
    }
    Arc::try_unwrap(shop)
        .ok()
        .expect("the shop is no longer shared")
        .close()
        .await;
}
