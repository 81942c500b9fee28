//! `POST /cart/merge`: on sign-in the anonymous cart joins the user's.

use reqwest::Method;
use sqlx::PgPool;
use test_support::problem;
use uuid::Uuid;

use crate::harness::{
    Shop, Shopper, TTL_SECS, cart, catalog_ids, lines, pairs, stock_catalog_up_to,
};

const SKILLET: &str = "cast-iron-skillet";
const KETTLE: &str = "enamel-tea-kettle";
const BOARD: &str = "walnut-cutting-board";

fn ids() -> (Uuid, Uuid) {
    (Uuid::new_v4(), Uuid::new_v4())
}

#[sqlx::test(migrator = "catalog::MIGRATOR")]
async fn merge_adds_session_lines_into_the_user_cart_and_deletes_the_session_cart(pool: PgPool) {
    let shop = Shop::open(pool).await;
    let (user, session) = ids();
    let (signed_in, anonymous) = (Shopper::SignedIn(user), Shopper::Anonymous(session));
    shop.add(signed_in, SKILLET, 1).await;
    shop.add(signed_in, BOARD, 2).await;
    shop.add(anonymous, SKILLET, 3).await;
    shop.add(anonymous, KETTLE, 4).await;
    shop.age(signed_in, 60).await;

    let body = cart(shop.merge(user, session).await).await;

    assert_eq!(
        lines(&body),
        pairs(&[(SKILLET, 4), (KETTLE, 4), (BOARD, 2)])
    );
    assert_eq!(shop.cart_of(signed_in).await, body);
    assert!(
        !shop.key_exists(anonymous).await,
        "the session cart is gone"
    );
    assert!(
        shop.ttl(signed_in).await > TTL_SECS - 10,
        "the merge is a write to the user cart"
    );
}

#[sqlx::test(migrator = "catalog::MIGRATOR")]
async fn merge_caps_summed_quantities_at_99(pool: PgPool) {
    let shop = Shop::open(pool).await;
    let (user, session) = ids();
    shop.add(Shopper::SignedIn(user), SKILLET, 60).await;
    shop.add(Shopper::Anonymous(session), SKILLET, 50).await;
    let body = cart(shop.merge(user, session).await).await;
    assert_eq!(lines(&body), pairs(&[(SKILLET, 99)]));
}

#[sqlx::test(migrator = "catalog::MIGRATOR")]
async fn merge_into_an_empty_user_cart_moves_the_session_cart(pool: PgPool) {
    let shop = Shop::open(pool).await;
    let (user, session) = ids();
    shop.add(Shopper::Anonymous(session), KETTLE, 2).await;
    let body = cart(shop.merge(user, session).await).await;
    assert_eq!(lines(&body), pairs(&[(KETTLE, 2)]));
    assert!(shop.ttl(Shopper::SignedIn(user)).await > TTL_SECS - 10);
}

#[sqlx::test(migrator = "catalog::MIGRATOR")]
async fn merge_of_an_empty_session_cart_changes_nothing(pool: PgPool) {
    let shop = Shop::open(pool).await;
    let (user, session) = ids();
    let signed_in = Shopper::SignedIn(user);
    let before = cart(shop.add(signed_in, BOARD, 2).await).await;
    shop.age(signed_in, 60).await;

    let body = cart(shop.merge(user, session).await).await;

    assert_eq!(body, before, "same lines, same updated_at");
    assert!(shop.ttl(signed_in).await <= 60, "nothing was written");
    let (nobody, no_session) = ids();
    let body = cart(shop.merge(nobody, no_session).await).await;
    assert_eq!(body, serde_json::json!({"items": [], "updated_at": null}));
    assert!(!shop.key_exists(Shopper::SignedIn(nobody)).await);
}

#[sqlx::test(migrator = "catalog::MIGRATOR")]
async fn merge_that_would_overfill_the_user_cart_changes_nothing(pool: PgPool) {
    stock_catalog_up_to(&pool, cart::MAX_LINES as i64 + 1).await;
    let ids_in_catalog = catalog_ids(&pool).await;
    let shop = Shop::open(pool).await;
    let (user, session) = ids();
    let (signed_in, anonymous) = (Shopper::SignedIn(user), Shopper::Anonymous(session));
    let (room, one_too_many) = ids_in_catalog.split_at(cart::MAX_LINES);
    for id in room {
        cart(shop.add(signed_in, id, 1).await).await;
    }
    shop.add(anonymous, &one_too_many[0], 1).await;
    let user_before = shop.cart_of(signed_in).await;
    let session_before = shop.cart_of(anonymous).await;

    let (status, body) = problem(shop.merge(user, session).await).await;

    assert_eq!(status, 422, "{body}");
    assert!(
        body["type"].as_str().unwrap().ends_with("/cart-full"),
        "{body}"
    );
    assert_eq!(shop.cart_of(signed_in).await, user_before);
    assert_eq!(
        shop.cart_of(anonymous).await,
        session_before,
        "no line is lost"
    );
}

#[sqlx::test(migrator = "catalog::MIGRATOR")]
async fn merge_needs_both_owner_headers(pool: PgPool) {
    let shop = Shop::open(pool).await;
    let cases = [
        (
            Shopper::anonymous(),
            "X-User-Id",
            "a session alone has no user cart to merge into",
        ),
        (
            Shopper::signed_in(),
            "X-Session-Id",
            "a user alone has no session cart to merge",
        ),
    ];
    for (shopper, header, why) in cases {
        let response = shop
            .request(Method::POST, "/cart/merge", shopper)
            .send()
            .await
            .unwrap();
        let (status, body) = problem(response).await;
        assert_eq!(
            (status, body["field"].as_str()),
            (400, Some(header)),
            "{why}: {body}"
        );
    }
}
