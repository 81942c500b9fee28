//! Whatever a caller sends wrong comes back as a 4xx problem naming what is wrong, never
//! a 500 and never an order.

use reqwest::Method;
use serde_json::{Value, json};
use sqlx::PgPool;
use test_support::problem;
use time::OffsetDateTime;

use crate::harness::{Shop, Shopper, checkout_body};

struct Case {
    why: &'static str,
    body: String,
    headers: Vec<(&'static str, String)>,
    status: u16,
    field: Option<&'static str>,
}

/// A row sending `body` from the test's shopper (headers added by the test).
fn case(why: &'static str, body: Value, status: u16, field: &'static str) -> Case {
    Case {
        why,
        body: body.to_string(),
        headers: Vec::new(),
        status,
        field: Some(field),
    }
}

/// The valid body with `pointer` set to `value` (or removed, for `Value::Null`).
fn with(pointer: &str, value: Value) -> Value {
    let mut body = checkout_body();
    let (parent, key) = pointer.rsplit_once('/').unwrap();
    let parent = body.pointer_mut(parent).unwrap().as_object_mut().unwrap();
    if value.is_null() {
        parent.remove(key);
    } else {
        parent.insert(key.to_owned(), value);
    }
    body
}

#[rustfmt::skip] // one row a line reads as the table it is
fn cases() -> Vec<Case> {
    let today = OffsetDateTime::now_utc().date();
    let year = today.year();
    let month = u8::from(today.month());
    let mut cases = vec![
        Case { body: r#"{"email": "#.into(), field: None, ..case("a body that is not JSON", json!({}), 400, "") },
        case("a number for the e-mail", with("/email", json!(7)), 422, "email"),
        case("an e-mail without a domain", with("/email", json!("ada")), 422, "email"),
        case("no card", with("/card", Value::Null), 422, "card"),
        case("a number that fails the Luhn check", with("/card/number", json!("4242424242424241")), 422, "card.number"),
        case("letters in the number", with("/card/number", json!("4242x24242424242")), 422, "card.number"),
        case("the number as a JSON number", with("/card/number", json!(4242424242424242u64)), 422, "card.number"),
        case("too short a number", with("/card/number", json!("42424242")), 422, "card.number"),
        case("expired last year", with("/card/exp_year", json!(year - 1)), 422, "card.exp_year"),
        case("a two-digit year", with("/card/exp_year", json!(30)), 422, "card.exp_year"),
        case("month 13", with("/card/exp_month", json!(13)), 422, "card.exp_month"),
        case("a two-digit CVV", with("/card/cvv", json!("12")), 422, "card.cvv"),
        case("letters in the CVV", with("/card/cvv", json!("12a")), 422, "card.cvv"),
        case("a five-digit CVV", with("/card/cvv", json!("12345")), 422, "card.cvv"),
        case("no city", with("/address/city", Value::Null), 422, "address.city"),
        case("a blank street", with("/address/street", json!("   ")), 422, "address.street"),
        case("a country that is not ISO 3166", with("/address/country", json!("UK")), 422, "address.country"),
        case("a client-sent price: unknown fields are refused", with("/total", json!(1)), 422, "total"),
        Case { headers: vec![("Idempotency-Key", "k".repeat(256))], ..case("an idempotency key over 255", checkout_body(), 400, "Idempotency-Key") },
        Case { headers: vec![("Idempotency-Key", "a key".into())], ..case("a space in the idempotency key", checkout_body(), 400, "Idempotency-Key") },
        Case { headers: vec![("X-User-Id", "42".into())], ..case("a user id that is not a UUID", checkout_body(), 400, "X-User-Id") },
        Case { headers: vec![("Content-Type", "text/plain".into())], field: None, ..case("not JSON by its content type", checkout_body(), 415, "") },
    ];
    if month > 1 {
        let mut body = with("/card/exp_month", json!(month - 1));
        body["card"]["exp_year"] = json!(year);
        cases.push(case("expired earlier this year", body, 422, "card.exp_month"));
    }
    cases
}

#[sqlx::test(migrator = "checkout::MIGRATOR")]
async fn bad_requests_are_problems_naming_what_is_wrong(pool: PgPool) {
    let shop = Shop::open(pool).await;
    let shopper = Shopper::anonymous();
    shop.add_to_cart(shopper, "cast-iron-skillet", 1).await;
    for case in cases() {
        let mut request = shopper
            .sign(shop.checkout.request(Method::POST, "/orders"))
            .body(case.body.clone());
        if !case.headers.iter().any(|(name, _)| *name == "Content-Type") {
            request = request.header("Content-Type", "application/json");
        }
        for (name, value) in &case.headers {
            request = request.header(*name, value);
        }
        let (status, body) = problem(request.send().await.unwrap()).await;
        assert_eq!(status, case.status, "{}: {body}", case.why);
        assert_eq!(body["field"].as_str(), case.field, "{}: {body}", case.why);
    }
    let (status, body) = problem(
        shop.checkout
            .request(Method::POST, "/orders")
            .json(&checkout_body())
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, &body["field"]),
        (400, &json!("X-Session-Id")),
        "no owner headers"
    );
    assert_eq!(shop.order_count().await, 0, "no order taken");
    assert_eq!(
        shop.cart_items(shopper).await.len(),
        1,
        "the cart is untouched"
    );
    shop.stop().await;
}

#[sqlx::test(migrator = "checkout::MIGRATOR")]
async fn an_empty_cart_or_a_product_catalog_does_not_sell_is_refused(pool: PgPool) {
    let shop = Shop::open(pool).await;
    let shopper = Shopper::anonymous();
    let (status, body) = problem(shop.place(shopper, None).await).await;
    assert_eq!(
        (status, &body["field"]),
        (422, &json!("cart")),
        "empty cart: {body}"
    );

    shop.add_to_cart(shopper, "cast-iron-skillet", 1).await;
    shop.smuggle_into_cart(shopper, "unicorn-saddle", 1).await;
    let (status, body) = problem(shop.place(shopper, None).await).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["field"], "cart.items[1].product_id", "{body}");
    assert!(
        body["detail"].as_str().unwrap().contains("unicorn-saddle"),
        "{body}"
    );
    assert_eq!(shop.order_count().await, 0);
    shop.stop().await;
}

/// Points one of checkout's dependencies at a URL.
type Rewire = fn(&mut checkout::Config, &str);

#[sqlx::test(migrator = "checkout::MIGRATOR")]
async fn a_dependency_that_does_not_answer_is_a_503_naming_it(pool: PgPool) {
    // Nothing listens on port 1: each dependency in turn is "down".
    let down = "http://127.0.0.1:1";
    let rewirings: [(&str, Rewire); 2] = [
        ("catalog", |c, url| c.catalog_url = url.into()),
        ("shipping", |c, url| c.shipping_url = url.into()),
    ];
    for (dependency, rewire) in rewirings {
        let shop = Shop::open_rewired(pool.clone(), |config| rewire(config, down)).await;
        let shopper = Shopper::anonymous();
        // cart itself asks the real catalog; only checkout's calls go nowhere.
        shop.add_to_cart(shopper, "cast-iron-skillet", 1).await;
        let (status, body) = problem(shop.place(shopper, None).await).await;
        assert_eq!(status, 503, "{dependency}: {body}");
        assert_eq!(body["dependency"], dependency, "{body}");
        assert_eq!(shop.cart_items(shopper).await.len(), 1, "the cart is kept");
        shop.stop().await;
        sqlx::query("DROP SCHEMA catalog CASCADE")
            .execute(&pool)
            .await
            .unwrap();
    }
    let shop = Shop::open_rewired(pool.clone(), |config| config.cart_url = down.into()).await;
    let (status, body) = problem(shop.place(Shopper::anonymous(), None).await).await;
    assert_eq!(
        (status, &body["dependency"]),
        (503, &json!("cart")),
        "{body}"
    );
    assert_eq!(shop.order_count().await, 0);
    shop.stop().await;
}
