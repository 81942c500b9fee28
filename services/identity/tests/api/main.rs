//! identity over HTTP against a real PostgreSQL, one migrated database per test.

mod auth;
mod bad_input;
mod helpers;
mod me;
mod outage;
