//! PostgreSQL the same way in every service: a pool that fails fast while the server is
//! away and reconnects by itself, migrations at start, a readiness probe, and outages
//! answered 503.

use std::{fmt, str::FromStr, time::Duration};

use backon::{ExponentialBuilder, Retryable};
use sqlx::{
    PgPool,
    migrate::Migrator,
    postgres::{PgConnectOptions, PgPoolOptions},
};

use crate::{Problem, Readiness};

/// Where a service's database is: read from `DATABASE_URL`, or, in tests, taken from a
/// pool they already hold (`#[sqlx::test]`'s, a schema's, one behind an outage proxy).
#[derive(Clone)]
pub struct Database(PgConnectOptions);

impl Database {
    /// The database `pool` connects to, with the same options (search path included).
    pub fn of(pool: &PgPool) -> Self {
        Self((*pool.connect_options()).clone())
    }

    pub fn options(&self) -> &PgConnectOptions {
        &self.0
    }

    /// Connects and migrates with `migrator`: see [`connect_and_migrate`].
    pub async fn connect_and_migrate(&self, migrator: &'static Migrator) -> anyhow::Result<PgPool> {
        connect_and_migrate(self.0.clone(), migrator).await
    }
}

impl From<PgConnectOptions> for Database {
    fn from(options: PgConnectOptions) -> Self {
        Self(options)
    }
}

impl FromStr for Database {
    type Err = sqlx::Error;

    fn from_str(url: &str) -> Result<Self, Self::Err> {
        url.parse().map(Self)
    }
}

/// Never shows the password, so a config can be logged.
impl fmt::Debug for Database {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Database")
            .field("host", &self.0.get_host())
            .field("port", &self.0.get_port())
            .field("database", &self.0.get_database())
            .field("username", &self.0.get_username())
            .finish_non_exhaustive()
    }
}

/// Pool settings: a request waits at most `acquire_timeout` for a connection, so an
/// outage becomes a quick 503 rather than a hung request.
pub fn pool_options() -> PgPoolOptions {
    PgPoolOptions::new()
        .max_connections(16)
        .min_connections(1)
        .acquire_timeout(Duration::from_secs(2))
        .test_before_acquire(true)
}

/// Connects and migrates, retrying with backoff while the server is not there yet
/// (services often start before their database). Gives up after about a minute so an
/// orchestrator can restart the process with its own backoff.
pub async fn connect_and_migrate(
    options: PgConnectOptions,
    migrator: &'static Migrator,
) -> anyhow::Result<PgPool> {
    let attempt = || async {
        let pool = pool_options().connect_with(options.clone()).await?;
        migrator.run(&pool).await?;
        anyhow::Ok(pool)
    };
    let pool = attempt
        .retry(
            ExponentialBuilder::default()
                .with_min_delay(Duration::from_millis(200))
                .with_max_delay(Duration::from_secs(5))
                .with_total_delay(Some(Duration::from_secs(60)))
                .without_max_times(),
        )
        .notify(|err, after| tracing::warn!(error = %err, retry_in_ms = after.as_millis() as u64, "database not ready"))
        .await?;
    Ok(pool)
}

/// Adds a `postgres` probe that runs `SELECT 1`.
pub fn readiness(readiness: Readiness, pool: PgPool) -> Readiness {
    readiness.with_check("postgres", move || {
        let pool = pool.clone();
        async move {
            sqlx::query("SELECT 1")
                .execute(&pool)
                .await
                .map(drop)
                .map_err(|err| err.to_string())
        }
    })
}

/// Logs a failed call whose work will be retried: a warning when the server is away
/// (expected during an outage), an error otherwise. `doing` names the work.
pub fn log_retried(err: &sqlx::Error, doing: &str) {
    if is_unavailable(err) {
        tracing::warn!(error = %err, "postgres unavailable while {doing}; it will be retried");
    } else {
        tracing::error!(error = %err, "{doing} failed; it will be retried");
    }
}

/// Whether an error means the server cannot serve us for now (unreachable, or up but
/// refusing), as opposed to a bad query: such errors are 503s and retried later.
pub fn is_unavailable(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => db
            .code()
            .is_some_and(|code| is_unavailable_code(&code, db.message())),
        _ => false,
    }
}

/// The SQLSTATEs of a server that is there but refuses for now: a restart, a failover, an
/// administrator, or no connection left.
pub fn is_unavailable_code(code: &str, message: &str) -> bool {
    // 08: connection exception.
    code.starts_with("08")
        // 57P01 terminated by the administrator, 57P02 crash shutdown, 57P03 starting up
        // or shutting down (57P04, the database dropped, is not "for now").
        || matches!(code, "57P01" | "57P02" | "57P03")
        // 53300: too many connections (for the server, the role or the database).
        || code == "53300"
        // 55000 is a broad class; only the database refusing connections (ALLOW_CONNECTIONS
        // false, as during maintenance or a failover) means "later".
        || (code == "55000" && message.contains("not currently accepting connections"))
}

impl From<sqlx::Error> for Problem {
    fn from(err: sqlx::Error) -> Self {
        if is_unavailable(&err) {
            Problem::unavailable("postgres")
        } else {
            Problem::internal(&err)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::is_unavailable_code;

    #[test]
    fn a_refusing_server_is_unavailable_and_a_bad_query_is_not() {
        for (code, message) in [
            ("08006", "connection failure"),
            (
                "57P01",
                "terminating connection due to administrator command",
            ),
            (
                "57P02",
                "terminating connection because of crash of another server process",
            ),
            ("57P03", "the database system is starting up"),
            ("57P03", "the database system is shutting down"),
            ("53300", "sorry, too many clients already"),
            ("53300", "too many connections for role \"shop\""),
            (
                "55000",
                "database \"orders\" is not currently accepting connections",
            ),
        ] {
            assert!(is_unavailable_code(code, message), "{code} {message}");
        }
        for (code, message) in [
            ("23505", "duplicate key value violates unique constraint"),
            ("42601", "syntax error"),
            ("22021", "invalid byte sequence for encoding \"UTF8\": 0x00"),
            ("55000", "cannot drop the currently open database"),
            ("57P04", "database dropped"),
        ] {
            assert!(!is_unavailable_code(code, message), "{code} {message}");
        }
    }
}
