//! A running cart, the catalog it asks, and a direct Redis connection to look at keys.
//! Each shop has its own key prefix, so tests share the one Redis without meeting.

use redis::aio::MultiplexedConnection;
use reqwest::{Method, RequestBuilder, Response};
use serde_json::{Value, json};
use serving::{ServeConfig, postgres::Database};
use sqlx::PgPool;
use test_support::{OutageProxy, TestService, unique_name};
use uuid::Uuid;

pub const TTL_SECS: i64 = 10_800;

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

    fn owner(self) -> String {
        match self {
            Self::Anonymous(id) => format!("s:{id}"),
            Self::SignedIn(id) => format!("u:{id}"),
        }
    }

    fn sign(self, request: RequestBuilder) -> RequestBuilder {
        match self {
            Self::Anonymous(id) => request.header("X-Session-Id", id.to_string()),
            Self::SignedIn(id) => request.header("X-User-Id", id.to_string()),
        }
    }
}

pub struct Shop {
    pub cart: TestService,
    _catalog: TestService,
    redis: MultiplexedConnection,
    prefix: String,
}

/// The real catalog on the test's database, asked whether a product exists.
async fn catalog(pool: &PgPool) -> TestService {
    TestService::start::<catalog::Catalog>(catalog::Config {
        serve: ServeConfig::for_tests(),
        database: Database::of(pool),
        answers_mib: 4,
    })
    .await
}

pub fn redis_url() -> String {
    std::env::var("REDIS_URL").expect("REDIS_URL (set in .cargo/config.toml)")
}

impl Shop {
    pub async fn open(pool: PgPool) -> Self {
        Self::open_on(pool, &redis_url()).await
    }

    /// A shop whose cart reaches Redis at `redis_url` (a proxy, in outage tests).
    pub async fn open_on(pool: PgPool, redis_url: &str) -> Self {
        let catalog = catalog(&pool).await;
        let catalog_url = catalog.url("");
        Self::assemble(catalog, &catalog_url, redis_url).await
    }

    /// A shop whose cart reaches catalog through the returned proxy, to cut it off.
    pub async fn open_behind_catalog_proxy(pool: PgPool) -> (Self, OutageProxy) {
        let catalog = catalog(&pool).await;
        let proxy = OutageProxy::start(catalog.addr).await;
        let shop = Self::assemble(catalog, &format!("http://{}", proxy.addr), &redis_url()).await;
        (shop, proxy)
    }

    async fn assemble(catalog: TestService, catalog_url: &str, redis_url: &str) -> Self {
        let prefix = format!("{}:", unique_name("cart-test"));
        let config = cart::Config {
            serve: ServeConfig::for_tests(),
            redis_url: redis_url.to_owned(),
            catalog_url: catalog_url.to_owned(),
            key_prefix: prefix.clone(),
            ttl_secs: TTL_SECS as u64,
        };
        let cart = TestService::start::<cart::Cart>(config).await;
        let redis = redis::Client::open(self::redis_url())
            .expect("redis url")
            .get_multiplexed_async_connection()
            .await
            .expect("redis connection");
        Self {
            cart,
            _catalog: catalog,
            redis,
            prefix,
        }
    }

    pub fn key(&self, shopper: Shopper) -> String {
        format!("{}cart:{}", self.prefix, shopper.owner())
    }

    pub fn request(&self, method: Method, path: &str, shopper: Shopper) -> RequestBuilder {
        shopper.sign(self.cart.request(method, path))
    }

    pub async fn add(&self, shopper: Shopper, product: &str, quantity: u32) -> Response {
        let body = json!({"product_id": product, "quantity": quantity});
        send(
            self.request(Method::POST, "/cart/items", shopper)
                .json(&body),
        )
        .await
    }

    pub async fn set(&self, shopper: Shopper, product: &str, quantity: u32) -> Response {
        let path = format!("/cart/items/{product}");
        send(
            self.request(Method::PUT, &path, shopper)
                .json(&json!({"quantity": quantity})),
        )
        .await
    }

    pub async fn remove(&self, shopper: Shopper, product: &str) -> Response {
        send(self.request(Method::DELETE, &format!("/cart/items/{product}"), shopper)).await
    }

    pub async fn empty(&self, shopper: Shopper) -> Response {
        send(self.request(Method::DELETE, "/cart", shopper)).await
    }

    pub async fn merge(&self, user: Uuid, session: Uuid) -> Response {
        let request = self
            .cart
            .request(Method::POST, "/cart/merge")
            .header("X-User-Id", user.to_string())
            .header("X-Session-Id", session.to_string());
        send(request).await
    }

    /// The cart as `GET /cart` answers it.
    pub async fn cart_of(&self, shopper: Shopper) -> Value {
        cart(send(self.request(Method::GET, "/cart", shopper)).await).await
    }

    /// Seconds the cart's key has left (-2: no key).
    pub async fn ttl(&self, shopper: Shopper) -> i64 {
        redis::cmd("TTL")
            .arg(self.key(shopper))
            .query_async(&mut self.redis.clone())
            .await
            .expect("TTL")
    }

    /// Lowers the key's TTL, as if the cart had sat untouched for a while.
    pub async fn age(&self, shopper: Shopper, ttl_left: i64) {
        redis::cmd("EXPIRE")
            .arg(self.key(shopper))
            .arg(ttl_left)
            .exec_async(&mut self.redis.clone())
            .await
            .expect("EXPIRE");
    }

    pub async fn key_exists(&self, shopper: Shopper) -> bool {
        redis::cmd("EXISTS")
            .arg(self.key(shopper))
            .query_async::<i64>(&mut self.redis.clone())
            .await
            .expect("EXISTS")
            == 1
    }
}

async fn send(request: RequestBuilder) -> Response {
    request.send().await.expect("request sent")
}

/// A 200 cart answer's body.
pub async fn cart(response: Response) -> Value {
    let status = response.status();
    let body: Value = response.json().await.expect("json body");
    assert_eq!(status, 200, "expected a cart, got {body}");
    body
}

/// The cart's lines as `(product_id, quantity)` pairs, in answer order.
pub fn lines(cart: &Value) -> Vec<(String, u64)> {
    cart["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|line| {
            let id = line["product_id"].as_str().expect("product_id").to_owned();
            (id, line["quantity"].as_u64().expect("quantity"))
        })
        .collect()
}

pub fn pairs(expected: &[(&str, u64)]) -> Vec<(String, u64)> {
    expected
        .iter()
        .map(|(id, q)| ((*id).to_owned(), *q))
        .collect()
}

/// Adds products to catalog until it holds `total`, answering the new ids.
pub async fn stock_catalog_up_to(pool: &PgPool, total: i64) -> Vec<String> {
    let have: i64 = sqlx::query_scalar("SELECT count(*) FROM products")
        .fetch_one(pool)
        .await
        .expect("count products");
    let mut added = Vec::new();
    for n in have..total {
        let id = format!("test-product-{n}");
        sqlx::query(
            "INSERT INTO products (id, name, description, picture, price_minor)
             VALUES ($1, $1, 'made for a test', '/static/none.svg', 100)",
        )
        .bind(&id)
        .execute(pool)
        .await
        .expect("insert product");
        added.push(id);
    }
    added
}

/// Every product catalog holds, by id.
pub async fn catalog_ids(pool: &PgPool) -> Vec<String> {
    sqlx::query_scalar("SELECT id FROM products ORDER BY id")
        .fetch_all(pool)
        .await
        .expect("product ids")
}
