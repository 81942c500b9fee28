//! The outbox relay: publishes the `outbox` rows that `POST /orders` commits to the
//! `orders` exchange, and marks a row sent only after the broker confirmed it. A row is
//! therefore published at least once; consumers deduplicate on the message id (the
//! order id). Several replicas can relay at once: each claims rows with SKIP LOCKED.

use std::{sync::Arc, time::Duration};

use futures::future::join_all;

use axum::http::{HeaderMap, HeaderValue};
use messaging::{Broker, LinkError, PublishError, Publisher};
use serving::CancellationToken;
use sqlx::{PgPool, types::Json};
use tokio::sync::Notify;
use tracing::Instrument;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use uuid::Uuid;
use wire::events::OrderPlaced;

/// Rows claimed per transaction.
const BATCH: i64 = 50;
/// With nothing pending, look again this often even without a wake-up (another replica
/// may have taken the order, or a wake-up came while a batch was running).
const IDLE_POLL: Duration = Duration::from_secs(1);
/// After a database error, wait this long before trying again.
const DATABASE_PAUSE: Duration = Duration::from_millis(500);

pub struct OutboxRelay {
    pool: PgPool,
    broker: Broker,
    wake: Arc<Notify>,
}

/// An unsent row. The outbox carries `order.placed` only; its body is read as one row by
/// row, so a row that cannot be read holds up no other.
#[derive(sqlx::FromRow)]
struct Pending {
    id: i64,
    order_id: Uuid,
    body: Json<serde_json::Value>,
    traceparent: Option<String>,
    tracestate: Option<String>,
}

enum BatchError {
    /// The broker link is gone or refused a message: a new session is needed.
    Broker(PublishError),
    /// PostgreSQL failed; the broker session is fine and is kept.
    Database(sqlx::Error),
}

impl From<sqlx::Error> for BatchError {
    fn from(err: sqlx::Error) -> Self {
        Self::Database(err)
    }
}

impl OutboxRelay {
    pub fn new(pool: PgPool, broker: Broker, wake: Arc<Notify>) -> Self {
        Self { pool, broker, wake }
    }

    /// Relays until `shutdown`, reconnecting to the broker with backoff whenever the
    /// session ends. Orders keep being taken meanwhile; they wait in the outbox.
    pub async fn run(self, shutdown: CancellationToken) {
        let relay = Arc::new(self);
        relay
            .broker
            .clone()
            .supervise("outbox relay", shutdown.clone(), |connection| {
                let (relay, shutdown) = (relay.clone(), shutdown.clone());
                async move { relay.session(connection, shutdown).await }
            })
            .await;
    }

    async fn session(
        &self,
        connection: messaging::lapin::Connection,
        shutdown: CancellationToken,
    ) -> Result<(), LinkError> {
        let publisher = Publisher::open(&connection).await?;
        let _live = self.broker.mark_live();
        tracing::info!("outbox relay connected");
        while !shutdown.is_cancelled() {
            match self.relay_batch(&publisher).await {
                Ok(claimed) if claimed as i64 == BATCH => continue,
                Ok(_) => self.idle(&shutdown).await,
                Err(BatchError::Broker(err)) => return Err(err.into()),
                Err(BatchError::Database(err)) => {
                    tracing::warn!(error = %err, "outbox relay: database error; retrying");
                    tokio::select! {
                        _ = tokio::time::sleep(DATABASE_PAUSE) => {}
                        _ = shutdown.cancelled() => {}
                    }
                }
            }
            // A dropped link is noticed here even when there is nothing to publish, so
            // readiness does not report a dead session as live.
            if !connection.status().connected() {
                return Err(LinkError::Broker(lost_connection()));
            }
        }
        let _ = connection.close(200, "shutting down".into()).await;
        Ok(())
    }

    async fn idle(&self, shutdown: &CancellationToken) {
        tokio::select! {
            _ = self.wake.notified() => {}
            _ = tokio::time::sleep(IDLE_POLL) => {}
            _ = shutdown.cancelled() => {}
        }
    }

    /// Publishes up to [`BATCH`] pending rows, all at once on the one channel, and then
    /// marks the confirmed ones sent in one statement; answers how many it claimed. On a
    /// publish failure, the rows confirmed beside it are still committed as sent.
    async fn relay_batch(&self, publisher: &Publisher) -> Result<usize, BatchError> {
        // The poll itself is not traced: it runs every second, mostly finding nothing,
        // and would be a root trace each time. Each row's work joins the order's trace.
        let mut tx = self.pool.begin().await?;
        let pending: Vec<Pending> = sqlx::query_as(
            "SELECT id, order_id, body, traceparent, tracestate FROM outbox
             WHERE sent_at IS NULL ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED",
        )
        .bind(BATCH)
        .fetch_all(&mut *tx)
        .await?;
        // Confirms are awaited together: one at a time, each row would wait a round
        // trip and a disk write of the broker's before the next could go.
        let outcomes = join_all(pending.iter().map(|row| relay_row(publisher, row))).await;
        let mut sent = Vec::with_capacity(outcomes.len());
        let mut failure = None;
        for (row, outcome) in pending.iter().zip(outcomes) {
            match outcome {
                Ok(true) => sent.push(row.id),
                Ok(false) => {}
                Err(err) => failure = failure.or(Some(err)),
            }
        }
        if !sent.is_empty() {
            sqlx::query("UPDATE outbox SET sent_at = now() WHERE id = ANY($1)")
                .bind(&sent)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        match failure {
            Some(err) => Err(BatchError::Broker(err)),
            None => Ok(pending.len()),
        }
    }
}

/// Publishes one row in its order's trace: `Ok(true)` once confirmed, `Ok(false)` for a
/// row that is not an `order.placed` (left unsent, logged).
async fn relay_row(publisher: &Publisher, row: &Pending) -> Result<bool, PublishError> {
    let span = relay_span(row);
    let event = match serde_json::from_value::<OrderPlaced>(row.body.0.clone()) {
        Ok(event) => event,
        Err(err) => {
            span.in_scope(
                || tracing::error!(error = %err, "outbox row is not an order.placed; left unsent"),
            );
            return Ok(false);
        }
    };
    publisher.publish(&event).instrument(span).await?;
    Ok(true)
}

/// The span of one row's relay: it continues the trace of the request that took the order.
fn relay_span(row: &Pending) -> tracing::Span {
    let span = tracing::info_span!("outbox.relay", order.id = %row.order_id, outbox.id = row.id);
    let _ = span.set_parent(serving::telemetry::extract_context(&trace_headers(row)));
    span
}

fn trace_headers(row: &Pending) -> HeaderMap {
    let mut headers = HeaderMap::new();
    for (name, value) in [
        ("traceparent", &row.traceparent),
        ("tracestate", &row.tracestate),
    ] {
        if let Some(value) = value.as_deref().and_then(|v| HeaderValue::from_str(v).ok()) {
            headers.insert(name, value);
        }
    }
    headers
}

fn lost_connection() -> messaging::lapin::Error {
    std::io::Error::new(
        std::io::ErrorKind::ConnectionAborted,
        "the connection to RabbitMQ was lost",
    )
    .into()
}
