//! shipping over HTTP (quotes) and over RabbitMQ (shipments), against a real PostgreSQL
//! (one migrated database per test) and a real RabbitMQ (one vhost per test).

mod helpers;
mod quotes;
mod shipments;
