use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = identity::Config::parse();
    let _telemetry = serving::telemetry::init("identity", config.serve.log_format)?;
    let app = identity::build(&config).await?;
    serving::serve(app, &config.serve, identity::DEFAULT_PORT).await
}
