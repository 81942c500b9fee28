//! The operator's own binary (what the chart's image runs) in the cluster: `main`'s
//! wiring, its health and metrics server, as a chart's ServiceAccount — also a second
//! release that watches one namespace through a RoleBinding only.

use serde_json::json;

use crate::{
    harness::{
        WAIT, admin, chart_dir, helm, kubeconfig_with_token, operator, service_account_token_of,
        wait_for,
    },
    namespace::TestNamespace,
    process::OperatorProcess,
};

/// Waits until the process has reconciled at least once without failing (every reconcile
/// fails when its ServiceAccount lacks a permission).
async fn wait_for_a_good_reconcile(process: &OperatorProcess) {
    wait_for("a successful reconcile by the binary", WAIT, || async {
        let (started, failed) = (process.reconciles(), process.failed_reconciles());
        (started > failed)
            .then_some(())
            .ok_or_else(|| format!("{started} reconciles, {failed} failed"))
    })
    .await;
}

#[tokio::test]
#[ignore = "needs a cluster: e2e/tests/cluster-test.sh"]
async fn the_operator_binary_reconciles_as_the_service_account() {
    let token = &operator().token;
    let ns = TestNamespace::create("binary").await;
    // Its own namespace only (`WATCH_NAMESPACE`), beside the tests' shared operator.
    let process = OperatorProcess::start(
        &kubeconfig_with_token(token, "operator-binary"),
        &[("WATCH_NAMESPACE", &ns.name)],
        "operator-binary.log",
    );
    wait_for("the binary's /readyz", WAIT, || async {
        process
            .get("/readyz")
            .map(|_| ())
            .ok_or_else(|| "not ready".to_owned())
    })
    .await;
    assert_eq!(process.get("/healthz").as_deref(), Some("alive"));

    ns.apply_shop("bin", json!({})).await;
    ns.wait_ready("bin", WAIT).await;
    wait_for_a_good_reconcile(&process).await;
    ns.delete().await;
}

#[tokio::test]
#[ignore = "needs a cluster: e2e/tests/cluster-test.sh"]
async fn a_release_watching_one_namespace_works_with_a_role_binding_only() {
    operator();
    let ns = TestNamespace::create("watched").await;
    // A second release in the watched namespace: the CRD is the first release's.
    let release = "watched";
    let chart = chart_dir();
    let watch = format!("watchNamespace={}", ns.name);
    helm(&[
        "install",
        release,
        chart.to_str().unwrap(),
        "--namespace",
        &ns.name,
        "--set",
        &watch,
        "--set",
        "crds.install=false",
        "--wait",
        "--timeout",
        "2m",
    ])
    .unwrap_or_else(|e| panic!("{e}"));
    let account = format!("{release}-microshop-operator");
    let token = service_account_token_of(&admin().await, &ns.name, &account).await;
    let process = OperatorProcess::start(
        &kubeconfig_with_token(&token, "operator-watched"),
        &[("WATCH_NAMESPACE", &ns.name), ("POD_NAMESPACE", &ns.name)],
        "operator-watched.log",
    );
    ns.apply_shop("watched", json!({})).await;
    ns.wait_ready("watched", WAIT).await;
    wait_for_a_good_reconcile(&process).await;
    drop(process);
    helm(&["uninstall", release, "--namespace", &ns.name]).unwrap_or_else(|e| panic!("{e}"));
    ns.delete().await;
}
