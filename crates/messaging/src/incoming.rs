//! A delivered message as a handler sees it, and how it is read as the event it names.

use serde::de::DeserializeOwned;
use wire::events::Event;

/// A delivered message, as a handler sees it.
#[derive(Debug, Clone)]
pub struct Incoming {
    pub message_id: String,
    pub kind: String,
    pub routing_key: String,
    pub redelivered: bool,
    /// Deliveries of this message before this one (RabbitMQ's `x-delivery-count`).
    pub delivery_count: i64,
    pub body: Vec<u8>,
}

impl Incoming {
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_slice(&self.body)
    }

    /// The event's name: the AMQP `type`, else the routing key (on the topic exchange
    /// of outcomes, the name too).
    pub fn name(&self) -> &str {
        if self.kind.is_empty() {
            &self.routing_key
        } else {
            &self.kind
        }
    }

    /// Reads the message as an `E`. A message that names another event is refused; one
    /// that names none (a fanout message without a `type`) is read by its body alone.
    pub fn event<E: Event>(&self) -> Result<E, Unreadable> {
        let name = self.name();
        if !name.is_empty() && name != E::NAME {
            return Err(Unreadable::OtherEvent {
                expected: E::NAME,
                found: name.to_owned(),
            });
        }
        self.json().map_err(|source| Unreadable::Body {
            event: E::NAME,
            source,
        })
    }
}

/// Why a message cannot be read as the event a consumer expects: it never will be.
#[derive(Debug, thiserror::Error)]
pub enum Unreadable {
    #[error("a {found:?} message, not {expected}")]
    OtherEvent {
        expected: &'static str,
        found: String,
    },
    #[error("not a {event}: {source}")]
    Body {
        event: &'static str,
        source: serde_json::Error,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named(kind: &str, routing_key: &str, body: &str) -> Incoming {
        Incoming {
            kind: kind.into(),
            routing_key: routing_key.into(),
            body: body.as_bytes().to_vec(),
            message_id: "m".into(),
            redelivered: false,
            delivery_count: 0,
        }
    }

    #[test]
    fn an_event_is_read_by_its_name_and_a_message_naming_another_is_refused() {
        use wire::events::EmailSent;
        let id = "0b9e7d2a-58c4-4f13-a1e6-7d3f5c2b8a90";
        let body = format!(r#"{{"order_id":"{id}"}}"#);
        for message in [
            named("email.sent", "email.sent", &body),
            // No `type`: the routing key names it.
            named("", "email.sent", &body),
        ] {
            let sent: EmailSent = message.event().unwrap();
            assert_eq!(sent.order_id.to_string(), id);
        }
        let refused = [
            (
                named("payment.failed", "payment.failed", &body),
                "another event",
            ),
            (named("email.sent", "email.sent", "not json"), "not JSON"),
            (
                named("email.sent", "email.sent", r#"{"order_id":"x"}"#),
                "not a UUID",
            ),
        ];
        for (message, why) in refused {
            assert!(message.event::<EmailSent>().is_err(), "{why}");
        }
        let err = named("payment.failed", "", &body)
            .event::<EmailSent>()
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            r#"a "payment.failed" message, not email.sent"#
        );
    }
}
