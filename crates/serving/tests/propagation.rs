//! W3C trace context: taken from an incoming request, carried onto the outgoing call.

use axum::{Router, http::HeaderMap, routing::get};
use opentelemetry::{global, trace::TracerProvider as _};
use opentelemetry_sdk::{propagation::TraceContextPropagator, trace::SdkTracerProvider};
use serving::{Readiness, ServeConfig, client::TracedClient, http::skeleton};
use std::time::Duration;
use tracing_subscriber::layer::SubscriberExt;

const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const CALLER_SPAN: &str = "00f067aa0ba902b7";

async fn spawn(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(serving::serve_on(
        listener,
        router,
        std::future::pending(),
        Duration::ZERO,
    ));
    url
}

#[tokio::test(flavor = "current_thread")]
async fn a_call_made_while_serving_a_request_continues_the_callers_trace() {
    global::set_text_map_propagator(TraceContextPropagator::new());
    let provider = SdkTracerProvider::builder().build();
    let subscriber = tracing_subscriber::registry()
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test")));
    let _guard = tracing::subscriber::set_default(subscriber);

    // downstream echoes the traceparent it received; upstream calls it from a handler.
    let downstream = spawn(Router::new().route(
        "/echo",
        get(|headers: HeaderMap| async move {
            headers
                .get("traceparent")
                .map(|v| v.to_str().unwrap().to_owned())
                .unwrap_or_default()
        }),
    ))
    .await;
    let client = TracedClient::new(Duration::from_secs(5)).unwrap();
    let upstream_routes = Router::new().route(
        "/call",
        get(move || async move {
            client
                .get(format!("{downstream}/echo"))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        }),
    );
    let upstream = spawn(skeleton(
        upstream_routes,
        Readiness::new(),
        &ServeConfig::for_tests(),
    ))
    .await;

    let seen = reqwest::Client::new()
        .get(format!("{upstream}/call"))
        .header("traceparent", format!("00-{TRACE_ID}-{CALLER_SPAN}-01"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let parts: Vec<&str> = seen.split('-').collect();
    assert_eq!(
        parts.len(),
        4,
        "a traceparent was sent downstream: {seen:?}"
    );
    assert_eq!(parts[1], TRACE_ID, "same trace");
    assert_ne!(
        parts[2], CALLER_SPAN,
        "parented on the server's own span, not the caller's"
    );
    assert_eq!(parts[3], "01", "still sampled");
}
