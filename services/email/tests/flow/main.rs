//! email against a real PostgreSQL (one migrated database per test), a real RabbitMQ
//! (one vhost per test) and, for the SMTP path, a real SMTP server (aiosmtpd).

mod dev_outbox;
mod helpers;
mod smtp;
