//! Prometheus families of the consumers and publishers, in the process's registry
//! (`serving::metrics`), served at `/metrics` beside the HTTP ones.

use std::{sync::LazyLock, time::Duration};

use prometheus_client::{
    encoding::EncodeLabelSet,
    metrics::{counter::Counter, family::Family, gauge::Gauge, histogram::Histogram},
};

use crate::Outcome;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Processed {
    messaging_destination_name: String,
    /// `ack`, `retry` or `dead_letter`.
    outcome: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Queue {
    messaging_destination_name: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Published {
    messaging_destination_name: String,
    /// `confirmed` or `failed`.
    result: &'static str,
}

static PROCESS_DURATION: LazyLock<Family<Processed, Histogram>> = LazyLock::new(|| {
    let family = serving::metrics::duration_family();
    serving::metrics::register(
        "messaging_process_duration_seconds",
        "Messages handled, by queue and outcome (ack, retry, dead_letter), and how long each took",
        family.clone(),
    );
    family
});

static MESSAGES_READY: LazyLock<Family<Queue, Gauge>> = LazyLock::new(|| {
    let family = Family::default();
    serving::metrics::register(
        "messaging_queue_messages_ready",
        "Messages waiting in the consumed queue (the consumer's lag), as last seen",
        family.clone(),
    );
    family
});

static PUBLISHED: LazyLock<Family<Published, Counter>> = LazyLock::new(|| {
    let family = Family::default();
    serving::metrics::register(
        "messaging_published_messages",
        "Messages published, by exchange and result (confirmed or failed)",
        family.clone(),
    );
    family
});

pub(crate) fn processed(queue: &str, outcome: Outcome, took: Duration) {
    let outcome = match outcome {
        Outcome::Ack => "ack",
        Outcome::RetryAfter(_) => "retry",
        Outcome::DeadLetter => "dead_letter",
    };
    PROCESS_DURATION
        .get_or_create(&Processed {
            messaging_destination_name: queue.to_owned(),
            outcome,
        })
        .observe(took.as_secs_f64());
}

pub(crate) fn ready(queue: &str, messages: u32) {
    MESSAGES_READY
        .get_or_create(&Queue {
            messaging_destination_name: queue.to_owned(),
        })
        .set(i64::from(messages));
}

pub(crate) fn published(exchange: &str, confirmed: bool) {
    PUBLISHED
        .get_or_create(&Published {
            messaging_destination_name: exchange.to_owned(),
            result: if confirmed { "confirmed" } else { "failed" },
        })
        .inc();
}
