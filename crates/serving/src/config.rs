//! Settings every service shares, read from flags or the environment (DESIGN.md "Wiring").

use std::time::Duration;

use clap::{Args, ValueEnum};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Json,
    Pretty,
}

#[derive(Debug, Clone, Args)]
pub struct ServeConfig {
    /// Port to listen on; each service has its own local default, 8080 in a cluster.
    #[arg(long, env = "PORT")]
    pub port: Option<u16>,
    /// Address to listen on.
    #[arg(long, env = "LISTEN_HOST", default_value = "0.0.0.0")]
    pub host: String,
    #[arg(long, env = "LOG_FORMAT", value_enum, default_value_t = LogFormat::Json)]
    pub log_format: LogFormat,
    /// A request that takes longer than this is answered 503.
    #[arg(long, env = "REQUEST_TIMEOUT_MS", default_value_t = 10_000)]
    pub request_timeout_ms: u64,
    /// Largest request body accepted; larger ones are answered 413.
    #[arg(long, env = "BODY_LIMIT_BYTES", default_value_t = 64 * 1024)]
    pub body_limit_bytes: usize,
    /// After SIGTERM, how long in-flight requests may take before the process exits.
    #[arg(long, env = "SHUTDOWN_GRACE_MS", default_value_t = 20_000)]
    pub shutdown_grace_ms: u64,
}

impl ServeConfig {
    pub fn request_timeout(&self) -> Duration {
        Duration::from_millis(self.request_timeout_ms)
    }

    pub fn shutdown_grace(&self) -> Duration {
        Duration::from_millis(self.shutdown_grace_ms)
    }

    /// Settings for tests: small limits, quick timeouts.
    pub fn for_tests() -> Self {
        Self {
            port: Some(0),
            host: "127.0.0.1".into(),
            log_format: LogFormat::Pretty,
            request_timeout_ms: 5_000,
            body_limit_bytes: 64 * 1024,
            shutdown_grace_ms: 1_000,
        }
    }
}
