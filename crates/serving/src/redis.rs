//! Redis the same way in every service: a connection manager that reconnects by itself,
//! bounded waits so an outage is a quick 503, and a readiness probe.

use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use crate::{Problem, Readiness};

/// Connects, retrying with backoff for about a minute while the server is not there yet.
pub async fn connect(url: &str) -> anyhow::Result<ConnectionManager> {
    let client = redis::Client::open(url)?;
    let config = ConnectionManagerConfig::new()
        .set_connection_timeout(Some(Duration::from_secs(2)))
        .set_response_timeout(Some(Duration::from_secs(2)))
        .set_number_of_retries(2)
        .set_max_delay(Duration::from_secs(1));
    let attempt =
        || async { ConnectionManager::new_with_config(client.clone(), config.clone()).await };
    let manager = attempt
        .retry(
            ExponentialBuilder::default()
                .with_min_delay(Duration::from_millis(200))
                .with_max_delay(Duration::from_secs(5))
                .with_total_delay(Some(Duration::from_secs(60)))
                .without_max_times(),
        )
        .notify(|err, after| tracing::warn!(error = %err, retry_in_ms = after.as_millis() as u64, "redis not ready"))
        .await?;
    Ok(manager)
}

/// Adds a `redis` probe that sends `PING`.
pub fn readiness(readiness: Readiness, connection: ConnectionManager) -> Readiness {
    readiness.with_check("redis", move || {
        let mut connection = connection.clone();
        async move {
            redis::cmd("PING")
                .query_async::<String>(&mut connection)
                .await
                .map(drop)
                .map_err(|err| err.to_string())
        }
    })
}

/// Whether an error means Redis cannot serve us for now: unreachable, or up but refusing
/// (still loading its append-only file after a restart, a replica promoted, a cluster
/// re-forming, or full: `OOM` past its `maxmemory`, until carts expire). Such errors are
/// 503s and retried later.
pub fn is_unavailable(err: &redis::RedisError) -> bool {
    use redis::{ErrorKind, ServerErrorKind};
    err.code() == Some("OOM")
        || err.is_io_error()
        || err.is_connection_dropped()
        || err.is_connection_refusal()
        || err.is_timeout()
        || matches!(
            err.kind(),
            ErrorKind::Server(
                ServerErrorKind::BusyLoading
                    | ServerErrorKind::TryAgain
                    | ServerErrorKind::MasterDown
                    | ServerErrorKind::ClusterDown
                    | ServerErrorKind::ReadOnly
            )
        )
}

impl From<redis::RedisError> for Problem {
    fn from(err: redis::RedisError) -> Self {
        if is_unavailable(&err) {
            Problem::unavailable("redis")
        } else {
            Problem::internal(&err)
        }
    }
}

#[cfg(test)]
mod tests {
    use redis::{ErrorKind, RedisError, ServerErrorKind};

    use super::is_unavailable;

    #[test]
    fn a_refusing_redis_is_unavailable_and_a_bad_command_is_not() {
        for kind in [
            ServerErrorKind::BusyLoading,
            ServerErrorKind::TryAgain,
            ServerErrorKind::MasterDown,
            ServerErrorKind::ClusterDown,
            ServerErrorKind::ReadOnly,
        ] {
            let err = RedisError::from((ErrorKind::Server(kind), "refused for now"));
            assert!(is_unavailable(&err), "{kind:?}");
        }
        let full = redis::make_extension_error(
            "OOM".into(),
            Some("command not allowed when used memory > 'maxmemory'".into()),
        );
        assert!(is_unavailable(&full), "a full Redis");
        for kind in [ServerErrorKind::ResponseError, ServerErrorKind::NoScript] {
            let err = RedisError::from((ErrorKind::Server(kind), "a bad command"));
            assert!(!is_unavailable(&err), "{kind:?}");
        }
    }
}
