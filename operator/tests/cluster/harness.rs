//! What every cluster test shares: the chart installed once with Helm, the operator's
//! controller running in this process AS THE CHART'S ServiceAccount (a TokenRequest
//! token, so a permission the chart does not grant fails the test), and waiting on
//! conditions.

use std::{
    future::Future,
    path::PathBuf,
    process::Command,
    sync::{Arc, Mutex, OnceLock},
    time::{Duration, Instant},
};

use k8s_openapi::{
    api::{
        authentication::v1::{TokenRequest, TokenRequestSpec},
        core::v1::{ConfigMap, ServiceAccount},
    },
    apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference},
};
use kube::{
    Client,
    api::{Api, PostParams},
};
use operator::{
    controller::{self, Context},
    metrics::Metrics,
};
use serde_json::json;

pub const RELEASE: &str = "microshop-operator";
pub const SYSTEM_NAMESPACE: &str = "microshop-system";
/// The chart names its ServiceAccount after the release.
pub const SERVICE_ACCOUNT: &str = "microshop-operator";
/// The field manager of what the tests themselves apply.
pub const TESTS: &str = "cluster-tests";
pub const WAIT: Duration = Duration::from_secs(120);

/// Where `e2e/local/cluster.sh` keeps its state (`MICROSHOP_CLUSTER`, from `cluster.sh env`).
pub fn cluster_dir() -> PathBuf {
    std::env::var_os("MICROSHOP_CLUSTER").map_or_else(
        || {
            PathBuf::from(std::env::var("HOME").unwrap_or_default())
                .join(".cache/microshop/cluster")
        },
        PathBuf::from,
    )
}

pub fn chart_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../charts/microshop-operator")
}

/// Runs helm (from `e2e/local/cluster.sh env`'s PATH) and returns its stdout.
pub fn helm(args: &[&str]) -> Result<String, String> {
    let out = Command::new("helm")
        .args(args)
        .output()
        .map_err(|e| format!("helm: {e} (run these tests through e2e/tests/cluster-test.sh)"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!(
            "helm {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// `helm install` of the chart (with `values`, e.g. `["--set", "a=b"]`), once per cluster;
/// `--wait` returns when its Deployment is Available, which kwok's fake nodes make possible
/// without a kubelet.
pub fn install_chart(values: &[&str]) {
    if helm(&["status", RELEASE, "-n", SYSTEM_NAMESPACE]).is_ok() {
        return;
    }
    let chart = chart_dir();
    let mut args = vec![
        "install",
        RELEASE,
        chart.to_str().unwrap(),
        "--namespace",
        SYSTEM_NAMESPACE,
        "--create-namespace",
        "--wait",
        "--timeout",
        "2m",
    ];
    args.extend_from_slice(values);
    helm(&args).unwrap_or_else(|e| panic!("{e}"));
}

pub async fn admin() -> Client {
    Client::try_default()
        .await
        .expect("a cluster: run these tests through e2e/tests/cluster-test.sh")
}

/// A token of the chart's ServiceAccount from the TokenRequest API (what
/// `kubectl create token` does), valid for two hours.
pub async fn service_account_token(admin: &Client) -> String {
    service_account_token_of(admin, SYSTEM_NAMESPACE, SERVICE_ACCOUNT).await
}

pub async fn service_account_token_of(admin: &Client, namespace: &str, name: &str) -> String {
    let accounts: Api<ServiceAccount> = Api::namespaced(admin.clone(), namespace);
    let request = TokenRequest {
        spec: Some(TokenRequestSpec {
            expiration_seconds: Some(7200),
            ..TokenRequestSpec::default()
        }),
        ..TokenRequest::default()
    };
    let issued = accounts
        .create_token_request(name, &PostParams::default(), &request)
        .await
        .expect("a token for the chart's ServiceAccount");
    issued
        .status
        .and_then(|s| s.token)
        .expect("a TokenRequest answers a token")
}

/// A client of the same API server that authenticates with `token` only.
pub async fn client_with_token(token: &str) -> Client {
    let mut config = kube::Config::infer().await.expect("KUBECONFIG");
    config.auth_info = serde_json::from_value(json!({ "token": token })).unwrap();
    Client::try_from(config).expect("a client")
}

/// The admin's kubeconfig with the user replaced by `token`, written beside it: what the
/// operator's binary is started with.
pub fn kubeconfig_with_token(token: &str, name: &str) -> PathBuf {
    let mut config = kube::config::Kubeconfig::read().expect("KUBECONFIG");
    for user in &mut config.auth_infos {
        user.auth_info = Some(serde_json::from_value(json!({ "token": token })).unwrap());
    }
    let path = cluster_dir().join(format!("{name}.kubeconfig"));
    // JSON is YAML too.
    std::fs::write(&path, serde_json::to_vec(&config).unwrap()).expect("writing the kubeconfig");
    path
}

/// The operator the tests share, reconciling every namespace like the chart's Deployment
/// would.
pub struct Operator {
    /// The chart's ServiceAccount's token the controller authenticates with.
    pub token: String,
}

/// Installs the chart and starts the controller, the first time it is asked for.
pub fn operator() -> &'static Operator {
    static OPERATOR: OnceLock<Operator> = OnceLock::new();
    OPERATOR.get_or_init(|| {
        install_chart(&[]);
        let (started, operator) = std::sync::mpsc::channel();
        // Its own runtime on its own thread: it outlives any one test's runtime.
        std::thread::Builder::new()
            .name("operator".into())
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                    .expect("a runtime");
                runtime.block_on(async move {
                    log_to_file();
                    let token = service_account_token(&admin().await).await;
                    let client = client_with_token(&token).await;
                    wait_until_admission_knows_shops(&client).await;
                    let metrics = Arc::new(Metrics::default());
                    let ctx = Arc::new(Context::new(client, metrics, Some("cluster-tests".into())));
                    let _ = started.send(Operator { token });
                    controller::run(ctx, None, std::future::pending()).await;
                });
            })
            .expect("a thread");
        operator
            .recv_timeout(Duration::from_secs(120))
            .expect("the operator started")
    })
}

/// For up to 30 s after the CRD is created, the API server's OwnerReferencesPermissionEnforcement
/// admission cannot map the kind `Shop` yet (its RESTMapper is refreshed every 30 s) and
/// refuses every object owned by a Shop with `blockOwnerDeletion`; the operator retries
/// with backoff. The tests wait it out once, so their timing does not depend on it: a
/// dry run as `operator` (an admin may set finalizers on anything and is never asked).
pub async fn wait_until_admission_knows_shops(operator: &Client) {
    let configs: Api<ConfigMap> = Api::namespaced(operator.clone(), SYSTEM_NAMESPACE);
    let probe = ConfigMap {
        metadata: ObjectMeta {
            generate_name: Some("owned-by-a-shop-".into()),
            owner_references: Some(vec![OwnerReference {
                api_version: "microshop.dev/v1alpha1".into(),
                kind: "Shop".into(),
                name: "probe".into(),
                uid: "00000000-0000-4000-8000-000000000000".into(),
                controller: Some(true),
                block_owner_deletion: Some(true),
            }]),
            ..ObjectMeta::default()
        },
        ..ConfigMap::default()
    };
    let dry_run = PostParams {
        dry_run: true,
        ..PostParams::default()
    };
    wait_for(
        "admission to know the kind Shop",
        Duration::from_secs(60),
        || {
            let (configs, probe, dry_run) = (&configs, &probe, &dry_run);
            async move {
                configs
                    .create(dry_run, probe)
                    .await
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            }
        },
    )
    .await;
}

/// The controller's logs go to `logs/operator.log` beside the control plane's.
fn log_to_file() {
    let dir = cluster_dir().join("logs");
    let _ = std::fs::create_dir_all(&dir);
    let Ok(file) = std::fs::File::create(dir.join("operator.log")) else {
        return;
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,operator=debug".into()),
        )
        .with_writer(Mutex::new(file))
        .with_ansi(false)
        .try_init();
}

/// Polls `check` until it answers `Ok`, at most `timeout`; panics with `what` and the last
/// answer otherwise.
pub async fn wait_for<T, F, Fut>(what: &str, timeout: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, String>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        match check().await {
            Ok(value) => return value,
            Err(last) if Instant::now() >= deadline => {
                panic!("timed out after {timeout:?} waiting for {what}; last seen: {last}")
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
}
