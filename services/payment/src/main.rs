use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = payment::Config::parse();
    let _telemetry = serving::telemetry::init("payment", config.serve.log_format)?;
    let shutdown = serving::shutdown_token();
    let (router, consumers) = payment::build(&config, shutdown.clone()).await?;
    let served = serving::serve_until(
        router,
        &config.serve,
        payment::DEFAULT_PORT,
        shutdown.clone(),
    )
    .await;
    shutdown.cancel();
    consumers.stopped().await;
    served
}
