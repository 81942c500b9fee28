//! Whatever a caller sends wrong comes back as a 4xx problem naming what is wrong,
//! never a 500 and never a change to the cart.

use reqwest::Method;
use sqlx::PgPool;
use test_support::problem;
use uuid::Uuid;

use crate::harness::{Shop, Shopper, lines};

struct Case {
    why: &'static str,
    method: Method,
    path: &'static str,
    /// Owner headers; `None` sends the test's session id.
    headers: Option<&'static [(&'static str, &'static str)]>,
    content_type: &'static str,
    body: String,
    status: u16,
    field: Option<&'static str>,
}

/// A row sending a JSON body with the test's session: POST to the add route, PUT to a line.
fn case(
    why: &'static str,
    path: &'static str,
    body: &str,
    status: u16,
    field: Option<&'static str>,
) -> Case {
    let method = if path == "/cart/items" {
        Method::POST
    } else {
        Method::PUT
    };
    Case {
        why,
        method,
        path,
        headers: None,
        content_type: "application/json",
        body: body.to_owned(),
        status,
        field,
    }
}

const ADD: &str = "/cart/items";
const SET: &str = "/cart/items/cast-iron-skillet";
const GOOD_ADD: &str = r#"{"product_id": "cast-iron-skillet", "quantity": 1}"#;

#[rustfmt::skip] // one row a line reads as the table it is
fn cases() -> Vec<Case> {
    vec![
        case("a body that is not JSON", ADD, r#"{"product_id": "#, 400, None),
        case("a string for a number", ADD, r#"{"product_id": "cast-iron-skillet", "quantity": "two"}"#, 422, Some("quantity")),
        case("adding nothing", ADD, r#"{"product_id": "cast-iron-skillet", "quantity": 0}"#, 422, Some("quantity")),
        case("over the line cap", ADD, r#"{"product_id": "cast-iron-skillet", "quantity": 100}"#, 422, Some("quantity")),
        case("a negative quantity", ADD, r#"{"product_id": "cast-iron-skillet", "quantity": -1}"#, 422, Some("quantity")),
        case("a fraction", ADD, r#"{"product_id": "cast-iron-skillet", "quantity": 1.5}"#, 422, Some("quantity")),
        case("no quantity", ADD, r#"{"product_id": "cast-iron-skillet"}"#, 422, Some("quantity")),
        case("no product", ADD, r#"{"quantity": 1}"#, 422, Some("product_id")),
        case("a product catalog does not sell", ADD, r#"{"product_id": "unicorn-saddle", "quantity": 1}"#, 422, Some("product_id")),
        case("a malformed product id", ADD, r#"{"product_id": "_updated_at", "quantity": 1}"#, 422, Some("product_id")),
        case("a number for a product id", ADD, r#"{"product_id": 7, "quantity": 1}"#, 422, Some("product_id")),
        case("a JSON array for a body", ADD, "[]", 422, Some("body")),
        case("set over the line cap", SET, r#"{"quantity": 100}"#, 422, Some("quantity")),
        case("set to a negative", SET, r#"{"quantity": -3}"#, 422, Some("quantity")),
        case("set to a string", SET, r#"{"quantity": "5"}"#, 422, Some("quantity")),
        case("set a product catalog does not sell", "/cart/items/unicorn-saddle", r#"{"quantity": 1}"#, 422, Some("product_id")),
        case("set a malformed product id", "/cart/items/NOT%20AN%20ID", r#"{"quantity": 1}"#, 422, Some("product_id")),
        Case {
            body: format!(r#"{{"product_id": "{}", "quantity": 1}}"#, "a".repeat(70 * 1024)),
            ..case("a body over 64 KiB", ADD, "", 413, None)
        },
        Case { content_type: "text/plain", ..case("not JSON by its content type", ADD, GOOD_ADD, 415, None) },
        Case { content_type: "application/x-www-form-urlencoded", ..case("a form", ADD, "quantity=1", 415, None) },
        Case { headers: Some(&[]), ..case("neither owner header", ADD, GOOD_ADD, 400, Some("X-Session-Id")) },
        Case {
            headers: Some(&[("X-Session-Id", "not-a-uuid")]),
            ..case("a session id that is not a UUID", ADD, GOOD_ADD, 400, Some("X-Session-Id"))
        },
        Case {
            headers: Some(&[("X-User-Id", "")]),
            ..case("an empty user id, as the gateway sends a missing claim", ADD, GOOD_ADD, 400, Some("X-User-Id"))
        },
        Case {
            method: Method::DELETE,
            headers: Some(&[("X-User-Id", "12345")]),
            ..case("a user id that is not a UUID", "/cart", "", 400, Some("X-User-Id"))
        },
        Case { method: Method::DELETE, ..case("delete a malformed product id", "/cart/items/Bad_Id", "", 422, Some("product_id")) },
        Case { method: Method::PATCH, ..case("a method the route lacks", "/cart", "", 405, None) },
    ]
}

#[sqlx::test(migrator = "catalog::MIGRATOR")]
async fn bad_requests_are_problems_naming_what_is_wrong(pool: PgPool) {
    let shop = Shop::open(pool).await;
    let session = Uuid::new_v4();
    let shopper = Shopper::Anonymous(session);
    for case in cases() {
        let mut request = shop.cart.request(case.method.clone(), case.path);
        match case.headers {
            None => request = request.header("X-Session-Id", session.to_string()),
            Some(headers) => {
                for (name, value) in headers {
                    request = request.header(*name, *value);
                }
            }
        }
        if !case.body.is_empty() {
            request = request
                .header("content-type", case.content_type)
                .body(case.body.clone());
        }
        let response = request.send().await.expect("request sent");
        let (status, body) = problem(response).await;
        assert_eq!(status, case.status, "{}: {body}", case.why);
        assert_eq!(body["field"].as_str(), case.field, "{}: {body}", case.why);
    }
    assert!(
        lines(&shop.cart_of(shopper).await).is_empty(),
        "no bad request wrote anything"
    );
}
