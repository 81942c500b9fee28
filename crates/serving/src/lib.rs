//! The skeleton every microshop service stands on. A service's `main` reads its config,
//! calls [`telemetry::init`], builds its routes, wraps them with [`http::skeleton`] and
//! hands them to [`serve`].

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
pub mod telemetry;

pub use config::{LogFormat, ServeConfig};
pub use extract::{JsonBody, QueryParams};
pub use health::Readiness;
pub use problem::Problem;
pub use serve::{serve, serve_on, serve_until, shutdown_token};
pub use tokio_util::sync::CancellationToken;
