//! A running checkout with the real cart (own Redis key prefix) and the real catalog
//! (own schema in the test's database), a stand-in for shipping's quotes, and a
//! RabbitMQ vhost of its own; plus the means to look at what it stored and published.

use std::time::Duration;

use axum::{Json, Router, routing::post};
use messaging::{
    Broker, ConsumerConfig, ORDER_EVENTS_EXCHANGE, Outgoing, Publisher,
    lapin::{Connection, message::BasicGetMessage, options::BasicGetOptions},
};
use redis::aio::MultiplexedConnection;
use reqwest::{Method, RequestBuilder, Response};
use serde_json::{Value, json};
use serving::{ServeConfig, postgres::Database};
use sqlx::{PgPool, postgres::PgPoolOptions};
use test_support::{OutageProxy, RabbitVhost, TestServer, TestService, unique_name, wait_until};
use uuid::Uuid;
use wire::{Money, Quote, QuoteRequest};

/// The stand-in's price: a base per parcel plus a little per item.
pub const SHIPPING_BASE: i64 = 500;
pub const SHIPPING_PER_ITEM: i64 = 100;

/// The test card that the mock payment approves, and a CVV to look for.
pub const CARD: &str = "4242424242424242";
pub const CVV: &str = "987";

/// Who is calling, as the gateway would say it in headers.
#[derive(Debug, Clone, Copy)]
pub enum Shopper {
    Anonymous(Uuid),
    SignedIn(Uuid),
}

impl Shopper {
    pub fn anonymous() -> Self {
        Self::Anonymous(Uuid::new_v4())
    }

    pub fn signed_in() -> Self {
        Self::SignedIn(Uuid::new_v4())
    }

    pub fn owner(self) -> String {
        match self {
            Self::Anonymous(id) => format!("s:{id}"),
            Self::SignedIn(id) => format!("u:{id}"),
        }
    }

    pub fn sign(self, request: RequestBuilder) -> RequestBuilder {
        match self {
            Self::Anonymous(id) => request.header("X-Session-Id", id.to_string()),
            Self::SignedIn(id) => request.header("X-User-Id", id.to_string()),
        }
    }
}

/// An expiry year a few years ahead, as on a card in a wallet today.
pub fn exp_year() -> i32 {
    time::OffsetDateTime::now_utc().year() + 3
}

/// A body `POST /orders` accepts.
pub fn checkout_body() -> Value {
    json!({
        "email": "ada@example.org",
        "address": {
            "name": "Ada Lovelace",
            "street": "12 St James's Square",
            "city": "London",
            "postal_code": "SW1Y 4JH",
            "country": "GB"
        },
        "card": {"number": CARD, "cvv": CVV, "exp_month": 12, "exp_year": exp_year()}
    })
}

/// Stands in for shipping's `POST /quotes` (same contract: `QuoteRequest` → `Quote`).
/// The real shipping service is tested by its own crate and end to end.
fn shipping_stand_in() -> Router {
    Router::new().route(
        "/quotes",
        post(|Json(request): Json<QuoteRequest>| async move {
            let items: i64 = request.items.iter().map(|l| i64::from(l.quantity)).sum();
            Json(Quote {
                cost: Money::usd(SHIPPING_BASE + SHIPPING_PER_ITEM * items),
            })
        }),
    )
}

pub struct Shop {
    pub checkout: TestService,
    pub orders: PgPool,
    pub vhost: RabbitVhost,
    cart: TestService,
    _catalog: TestService,
    _shipping: TestServer,
    redis: MultiplexedConnection,
    cart_prefix: String,
}

impl Shop {
    pub async fn open(orders: PgPool) -> Self {
        Self::open_rewired(orders, |_| {}).await
    }

    /// A shop whose checkout has its config changed by `rewire` before it starts.
    pub async fn open_rewired(orders: PgPool, rewire: impl FnOnce(&mut checkout::Config)) -> Self {
        let vhost = RabbitVhost::create();
        let url = vhost.url.clone();
        Self::assemble(orders, vhost, &url, rewire).await
    }

    /// A shop whose checkout reaches RabbitMQ through the returned proxy, to cut it off.
    pub async fn open_behind_broker_proxy(orders: PgPool) -> (Self, OutageProxy) {
        let vhost = RabbitVhost::create();
        // The broker AMQP_URL names: amqp://user:pass@host:port/vhost.
        let base = std::env::var("AMQP_URL").expect("AMQP_URL (set in .cargo/config.toml)");
        let server = base.rsplit_once('@').map_or(base.as_str(), |(_, s)| s);
        let server = server.split('/').next().unwrap_or(server);
        let upstream = tokio::net::lookup_host(server)
            .await
            .expect("AMQP_URL names host:port")
            .next()
            .expect("the broker's address");
        let proxy = OutageProxy::start(upstream).await;
        let url = format!(
            "amqp://guest:guest@127.0.0.1:{}/{}",
            proxy.addr.port(),
            vhost.name
        );
        (Self::assemble(orders, vhost, &url, |_| {}).await, proxy)
    }

    async fn assemble(
        orders: PgPool,
        vhost: RabbitVhost,
        amqp_url: &str,
        rewire: impl FnOnce(&mut checkout::Config),
    ) -> Self {
        crate::logs::captured_logs();
        let catalog_db = catalog_schema(&orders).await;
        let catalog = TestService::start::<catalog::Catalog>(catalog::Config {
            serve: ServeConfig::for_tests(),
            database: Database::of(&catalog_db),
            answers_mib: 4,
        })
        .await;
        let shipping = TestServer::spawn(shipping_stand_in()).await;
        let cart_prefix = format!("{}:", unique_name("checkout-test"));
        let cart = TestService::start::<cart::Cart>(cart::Config {
            serve: ServeConfig::for_tests(),
            redis_url: redis_url(),
            catalog_url: catalog.url(""),
            key_prefix: cart_prefix.clone(),
            ttl_secs: 10_800,
        })
        .await;
        let mut config = checkout::Config {
            serve: ServeConfig::for_tests(),
            database: Database::of(&orders),
            consumer: ConsumerConfig {
                amqp_url: amqp_url.to_owned(),
                retry_pause_ms: 5_000,
            },
            cart_url: cart.url(""),
            catalog_url: catalog.url(""),
            shipping_url: shipping.url(""),
        };
        rewire(&mut config);
        let checkout = TestService::start::<checkout::Checkout>(config).await;
        let redis = redis::Client::open(redis_url())
            .unwrap()
            .get_multiplexed_async_connection()
            .await
            .expect("redis connection");
        Self {
            checkout,
            orders,
            vhost,
            cart,
            _catalog: catalog,
            _shipping: shipping,
            redis,
            cart_prefix,
        }
    }

    pub async fn add_to_cart(&self, shopper: Shopper, product: &str, quantity: u32) {
        let body = json!({"product_id": product, "quantity": quantity});
        let request = self.cart.request(Method::POST, "/cart/items").json(&body);
        let response = shopper.sign(request).send().await.unwrap();
        assert_eq!(response.status(), 200, "adding {product} to the cart");
    }

    /// Puts a line straight into the cart's Redis hash, past cart's catalog check.
    pub async fn smuggle_into_cart(&self, shopper: Shopper, product: &str, quantity: u32) {
        let key = format!("{}cart:{}", self.cart_prefix, shopper.owner());
        redis::cmd("HSET")
            .arg(&key)
            .arg(product)
            .arg(quantity)
            .exec_async(&mut self.redis.clone())
            .await
            .unwrap();
    }

    pub async fn cart_items(&self, shopper: Shopper) -> Vec<Value> {
        let request = self.cart.request(Method::GET, "/cart");
        let cart: Value = shopper
            .sign(request)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        cart["items"].as_array().unwrap().clone()
    }

    pub fn post_order(&self, shopper: Shopper, body: &Value, key: Option<&str>) -> RequestBuilder {
        let mut request = shopper
            .sign(self.checkout.request(Method::POST, "/orders"))
            .json(body);
        if let Some(key) = key {
            request = request.header("Idempotency-Key", key);
        }
        request
    }

    pub async fn place(&self, shopper: Shopper, key: Option<&str>) -> Response {
        let body = checkout_body();
        self.post_order(shopper, &body, key).send().await.unwrap()
    }

    /// Fills a cart and places an order; answers the 201's body.
    pub async fn placed_order(&self, shopper: Shopper) -> Value {
        self.add_to_cart(shopper, "cast-iron-skillet", 1).await;
        created(self.place(shopper, None).await).await
    }

    pub async fn order(&self, id: &str) -> Value {
        let response = self.checkout.get(&format!("/orders/{id}")).await;
        assert_eq!(response.status(), 200, "GET /orders/{id}");
        response.json().await.unwrap()
    }

    pub async fn wait_for_order(&self, id: &str, what: &str, test: impl Fn(&Value) -> bool) {
        wait_until(what, Duration::from_secs(15), || async {
            test(&self.order(id).await)
        })
        .await;
    }

    /// `(order_id, sent)` of every outbox row, oldest first.
    pub async fn outbox(&self) -> Vec<(Uuid, bool)> {
        sqlx::query_as("SELECT order_id, sent_at IS NOT NULL FROM outbox ORDER BY id")
            .fetch_all(&self.orders)
            .await
            .unwrap()
    }

    pub async fn order_count(&self) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM orders")
            .fetch_one(&self.orders)
            .await
            .unwrap()
    }

    /// A connection of the test's own to the vhost.
    pub async fn broker(&self) -> Connection {
        Broker::new(&self.vhost.url, "checkout-test")
            .connect()
            .await
            .expect("test connection to RabbitMQ")
    }

    /// Takes the next message from `queue`, waiting for it to arrive. A quorum queue
    /// declared a moment ago may not have started yet (the broker answers `noproc` and
    /// closes the connection), so errors are retried on a new connection too.
    pub async fn next_message(&self, queue: &str) -> BasicGetMessage {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        let mut last_error = None;
        while tokio::time::Instant::now() < deadline {
            let connection = self.broker().await;
            let channel = connection.create_channel().await.unwrap();
            loop {
                let options = BasicGetOptions { no_ack: true };
                match channel.basic_get(queue.into(), options).await {
                    Ok(Some(message)) => return message,
                    Ok(None) if tokio::time::Instant::now() < deadline => {}
                    Ok(None) => break,
                    Err(err) => {
                        last_error = Some(err);
                        break;
                    }
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("timed out waiting for a message in {queue}; last error: {last_error:?}");
    }

    /// Publishes an outcome event as payment, shipping or email would, spelled out as it
    /// travels (`{order_id}:{name}` is its message id), so unusable ones can be sent too.
    pub async fn publish_event(&self, kind: &str, body: Value) {
        let connection = self.broker().await;
        let publisher = Publisher::open(&connection).await.unwrap();
        let order_id = body["order_id"].as_str().unwrap_or_default().to_owned();
        let body = serde_json::to_vec(&body).unwrap();
        publisher
            .publish_raw(Outgoing {
                exchange: ORDER_EVENTS_EXCHANGE,
                routing_key: kind,
                message_id: &format!("{order_id}:{kind}"),
                kind,
                body: &body,
            })
            .await
            .expect("event published");
        let _ = connection.close(200, "done".into()).await;
    }

    /// The harness's guard at the end of a messaging test: every outbox row sent, and
    /// no event left unhandled or dead-lettered.
    pub async fn assert_settled(&self) {
        wait_until("the outbox is drained", Duration::from_secs(15), || async {
            self.outbox().await.iter().all(|(_, sent)| *sent)
        })
        .await;
        let events = messaging::QueueSpec::CHECKOUT_EVENTS.name;
        assert_eq!(
            self.vhost.queue_depth(events),
            Some(0),
            "events all handled"
        );
        let dead = messaging::dead_letter_queue(events);
        assert_eq!(
            self.vhost.queue_depth(&dead),
            Some(0),
            "no event dead-lettered"
        );
    }

    /// Stops the relay and the consumer and waits for them, as SIGTERM would.
    pub async fn stop(self) {
        tokio::time::timeout(Duration::from_secs(10), self.checkout.stop())
            .await
            .expect("background tasks stop promptly");
    }
}

/// A 201's body, failing with the body when it is not one.
pub async fn created(response: Response) -> Value {
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, 201, "expected an order, got {body}");
    body
}

pub fn redis_url() -> String {
    std::env::var("REDIS_URL").expect("REDIS_URL (set in .cargo/config.toml)")
}

/// catalog's tables in a schema of their own inside the test's database, so one
/// `#[sqlx::test]` database holds both services' data without mixing migrations.
async fn catalog_schema(orders: &PgPool) -> PgPool {
    sqlx::query("CREATE SCHEMA catalog")
        .execute(orders)
        .await
        .unwrap();
    let options = (*orders.connect_options())
        .clone()
        .options([("search_path", "catalog")]);
    let pool = PgPoolOptions::new()
        .max_connections(4)
        .connect_with(options)
        .await
        .unwrap();
    catalog::MIGRATOR
        .run(&pool)
        .await
        .expect("catalog migrates");
    pool
}
