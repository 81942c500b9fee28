//! The one shape of a microshop service: built from its config (everything that can fail:
//! parsing, connecting, migrating), then started (routes and background tasks), then run
//! by [`run`], which the binaries and the tests' harnesses share.

use std::{future::Future, time::Duration};

use axum::Router;
use tokio::{net::TcpListener, task::JoinSet};
use tokio_util::sync::CancellationToken;

use crate::{
    ServeConfig,
    serve::{bind, serve_on, shutdown_signal},
    telemetry,
};

/// A service, in two steps: [`Service::build`] then [`Service::start`].
pub trait Service: Sized + Send {
    /// The service's name in logs, traces and the broker's connection list.
    const NAME: &'static str;
    /// The port it listens on when `PORT` is not set (DESIGN.md "Wiring").
    const DEFAULT_PORT: u16;

    /// Read from flags and the environment by the binary; written out by tests.
    type Config: clap::Parser + Send;

    /// The listening and request settings inside the config.
    fn serve_config(config: &Self::Config) -> &ServeConfig;

    /// Does everything that can fail before serving: connects, migrates, checks settings.
    fn build(config: Self::Config) -> impl Future<Output = anyhow::Result<Self>> + Send;

    /// Spawns the background tasks and returns them with the router. Cannot fail (that
    /// is [`Service::build`]'s part); must run inside a Tokio runtime.
    fn start(self) -> Started;
}

/// A started service: what to serve, and what runs beside it until shutdown.
pub struct Started {
    pub router: Router,
    pub background: Background,
}

impl Started {
    /// A service with nothing running beside its routes.
    pub fn routes_only(router: Router) -> Self {
        Self {
            router,
            background: Background::default(),
        }
    }
}

/// The tasks a service runs beside its HTTP server (consumers, an outbox relay), and the
/// token that tells them to stop.
#[derive(Default)]
pub struct Background {
    tasks: JoinSet<()>,
    stop: CancellationToken,
}

impl Background {
    /// Spawns `task` with the token it must watch: once cancelled, the task finishes what
    /// it has in hand and ends.
    pub fn spawn<F, Fut>(&mut self, task: F)
    where
        F: FnOnce(CancellationToken) -> Fut,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.tasks.spawn(task(self.stop.clone()));
    }

    /// Tells every task to stop and waits until each has finished what it had in hand; a
    /// task that panicked is logged.
    pub async fn stop(mut self) {
        self.stop.cancel();
        while let Some(ended) = self.tasks.join_next().await {
            if let Err(err) = ended {
                tracing::error!(error = %err, "background task failed");
            }
        }
    }
}

/// A binary's whole life: parses the config, starts telemetry, builds `S`, binds its port,
/// starts it and serves it until SIGTERM or SIGINT ([`serve_started`]).
pub async fn run<S: Service>() -> anyhow::Result<()> {
    let config = <S::Config as clap::Parser>::parse();
    let serve = S::serve_config(&config).clone();
    let _telemetry = telemetry::init(S::NAME, serve.log_format)?;
    let service = S::build(config).await?;
    let listener = bind(&serve, S::DEFAULT_PORT).await?;
    serve_started(
        listener,
        service.start(),
        shutdown_signal(),
        serve.shutdown_grace(),
    )
    .await
}

/// Serves `started` on `listener` until `shutdown` resolves. Then, in this order: the
/// server stops accepting and drains in-flight requests (for at most `grace`), and only
/// then are the background tasks told to stop and awaited, so an order taken by a
/// draining request is still relayed, and each consumer finishes the deliveries in hand.
pub async fn serve_started(
    listener: TcpListener,
    started: Started,
    shutdown: impl Future<Output = ()> + Send + 'static,
    grace: Duration,
) -> anyhow::Result<()> {
    let Started { router, background } = started;
    let served = serve_on(listener, router, shutdown, grace).await;
    // However serving ended, the tasks stop and finish what they hold.
    background.stop().await;
    served
}
