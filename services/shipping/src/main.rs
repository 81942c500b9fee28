use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = shipping::Config::parse();
    let _telemetry = serving::telemetry::init("shipping", config.serve.log_format)?;
    let shutdown = serving::shutdown_token();
    let (router, consumers) = shipping::build(&config, shutdown.clone()).await?;
    let served = serving::serve_until(
        router,
        &config.serve,
        shipping::DEFAULT_PORT,
        shutdown.clone(),
    )
    .await;
    shutdown.cancel();
    consumers.stopped().await;
    served
}
