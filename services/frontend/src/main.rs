use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = frontend::Config::parse();
    let _telemetry = serving::telemetry::init("frontend", config.serve.log_format)?;
    let app = frontend::build(&config)?;
    serving::serve(app, &config.serve, frontend::DEFAULT_PORT).await
}
