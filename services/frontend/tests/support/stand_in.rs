//! A STAND-IN for the gateway (not KrakenD): canned answers in the DESIGN.md shapes,
//! problems (`application/problem+json`) for the error cases as KrakenD passes them
//! through (its no-op endpoints), the bare 400 its signer answers for any refused sign-in,
//! the bare 401 of its validator, and a log of every request.

use std::{
    net::SocketAddr,
    sync::{Arc, Mutex},
};

use axum::{
    Json, Router,
    body::{Body, to_bytes},
    extract::{Path, Request, State},
    http::{HeaderMap, StatusCode, header},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::{get, post, put},
};
use serde_json::{Value, json};

/// Products the stand-in knows.
pub const SKILLET: (&str, &str, i64) = ("cast-iron-skillet", "Cast Iron Skillet", 3900);
pub const LAMP: (&str, &str, i64) = ("brass-desk-lamp", "Brass Desk Lamp", 12900);
pub const ORDER_ID: &str = "6f1c2a9e-8d4b-4c1e-9f3a-2b7d5e6c8a10";
/// An order the stand-in answers in a status the shop does not know (`shipped`).
pub const SHIPPED_ORDER_ID: &str = "0d5e3f1a-7b2c-4d8e-9a6f-3c1b2a4d5e6f";
/// A card number the stand-in's checkout refuses.
pub const BAD_CARD: &str = "4242424242424241";
pub const TOKEN: &str = "jwt-for-ada";
pub const EXPIRED_TOKEN: &str = "expired-token";

/// One request the stand-in received.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

type Log = Arc<Mutex<Vec<Seen>>>;

pub struct StandInGateway {
    pub addr: SocketAddr,
    log: Log,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for StandInGateway {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl StandInGateway {
    pub async fn start() -> Self {
        let log = Log::default();
        let api = Router::new()
            .route("/products", get(products))
            .route("/products/{id}", get(product))
            .route("/categories", get(categories))
            .route("/cart", get(cart).delete(empty_cart))
            .route("/me/cart", get(cart).delete(empty_cart))
            .route("/cart/items", post(add_item))
            .route("/me/cart/items", post(add_item))
            .route("/cart/items/{id}", put(cart).delete(cart))
            .route("/me/cart/items/{id}", put(cart).delete(cart))
            .route("/me/cart/merge", post(cart))
            .route("/shipping/quote", post(quote))
            .route("/checkout", post(checkout))
            .route("/me/checkout", post(checkout))
            .route("/orders/{id}", get(order))
            .route("/me/orders/{id}", get(order))
            .route("/auth/login", post(login))
            .route("/me", get(me));
        let app = Router::new()
            .nest("/api/v1", api)
            .layer(middleware::from_fn_with_state(log.clone(), record))
            .with_state(log.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Self { addr, log, task }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.log.lock().unwrap().clone()
    }

    /// The requests to one path (`/api/v1/...`) with one method.
    pub fn seen_at(&self, method: &str, path: &str) -> Vec<Seen> {
        self.seen()
            .into_iter()
            .filter(|s| s.method == method && s.path == path)
            .collect()
    }
}

async fn record(State(log): State<Log>, request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    let bytes = to_bytes(body, 1 << 20).await.unwrap();
    log.lock().unwrap().push(Seen {
        method: parts.method.to_string(),
        path: parts.uri.path().to_owned(),
        headers: parts.headers.clone(),
        body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    });
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

fn problem(status: StatusCode, title: &str, detail: &str, field: Option<&str>) -> Response {
    let mut body = json!({"type": "https://microshop.dev/problems/stand-in", "title": title,
                          "status": status.as_u16(), "detail": detail});
    if let Some(field) = field {
        body["field"] = json!(field);
    }
    let mut response = (status, Json(body)).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        "application/problem+json".parse().unwrap(),
    );
    response
}

fn usd(minor: i64) -> Value {
    json!({"currency": "USD", "amount_minor": minor})
}

fn product_json((id, name, minor): (&str, &str, i64)) -> Value {
    json!({"id": id, "name": name, "description": format!("A fine {name}."),
           "picture": format!("/static/products/{id}.svg"), "price": usd(minor),
           "categories": ["kitchen"]})
}

async fn products() -> Json<Value> {
    Json(
        json!({"items": [product_json(SKILLET), product_json(LAMP)], "total": 14, "page": 1, "per_page": 12}),
    )
}

async fn product(Path(id): Path<String>) -> Response {
    match [SKILLET, LAMP].into_iter().find(|p| p.0 == id) {
        Some(p) => Json(product_json(p)).into_response(),
        None => problem(
            StatusCode::NOT_FOUND,
            "Not found",
            &format!("no product with id {id:?}"),
            None,
        ),
    }
}

async fn categories() -> Json<Value> {
    Json(json!({"items": [{"name": "kitchen", "count": 8}, {"name": "home", "count": 6}]}))
}

fn expired(headers: &HeaderMap) -> bool {
    headers
        .get(header::AUTHORIZATION)
        .is_some_and(|v| v.to_str().unwrap() == format!("Bearer {EXPIRED_TOKEN}"))
}

/// Every cart holds two skillets and a lamp: 3 items.
async fn cart(headers: HeaderMap) -> Response {
    if expired(&headers) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    Json(json!({"items": [{"product_id": SKILLET.0, "quantity": 2}, {"product_id": LAMP.0, "quantity": 1}],
                "updated_at": "2025-01-31T10:00:00Z"}))
    .into_response()
}

async fn empty_cart() -> Json<Value> {
    Json(json!({"items": [], "updated_at": null}))
}

async fn add_item(headers: HeaderMap, Json(body): Json<Value>) -> Response {
    if body["quantity"].as_i64().unwrap_or(0) > 99 {
        return problem(
            StatusCode::UNPROCESSABLE_ENTITY,
            "A field is invalid",
            "a line holds at most 99",
            Some("quantity"),
        );
    }
    cart(headers).await
}

async fn quote() -> Json<Value> {
    Json(json!({"cost": usd(599)}))
}

fn order_json(status: &str) -> Value {
    json!({
        "id": ORDER_ID, "status": status,
        "items": [{"product_id": SKILLET.0, "name": SKILLET.1, "quantity": 2, "unit_price": usd(3900)}],
        "shipping_cost": usd(599), "total": usd(8399),
        "card": {"brand": "visa", "last4": "4242"},
        "transaction_id": if status == "paid" { json!("txn_0001") } else { Value::Null },
        "payment_failure_reason": null,
        "tracking_id": if status == "paid" { json!("TRK0001") } else { Value::Null },
        "shipment_cancelled": false,
        "email_sent": false, "created_at": "2025-01-31T10:00:00Z", "updated_at": "2025-01-31T10:00:01Z"
    })
}

async fn checkout(Json(body): Json<Value>) -> Response {
    if body["card"]["number"] == BAD_CARD {
        return problem(
            StatusCode::UNPROCESSABLE_ENTITY,
            "A field is invalid",
            "the card number fails the Luhn check",
            Some("card.number"),
        );
    }
    (StatusCode::CREATED, Json(order_json("placed"))).into_response()
}

async fn order(Path(id): Path<String>) -> Response {
    if id == ORDER_ID {
        Json(order_json("paid")).into_response()
    } else if id == SHIPPED_ORDER_ID {
        Json(order_json("shipped")).into_response()
    } else {
        problem(
            StatusCode::NOT_FOUND,
            "Not found",
            &format!("no order with id {id:?}"),
            None,
        )
    }
}

async fn login(Json(body): Json<Value>) -> Response {
    if body["password"] == "wrong" {
        // KrakenD's auth/signer: whatever identity said, a bare 400 (PITFALLS.md).
        return StatusCode::BAD_REQUEST.into_response();
    }
    Json(json!({"access_token": TOKEN, "expires_in": 3600})).into_response()
}

async fn me(headers: HeaderMap) -> Response {
    if expired(&headers) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    Json(json!({"id": "0b6a3c1e-2f4d-4e5a-9b8c-7d6e5f4a3b2c", "email": "ada@example.com", "name": "Ada Lovelace",
                "address": null}))
    .into_response()
}
