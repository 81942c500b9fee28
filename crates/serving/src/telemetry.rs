//! Logs (JSON or pretty, filtered by `RUST_LOG`) and OpenTelemetry traces over OTLP.
//!
//! Spans always get trace and span ids, so every JSON log line names its trace even when
//! nothing is exported. Spans are exported only when `OTEL_EXPORTER_OTLP_ENDPOINT` is set;
//! without it tracing is simply not shipped, never an error.

mod filter;
mod json_log;

pub use filter::{DEFAULT_LOG_LEVELS, LogsAndSpans};

use http::HeaderMap;
use opentelemetry::{
    Key, KeyValue, global, propagation::TextMapCompositePropagator, trace::TracerProvider as _,
};
use opentelemetry_http::{HeaderExtractor, HeaderInjector};
use opentelemetry_sdk::{
    Resource,
    propagation::{BaggagePropagator, TraceContextPropagator},
    trace::SdkTracerProvider,
};
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::{Layer, layer::SubscriberExt, util::SubscriberInitExt};

use crate::LogFormat;

/// The environment traces are tagged with unless `OTEL_RESOURCE_ATTRIBUTES` names one.
const DEFAULT_ENVIRONMENT: &str = "local";

/// Flushes spans still buffered when dropped; keep it alive for the life of `main`.
#[must_use = "dropping the guard shuts tracing down"]
pub struct Telemetry {
    provider: Option<SdkTracerProvider>,
}

impl Drop for Telemetry {
    fn drop(&mut self) {
        if let Some(provider) = self.provider.take()
            && let Err(err) = provider.shutdown()
        {
            eprintln!("flushing traces failed: {err}");
        }
    }
}

/// Installs the global subscriber. `service` is the default `service.name`;
/// `OTEL_SERVICE_NAME` overrides it.
pub fn init(service: &'static str, format: LogFormat) -> anyhow::Result<Telemetry> {
    global::set_text_map_propagator(TextMapCompositePropagator::new(vec![
        Box::new(TraceContextPropagator::new()),
        Box::new(BaggagePropagator::new()),
    ]));

    let exporting = std::env::var("OTEL_EXPORTER_OTLP_ENDPOINT")
        .is_ok_and(|endpoint| !endpoint.trim().is_empty());
    let provider = tracer_provider(service, exporting)?;
    let otel_layer = tracing_opentelemetry::layer().with_tracer(provider.tracer(service));
    let fmt_layer = match format {
        LogFormat::Json => json_log::layer(std::io::stdout).boxed(),
        LogFormat::Pretty => tracing_subscriber::fmt::layer().compact().boxed(),
    };
    tracing_subscriber::registry()
        .with(LogsAndSpans::from_env())
        .with(otel_layer)
        .with(fmt_layer)
        .try_init()?;
    global::set_tracer_provider(provider.clone());
    Ok(Telemetry {
        provider: Some(provider),
    })
}

/// The provider: batches to OTLP when `exporting`, else only hands out ids. The sampler
/// comes from `OTEL_TRACES_SAMPLER*` (default: follow the parent, else sample).
fn tracer_provider(service: &'static str, exporting: bool) -> anyhow::Result<SdkTracerProvider> {
    let mut builder = SdkTracerProvider::builder().with_resource(resource(service));
    if exporting {
        // The exporter reads OTEL_EXPORTER_OTLP_* (endpoint, headers, timeout).
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .build()?;
        builder = builder.with_batch_exporter(exporter);
    }
    Ok(builder.build())
}

/// `service.*` and `deployment.environment.name`; `OTEL_SERVICE_NAME` and
/// `OTEL_RESOURCE_ATTRIBUTES` override what is set here.
fn resource(service: &'static str) -> Resource {
    let from_env = Resource::builder().build();
    let environment = from_env
        .get(&Key::new("deployment.environment.name"))
        .or_else(|| from_env.get(&Key::new("deployment.environment")))
        .map_or_else(|| DEFAULT_ENVIRONMENT.to_owned(), |value| value.to_string());
    let name = std::env::var("OTEL_SERVICE_NAME").unwrap_or_else(|_| service.to_owned());
    Resource::builder()
        .with_attributes([
            KeyValue::new("service.namespace", "microshop"),
            KeyValue::new("service.version", env!("CARGO_PKG_VERSION")),
            // The current name, and the older one many viewers still group by.
            KeyValue::new("deployment.environment.name", environment.clone()),
            KeyValue::new("deployment.environment", environment),
        ])
        .with_service_name(name)
        .build()
}

/// The trace context a caller sent in `traceparent`/`tracestate`.
pub fn extract_context(headers: &HeaderMap) -> opentelemetry::Context {
    global::get_text_map_propagator(|propagator| propagator.extract(&HeaderExtractor(headers)))
}

/// Puts the current span's context on outgoing headers.
pub fn inject_context(headers: &mut HeaderMap) {
    inject_span_context(&tracing::Span::current(), headers);
}

/// Puts `span`'s context on outgoing headers.
pub fn inject_span_context(span: &tracing::Span, headers: &mut HeaderMap) {
    let context = span.context();
    global::get_text_map_propagator(|propagator| {
        propagator.inject_context(&context, &mut HeaderInjector(headers))
    });
}

#[doc(hidden)]
pub use tracing as __tracing;

/// A client span for one database call, named and tagged after OpenTelemetry's database
/// conventions: `db_span!("postgresql", "SELECT", "products")` is the span `SELECT
/// products`. Instrument the call's future with it.
#[macro_export]
macro_rules! db_span {
    ($system:literal, $operation:literal, $collection:literal) => {
        $crate::telemetry::__tracing::info_span!(
            "db",
            otel.name = concat!($operation, " ", $collection),
            otel.kind = "client",
            db.system.name = $system,
            db.operation.name = $operation,
            db.collection.name = $collection,
        )
    };
}

#[cfg(test)]
mod tests {
    use opentelemetry::trace::TracerProvider as _;
    use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
    use tracing_subscriber::layer::SubscriberExt;

    use super::*;
    use crate::telemetry::json_log::tests::Captured;

    #[test]
    fn a_span_continuing_a_remote_context_is_traced_with_its_children() {
        global::set_text_map_propagator(TraceContextPropagator::new());
        let spans = InMemorySpanExporter::default();
        let provider = SdkTracerProvider::builder()
            .with_simple_exporter(spans.clone())
            .build();
        let subscriber = tracing_subscriber::registry()
            .with(LogsAndSpans::new(DEFAULT_LOG_LEVELS))
            .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test")))
            .with(json_log::layer(Captured::default()));
        tracing::subscriber::with_default(subscriber, || {
            let mut headers = HeaderMap::new();
            headers.insert(
                "traceparent",
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
                    .parse()
                    .unwrap(),
            );
            let relay = tracing::info_span!("outbox.relay", order.id = "o-1");
            relay.set_parent(extract_context(&headers)).unwrap();
            relay.in_scope(|| {
                let _publish = tracing::info_span!("orders publish").entered();
            });
        });
        let exported = spans.get_finished_spans().unwrap();
        let names: Vec<_> = exported.iter().map(|s| s.name.to_string()).collect();
        assert_eq!(names.len(), 2, "{names:?}");
        assert!(
            exported.iter().all(
                |s| s.span_context.trace_id().to_string() == "4bf92f3577b34da6a3ce929d0e0e4736"
            ),
            "{exported:?}"
        );
    }

    #[test]
    fn quiet_logs_keep_every_span_and_the_ids_on_what_is_still_logged() {
        let spans = InMemorySpanExporter::default();
        let provider = SdkTracerProvider::builder()
            .with_simple_exporter(spans.clone())
            .build();
        let logs = Captured::default();
        let subscriber = tracing_subscriber::registry()
            .with(LogsAndSpans::new("warn"))
            .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test")))
            .with(json_log::layer(logs.clone()));
        tracing::subscriber::with_default(subscriber, || {
            let span = tracing::info_span!("POST /orders");
            let _entered = span.enter();
            tracing::info!("not logged at warn");
            tracing::warn!("logged");
        });

        let exported = spans.get_finished_spans().unwrap();
        assert_eq!(
            exported.len(),
            1,
            "the info span is traced at RUST_LOG=warn"
        );
        let lines = logs.lines();
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert_eq!(lines[0]["message"], "logged");
        assert_eq!(
            lines[0]["trace_id"],
            exported[0].span_context.trace_id().to_string()
        );
        assert_eq!(lines[0]["span"]["name"], "POST /orders");
    }
}
