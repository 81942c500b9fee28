//! RabbitMQ for microshop. One place knows the topology (DESIGN.md "Orders"), how a
//! message is published (persistent, confirmed, trace context in its headers) and how a
//! queue is consumed (manual acks, prefetch, delivery limit, dead letters), and how to
//! come back after the broker goes away: every user runs inside a loop that reconnects
//! with backoff, instead of relying on the client library's own recovery.

mod consume;
mod context;
mod publish;
mod topology;

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use backon::{BackoffBuilder, ExponentialBuilder};
use lapin::{Connection, ConnectionProperties};
use tokio_util::sync::CancellationToken;

pub use consume::{Handler, Incoming, Outcome, consume};
pub use publish::{Outgoing, PublishError, Publisher};
pub use topology::{
    DEAD_LETTER_EXCHANGE, ORDER_EVENTS_EXCHANGE, ORDERS_EXCHANGE, QUEUES, QueueSpec,
    dead_letter_queue, declare_topology,
};

pub use lapin;

/// Why a session with the broker ended.
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    #[error(transparent)]
    Broker(#[from] lapin::Error),
    #[error(transparent)]
    Publish(#[from] PublishError),
    #[error("the broker ended the consumer")]
    ConsumerClosed,
}

/// Where the broker is, and whether this process is connected to it right now.
#[derive(Clone)]
pub struct Broker {
    url: String,
    name: String,
    connected: Arc<AtomicBool>,
}

impl Broker {
    /// `name` shows up in the broker's connection list.
    pub fn new(url: impl Into<String>, name: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            name: name.into(),
            connected: Arc::new(AtomicBool::new(false)),
        }
    }

    /// True while a session is open; readiness probes report it.
    pub fn is_connected(&self) -> bool {
        self.connected.load(Ordering::Relaxed)
    }

    pub(crate) fn set_connected(&self, connected: bool) {
        self.connected.store(connected, Ordering::Relaxed);
    }

    /// One connection attempt.
    pub async fn connect(&self) -> Result<Connection, lapin::Error> {
        let properties =
            ConnectionProperties::default().with_connection_name(self.name.clone().into());
        Connection::connect(&self.url, properties).await
    }

    /// Runs `session` again and again until `shutdown`: each run gets a fresh connection;
    /// when it fails (the broker went away, a channel closed), the next attempt waits a
    /// little longer, up to 10 s, and the wait resets after a session that lasted.
    pub async fn supervise<F, Fut>(&self, what: &str, shutdown: CancellationToken, mut session: F)
    where
        F: FnMut(Connection) -> Fut,
        Fut: std::future::Future<Output = Result<(), LinkError>>,
    {
        let mut backoff = reconnect_backoff();
        while !shutdown.is_cancelled() {
            let started = tokio::time::Instant::now();
            let outcome = match self.connect().await {
                Ok(connection) => session(connection).await,
                Err(err) => Err(LinkError::Broker(err)),
            };
            self.set_connected(false);
            match outcome {
                Ok(()) => return,
                Err(err) => {
                    if started.elapsed() > Duration::from_secs(30) {
                        backoff = reconnect_backoff();
                    }
                    let wait = backoff.next().unwrap_or(Duration::from_secs(10));
                    tracing::warn!(error = %err, task = what, retry_in_ms = wait.as_millis() as u64, "broker session ended; reconnecting");
                    tokio::select! {
                        _ = tokio::time::sleep(wait) => {}
                        _ = shutdown.cancelled() => return,
                    }
                }
            }
        }
    }
}

fn reconnect_backoff() -> impl Iterator<Item = Duration> {
    ExponentialBuilder::default()
        .with_min_delay(Duration::from_millis(200))
        .with_max_delay(Duration::from_secs(10))
        .with_jitter()
        .without_max_times()
        .build()
}
