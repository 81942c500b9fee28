//! payment against a real PostgreSQL (one migrated database per test) and a real
//! RabbitMQ (one vhost per test): orders published as checkout publishes them, outcomes
//! read from `order-events`.

mod charges;
mod helpers;
mod outage;
