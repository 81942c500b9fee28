//! The Helm chart in a real cluster: what `helm install` creates, and a `helm upgrade` to a
//! changed chart under running shops.

use std::{fs, path::Path, time::Duration};

use k8s_openapi::{
    api::{
        apps::v1::Deployment,
        authentication::v1::SelfSubjectReview,
        core::v1::{Service, ServiceAccount},
        rbac::v1::{ClusterRole, ClusterRoleBinding},
    },
    apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition,
};
use kube::{
    Api,
    api::{DeleteParams, PostParams},
};
use kube_lease_manager::LeaseManagerBuilder;
use serde_json::{Value, json};

use crate::{
    harness::{
        RELEASE, SERVICE_ACCOUNT, SYSTEM_NAMESPACE, WAIT, admin, chart_dir, client_with_token,
        helm, operator, wait_for,
    },
    namespace::TestNamespace,
};

/// Held by the tests that look at or change the release, which otherwise see each other
/// mid-way (an upgrade is `pending-upgrade` for a few seconds).
static RELEASE_IN_USE: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The release as `helm list` shows it: status, revision, chart (name-version).
fn release() -> Value {
    let list =
        helm(&["list", "-n", SYSTEM_NAMESPACE, "-o", "json"]).unwrap_or_else(|e| panic!("{e}"));
    let releases: Vec<Value> = serde_json::from_str(&list).expect("helm list as JSON");
    releases
        .into_iter()
        .find(|r| r["name"] == RELEASE)
        .expect("the release")
}

#[tokio::test]
#[ignore = "needs a cluster: e2e/tests/cluster-test.sh"]
async fn the_chart_installs_its_crd_rbac_and_an_available_operator_deployment() {
    let operator = operator();
    let _release = RELEASE_IN_USE.lock().await;
    let client = admin().await;

    let chart = chart_dir();
    for values in [
        vec![],
        vec!["--set", "watchNamespace=shops", "--set", "replicaCount=2"],
        vec![
            "--set",
            "exampleShop.enabled=true",
            "--set",
            "crds.install=false",
        ],
    ] {
        let mut args = vec!["lint", "--strict", chart.to_str().unwrap()];
        args.extend(values);
        helm(&args).unwrap_or_else(|e| panic!("{e}"));
    }
    assert_eq!(release()["status"], "deployed");

    let crd = Api::<CustomResourceDefinition>::all(client.clone())
        .get("shops.microshop.dev")
        .await
        .expect("the Shop CRD");
    let established = crd
        .status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|c| {
            c.iter()
                .any(|c| c.type_ == "Established" && c.status == "True")
        });
    assert!(established, "{:?}", crd.status);
    assert_eq!(
        crd.metadata.annotations.unwrap_or_default()["helm.sh/resource-policy"],
        "keep",
        "helm uninstall must not delete every Shop"
    );

    let role = Api::<ClusterRole>::all(client.clone())
        .get(RELEASE)
        .await
        .expect("the ClusterRole");
    let rules = role.rules.unwrap_or_default();
    let secrets = rules
        .iter()
        .find(|r| r.resources.as_ref().is_some_and(|r| r == &["secrets"]))
        .expect("a rule for secrets");
    assert!(secrets.verbs.iter().all(|v| v != "*"), "{secrets:?}");
    let binding = Api::<ClusterRoleBinding>::all(client.clone())
        .get(RELEASE)
        .await
        .expect("the ClusterRoleBinding");
    let subject = &binding.subjects.unwrap_or_default()[0];
    assert_eq!(
        (
            subject.kind.as_str(),
            subject.name.as_str(),
            subject.namespace.as_deref()
        ),
        ("ServiceAccount", SERVICE_ACCOUNT, Some(SYSTEM_NAMESPACE))
    );
    Api::<ServiceAccount>::namespaced(client.clone(), SYSTEM_NAMESPACE)
        .get(SERVICE_ACCOUNT)
        .await
        .expect("the ServiceAccount");
    Api::<Service>::namespaced(client.clone(), SYSTEM_NAMESPACE)
        .get(&format!("{RELEASE}-metrics"))
        .await
        .expect("the metrics Service");

    // kwok runs its pod (no process: the controller under test runs in this process).
    let deployment = Api::<Deployment>::namespaced(client.clone(), SYSTEM_NAMESPACE)
        .get(RELEASE)
        .await
        .expect("the operator's Deployment");
    let available = deployment
        .status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|c| {
            c.iter().any(|c| {
                c.type_.as_deref() == Some("Available") && c.status.as_deref() == Some("True")
            })
        });
    assert!(available, "{:?}", deployment.status);
    let pod = deployment.spec.template.spec.unwrap();
    assert_eq!(pod.service_account_name.as_deref(), Some(SERVICE_ACCOUNT));
    let container = &pod.containers[0];
    let security = container.security_context.as_ref().unwrap();
    assert_eq!(security.read_only_root_filesystem, Some(true));
    assert_eq!(security.allow_privilege_escalation, Some(false));

    // The operator's token is the chart's ServiceAccount's.
    let as_operator = client_with_token(&operator.token).await;
    let review = Api::<SelfSubjectReview>::all(as_operator)
        .create(&PostParams::default(), &SelfSubjectReview::default())
        .await
        .expect("a SelfSubjectReview");
    let user = review.status.unwrap().user_info.unwrap();
    assert_eq!(
        user.username.as_deref(),
        Some("system:serviceaccount:microshop-system:microshop-operator")
    );
}

/// The chart with its version bumped: what a user upgrades to.
fn changed_chart() -> std::path::PathBuf {
    let to = std::env::temp_dir().join(format!("microshop-chart-{:04x}", rand::random::<u16>()));
    copy_dir(&chart_dir(), &to);
    let chart = to.join("Chart.yaml");
    let text = fs::read_to_string(&chart).unwrap();
    assert!(
        text.contains("\nversion: 0.1.0\n"),
        "Chart.yaml's version moved"
    );
    fs::write(
        &chart,
        text.replace("\nversion: 0.1.0\n", "\nversion: 0.1.1-upgrade\n"),
    )
    .unwrap();
    to
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), target).unwrap();
        }
    }
}

#[tokio::test]
#[ignore = "needs a cluster: e2e/tests/cluster-test.sh"]
async fn helm_upgrade_to_a_changed_chart_keeps_shops_working() {
    let operator = operator();
    let _release = RELEASE_IN_USE.lock().await;
    let ns = TestNamespace::create("upgrade").await;
    ns.apply_shop("before", json!({})).await;
    ns.wait_ready("before", WAIT).await;

    // A new chart version with changed values: another log format, leader election on
    // (a Role and RoleBinding for the Lease appear; the Deployment's pod template changes).
    let chart = changed_chart();
    helm(&[
        "upgrade",
        RELEASE,
        chart.to_str().unwrap(),
        "--namespace",
        SYSTEM_NAMESPACE,
        "--set",
        "logFormat=pretty",
        "--set",
        "leaderElection.enabled=true",
        "--wait",
        "--timeout",
        "2m",
    ])
    .unwrap_or_else(|e| panic!("{e}"));
    let _ = fs::remove_dir_all(&chart);
    let release = release();
    assert_eq!(release["status"], "deployed");
    assert_eq!(release["chart"], "microshop-operator-0.1.1-upgrade");
    assert_ne!(release["revision"], "1");

    // The Shop made before is still there, still Ready, and still looked after.
    let shop = ns.wait_ready("before", WAIT).await;
    assert_eq!(
        shop.status.unwrap().components_ready.as_deref(),
        Some("13/13")
    );
    let services = ns.api::<Service>();
    let old = services.get("before-catalog").await.unwrap();
    services
        .delete("before-catalog", &DeleteParams::default())
        .await
        .unwrap();
    wait_for("before-catalog put back after the upgrade", WAIT, || {
        let services = services.clone();
        let old_uid = old.metadata.uid.clone();
        async move {
            match services.get_opt("before-catalog").await {
                Ok(Some(s)) if s.metadata.uid != old_uid => Ok(()),
                other => Err(format!("{other:?}")),
            }
        }
    })
    .await;
    // A Shop made after the upgrade comes up too.
    ns.apply_shop("after", json!({})).await;
    ns.wait_ready("after", WAIT).await;

    // The new Role lets the chart's ServiceAccount take the leader Lease.
    let as_operator = client_with_token(&operator.token).await;
    let manager = LeaseManagerBuilder::new(as_operator, RELEASE)
        .with_namespace(SYSTEM_NAMESPACE)
        .with_identity("cluster-test")
        .with_field_manager("microshop-operator-lease".to_owned())
        .build()
        .await
        .expect("a lease manager as the operator");
    let (mut leading, task) = manager.watch().await;
    tokio::time::timeout(Duration::from_secs(30), leading.wait_for(|l| *l))
        .await
        .expect("the Lease taken within 30 s")
        .expect("the lease manager runs");
    drop(leading);
    task.await
        .expect("the lease task")
        .expect("the Lease released as the operator");
    ns.delete().await;
}
