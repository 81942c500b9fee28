//! Leader election for more than one operator replica (a Lease, via kube-lease-manager):
//! only the holder reconciles; the others serve health and metrics and wait.

use std::sync::Arc;

use kube::Client;
use kube_lease_manager::LeaseManagerBuilder;
use serving::CancellationToken;

use crate::controller::{self, Context};

#[derive(Clone, Debug, clap::Args)]
pub struct LeaderConfig {
    /// Take a Lease before reconciling (needed when running more than one replica).
    #[arg(long, env = "LEADER_ELECTION", default_value_t = false)]
    pub leader_election: bool,
    #[arg(long, env = "LEASE_NAME", default_value = "microshop-operator")]
    pub lease_name: String,
    /// Namespace of the Lease: the operator's own.
    #[arg(long, env = "POD_NAMESPACE", default_value = "default")]
    pub lease_namespace: String,
    /// This replica's name in the Lease and in Events: the pod's name.
    #[arg(long, env = "POD_NAME")]
    pub identity: Option<String>,
}

/// Runs the controller (only while holding the Lease, when election is on) until
/// `shutdown` is cancelled.
pub async fn run_when_leading(
    client: Client,
    config: &LeaderConfig,
    ctx: Arc<Context>,
    namespace: Option<&str>,
    shutdown: CancellationToken,
) {
    ctx.metrics.set_ready();
    if !config.leader_election {
        controller::run(ctx, namespace, shutdown.cancelled_owned()).await;
        return;
    }
    let mut builder = LeaseManagerBuilder::new(client, &config.lease_name)
        .with_namespace(&config.lease_namespace)
        .with_field_manager(format!("{}-lease", crate::render::FIELD_MANAGER));
    if let Some(identity) = &config.identity {
        builder = builder.with_identity(identity);
    }
    let manager = match builder.build().await {
        Ok(manager) => manager,
        Err(err) => {
            tracing::error!(error = %err, "cannot manage the lease; not reconciling");
            shutdown.cancelled().await;
            return;
        }
    };
    let (mut leading, task) = manager.watch().await;
    loop {
        // Follower: wait for the lease or the end.
        while !*leading.borrow_and_update() {
            tokio::select! {
                changed = leading.changed() => if changed.is_err() { return },
                () = shutdown.cancelled() => break,
            }
        }
        if shutdown.is_cancelled() {
            break;
        }
        tracing::info!("holding the lease; reconciling");
        let mut lost = leading.clone();
        let stop = shutdown.clone();
        let until = async move {
            tokio::select! {
                () = stop.cancelled() => {},
                _ = lost.wait_for(|leader| !leader) => {},
            }
        };
        controller::run(ctx.clone(), namespace, until).await;
        if shutdown.is_cancelled() {
            break;
        }
        tracing::warn!("lost the lease; stopped reconciling");
    }
    // Closing the channel ends the manager's task, which releases the lease.
    drop(leading);
    match task.await {
        Ok(Ok(_)) => {}
        Ok(Err(err)) => tracing::warn!(error = %err, "releasing the lease failed"),
        Err(err) => tracing::warn!(error = %err, "the lease task failed"),
    }
}
