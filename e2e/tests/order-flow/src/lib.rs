//! A whole shop in one test process: every backend service built and started from its
//! config as its binary does (`serving::Service`), on the real PostgreSQL (one test
//! database, a schema per service), the real Redis (a key prefix of its own) and the real
//! RabbitMQ (a vhost of its own). Tests drive it over HTTP as the gateway would, and read
//! each service's ledger to count effects.

use std::time::Duration;

use messaging::ConsumerConfig;
use reqwest::Method;
use serde_json::{Value, json};
use serving::{ServeConfig, postgres::Database};
use sqlx::PgPool;
use test_support::{RabbitVhost, TestService, schema_pool, unique_name, wait_until};
use uuid::Uuid;

/// The test cards of DESIGN.md.
pub const APPROVED: &str = "4242 4242 4242 4242";
pub const DECLINED: &str = "4000 0000 0000 0002";
pub const INSUFFICIENT_FUNDS: &str = "4000 0000 0000 9995";

/// A consumer that cannot reach its database retries after this pause.
const RETRY_PAUSE: Duration = Duration::from_millis(200);

pub struct Shop {
    pub vhost: RabbitVhost,
    pub checkout: TestService,
    pub cart: TestService,
    pub email: TestService,
    pub orders: PgPool,
    pub payments: PgPool,
    pub shipments: PgPool,
    pub emails: PgPool,
    catalog: TestService,
    shipping: TestService,
    payment: TestService,
}

impl Shop {
    /// Starts every service on `database` (checkout's tables in its default schema).
    pub async fn open(database: PgPool) -> Self {
        Self::open_with(database.clone(), database, RETRY_PAUSE).await
    }

    /// Starts every service on `database`, checkout on the database `checkout_pool`
    /// reaches (the same one, reached another way: through an outage proxy) with its own
    /// first pause before an outcome event is retried. Each service is built and started
    /// from its config, as its binary does.
    pub async fn open_with(
        database: PgPool,
        checkout_pool: PgPool,
        checkout_retry_pause: Duration,
    ) -> Self {
        // Warnings and errors of every service show with a failing test's output.
        let _ = tracing_subscriber::fmt()
            .with_env_filter(
                tracing_subscriber::EnvFilter::try_from_default_env()
                    .unwrap_or_else(|_| "warn".into()),
            )
            .with_test_writer()
            .try_init();
        let vhost = RabbitVhost::create();
        let serve = ServeConfig::for_tests();
        let consumer = |retry_pause: Duration| ConsumerConfig {
            amqp_url: vhost.url.clone(),
            retry_pause_ms: retry_pause.as_millis() as u64,
        };

        let catalog_db = schema_pool(&database, "catalog", &catalog::MIGRATOR).await;
        let catalog = TestService::start::<catalog::Catalog>(catalog::Config {
            serve: serve.clone(),
            database: Database::of(&catalog_db),
            answers_mib: 4,
        })
        .await;

        let payments = schema_pool(&database, "payment", &payment::MIGRATOR).await;
        let payment = TestService::start::<payment::Payment>(payment::Config {
            serve: serve.clone(),
            database: Database::of(&payments),
            consumer: consumer(RETRY_PAUSE),
        })
        .await;

        let shipments = schema_pool(&database, "shipping", &shipping::MIGRATOR).await;
        let shipping = TestService::start::<shipping::Shipping>(shipping::Config {
            serve: serve.clone(),
            database: Database::of(&shipments),
            consumer: consumer(RETRY_PAUSE),
        })
        .await;

        let emails = schema_pool(&database, "email", &email::MIGRATOR).await;
        let email = TestService::start::<email::Email>(email::Config {
            serve: serve.clone(),
            database: Database::of(&emails),
            smtp_url: None,
            smtp_from: "microshop <orders@microshop.dev>".into(),
            consumer: consumer(RETRY_PAUSE),
        })
        .await;

        let cart = TestService::start::<cart::Cart>(cart::Config {
            serve: serve.clone(),
            redis_url: std::env::var("REDIS_URL").expect("REDIS_URL (set in .cargo/config.toml)"),
            catalog_url: catalog.url(""),
            key_prefix: format!("{}:", unique_name("flow")),
            ttl_secs: 10_800,
        })
        .await;

        let checkout = TestService::start::<checkout::Checkout>(checkout::Config {
            serve: serve.clone(),
            database: Database::of(&checkout_pool),
            consumer: consumer(checkout_retry_pause),
            cart_url: cart.url(""),
            catalog_url: catalog.url(""),
            shipping_url: shipping.url(""),
        })
        .await;

        let shop = Self {
            vhost,
            checkout,
            cart,
            email,
            orders: database,
            payments,
            shipments,
            emails,
            catalog,
            shipping,
            payment,
        };
        shop.wait_until_ready().await;
        shop
    }

    async fn wait_until_ready(&self) {
        for server in [&self.checkout, &self.payment, &self.shipping, &self.email] {
            wait_until(
                "every service is ready",
                Duration::from_secs(30),
                || async { server.get("/readyz").await.status() == 200 },
            )
            .await;
        }
    }

    /// Puts `quantity` of `product` in a new guest's cart; answers the session id.
    pub async fn fill_cart(&self, product: &str, quantity: u32) -> Uuid {
        let session = Uuid::new_v4();
        let response = self
            .cart
            .request(Method::POST, "/cart/items")
            .header("X-Session-Id", session.to_string())
            .json(&json!({"product_id": product, "quantity": quantity}))
            .send()
            .await
            .expect("cart answers");
        assert_eq!(response.status(), 200, "adding {product}");
        session
    }

    /// `POST /orders` for `session` paying with `card`; answers status and body.
    pub async fn checkout(
        &self,
        session: Uuid,
        card: &str,
        idempotency_key: Option<&str>,
    ) -> (u16, Value) {
        let mut request = self
            .checkout
            .request(Method::POST, "/orders")
            .header("X-Session-Id", session.to_string())
            .json(&checkout_body(card));
        if let Some(key) = idempotency_key {
            request = request.header("Idempotency-Key", key);
        }
        let response = request.send().await.expect("checkout answers");
        let status = response.status().as_u16();
        (status, response.json().await.expect("a JSON answer"))
    }

    /// A cart of one product and a checkout: the order checkout accepted.
    pub async fn buy(&self, card: &str) -> Value {
        let session = self.fill_cart("cast-iron-skillet", 1).await;
        let (status, order) = self.checkout(session, card, None).await;
        assert_eq!(status, 201, "checkout accepts the order: {order}");
        order
    }

    pub async fn order(&self, id: &str) -> Value {
        let response = self.checkout.get(&format!("/orders/{id}")).await;
        assert_eq!(response.status(), 200);
        response.json().await.unwrap()
    }

    /// Polls the order until `settled` says it has reached the state a test waits for.
    pub async fn wait_for_order(
        &self,
        id: &str,
        limit: Duration,
        settled: impl Fn(&Value) -> bool,
    ) -> Value {
        wait_until(&format!("order {id} settles"), limit, || async {
            settled(&self.order(id).await)
        })
        .await;
        self.order(id).await
    }

    /// Rows of `table` about `order_id` in a service's ledger.
    pub async fn ledger_rows(pool: &PgPool, table: &str, order_id: &str) -> i64 {
        let query = format!("SELECT count(*) FROM {table} WHERE order_id = $1::uuid");
        sqlx::query_scalar(sqlx::AssertSqlSafe(query))
            .bind(order_id)
            .fetch_one(pool)
            .await
            .unwrap()
    }

    pub async fn rows(pool: &PgPool, table: &str) -> i64 {
        sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT count(*) FROM {table}")))
            .fetch_one(pool)
            .await
            .unwrap()
    }

    /// Stops the consumers and the relay, as SIGTERM would.
    pub async fn close(self) {
        futures::future::join_all([
            self.checkout.stop(),
            self.payment.stop(),
            self.shipping.stop(),
            self.email.stop(),
            self.cart.stop(),
            self.catalog.stop(),
        ])
        .await;
    }
}

/// Paid, with a transaction id, a tracking id and the mail sent.
pub fn fulfilled(order: &Value) -> bool {
    order["status"] == "paid" && order["tracking_id"].is_string() && order["email_sent"] == true
}

pub fn checkout_body(card: &str) -> Value {
    json!({
        "email": "grace@example.org",
        "address": {"name": "Grace Hopper", "street": "1 Navy Yard", "city": "Arlington",
                    "postal_code": "22202", "country": "US"},
        "card": {"number": card, "cvv": "123", "exp_month": 12,
                 "exp_year": time::OffsetDateTime::now_utc().year() + 3}
    })
}
