use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = email::Config::parse();
    let _telemetry = serving::telemetry::init("email", config.serve.log_format)?;
    let shutdown = serving::shutdown_token();
    let (router, consumers) = email::build(&config, shutdown.clone()).await?;
    let served =
        serving::serve_until(router, &config.serve, email::DEFAULT_PORT, shutdown.clone()).await;
    shutdown.cancel();
    consumers.stopped().await;
    served
}
