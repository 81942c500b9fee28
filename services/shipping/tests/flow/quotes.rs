//! `POST /quotes`: deterministic prices, and bad requests refused with the field named.

use reqwest::Method;
use serde_json::{Value, json};
use serving::{ServeConfig, postgres::Database};
use sqlx::PgPool;
use test_support::{TestService, problem};

/// The service as its binary runs it; quotes touch neither the database nor the broker
/// (which is unreachable here).
async fn quotes(pool: PgPool) -> TestService {
    TestService::start::<shipping::Shipping>(shipping::Config {
        serve: ServeConfig::for_tests(),
        database: Database::of(&pool),
        consumer: messaging::ConsumerConfig {
            amqp_url: "amqp://127.0.0.1:1/%2f".into(),
            retry_pause_ms: 300,
        },
    })
    .await
}

fn request(country: &str, quantities: &[u32]) -> Value {
    let items: Vec<Value> = quantities
        .iter()
        .enumerate()
        .map(|(i, quantity)| json!({"product_id": format!("product-{i}"), "quantity": quantity}))
        .collect();
    json!({
        "address": {
            "name": "Ada Lovelace",
            "street": "350 Fifth Avenue",
            "city": "New York",
            "postal_code": "10118",
            "country": country,
        },
        "items": items,
    })
}

#[sqlx::test(migrator = "shipping::MIGRATOR")]
async fn a_quote_is_the_destinations_base_rate_plus_150_per_extra_item(pool: PgPool) {
    let app = quotes(pool).await;
    let cases = [
        ("US", vec![1], 499, "one item within the US"),
        ("US", vec![2, 1], 799, "three items over two lines"),
        ("DE", vec![1], 1499, "one item abroad"),
        ("de", vec![2], 1649, "country in lower case"),
    ];
    for (country, quantities, minor, why) in cases {
        let body = request(country, &quantities);
        for attempt in ["first", "again"] {
            let response = app.send_json(Method::POST, "/quotes", &body).await;
            assert_eq!(response.status(), 200, "{why}");
            let quote: Value = response.json().await.unwrap();
            assert_eq!(
                quote,
                json!({"cost": {"currency": "USD", "amount_minor": minor}}),
                "{why}, {attempt}"
            );
        }
    }
}

#[sqlx::test(migrator = "shipping::MIGRATOR")]
async fn without_the_broker_it_stays_ready_and_quotes(pool: PgPool) {
    // Checkout quotes every order it takes, and takes orders while RabbitMQ is away:
    // shipping must stay in its Service then, with the broker reported as degraded.
    let app = quotes(pool).await;
    let response = app.get("/readyz").await;
    assert_eq!(response.status(), 200);
    let report: Value = response.json().await.unwrap();
    assert_eq!(report["checks"]["postgres"], "ok");
    assert!(
        report["checks"]["rabbitmq"]
            .as_str()
            .is_some_and(|state| state.starts_with("degraded")),
        "{report}"
    );
    let quote = app
        .send_json(Method::POST, "/quotes", &request("US", &[1]))
        .await;
    assert_eq!(quote.status(), 200);
}

#[sqlx::test(migrator = "shipping::MIGRATOR")]
async fn bad_quote_requests_are_422_problems_naming_the_field(pool: PgPool) {
    let app = quotes(pool).await;
    let with = |path: &str, value: Value| {
        let mut body = request("US", &[1, 1]);
        let mut target = &mut body;
        let parts: Vec<&str> = path.split('.').collect();
        for part in &parts[..parts.len() - 1] {
            target = match part.parse::<usize>() {
                Ok(i) => &mut target[i],
                Err(_) => &mut target[*part],
            };
        }
        let last = parts[parts.len() - 1];
        match (last.parse::<usize>(), value) {
            (_, Value::Null) => {
                target.as_object_mut().unwrap().remove(last);
            }
            (Ok(i), value) => target[i] = value,
            (Err(_), value) => target[last] = value,
        }
        body
    };
    let too_many: Vec<u32> = vec![1; 101];
    let cases = [
        (request("US", &[]), "items", "no items"),
        (request("US", &too_many), "items", "more than 100 lines"),
        (
            with("items.0.quantity", json!(0)),
            "items[0].quantity",
            "quantity 0",
        ),
        (
            with("items.1.quantity", json!(100)),
            "items[1].quantity",
            "quantity over 99",
        ),
        (
            with("items.0.quantity", json!(-1)),
            "items[0].quantity",
            "negative quantity",
        ),
        (
            with("items.0.quantity", json!("two")),
            "items[0].quantity",
            "quantity not a number",
        ),
        (
            with("items.0.product_id", json!("")),
            "items[0].product_id",
            "empty product id",
        ),
        (
            with("items.1.product_id", json!("Mug Pair!")),
            "items[1].product_id",
            "not a slug",
        ),
        (
            with("items.0.product_id", Value::Null),
            "items[0].product_id",
            "product id missing",
        ),
        (
            with("address.name", json!("   ")),
            "address.name",
            "blank name",
        ),
        (
            with("address.street", json!("x".repeat(201))),
            "address.street",
            "street too long",
        ),
        (
            with("address.city", json!("")),
            "address.city",
            "empty city",
        ),
        (
            with("address.postal_code", Value::Null),
            "address.postal_code",
            "postal code missing",
        ),
        (
            with("address.country", json!("UK")),
            "address.country",
            "UK is not ISO 3166",
        ),
        (
            with("address.country", json!("USA")),
            "address.country",
            "alpha-3",
        ),
        (with("address", Value::Null), "address", "no address"),
        (with("items", json!({})), "items", "items not a list"),
    ];
    for (body, field, why) in cases {
        let (status, problem) = problem(app.send_json(Method::POST, "/quotes", &body).await).await;
        assert_eq!(status, 422, "{why}: {problem}");
        assert_eq!(problem["field"], field, "{why}: {problem}");
        assert!(
            problem["type"]
                .as_str()
                .unwrap()
                .ends_with("/invalid-field"),
            "{why}"
        );
    }
}

#[sqlx::test(migrator = "shipping::MIGRATOR")]
async fn a_body_that_is_not_json_is_a_400_problem(pool: PgPool) {
    let app = quotes(pool).await;
    let response = app
        .request(Method::POST, "/quotes")
        .header("content-type", "application/json")
        .body("{\"address\":")
        .send()
        .await
        .unwrap();
    let (status, body) = problem(response).await;
    assert_eq!(status, 400);
    assert!(body["type"].as_str().unwrap().ends_with("/malformed-body"));
}
