//! The skeleton every microshop service stands on. A service implements [`Service`]
//! (build from its config, then start: routes wrapped by [`http::skeleton`], and its
//! background tasks), and its `main` is [`run`].

pub mod client;
pub mod config;
pub mod extract;
pub mod health;
pub mod http;
pub mod metrics;
pub mod owner;
#[cfg(feature = "postgres")]
pub mod postgres;
pub mod problem;
#[cfg(feature = "redis")]
pub mod redis;
pub mod serve;
pub mod service;
pub mod telemetry;

pub use config::{LogFormat, ServeConfig};
pub use extract::{JsonBody, QueryParams};
pub use health::Readiness;
pub use problem::Problem;
pub use serve::{serve_on, serve_until, shutdown_token};
pub use service::{Background, Service, Started, run, serve_started};
pub use tokio_util::sync::CancellationToken;
