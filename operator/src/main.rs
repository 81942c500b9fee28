//! `operator run` reconciles Shops; `operator crd` prints the CRD.

use std::sync::Arc;

use clap::{Parser, Subcommand};
use operator::{controller, crd, leader, metrics};
use serving::ServeConfig;

#[derive(Parser)]
#[command(
    about = "The microshop operator: one Shop resource in, a running shop out",
    args_conflicts_with_subcommands = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    run: RunConfig,
}

#[derive(Subcommand)]
enum Command {
    /// Print the Shop CRD as YAML (what crds/shop.yaml holds).
    Crd,
    /// Reconcile Shops (the default).
    Run(RunConfig),
}

#[derive(clap::Args)]
struct RunConfig {
    #[command(flatten)]
    serve: ServeConfig,
    /// Watch only this namespace (all namespaces when empty).
    #[arg(long, env = "WATCH_NAMESPACE", default_value = "")]
    watch_namespace: String,
    #[command(flatten)]
    leader: leader::LeaderConfig,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let config = match cli.command {
        Some(Command::Crd) => {
            print!("{}", crd::crd_yaml());
            return Ok(());
        }
        Some(Command::Run(config)) => config,
        None => cli.run,
    };
    let _telemetry = serving::telemetry::init("microshop-operator", config.serve.log_format)?;
    let client = kube::Client::try_default().await?;
    let metrics = Arc::new(metrics::Metrics::default());
    let ctx = Arc::new(controller::Context::new(
        client.clone(),
        metrics.clone(),
        config.leader.identity.clone(),
    ));
    let shutdown = serving::shutdown_token();
    let server = serving::serve_until(
        metrics::router(metrics),
        &config.serve,
        8080,
        shutdown.clone(),
    );
    let namespace = Some(config.watch_namespace.as_str()).filter(|ns| !ns.is_empty());
    let reconciling = leader::run_when_leading(client, &config.leader, ctx, namespace, shutdown);
    let (served, _) = tokio::join!(server, reconciling);
    served
}
