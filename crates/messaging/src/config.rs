//! The settings every consuming service reads (DESIGN.md "Wiring").

use std::time::Duration;

use crate::Broker;

#[derive(Debug, Clone, clap::Args)]
pub struct ConsumerConfig {
    /// RabbitMQ, where messages come from and outcomes go.
    #[arg(long, env = "AMQP_URL")]
    pub amqp_url: String,
    /// The first pause before a message is handed back because a dependency (PostgreSQL,
    /// an SMTP relay) is unreachable; it doubles with each delivery (`Outcome::retry_later`), so
    /// the queue's delivery limit spans an outage rather than a few seconds.
    #[arg(long, env = "RETRY_PAUSE_MS", default_value_t = 5_000)]
    pub retry_pause_ms: u64,
}

impl ConsumerConfig {
    /// The broker, with `name` as the connection's name in RabbitMQ.
    pub fn broker(&self, name: &str) -> Broker {
        Broker::new(&self.amqp_url, name)
    }

    pub fn retry_pause(&self) -> Duration {
        Duration::from_millis(self.retry_pause_ms)
    }
}
