//! Publishing with confirms: a message counts as sent only once the broker has taken
//! responsibility for it (confirmed, and routed to at least one queue).

use lapin::{
    BasicProperties, Channel, Confirmation, Connection,
    options::{BasicPublishOptions, ConfirmSelectOptions},
    types::FieldTable,
};
use tracing::Instrument;
use wire::events::Event;

use crate::{LinkError, SETUP_TIMEOUT, context, topology::declare_topology};

#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("broker: {0}")]
    Broker(#[from] lapin::Error),
    #[error("the broker refused the message (nack)")]
    Nacked,
    #[error("no queue is bound for routing key {0:?}; the message was returned")]
    Unroutable(String),
    #[error("publisher confirms are not enabled on this channel")]
    ConfirmsOff,
    #[error("no confirm within {0:?}")]
    Unconfirmed(std::time::Duration),
    #[error("the event cannot be written as JSON: {0}")]
    Encode(#[from] serde_json::Error),
}

/// How long a publish may wait for the broker's confirm.
pub const CONFIRM_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// One message to send as it is, where no [`Event`] describes it (a test's poison).
#[derive(Debug, Clone)]
pub struct Outgoing<'a> {
    pub exchange: &'a str,
    pub routing_key: &'a str,
    /// Stable id of what the message is about; consumers deduplicate on it.
    pub message_id: &'a str,
    /// The event name, e.g. `order.placed`.
    pub kind: &'a str,
    pub body: &'a [u8],
}

/// A confirm-mode channel.
#[derive(Clone)]
pub struct Publisher {
    channel: Channel,
}

impl Publisher {
    /// Opens a channel in confirm mode and declares the topology on it.
    pub async fn open(connection: &Connection) -> Result<Self, LinkError> {
        let open = async {
            let channel = connection.create_channel().await?;
            channel
                .confirm_select(ConfirmSelectOptions::default())
                .await?;
            declare_topology(&channel).await?;
            Ok::<_, lapin::Error>(Self { channel })
        };
        match tokio::time::timeout(SETUP_TIMEOUT, open).await {
            Ok(opened) => Ok(opened?),
            Err(_) => Err(LinkError::Stalled("channel setup")),
        }
    }

    /// Publishes `event` to its exchange, with its routing key, message id and name
    /// (the AMQP `type`), as a persistent JSON message carrying the current trace
    /// context, and waits for the broker's confirm.
    pub async fn publish<E: Event>(&self, event: &E) -> Result<(), PublishError> {
        let body = serde_json::to_vec(event)?;
        let message_id = event.message_id();
        self.publish_raw(Outgoing {
            exchange: E::EXCHANGE,
            routing_key: E::ROUTING_KEY,
            message_id: &message_id,
            kind: E::NAME,
            body: &body,
        })
        .await
    }

    /// Publishes `message` as given, like [`Publisher::publish`] does an event.
    pub async fn publish_raw(&self, message: Outgoing<'_>) -> Result<(), PublishError> {
        let span = tracing::info_span!(
            "publish",
            otel.name = format!("{} publish", message.exchange),
            otel.kind = "producer",
            messaging.system = "rabbitmq",
            messaging.operation.type = "send",
            messaging.destination.name = message.exchange,
            messaging.rabbitmq.destination.routing_key = message.routing_key,
            messaging.message.id = message.message_id,
            messaging.message.type = message.kind,
        );
        let exchange = message.exchange;
        let result = self.publish_in_span(message).instrument(span).await;
        crate::metrics::published(exchange, result.is_ok());
        result
    }

    async fn publish_in_span(&self, message: Outgoing<'_>) -> Result<(), PublishError> {
        let mut headers = FieldTable::default();
        context::inject_current(&mut headers);
        let properties = BasicProperties::default()
            .with_delivery_mode(2) // persistent
            .with_content_type("application/json".into())
            .with_message_id(message.message_id.into())
            .with_type(message.kind.into())
            .with_timestamp(unix_seconds())
            .with_headers(headers);
        let publish = self.channel.basic_publish(
            message.exchange.into(),
            message.routing_key.into(),
            BasicPublishOptions {
                mandatory: true,
                ..Default::default()
            },
            message.body,
            properties,
        );
        // A confirm that never comes (the connection died under it) must not hold the
        // caller forever: past the limit the message counts as not sent.
        let confirmation = tokio::time::timeout(CONFIRM_TIMEOUT, async { publish.await?.await })
            .await
            .map_err(|_| PublishError::Unconfirmed(CONFIRM_TIMEOUT))??;
        match confirmation {
            // With `mandatory`, an unroutable message is acked AND returned: not sent.
            Confirmation::Ack(Some(_returned)) => {
                Err(PublishError::Unroutable(message.routing_key.to_owned()))
            }
            Confirmation::Ack(None) => Ok(()),
            Confirmation::Nack(_) => Err(PublishError::Nacked),
            Confirmation::NotRequested => Err(PublishError::ConfirmsOff),
        }
    }
}

fn unix_seconds() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
