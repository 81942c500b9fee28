//! RabbitMQ for microshop. One place knows the topology (DESIGN.md "Orders"), how a
//! message is published (persistent, confirmed, trace context in its headers) and how a
//! queue is consumed (manual acks, prefetch, delivery limit, dead letters), and how to
//! come back after the broker goes away: every user runs inside a loop that reconnects
//! with backoff, instead of relying on the client library's own recovery.

mod config;
mod consume;
mod context;
mod incoming;
mod metrics;
mod publish;
mod topology;

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use backon::{BackoffBuilder, ExponentialBuilder};
use lapin::{Connection, ConnectionProperties, uri::AMQPUri};
use tokio_util::sync::CancellationToken;

pub use config::ConsumerConfig;
pub use consume::{Handler, Outcome, consume, spawn_consumer};
pub use incoming::{Incoming, Unreadable};
pub use publish::{CONFIRM_TIMEOUT, Outgoing, PublishError, Publisher};
pub use topology::{
    DEAD_LETTER_EXCHANGE, ORDER_EVENTS_EXCHANGE, ORDERS_EXCHANGE, QUEUES, QueueSpec,
    dead_letter_queue, declare_topology,
};

pub use lapin;

/// How long connecting, or setting up channels on a fresh connection, may take. A
/// broker that is starting or stopping can accept a socket and then never answer.
pub const SETUP_TIMEOUT: Duration = Duration::from_secs(15);

/// The largest frame a connection asks for, in bytes: the smallest this client takes. The
/// client keeps two buffers of 32 frames per connection, so RabbitMQ's default (128 KiB)
/// would hold 8 MiB per connection for messages of a few hundred bytes; a larger body
/// simply goes in several frames.
pub const FRAME_MAX: u32 = 8192;

/// Why a session with the broker ended.
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    #[error(transparent)]
    Broker(#[from] lapin::Error),
    #[error(transparent)]
    Publish(#[from] PublishError),
    #[error("the broker ended the consumer")]
    ConsumerClosed,
    #[error("the broker did not answer a {0} in time")]
    Stalled(&'static str),
}

/// Where the broker is, and whether this process's sessions with it are up right now.
#[derive(Clone)]
pub struct Broker {
    url: String,
    name: String,
    sessions: Arc<Sessions>,
}

#[derive(Default)]
struct Sessions {
    /// Supervised tasks that want a session.
    wanted: AtomicUsize,
    /// Of those, the ones whose session is up.
    live: AtomicUsize,
}

/// Marks one session up until dropped.
pub struct LiveSession(Arc<Sessions>);

impl Drop for LiveSession {
    fn drop(&mut self) {
        self.0.live.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Broker {
    /// `name` shows up in the broker's connection list.
    pub fn new(url: impl Into<String>, name: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            name: name.into(),
            sessions: Arc::default(),
        }
    }

    /// True while every supervised task has its session up; readiness reports it.
    pub fn is_connected(&self) -> bool {
        let wanted = self.sessions.wanted.load(Ordering::SeqCst);
        wanted > 0 && self.sessions.live.load(Ordering::SeqCst) >= wanted
    }

    /// A readiness probe: fine while [`Broker::is_connected`].
    pub fn probe(
        &self,
    ) -> impl Fn() -> std::future::Ready<Result<(), String>> + Send + Sync + 'static {
        let broker = self.clone();
        move || {
            std::future::ready(if broker.is_connected() {
                Ok(())
            } else {
                Err("not connected to RabbitMQ".to_owned())
            })
        }
    }

    /// Called by a session once it is set up; it counts as up until the guard drops.
    pub fn mark_live(&self) -> LiveSession {
        self.sessions.live.fetch_add(1, Ordering::SeqCst);
        LiveSession(self.sessions.clone())
    }

    /// One connection attempt, with frames of at most [`FRAME_MAX`] unless the URL asks
    /// for another size (`?frame_max=`).
    pub async fn connect(&self) -> Result<Connection, lapin::Error> {
        let properties =
            ConnectionProperties::default().with_connection_name(self.name.clone().into());
        let mut uri: AMQPUri = self
            .url
            .parse()
            .map_err(|why: String| std::io::Error::new(std::io::ErrorKind::InvalidInput, why))?;
        uri.query.frame_max.get_or_insert(FRAME_MAX);
        Connection::connect_uri(uri, properties).await
    }

    /// Runs `session` again and again until `shutdown`: each run gets a fresh connection;
    /// when it fails (the broker went away, a channel closed), the next attempt waits a
    /// little longer, up to 10 s, and the wait resets after a session that lasted.
    pub async fn supervise<F, Fut>(&self, what: &str, shutdown: CancellationToken, mut session: F)
    where
        F: FnMut(Connection) -> Fut,
        Fut: std::future::Future<Output = Result<(), LinkError>>,
    {
        self.sessions.wanted.fetch_add(1, Ordering::SeqCst);
        let _unwant = scopeguard(&self.sessions);
        let mut backoff = reconnect_backoff();
        while !shutdown.is_cancelled() {
            let started = tokio::time::Instant::now();
            let outcome = match tokio::time::timeout(SETUP_TIMEOUT, self.connect()).await {
                Ok(Ok(connection)) => session(connection).await,
                Ok(Err(err)) => Err(LinkError::Broker(err)),
                Err(_) => Err(LinkError::Stalled("connect")),
            };
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

/// Takes a supervised task off the count when it ends, however it ends.
fn scopeguard(sessions: &Arc<Sessions>) -> impl Drop + use<> {
    struct Unwant(Arc<Sessions>);
    impl Drop for Unwant {
        fn drop(&mut self) {
            self.0.wanted.fetch_sub(1, Ordering::SeqCst);
        }
    }
    Unwant(sessions.clone())
}

fn reconnect_backoff() -> impl Iterator<Item = Duration> {
    ExponentialBuilder::default()
        .with_min_delay(Duration::from_millis(200))
        .with_max_delay(Duration::from_secs(10))
        .with_jitter()
        .without_max_times()
        .build()
}
