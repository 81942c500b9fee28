//! Prometheus metrics of the reconciler, and the HTTP server that shows them beside the
//! operator's own `/healthz` and `/readyz`.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use axum::{Router, extract::State, http::StatusCode, response::IntoResponse, routing::get};
use prometheus_client::{
    encoding::{EncodeLabelSet, text::encode},
    metrics::{counter::Counter, family::Family, histogram::Histogram},
    registry::Registry,
};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ErrorLabels {
    error: String,
}

pub struct Metrics {
    registry: Registry,
    reconciles: Counter,
    failures: Family<ErrorLabels, Counter>,
    duration: Histogram,
    /// Set once the controller runs (or waits as a follower for the lease).
    ready: AtomicBool,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("microshop_operator");
        let reconciles = Counter::default();
        let failures = Family::<ErrorLabels, Counter>::default();
        let duration = Histogram::new([0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0]);
        registry.register("reconciles", "Reconciles started", reconciles.clone());
        registry.register(
            "reconcile_errors",
            "Reconciles failed, by kind of error",
            failures.clone(),
        );
        registry.register(
            "reconcile_duration_seconds",
            "How long a reconcile took",
            duration.clone(),
        );
        Self {
            registry,
            reconciles,
            failures,
            duration,
            ready: AtomicBool::new(false),
        }
    }
}

impl Metrics {
    pub fn reconciled(&self) {
        self.reconciles.inc();
    }

    pub fn failed(&self, error: &str) {
        self.failures
            .get_or_create(&ErrorLabels {
                error: error.to_owned(),
            })
            .inc();
    }

    pub fn observe_duration(&self, took: Duration) {
        self.duration.observe(took.as_secs_f64());
    }

    pub fn set_ready(&self) {
        self.ready.store(true, Ordering::Relaxed);
    }

    /// The OpenMetrics text exposition.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        encode(&mut out, &self.registry).expect("writing to a String cannot fail");
        out
    }
}

pub fn router(metrics: Arc<Metrics>) -> Router {
    Router::new()
        .route("/metrics", get(show_metrics))
        .route("/healthz", get(|| async { "alive" }))
        .route("/readyz", get(readyz))
        .with_state(metrics)
}

async fn show_metrics(State(metrics): State<Arc<Metrics>>) -> impl IntoResponse {
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        metrics.encode(),
    )
}

async fn readyz(State(metrics): State<Arc<Metrics>>) -> impl IntoResponse {
    if metrics.ready.load(Ordering::Relaxed) {
        (StatusCode::OK, "ready")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "starting")
    }
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use tower::ServiceExt;

    use super::*;

    #[test]
    fn counts_reconciles_errors_by_kind_and_durations() {
        let metrics = Metrics::default();
        metrics.reconciled();
        metrics.reconciled();
        metrics.failed("apply");
        metrics.observe_duration(Duration::from_millis(30));
        let text = metrics.encode();
        assert!(
            text.contains("microshop_operator_reconciles_total 2"),
            "{text}"
        );
        assert!(
            text.contains(r#"microshop_operator_reconcile_errors_total{error="apply"} 1"#),
            "{text}"
        );
        assert!(
            text.contains("microshop_operator_reconcile_duration_seconds_count 1"),
            "{text}"
        );
    }

    #[tokio::test]
    async fn readyz_answers_503_until_the_controller_runs() {
        let metrics = Arc::new(Metrics::default());
        let app = router(metrics.clone());
        let request = || {
            axum::http::Request::get("/readyz")
                .body(Body::empty())
                .unwrap()
        };
        let before = app.clone().oneshot(request()).await.unwrap();
        assert_eq!(before.status(), StatusCode::SERVICE_UNAVAILABLE);
        metrics.set_ready();
        let after = app.oneshot(request()).await.unwrap();
        assert_eq!(after.status(), StatusCode::OK);
    }
}
