//! Adding, setting and removing lines; the cart's TTL; concurrent adds.

use futures::future::join_all;
use sqlx::PgPool;
use test_support::problem;

use crate::harness::{
    Shop, Shopper, TTL_SECS, cart, catalog_ids, lines, pairs, stock_catalog_up_to,
};

const SKILLET: &str = "cast-iron-skillet";
const KETTLE: &str = "enamel-tea-kettle";
const BOARD: &str = "walnut-cutting-board";

/// A write just now leaves (almost) the whole TTL; ten seconds of slack for slow machines.
const FRESH_TTL: i64 = TTL_SECS - 10;

#[sqlx::test(migrator = "catalog::MIGRATOR")]
async fn a_cart_never_written_is_empty_with_no_updated_at(pool: PgPool) {
    let shop = Shop::open(pool).await;
    let body = shop.cart_of(Shopper::anonymous()).await;
    assert_eq!(body, serde_json::json!({"items": [], "updated_at": null}));
}

#[sqlx::test(migrator = "catalog::MIGRATOR")]
async fn adding_a_product_creates_a_line_and_stamps_the_cart(pool: PgPool) {
    let shop = Shop::open(pool).await;
    let shopper = Shopper::anonymous();
    let body = cart(shop.add(shopper, SKILLET, 2).await).await;
    assert_eq!(lines(&body), pairs(&[(SKILLET, 2)]));
    let stamp = body["updated_at"].as_str().expect("updated_at is set");
    time::OffsetDateTime::parse(stamp, &time::format_description::well_known::Rfc3339)
        .expect("updated_at is RFC 3339");
    assert_eq!(
        shop.cart_of(shopper).await,
        body,
        "GET answers what the write answered"
    );
}

#[sqlx::test(migrator = "catalog::MIGRATOR")]
async fn adding_the_same_product_again_sums_the_quantities(pool: PgPool) {
    let shop = Shop::open(pool).await;
    let shopper = Shopper::anonymous();
    shop.add(shopper, SKILLET, 2).await;
    let body = cart(shop.add(shopper, SKILLET, 3).await).await;
    assert_eq!(lines(&body), pairs(&[(SKILLET, 5)]));
}

#[sqlx::test(migrator = "catalog::MIGRATOR")]
async fn adding_past_99_is_refused_and_the_line_stays_as_it_was(pool: PgPool) {
    let shop = Shop::open(pool).await;
    let shopper = Shopper::anonymous();
    cart(shop.add(shopper, SKILLET, 98).await).await;
    let (status, body) = problem(shop.add(shopper, SKILLET, 2).await).await;
    assert_eq!(
        (status, body["field"].as_str()),
        (422, Some("quantity")),
        "{body}"
    );
    let body = cart(shop.add(shopper, SKILLET, 1).await).await;
    assert_eq!(
        lines(&body),
        pairs(&[(SKILLET, 99)]),
        "exactly 99 is allowed"
    );
}

#[sqlx::test(migrator = "catalog::MIGRATOR")]
async fn putting_a_quantity_replaces_the_line(pool: PgPool) {
    let shop = Shop::open(pool).await;
    let shopper = Shopper::anonymous();
    shop.add(shopper, SKILLET, 5).await;
    let body = cart(shop.set(shopper, SKILLET, 2).await).await;
    assert_eq!(lines(&body), pairs(&[(SKILLET, 2)]));
    let body = cart(shop.set(shopper, KETTLE, 4).await).await;
    assert_eq!(
        lines(&body),
        pairs(&[(SKILLET, 2), (KETTLE, 4)]),
        "PUT creates a missing line"
    );
}

#[sqlx::test(migrator = "catalog::MIGRATOR")]
async fn putting_zero_removes_the_line(pool: PgPool) {
    let shop = Shop::open(pool).await;
    let shopper = Shopper::anonymous();
    shop.add(shopper, SKILLET, 5).await;
    shop.add(shopper, KETTLE, 1).await;
    let body = cart(shop.set(shopper, SKILLET, 0).await).await;
    assert_eq!(lines(&body), pairs(&[(KETTLE, 1)]));
}

#[sqlx::test(migrator = "catalog::MIGRATOR")]
async fn removing_needs_no_catalog_so_withdrawn_products_can_go(pool: PgPool) {
    let shop = Shop::open(pool).await;
    let shopper = Shopper::anonymous();
    shop.add(shopper, KETTLE, 1).await;
    let body = cart(shop.set(shopper, "no-longer-sold", 0).await).await;
    assert_eq!(lines(&body), pairs(&[(KETTLE, 1)]));
    let body = cart(shop.remove(shopper, "no-longer-sold").await).await;
    assert_eq!(lines(&body), pairs(&[(KETTLE, 1)]));
}

#[sqlx::test(migrator = "catalog::MIGRATOR")]
async fn deleting_a_line_removes_only_that_line(pool: PgPool) {
    let shop = Shop::open(pool).await;
    let shopper = Shopper::anonymous();
    shop.add(shopper, SKILLET, 1).await;
    shop.add(shopper, KETTLE, 2).await;
    let body = cart(shop.remove(shopper, SKILLET).await).await;
    assert_eq!(lines(&body), pairs(&[(KETTLE, 2)]));
}

#[sqlx::test(migrator = "catalog::MIGRATOR")]
async fn removing_the_last_line_leaves_a_never_written_cart(pool: PgPool) {
    let shop = Shop::open(pool).await;
    let shopper = Shopper::anonymous();
    shop.add(shopper, SKILLET, 1).await;
    let body = cart(shop.remove(shopper, SKILLET).await).await;
    assert_eq!(body, serde_json::json!({"items": [], "updated_at": null}));
    assert!(!shop.key_exists(shopper).await, "no key is left behind");
}

#[sqlx::test(migrator = "catalog::MIGRATOR")]
async fn deleting_the_cart_empties_it(pool: PgPool) {
    let shop = Shop::open(pool).await;
    let shopper = Shopper::anonymous();
    shop.add(shopper, SKILLET, 1).await;
    shop.add(shopper, KETTLE, 2).await;
    let body = cart(shop.empty(shopper).await).await;
    assert_eq!(body, serde_json::json!({"items": [], "updated_at": null}));
    assert_eq!(shop.cart_of(shopper).await, body);
    assert!(!shop.key_exists(shopper).await);
}

#[sqlx::test(migrator = "catalog::MIGRATOR")]
async fn get_reflects_every_write_sorted_by_product_id(pool: PgPool) {
    let shop = Shop::open(pool).await;
    let shopper = Shopper::anonymous();
    shop.add(shopper, BOARD, 1).await;
    shop.add(shopper, SKILLET, 3).await;
    shop.add(shopper, KETTLE, 2).await;
    shop.set(shopper, BOARD, 7).await;
    shop.add(shopper, SKILLET, 1).await;
    shop.remove(shopper, KETTLE).await;
    let body = shop.cart_of(shopper).await;
    assert_eq!(lines(&body), pairs(&[(SKILLET, 4), (BOARD, 7)]));
}

#[sqlx::test(migrator = "catalog::MIGRATOR")]
async fn signed_in_and_anonymous_carts_are_apart(pool: PgPool) {
    let shop = Shop::open(pool).await;
    let (anonymous, signed_in) = (Shopper::anonymous(), Shopper::signed_in());
    shop.add(anonymous, SKILLET, 1).await;
    shop.add(signed_in, KETTLE, 1).await;
    assert_eq!(
        lines(&shop.cart_of(anonymous).await),
        pairs(&[(SKILLET, 1)])
    );
    assert_eq!(lines(&shop.cart_of(signed_in).await), pairs(&[(KETTLE, 1)]));
}

/// Fails unless the cart's key has just had its TTL restarted.
async fn assert_fresh_ttl(shop: &Shop, shopper: Shopper, after: &str) {
    let ttl = shop.ttl(shopper).await;
    assert!(
        ttl > FRESH_TTL && ttl <= TTL_SECS,
        "after {after}: TTL {ttl}"
    );
}

#[sqlx::test(migrator = "catalog::MIGRATOR")]
async fn every_write_sets_the_ttl_to_three_hours(pool: PgPool) {
    let shop = Shop::open(pool).await;
    let shopper = Shopper::anonymous();
    cart(shop.add(shopper, SKILLET, 1).await).await;
    assert_fresh_ttl(&shop, shopper, "add").await;
    cart(shop.add(shopper, SKILLET, 1).await).await;
    assert_fresh_ttl(&shop, shopper, "add again").await;
    cart(shop.set(shopper, KETTLE, 3).await).await;
    assert_fresh_ttl(&shop, shopper, "set").await;
    cart(shop.set(shopper, KETTLE, 0).await).await;
    assert_fresh_ttl(&shop, shopper, "set 0").await;
    cart(shop.remove(shopper, SKILLET).await).await;
    assert_eq!(
        shop.ttl(shopper).await,
        -2,
        "the last line gone, no key is left to expire"
    );
}

#[sqlx::test(migrator = "catalog::MIGRATOR")]
async fn a_write_restarts_a_lowered_ttl(pool: PgPool) {
    let shop = Shop::open(pool).await;
    let shopper = Shopper::anonymous();
    cart(shop.add(shopper, SKILLET, 1).await).await;

    shop.age(shopper, 60).await;
    cart(shop.add(shopper, SKILLET, 1).await).await;
    assert_fresh_ttl(&shop, shopper, "add").await;

    shop.age(shopper, 60).await;
    cart(shop.set(shopper, SKILLET, 5).await).await;
    assert_fresh_ttl(&shop, shopper, "set").await;

    shop.age(shopper, 60).await;
    cart(shop.remove(shopper, KETTLE).await).await;
    assert_fresh_ttl(&shop, shopper, "delete of another line").await;

    shop.age(shopper, 60).await;
    shop.cart_of(shopper).await;
    let ttl = shop.ttl(shopper).await;
    assert!(
        ttl <= 60,
        "a read is not a write: the TTL keeps running, {ttl}"
    );
}

#[sqlx::test(migrator = "catalog::MIGRATOR")]
async fn concurrent_adds_are_all_counted(pool: PgPool) {
    let shop = Shop::open(pool).await;
    let shopper = Shopper::anonymous();
    let adds = (0..50).map(|_| shop.add(shopper, SKILLET, 1));
    for response in join_all(adds).await {
        cart(response).await;
    }
    assert_eq!(lines(&shop.cart_of(shopper).await), pairs(&[(SKILLET, 50)]));
}

#[sqlx::test(migrator = "catalog::MIGRATOR")]
async fn a_cart_holds_at_most_50_products(pool: PgPool) {
    stock_catalog_up_to(&pool, cart::MAX_LINES as i64 + 1).await;
    let ids = catalog_ids(&pool).await;
    let shop = Shop::open(pool).await;
    let shopper = Shopper::anonymous();
    let (room, one_too_many) = ids.split_at(cart::MAX_LINES);
    for id in room {
        cart(shop.add(shopper, id, 1).await).await;
    }
    let (status, body) = problem(shop.add(shopper, &one_too_many[0], 1).await).await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body["type"].as_str().unwrap().ends_with("/cart-full"),
        "{body}"
    );
    let (status, _) = problem(shop.set(shopper, &one_too_many[0], 1).await).await;
    assert_eq!(status, 422, "PUT cannot add a 51st line either");
    cart(shop.add(shopper, &room[0], 1).await).await;
    assert_eq!(
        lines(&shop.cart_of(shopper).await).len(),
        cart::MAX_LINES,
        "existing lines still grow"
    );
}
