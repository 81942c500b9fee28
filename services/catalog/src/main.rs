use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = catalog::Config::parse();
    let _telemetry = serving::telemetry::init("catalog", config.serve.log_format)?;
    let app = catalog::build(&config).await?;
    serving::serve(app, &config.serve, catalog::DEFAULT_PORT).await
}
