use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = cart::Config::parse();
    let _telemetry = serving::telemetry::init("cart", config.serve.log_format)?;
    let app = cart::build(&config).await?;
    serving::serve(app, &config.serve, cart::DEFAULT_PORT).await
}
