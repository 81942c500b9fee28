//! What a service published, as a test sees it: a private queue bound to an exchange,
//! read with a deadline instead of a sleep, each message as it came (to check the wire
//! format) or as the event it says it is.

use std::time::Duration;

use lapin::{
    Channel, Connection, ConnectionProperties, ExchangeKind,
    options::{BasicGetOptions, ExchangeDeclareOptions, QueueBindOptions, QueueDeclareOptions},
    types::FieldTable,
};
use serde_json::Value;
use wire::events::Event;

/// One message taken from the tap.
#[derive(Debug, Clone)]
pub struct Tapped {
    /// The AMQP `type` property: the event name.
    pub kind: String,
    pub message_id: String,
    pub routing_key: String,
    pub body: Value,
}

impl Tapped {
    /// The message as an `E`, failing the test unless it travelled as `E` says it does:
    /// its name, routing key and message id.
    pub fn event<E: Event>(&self) -> E {
        assert_eq!(self.kind, E::NAME, "the event's name: {self:?}");
        assert_eq!(self.routing_key, E::ROUTING_KEY, "routing key: {self:?}");
        let event: E = serde_json::from_value(self.body.clone())
            .unwrap_or_else(|err| panic!("not a {} ({err}): {self:?}", E::NAME));
        assert_eq!(self.message_id, event.message_id(), "message id: {self:?}");
        event
    }
}

/// An exclusive, server-named queue bound to a topic exchange; gone with the tap.
pub struct EventTap {
    _connection: Connection,
    channel: Channel,
    queue: String,
}

impl EventTap {
    /// Binds a new queue to the durable topic exchange `exchange` (declared the way the
    /// messaging crate declares it, in case the service has not yet) with `pattern`.
    pub async fn bind(amqp_url: &str, exchange: &str, pattern: &str) -> Self {
        let connection = Connection::connect(amqp_url, ConnectionProperties::default())
            .await
            .expect("connect the event tap");
        let channel = connection.create_channel().await.expect("tap channel");
        let durable = ExchangeDeclareOptions {
            durable: true,
            ..Default::default()
        };
        channel
            .exchange_declare(
                exchange.into(),
                ExchangeKind::Topic,
                durable,
                FieldTable::default(),
            )
            .await
            .expect("declare the tapped exchange");
        let exclusive = QueueDeclareOptions {
            exclusive: true,
            auto_delete: true,
            ..Default::default()
        };
        let queue = channel
            .queue_declare("".into(), exclusive, FieldTable::default())
            .await
            .expect("declare the tap queue")
            .name()
            .to_string();
        channel
            .queue_bind(
                queue.as_str().into(),
                exchange.into(),
                pattern.into(),
                QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await
            .expect("bind the tap queue");
        Self {
            _connection: connection,
            channel,
            queue,
        }
    }

    /// The next message, failing the test if none arrives within `limit`.
    pub async fn next(&self, limit: Duration) -> Tapped {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            if let Some(event) = self.try_next().await {
                return event;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "no event arrived within {limit:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Fails the test if a message arrives within `quiet`.
    pub async fn assert_quiet(&self, quiet: Duration) {
        let deadline = tokio::time::Instant::now() + quiet;
        while tokio::time::Instant::now() < deadline {
            if let Some(event) = self.try_next().await {
                panic!("expected no further event, got {event:?}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn try_next(&self) -> Option<Tapped> {
        let message = self
            .channel
            .basic_get(self.queue.as_str().into(), BasicGetOptions { no_ack: true })
            .await
            .expect("read the tap queue")?;
        let properties = &message.delivery.properties;
        let text = |value: &Option<lapin::types::ShortString>| {
            value.as_ref().map(|s| s.to_string()).unwrap_or_default()
        };
        Some(Tapped {
            kind: text(properties.kind()),
            message_id: text(properties.message_id()),
            routing_key: message.delivery.routing_key.to_string(),
            body: serde_json::from_slice(&message.delivery.data).unwrap_or_else(|err| {
                panic!(
                    "event body is not JSON ({err}): {:?}",
                    message.delivery.data
                )
            }),
        })
    }
}
