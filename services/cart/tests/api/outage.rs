//! Redis goes away and comes back while cart keeps running.

use std::time::Duration;

use reqwest::Method;
use sqlx::PgPool;
use test_support::{OutageProxy, problem, wait_until};

use crate::harness::{Shop, Shopper, cart, lines, pairs, redis_url};

/// Longer than any answer may take during an outage: a request still open after this
/// is hanging, which the outage must not cause.
const PROMPT: Duration = Duration::from_secs(8);

#[sqlx::test(migrator = "catalog::MIGRATOR")]
async fn a_redis_outage_answers_503_and_the_cart_returns_with_redis(pool: PgPool) {
    let upstream = redis_url()
        .trim_start_matches("redis://")
        .trim_end_matches('/')
        .parse()
        .expect("REDIS_URL is redis://host:port");
    let proxy = OutageProxy::start(upstream).await;
    let shop = Shop::open_on(pool, &format!("redis://{}", proxy.addr)).await;
    let shopper = Shopper::anonymous();
    cart(shop.add(shopper, "cast-iron-skillet", 2).await).await;

    proxy.cut();

    let ready = tokio::time::timeout(PROMPT, shop.cart.get("/readyz"))
        .await
        .expect("/readyz answers promptly");
    let (status, body) = problem(ready).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(
        body["checks"]["redis"].as_str().map(|s| s != "ok"),
        Some(true),
        "{body}"
    );
    let read = shop.request(Method::GET, "/cart", shopper).send();
    let read = tokio::time::timeout(PROMPT, read)
        .await
        .expect("GET /cart answers promptly")
        .unwrap();
    let (status, body) = problem(read).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["dependency"], "redis", "{body}");

    proxy.restore().await;

    wait_until("cart is ready again", Duration::from_secs(20), || async {
        shop.cart.get("/readyz").await.status() == 200
    })
    .await;
    let body = shop.cart_of(shopper).await;
    assert_eq!(
        lines(&body),
        pairs(&[("cast-iron-skillet", 2)]),
        "the cart survived the outage"
    );
}

#[sqlx::test(migrator = "catalog::MIGRATOR")]
async fn a_catalog_outage_stops_new_products_only(pool: PgPool) {
    let (shop, catalog) = Shop::open_behind_catalog_proxy(pool).await;
    let shopper = Shopper::anonymous();
    cart(shop.add(shopper, "cast-iron-skillet", 1).await).await;
    cart(shop.add(shopper, "enamel-tea-kettle", 1).await).await;

    catalog.cut();

    let add = tokio::time::timeout(PROMPT, shop.add(shopper, "walnut-cutting-board", 1));
    let (status, body) = problem(add.await.expect("the add answers promptly")).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["dependency"], "catalog", "{body}");
    let body = cart(shop.add(shopper, "cast-iron-skillet", 1).await).await;
    assert_eq!(
        lines(&body),
        pairs(&[("cast-iron-skillet", 2), ("enamel-tea-kettle", 1)]),
        "a product catalog confirmed a moment ago needs no second call"
    );
    let body = cart(shop.remove(shopper, "enamel-tea-kettle").await).await;
    assert_eq!(
        lines(&body),
        pairs(&[("cast-iron-skillet", 2)]),
        "removal needs no catalog"
    );
    assert_eq!(
        shop.cart.get("/readyz").await.status(),
        200,
        "readiness needs Redis only"
    );

    catalog.restore().await;

    let body = cart(shop.add(shopper, "walnut-cutting-board", 1).await).await;
    assert_eq!(
        lines(&body),
        pairs(&[("cast-iron-skillet", 2), ("walnut-cutting-board", 1)])
    );
}
