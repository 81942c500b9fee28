//! Logs (JSON or pretty, filtered by `RUST_LOG`) and OpenTelemetry traces over OTLP.
//!
//! Spans always get trace and span ids, so every JSON log line names its trace even when
//! nothing is exported. Spans are exported only when `OTEL_EXPORTER_OTLP_ENDPOINT` is set;
//! without it tracing is simply not shipped, never an error.

mod json_log;

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
use tracing_subscriber::{EnvFilter, Layer, layer::SubscriberExt, util::SubscriberInitExt};

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
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,tower_http=warn,sqlx=warn"));
    tracing_subscriber::registry()
        .with(filter)
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
