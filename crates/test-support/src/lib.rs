//! Test harness shared by the services' tests: the real app on a free port, a switch
//! that takes a real server (PostgreSQL, Redis) away and brings it back, a RabbitMQ
//! vhost per test, a publisher playing a consumer's upstream and a tap on what a service
//! published.

mod bus;
mod consuming;
mod events;
mod outage;
mod rabbit;
mod schema;
mod service;

pub use bus::{OrderBus, PATIENCE, order_placed};
pub use consuming::ConsumingService;
pub use events::{EventTap, Tapped};
pub use outage::OutageProxy;
pub use rabbit::RabbitVhost;
pub use schema::schema_pool;
pub use service::TestService;

use std::{net::SocketAddr, time::Duration};

use axum::Router;
use reqwest::{Method, Response};
use serde_json::Value;
use tokio::net::TcpListener;

/// A service running in the test process on 127.0.0.1 and a free port.
pub struct TestServer {
    pub addr: SocketAddr,
    pub client: reqwest::Client,
    task: tokio::task::JoinHandle<()>,
}

impl TestServer {
    pub async fn spawn(router: Router) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a free port");
        let addr = listener.local_addr().expect("bound address");
        let task = tokio::spawn(async move {
            serving::serve_on(listener, router, std::future::pending(), Duration::ZERO)
                .await
                .expect("test server failed");
        });
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(15))
            .build()
            .expect("http client");
        Self { addr, client, task }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.client.request(method, self.url(path))
    }

    pub async fn get(&self, path: &str) -> Response {
        self.request(Method::GET, path)
            .send()
            .await
            .expect("request sent")
    }

    pub async fn send_json(&self, method: Method, path: &str, body: &Value) -> Response {
        self.request(method, path)
            .json(body)
            .send()
            .await
            .expect("request sent")
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Reads a problem answer, checking it is one.
pub async fn problem(response: Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert_eq!(
        content_type, "application/problem+json",
        "status {status} is not a problem"
    );
    let body: Value = response.json().await.expect("problem body");
    assert_eq!(
        body["status"], status,
        "problem status matches the HTTP status"
    );
    (status, body)
}

/// A name no other test uses, for key prefixes and the like.
pub fn unique_name(label: &str) -> String {
    format!("{label}-{}", uuid::Uuid::new_v4().simple())
}

/// Polls `condition` every 100 ms until it holds, failing after `limit`.
pub async fn wait_until<F, Fut>(what: &str, limit: Duration, mut condition: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + limit;
    while !condition().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting until {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
