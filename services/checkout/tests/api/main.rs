//! checkout against the real PostgreSQL, Redis and RabbitMQ, with the real cart and
//! catalog running in process. One test binary, so the suite links once.

mod bad_input;
mod broker_outage;
mod card_secrecy;
mod events;
mod harness;
mod idempotency;
mod logs;
mod orders;
