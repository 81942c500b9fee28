//! Prometheus metrics of the process, served at `GET /metrics` (OpenMetrics text).
//!
//! One registry per process, as a scrape target is one process. The skeleton records
//! every HTTP request; other crates (messaging) add their families with [`register`].

use std::{
    sync::{LazyLock, Mutex},
    time::Instant,
};

use axum::{
    extract::{MatchedPath, Request},
    http::{StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use prometheus_client::{
    encoding::{EncodeLabelSet, text::encode},
    metrics::{family::Family, histogram::Histogram},
    registry::{Metric, Registry},
};

/// OpenTelemetry's default boundaries for request durations, in seconds.
pub const DURATION_BUCKETS: [f64; 14] = [
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
];

static REGISTRY: LazyLock<Mutex<Registry>> = LazyLock::new(|| Mutex::new(Registry::default()));

/// Adds a metric family to the process's registry. Call once per family (keep the
/// family in a `LazyLock`): registering twice shows it twice.
pub fn register(name: &str, help: &str, metric: impl Metric) {
    REGISTRY
        .lock()
        .expect("metrics registry poisoned")
        .register(name, help, metric);
}

/// A histogram family with [`DURATION_BUCKETS`].
pub fn duration_family<L>() -> Family<L, Histogram>
where
    L: EncodeLabelSet + Clone + std::hash::Hash + Eq + std::fmt::Debug + Send + Sync + 'static,
{
    Family::new_with_constructor(|| Histogram::new(DURATION_BUCKETS))
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HttpLabels {
    http_request_method: String,
    /// The route template (`/products/{id}`), never the raw path: bounded cardinality.
    http_route: String,
    http_response_status_code: u16,
}

/// Requests served: the rate and the errors are its `_count` by status code.
static HTTP_SERVER_DURATION: LazyLock<Family<HttpLabels, Histogram>> = LazyLock::new(|| {
    let family = duration_family();
    register(
        "http_server_request_duration_seconds",
        "Duration of HTTP requests served, by method, route and status code",
        family.clone(),
    );
    family
});

/// Middleware timing each request under its matched route.
pub async fn record_http(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |path| path.as_str().to_owned());
    let method = request.method().as_str().to_owned();
    let started = Instant::now();
    let response = next.run(request).await;
    HTTP_SERVER_DURATION
        .get_or_create(&HttpLabels {
            http_request_method: method,
            http_route: route,
            http_response_status_code: response.status().as_u16(),
        })
        .observe(started.elapsed().as_secs_f64());
    response
}

/// Every family of the process in OpenMetrics text.
pub fn encode_text() -> Result<String, std::fmt::Error> {
    LazyLock::force(&HTTP_SERVER_DURATION);
    let mut text = String::new();
    encode(
        &mut text,
        &REGISTRY.lock().expect("metrics registry poisoned"),
    )?;
    Ok(text)
}

/// The value of the sample `name{labels}` in this process's metrics, if present.
/// `labels` is written as in the text: `queue="a",outcome="ack"`.
pub fn sample(name: &str, labels: &str) -> Option<f64> {
    find_sample(&encode_text().ok()?, name, labels)
}

/// The value of the sample `name{labels}` in a `/metrics` text, if present.
pub fn find_sample(text: &str, name: &str, labels: &str) -> Option<f64> {
    let prefix = format!("{name}{{{labels}}} ");
    text.lines()
        .find_map(|line| line.strip_prefix(&prefix).and_then(|v| v.parse().ok()))
}

/// `GET /metrics`.
pub async fn scrape() -> Response {
    match encode_text() {
        Ok(text) => (
            [(
                header::CONTENT_TYPE,
                "application/openmetrics-text; version=1.0.0; charset=utf-8",
            )],
            text,
        )
            .into_response(),
        Err(err) => (StatusCode::INTERNAL_SERVER_ERROR, err.to_string()).into_response(),
    }
}
