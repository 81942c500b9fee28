//! The layers every service's router gets: tracing with W3C context, a timeout, a body
//! limit, panics caught, health routes, and problem answers for unknown routes.

use std::time::Duration;

use axum::{
    Router,
    body::Body,
    error_handling::HandleErrorLayer,
    extract::{DefaultBodyLimit, MatchedPath, Request},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::get,
};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use tower::{BoxError, ServiceBuilder, timeout::TimeoutLayer};
use tower_http::{catch_panic::CatchPanicLayer, trace::TraceLayer};
use tracing::Span;
use tracing_opentelemetry::OpenTelemetrySpanExt;

use crate::{
    Problem, Readiness, ServeConfig,
    extract::BodyLimit,
    health::{healthz, readyz},
    telemetry::extract_context,
};

/// Wraps a service's own routes with the shared skeleton.
pub fn skeleton(routes: Router, readiness: Readiness, config: &ServeConfig) -> Router {
    let limit = config.body_limit_bytes;
    let timeout = config.request_timeout();
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(move || readyz(readiness.clone())))
        .route("/metrics", get(crate::metrics::scrape))
        .merge(routes)
        .fallback(|| async { Problem::route_not_found() })
        .method_not_allowed_fallback(|| async { Problem::method_not_allowed() })
        .layer(DefaultBodyLimit::max(limit))
        .layer(middleware::from_fn(move |req: Request, next: Next| {
            read_body_first(req, next, limit)
        }))
        .layer(
            ServiceBuilder::new()
                // Outermost, so the timeout's 503 and a panic's 500 are counted too.
                .layer(middleware::from_fn(crate::metrics::record_http))
                .layer(
                    TraceLayer::new_for_http()
                        .make_span_with(request_span)
                        .on_request(())
                        .on_response(record_response)
                        // Failures are logged once, where the problem is built.
                        .on_failure(()),
                )
                .layer(CatchPanicLayer::custom(|_| {
                    Problem::internal(&"handler panicked").into_response()
                }))
                .layer(HandleErrorLayer::new(timeout_problem))
                .layer(TimeoutLayer::new(timeout)),
        )
}

/// Reads the whole body (within the limit) before any extractor runs. A handler that
/// refuses a request on its headers (a bad `Idempotency-Key`, a missing session) would
/// otherwise answer with the body unread, and the server then closes the connection under
/// a client still sending it: a gateway sees a broken pipe and answers 500, not the 4xx.
async fn read_body_first(req: Request, next: Next, limit: usize) -> Response {
    let (mut parts, body) = req.into_parts();
    parts.extensions.insert(BodyLimit(limit));
    match Limited::new(body, limit).collect().await {
        Ok(collected) => {
            let body = Body::from(collected.to_bytes());
            next.run(Request::from_parts(parts, body)).await
        }
        Err(err) if err.is::<LengthLimitError>() => {
            Problem::payload_too_large(limit).into_response()
        }
        Err(err) => Problem::malformed_body(err.to_string()).into_response(),
    }
}

/// One server span per request, continuing the caller's trace when it sent `traceparent`.
fn request_span(request: &Request<Body>) -> Span {
    let route = request.extensions().get::<MatchedPath>().map_or_else(
        || request.uri().path().to_owned(),
        |p| p.as_str().to_owned(),
    );
    let span = tracing::info_span!(
        "request",
        otel.name = format!("{} {route}", request.method()),
        otel.kind = "server",
        http.request.method = %request.method(),
        http.route = route,
        url.path = request.uri().path(),
        http.response.status_code = tracing::field::Empty,
        otel.status_code = tracing::field::Empty,
    );
    let _ = span.set_parent(extract_context(request.headers()));
    span
}

fn record_response<B>(response: &http::Response<B>, latency: Duration, span: &Span) {
    let status = response.status();
    span.record("http.response.status_code", status.as_u16());
    if status.is_server_error() {
        span.record("otel.status_code", "ERROR");
    }
    tracing::debug!(
        status = status.as_u16(),
        latency_ms = latency.as_millis() as u64,
        "answered"
    );
}

async fn timeout_problem(err: BoxError) -> Problem {
    if err.is::<tower::timeout::error::Elapsed>() {
        Problem::timeout()
    } else {
        Problem::internal(&err)
    }
}
