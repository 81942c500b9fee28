//! Listening and graceful shutdown: on SIGTERM or SIGINT stop accepting, let in-flight
//! requests finish, and give up after the grace period.

use std::{future::Future, sync::Arc, time::Duration};

use axum::Router;
use tokio::{net::TcpListener, sync::Notify};
use tokio_util::sync::CancellationToken;

use crate::ServeConfig;

/// Binds the configured address (or `default_port`) and serves until `shutdown` is
/// cancelled. Services use [`crate::run`]; this is for a binary with its own shape.
pub async fn serve_until(
    router: Router,
    config: &ServeConfig,
    default_port: u16,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let listener = bind(config, default_port).await?;
    let stop = async move { shutdown.cancelled().await };
    serve_on(listener, router, stop, config.shutdown_grace()).await
}

/// Binds the configured address, or `default_port` when `PORT` is not set.
pub async fn bind(config: &ServeConfig, default_port: u16) -> anyhow::Result<TcpListener> {
    let port = config.port.unwrap_or(default_port);
    let listener = TcpListener::bind((config.host.as_str(), port)).await?;
    tracing::info!(address = %listener.local_addr()?, "listening");
    Ok(listener)
}

/// A token cancelled on SIGTERM or SIGINT.
pub fn shutdown_token() -> CancellationToken {
    let token = CancellationToken::new();
    let cancel = token.clone();
    tokio::spawn(async move {
        shutdown_signal().await;
        cancel.cancel();
    });
    token
}

/// Serves on a bound listener until `shutdown` resolves, then drains for at most `grace`.
pub async fn serve_on(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
    grace: Duration,
) -> anyhow::Result<()> {
    let stopping = Arc::new(Notify::new());
    let notify = stopping.clone();
    // Handlers may ask for the peer address (`ConnectInfo<SocketAddr>`), e.g. to rate-limit.
    let app = router.into_make_service_with_connect_info::<std::net::SocketAddr>();
    let server = axum::serve(listener, app).with_graceful_shutdown(async move {
        shutdown.await;
        tracing::info!("shutting down; draining in-flight requests");
        notify.notify_one();
    });
    tokio::select! {
        result = server.into_future() => result?,
        _ = async { stopping.notified().await; tokio::time::sleep(grace).await } => {
            tracing::warn!(grace_ms = grace.as_millis() as u64, "grace period over; exiting with requests in flight");
        }
    }
    Ok(())
}

/// Resolves on SIGTERM (what Kubernetes sends) or SIGINT (Ctrl-C).
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
}
