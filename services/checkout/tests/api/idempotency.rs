//! `Idempotency-Key`: a retried POST answers the first order instead of taking another.

use futures::future::join_all;
use sqlx::PgPool;
use test_support::problem;

use crate::harness::{Shop, Shopper, checkout_body, created};

#[sqlx::test(migrator = "checkout::MIGRATOR")]
async fn the_same_key_twice_answers_the_same_order_and_takes_one(pool: PgPool) {
    let shop = Shop::open(pool).await;
    let shopper = Shopper::anonymous();
    shop.add_to_cart(shopper, "cast-iron-skillet", 1).await;
    let first = created(shop.place(shopper, Some("retry-me-1")).await).await;
    let again = created(shop.place(shopper, Some("retry-me-1")).await).await;
    assert_eq!(again, first, "same 201, same body");
    assert_eq!(shop.order_count().await, 1);
    assert_eq!(shop.outbox().await.len(), 1, "published once");

    // Another shopper's identical key is their own.
    let other = Shopper::anonymous();
    shop.add_to_cart(other, "cast-iron-skillet", 1).await;
    let theirs = created(shop.place(other, Some("retry-me-1")).await).await;
    assert_ne!(theirs["id"], first["id"]);
    shop.stop().await;
}

#[sqlx::test(migrator = "checkout::MIGRATOR")]
async fn ten_concurrent_posts_with_one_key_take_one_order(pool: PgPool) {
    let shop = Shop::open(pool).await;
    let shopper = Shopper::signed_in();
    shop.add_to_cart(shopper, "walnut-cutting-board", 1).await;
    let body = checkout_body();
    let posts = (0..10).map(|_| shop.post_order(shopper, &body, Some("double-click")).send());
    let mut ids = Vec::new();
    for response in join_all(posts).await {
        ids.push(created(response.unwrap()).await["id"].clone());
    }
    assert!(
        ids.iter().all(|id| *id == ids[0]),
        "one order for all: {ids:?}"
    );
    assert_eq!(shop.order_count().await, 1);
    assert_eq!(shop.outbox().await.len(), 1);
    shop.stop().await;
}

#[sqlx::test(migrator = "checkout::MIGRATOR")]
async fn a_key_reused_for_a_different_request_is_refused(pool: PgPool) {
    let shop = Shop::open(pool).await;
    let shopper = Shopper::anonymous();
    shop.add_to_cart(shopper, "cast-iron-skillet", 1).await;
    created(shop.place(shopper, Some("k-1")).await).await;
    shop.add_to_cart(shopper, "cast-iron-skillet", 1).await;
    let mut different = checkout_body();
    different["email"] = "someone.else@example.org".into();
    let response = shop
        .post_order(shopper, &different, Some("k-1"))
        .send()
        .await
        .unwrap();
    let (status, body) = problem(response).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["field"], "Idempotency-Key");
    assert!(
        body["type"]
            .as_str()
            .unwrap()
            .ends_with("/idempotency-key-reused")
    );
    assert_eq!(shop.order_count().await, 1);
    shop.stop().await;
}

#[sqlx::test(migrator = "checkout::MIGRATOR")]
async fn a_key_older_than_a_day_is_forgotten_and_free_again(pool: PgPool) {
    let shop = Shop::open(pool.clone()).await;
    let shopper = Shopper::anonymous();
    shop.add_to_cart(shopper, "cast-iron-skillet", 1).await;
    let first = created(shop.place(shopper, Some("yesterday")).await).await;
    let fresh = Shopper::anonymous();
    shop.add_to_cart(fresh, "cast-iron-skillet", 1).await;
    created(shop.place(fresh, Some("today")).await).await;
    sqlx::query(
        "UPDATE idempotency_keys SET created_at = now() - interval '25 hours' WHERE key = 'yesterday'",
    )
    .execute(&pool)
    .await
    .unwrap();

    assert_eq!(checkout::forget_expired_keys(&pool).await.unwrap(), 1);

    // The old key now takes a new order; the day-old order itself is kept.
    shop.add_to_cart(shopper, "brass-desk-lamp", 1).await;
    let second = created(shop.place(shopper, Some("yesterday")).await).await;
    assert_ne!(second["id"], first["id"]);
    assert_eq!(shop.order_count().await, 3);
    let keys: i64 = sqlx::query_scalar("SELECT count(*) FROM idempotency_keys")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(keys, 2, "today's key and the new use of the old one");
    shop.stop().await;
}
