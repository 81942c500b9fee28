//! Consuming with manual acks. Up to the prefetch count of deliveries are handled at
//! once. A handler says what became of each message; the loop acks it, hands it back
//! after a pause (reject with requeue, which counts toward the queue's delivery limit)
//! while it goes on with the next deliveries, or dead-letters it, and on SIGTERM
//! finishes the messages in hand and hands back the paused ones before it stops.

use std::{future::Future, sync::Arc, time::Duration};

use futures::{StreamExt, stream::FuturesUnordered};
use lapin::{
    Acker,
    message::Delivery,
    options::{
        BasicAckOptions, BasicConsumeOptions, BasicQosOptions, BasicRejectOptions,
        QueueDeclareOptions,
    },
    types::{AMQPValue, FieldTable},
};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;
use tracing_opentelemetry::OpenTelemetrySpanExt;

use crate::{Broker, Incoming, LinkError, Publisher, QueueSpec, SETUP_TIMEOUT, context};

/// How often an idle consumer checks that its connection is still up.
const LINK_CHECK: std::time::Duration = std::time::Duration::from_secs(2);

/// What became of a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Done (or done before: a duplicate). Removed from the queue.
    Ack,
    /// Failed for a reason that may pass (a dependency down): handed back to the queue
    /// after this pause, and delivered again until the queue's delivery limit sends it to
    /// the dead-letter queue. The consumer goes on with other deliveries meanwhile.
    RetryAfter(Duration),
    /// Can never succeed (unreadable, invalid). Straight to the dead-letter queue.
    DeadLetter,
}

impl Outcome {
    /// What a handler answers when a dependency failed in a way that may pass (the
    /// database is away): retry after `pause`, doubled with each earlier delivery (up to
    /// 16 ×), so the queue's delivery limit (5) spans an outage of 31 pauses, not a few
    /// milliseconds.
    pub fn retry_later(pause: Duration, message: &Incoming) -> Self {
        let doubled = 1u32 << message.delivery_count.clamp(0, 4);
        Outcome::RetryAfter(pause * doubled)
    }
}

pub trait Handler: Send + Sync + 'static {
    /// Handles one message. `publisher` shares the consumer's connection, so outcome
    /// events go out on the same link the message came in on.
    fn handle(
        &self,
        message: Incoming,
        publisher: &Publisher,
    ) -> impl Future<Output = Outcome> + Send;
}

/// Runs [`consume`] among a service's background tasks, until they are stopped.
pub fn spawn_consumer<H: Handler>(
    background: &mut serving::Background,
    broker: &Broker,
    spec: QueueSpec,
    prefetch: u16,
    handler: Arc<H>,
) {
    let broker = broker.clone();
    background.spawn(move |stop| consume(broker, spec, prefetch, handler, stop));
}

/// Consumes `spec`'s queue until `shutdown`, reconnecting whenever the broker goes away.
pub async fn consume<H: Handler>(
    broker: Broker,
    spec: QueueSpec,
    prefetch: u16,
    handler: Arc<H>,
    shutdown: CancellationToken,
) {
    let what = format!("consume {}", spec.name);
    broker
        .supervise(&what, shutdown.clone(), |connection| {
            let (broker, handler, shutdown) = (broker.clone(), handler.clone(), shutdown.clone());
            async move {
                let publisher = Publisher::open(&connection).await?;
                let setup = async {
                    let channel = connection.create_channel().await?;
                    channel
                        .basic_qos(prefetch, BasicQosOptions::default())
                        .await?;
                    let deliveries = channel
                        .basic_consume(
                            spec.name.into(),
                            "".into(),
                            BasicConsumeOptions::default(),
                            FieldTable::default(),
                        )
                        .await?;
                    Ok::<_, lapin::Error>((channel, deliveries))
                };
                let (channel, mut deliveries) =
                    tokio::time::timeout(SETUP_TIMEOUT, setup)
                        .await
                        .map_err(|_| LinkError::Stalled("consumer setup"))??;
                let _live = broker.mark_live();
                tracing::info!(queue = spec.name, prefetch, "consuming");
                // A quiet queue on a dead link would wait forever: look at the link now and then,
                // and at how many messages wait.
                let mut link_check = tokio::time::interval(LINK_CHECK);
                // Deliveries being handled, up to `prefetch` at once: each waits on its
                // database and its outcome's confirm, so one at a time would leave the
                // broker's prefetch window idle most of the time.
                let mut in_hand = FuturesUnordered::new();
                // Messages waiting out their pause before they are handed back.
                let mut paused = tokio::task::JoinSet::new();
                loop {
                    tokio::select! {
                        biased;
                        _ = shutdown.cancelled() => break,
                        // Before deliveries, so a busy queue still reports its lag.
                        _ = link_check.tick() => {
                            if !connection.status().connected() {
                                return Err(LinkError::ConsumerClosed);
                            }
                            report_lag(&channel, spec.name).await?;
                        }
                        Some(settled) = in_hand.next(), if !in_hand.is_empty() => {
                            if let Some((acker, pause)) = settled? {
                                paused.spawn(hand_back_after(acker, pause, shutdown.clone()));
                            }
                            // Forget the hand-backs already done.
                            while paused.try_join_next().is_some() {}
                        }
                        delivery = deliveries.next(), if in_hand.len() < usize::from(prefetch.max(1)) => {
                            let delivery = match delivery {
                                Some(delivery) => delivery?,
                                None => return Err(LinkError::ConsumerClosed),
                            };
                            in_hand.push(process(spec.name, delivery, &*handler, &publisher));
                        }
                    }
                }
                // On shutdown, finish the deliveries in hand (the broker would redeliver
                // them anyway, but a finished one is not done twice).
                while let Some(settled) = in_hand.next().await {
                    if let Some((acker, pause)) = settled? {
                        paused.spawn(hand_back_after(acker, pause, shutdown.clone()));
                    }
                }
                // Shutdown cuts the pauses short: hand everything back before closing.
                while paused.join_next().await.is_some() {}
                let _ = connection.close(200, "shutting down".into()).await;
                Ok(())
            }
        })
        .await;
}

/// Handles one delivery and settles it, or, for a retry, returns its acker and the pause
/// after which to hand it back.
async fn process<H: Handler>(
    queue: &str,
    delivery: Delivery,
    handler: &H,
    publisher: &Publisher,
) -> Result<Option<(Acker, Duration)>, LinkError> {
    let headers = delivery.properties.headers().clone().unwrap_or_default();
    let message = Incoming {
        message_id: delivery
            .properties
            .message_id()
            .as_ref()
            .map(|s| s.to_string())
            .unwrap_or_default(),
        kind: delivery
            .properties
            .kind()
            .as_ref()
            .map(|s| s.to_string())
            .unwrap_or_default(),
        routing_key: delivery.routing_key.to_string(),
        redelivered: delivery.redelivered,
        delivery_count: delivery_count(&headers),
        body: delivery.data.clone(),
    };
    let span = tracing::info_span!(
        "process",
        otel.name = format!("{queue} process"),
        otel.kind = "consumer",
        messaging.system = "rabbitmq",
        messaging.operation.type = "process",
        messaging.destination.name = queue,
        messaging.message.id = message.message_id.as_str(),
        messaging.message.type = message.kind.as_str(),
        messaging.rabbitmq.delivery_count = delivery_count(&headers),
        outcome = tracing::field::Empty,
    );
    let _ = span.set_parent(context::extract(&headers));
    let started = std::time::Instant::now();
    let outcome = handler
        .handle(message, publisher)
        .instrument(span.clone())
        .await;
    crate::metrics::processed(queue, outcome, started.elapsed());
    span.record("outcome", format!("{outcome:?}"));
    let settle = async {
        match outcome {
            Outcome::Ack => delivery.ack(BasicAckOptions::default()).await,
            Outcome::RetryAfter(pause) if !pause.is_zero() => return Ok(Some(pause)),
            Outcome::RetryAfter(_) => delivery.reject(BasicRejectOptions { requeue: true }).await,
            Outcome::DeadLetter => delivery.reject(BasicRejectOptions { requeue: false }).await,
        }
        .map(|_| None)
    };
    // An ack on a connection that died under it may never resolve: end the session and
    // reconnect; the broker redelivers what was not acked, and handlers are idempotent.
    match tokio::time::timeout(crate::CONFIRM_TIMEOUT, settle).await {
        Ok(Ok(Some(pause))) => Ok(Some((delivery.acker, pause))),
        Ok(result) => result.map(|_| None).map_err(LinkError::from),
        Err(_) => Err(LinkError::Stalled("ack")),
    }
}

/// Hands a message back to its queue once `pause` is over, or at once on shutdown. A
/// hand-back that fails (the link died) needs no retry: the broker redelivers every
/// message that was not acked.
async fn hand_back_after(acker: Acker, pause: Duration, shutdown: CancellationToken) {
    tokio::select! {
        _ = tokio::time::sleep(pause) => {}
        _ = shutdown.cancelled() => {}
    }
    let reject = acker.reject(BasicRejectOptions { requeue: true });
    match tokio::time::timeout(crate::CONFIRM_TIMEOUT, reject).await {
        Ok(Ok(_)) => {}
        Ok(Err(err)) => tracing::debug!(error = %err, "hand-back failed; the broker redelivers"),
        Err(_) => tracing::debug!("hand-back stalled; the broker redelivers"),
    }
}

/// Records how many messages wait in `queue`, asked with a passive declare.
async fn report_lag(channel: &lapin::Channel, queue: &str) -> Result<(), LinkError> {
    let passive = QueueDeclareOptions {
        passive: true,
        ..Default::default()
    };
    let declare = channel.queue_declare(queue.into(), passive, FieldTable::default());
    match tokio::time::timeout(SETUP_TIMEOUT, declare).await {
        Ok(declared) => {
            crate::metrics::ready(queue, declared?.message_count());
            Ok(())
        }
        Err(_) => Err(LinkError::Stalled("queue declare")),
    }
}

/// How many times a quorum queue delivered this message before (header set by RabbitMQ).
fn delivery_count(headers: &FieldTable) -> i64 {
    match headers.inner().get("x-delivery-count") {
        Some(AMQPValue::LongLongInt(n)) => *n,
        Some(AMQPValue::LongInt(n)) => i64::from(*n),
        Some(AMQPValue::LongUInt(n)) => i64::from(*n),
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn delivered(earlier: i64) -> Incoming {
        Incoming {
            message_id: "m".into(),
            kind: "order.placed".into(),
            routing_key: String::new(),
            redelivered: earlier > 0,
            delivery_count: earlier,
            body: Vec::new(),
        }
    }

    #[test]
    fn the_pause_before_a_retry_doubles_with_each_delivery_up_to_sixteen_times() {
        let pause = Duration::from_secs(5);
        for (earlier, waits) in [(0, 5), (1, 10), (2, 20), (3, 40), (4, 80), (9, 80)] {
            assert_eq!(
                Outcome::retry_later(pause, &delivered(earlier)),
                Outcome::RetryAfter(Duration::from_secs(waits)),
                "after {earlier}"
            );
        }
    }
}
