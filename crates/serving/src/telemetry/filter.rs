//! What reaches the log and trace layers: the events `RUST_LOG` lets through, and every
//! span at info and above whatever `RUST_LOG` says. So `RUST_LOG=warn` quiets the logs,
//! not the traces, and a warning still names the span and trace it happened in.
//!
//! One filter for the whole subscriber, as the plain `EnvFilter` before it, not one per
//! layer: per-layer filters combined with `or` dropped the outbox relay's spans in the
//! running services (`e2e/tests/stack-test.sh` found it; a unit test did not reproduce it).

use tracing::{Level, Metadata, Subscriber, span};
use tracing_subscriber::{
    EnvFilter, Layer, filter::LevelFilter, layer::Context, registry::LookupSpan,
};

/// `RUST_LOG` when unset.
pub const DEFAULT_LOG_LEVELS: &str = "info,tower_http=warn,sqlx=warn";

pub struct LogsAndSpans {
    events: EnvFilter,
}

impl LogsAndSpans {
    /// `log_levels` in `RUST_LOG` syntax; an invalid one falls back to the default.
    pub fn new(log_levels: &str) -> Self {
        let events = EnvFilter::try_new(log_levels).unwrap_or_else(|err| {
            eprintln!("RUST_LOG {log_levels:?} is not valid ({err}); using {DEFAULT_LOG_LEVELS:?}");
            EnvFilter::new(DEFAULT_LOG_LEVELS)
        });
        Self { events }
    }

    /// From `RUST_LOG`, or [`DEFAULT_LOG_LEVELS`].
    pub fn from_env() -> Self {
        Self::new(&std::env::var("RUST_LOG").unwrap_or_else(|_| DEFAULT_LOG_LEVELS.into()))
    }
}

fn traced(metadata: &Metadata<'_>) -> bool {
    metadata.is_span() && *metadata.level() <= Level::INFO
}

impl<S> Layer<S> for LogsAndSpans
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn register_callsite(
        &self,
        metadata: &'static Metadata<'static>,
    ) -> tracing::subscriber::Interest {
        if traced(metadata) {
            tracing::subscriber::Interest::always()
        } else {
            Layer::<S>::register_callsite(&self.events, metadata)
        }
    }

    fn enabled(&self, metadata: &Metadata<'_>, ctx: Context<'_, S>) -> bool {
        traced(metadata) || Layer::<S>::enabled(&self.events, metadata, ctx)
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        let events = Layer::<S>::max_level_hint(&self.events).unwrap_or(LevelFilter::TRACE);
        Some(events.max(LevelFilter::INFO))
    }

    // EnvFilter follows spans for directives that name them (`RUST_LOG=[checkout]=debug`).
    fn on_new_span(&self, attrs: &span::Attributes<'_>, id: &span::Id, ctx: Context<'_, S>) {
        self.events.on_new_span(attrs, id, ctx);
    }

    fn on_record(&self, id: &span::Id, values: &span::Record<'_>, ctx: Context<'_, S>) {
        self.events.on_record(id, values, ctx);
    }

    fn on_enter(&self, id: &span::Id, ctx: Context<'_, S>) {
        self.events.on_enter(id, ctx);
    }

    fn on_exit(&self, id: &span::Id, ctx: Context<'_, S>) {
        self.events.on_exit(id, ctx);
    }

    fn on_close(&self, id: span::Id, ctx: Context<'_, S>) {
        self.events.on_close(id, ctx);
    }
}
