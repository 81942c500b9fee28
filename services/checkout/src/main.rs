use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = checkout::Config::parse();
    let _telemetry = serving::telemetry::init("checkout", config.serve.log_format)?;
    let shutdown = serving::shutdown_token();
    let app = checkout::build(&config, shutdown.clone()).await?;
    let served = serving::serve_until(
        app.router.clone(),
        &config.serve,
        checkout::DEFAULT_PORT,
        shutdown.clone(),
    )
    .await;
    // However serving ended, stop the relay and the consumer and let them finish.
    shutdown.cancel();
    app.stopped().await;
    served
}
