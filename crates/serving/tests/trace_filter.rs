//! Under the process's global subscriber (callsite interest cached, as in a service):
//! with `RUST_LOG=warn`, info spans are still traced, after events the filter refused
//! too, and debug spans are not.

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
use serving::telemetry::LogsAndSpans;
use tracing_subscriber::layer::SubscriberExt;

#[test]
fn spans_are_traced_whatever_was_refused_before_them() {
    let spans = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(spans.clone())
        .build();
    let subscriber = tracing_subscriber::registry()
        .with(LogsAndSpans::new("warn,sqlx=warn"))
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test")))
        .with(tracing_subscriber::fmt::layer().with_test_writer());
    tracing::subscriber::set_global_default(subscriber).unwrap();

    for round in 0..3 {
        // What a database driver logs below the filter's level, then a span to trace.
        tracing::debug!(target: "sqlx::query", round, "SELECT 1");
        tracing::info!(round, "below warn: not logged");
        let relay = tracing::info_span!("outbox.relay", round);
        relay.in_scope(|| {
            let _update = tracing::info_span!("UPDATE outbox").entered();
        });
    }
    // Debug spans stay off.
    drop(tracing::debug_span!("chatty").entered());

    let names: Vec<String> = spans
        .get_finished_spans()
        .unwrap()
        .iter()
        .map(|span| span.name.to_string())
        .collect();
    assert_eq!(
        names.iter().filter(|n| *n == "outbox.relay").count(),
        3,
        "{names:?}"
    );
    assert_eq!(
        names.iter().filter(|n| *n == "UPDATE outbox").count(),
        3,
        "{names:?}"
    );
    assert!(!names.iter().any(|n| n == "chatty"), "{names:?}");
}
