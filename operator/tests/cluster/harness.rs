//! What every cluster test shares: the chart installed once with Helm, the operator's
//! controller running in this process AS THE CHART'S ServiceAccount (a TokenRequest
//! token, so a permission the chart does not grant fails the test), a namespace per test
//! under the `restricted` Pod Security Standard, and waiting on conditions.

use std::{
    collections::BTreeMap,
    fmt::Debug,
    fs::File,
    future::Future,
    io::{Read, Write},
    net::{TcpListener, TcpStream},
    path::{Path, PathBuf},
    process::{Child, Command},
    sync::{Arc, Mutex, OnceLock},
    time::{Duration, Instant},
};

use k8s_openapi::{
    NamespaceResourceScope,
    api::{
        apps::v1::{Deployment, StatefulSet},
        authentication::v1::{TokenRequest, TokenRequestSpec},
        core::v1::{ConfigMap, Namespace, Secret, Service, ServiceAccount},
        networking::v1::{Ingress, NetworkPolicy},
        policy::v1::PodDisruptionBudget,
    },
    apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference},
};
use kube::{
    Client, Resource, ResourceExt,
    api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams},
};
use operator::{
    controller::{self, Context},
    crd::Shop,
    metrics::Metrics,
    render::shop_label_selector,
    status,
};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

pub const RELEASE: &str = "microshop-operator";
pub const SYSTEM_NAMESPACE: &str = "microshop-system";
/// The chart names its ServiceAccount after the release.
pub const SERVICE_ACCOUNT: &str = "microshop-operator";
/// The field manager of what the tests themselves apply.
pub const TESTS: &str = "cluster-tests";
pub const WAIT: Duration = Duration::from_secs(120);

/// Where `e2e/cluster.sh` keeps its state (`MICROSHOP_CLUSTER`, from `cluster.sh env`).
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

/// Runs helm (from `e2e/cluster.sh env`'s PATH) and returns its stdout.
pub fn helm(args: &[&str]) -> Result<String, String> {
    let out = Command::new("helm")
        .args(args)
        .output()
        .map_err(|e| format!("helm: {e} (run these tests through e2e/cluster-test.sh)"))?;
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
        .expect("a cluster: run these tests through e2e/cluster-test.sh")
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
async fn wait_until_admission_knows_shops(operator: &Client) {
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

/// A namespace of one test, enforcing the `restricted` Pod Security Standard: a pod of the
/// shop that breaks it is refused, so the shop never becomes Ready.
pub struct TestNamespace {
    pub name: String,
    pub client: Client,
}

impl TestNamespace {
    pub async fn create(prefix: &str) -> Self {
        let client = admin().await;
        let name = format!("{prefix}-{:04x}", rand::random::<u16>());
        let namespace = Namespace {
            metadata: ObjectMeta {
                name: Some(name.clone()),
                labels: Some(BTreeMap::from([
                    (
                        "pod-security.kubernetes.io/enforce".into(),
                        "restricted".into(),
                    ),
                    ("microshop.dev/cluster-test".into(), "true".into()),
                ])),
                ..ObjectMeta::default()
            },
            ..Namespace::default()
        };
        Api::<Namespace>::all(client.clone())
            .create(&PostParams::default(), &namespace)
            .await
            .expect("a namespace");
        Self { name, client }
    }

    pub fn api<K>(&self) -> Api<K>
    where
        K: Resource<Scope = NamespaceResourceScope, DynamicType = ()>,
    {
        Api::namespaced(self.client.clone(), &self.name)
    }

    pub fn shops(&self) -> Api<Shop> {
        self.api()
    }

    /// Applies a Shop exactly as given (`spec` as JSON, so `{}` is sent as `{}`).
    pub async fn apply_shop(&self, name: &str, spec: Value) -> Shop {
        self.try_apply_shop(name, spec)
            .await
            .unwrap_or_else(|e| panic!("applying Shop {name}: {e}"))
    }

    pub async fn try_apply_shop(&self, name: &str, spec: Value) -> Result<Shop, kube::Error> {
        let body = json!({
            "apiVersion": "microshop.dev/v1alpha1",
            "kind": "Shop",
            "metadata": { "name": name },
            "spec": spec,
        });
        self.shops()
            .patch(
                name,
                &PatchParams::apply(TESTS).force(),
                &Patch::Apply(body),
            )
            .await
    }

    /// Waits until the Shop reports `Ready=True` for its current generation.
    pub async fn wait_ready(&self, name: &str, timeout: Duration) -> Shop {
        let shops = self.shops();
        wait_for(&format!("Shop {}/{name} Ready", self.name), timeout, || {
            let shops = shops.clone();
            async move {
                let shop = shops.get(name).await.map_err(|e| e.to_string())?;
                if is_ready(&shop) {
                    Ok(shop)
                } else {
                    Err(format!("{:?}", shop.status))
                }
            }
        })
        .await
    }

    /// Everything of this kind that carries the shop's labels.
    pub async fn list<K>(&self, shop: &str) -> Vec<K>
    where
        K: Resource<Scope = NamespaceResourceScope, DynamicType = ()>
            + Clone
            + DeserializeOwned
            + Debug,
    {
        self.api::<K>()
            .list(&ListParams::default().labels(&shop_label_selector(shop)))
            .await
            .expect("a list")
            .items
    }

    /// `Kind/name` of every object the shop's labels pick out, with the metadata the tests
    /// compare: generation for workloads, resourceVersion for the rest.
    pub async fn owned(&self, shop: &str) -> BTreeMap<String, Owned> {
        let mut out = BTreeMap::new();
        fn add<K: Resource<DynamicType = ()> + k8s_openapi::Resource>(
            out: &mut BTreeMap<String, Owned>,
            items: Vec<K>,
        ) {
            for item in items {
                let meta = item.meta().clone();
                out.insert(format!("{}/{}", K::KIND, item.name_any()), Owned { meta });
            }
        }
        add(&mut out, self.list::<Deployment>(shop).await);
        add(&mut out, self.list::<StatefulSet>(shop).await);
        add(&mut out, self.list::<Service>(shop).await);
        add(&mut out, self.list::<ConfigMap>(shop).await);
        add(&mut out, self.list::<Secret>(shop).await);
        add(&mut out, self.list::<ServiceAccount>(shop).await);
        add(&mut out, self.list::<NetworkPolicy>(shop).await);
        add(&mut out, self.list::<PodDisruptionBudget>(shop).await);
        add(&mut out, self.list::<Ingress>(shop).await);
        out
    }

    /// Deleted in the background; the namespace controller empties it.
    pub async fn delete(self) {
        let _ = Api::<Namespace>::all(self.client.clone())
            .delete(&self.name, &DeleteParams::background())
            .await;
    }
}

/// An object of the shop as the cluster has it.
#[derive(Clone, Debug)]
pub struct Owned {
    pub meta: ObjectMeta,
}

impl Owned {
    /// What moves when the object is written: a workload's generation (its status moves
    /// all the time), anything else's resourceVersion.
    pub fn version(&self, key: &str) -> String {
        if key.starts_with("Deployment/") || key.starts_with("StatefulSet/") {
            format!("generation {:?}", self.meta.generation)
        } else {
            format!("resourceVersion {:?}", self.meta.resource_version)
        }
    }
}

pub fn is_ready(shop: &Shop) -> bool {
    let Some(status) = &shop.status else {
        return false;
    };
    status.observed_generation == shop.metadata.generation
        && status
            .conditions
            .iter()
            .any(|c| c.type_ == status::READY && c.status == "True")
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

/// The operator's binary, stopped when dropped.
pub struct OperatorProcess {
    pub child: Child,
    port: u16,
}

impl OperatorProcess {
    /// Starts `operator run` with `kubeconfig` and `env`, logging to `logs/<log>`.
    pub fn start(kubeconfig: &Path, env: &[(&str, &str)], log: &str) -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port");
        let log = File::create(cluster_dir().join("logs").join(log)).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_operator"))
            .arg("run")
            .env("KUBECONFIG", kubeconfig)
            .env("PORT", port.to_string())
            .env("LOG_FORMAT", "json")
            .env("RUST_LOG", "info")
            .envs(env.iter().copied())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("the operator's binary");
        Self { child, port }
    }

    /// The body of a 200 answer of its HTTP server.
    pub fn get(&self, path: &str) -> Option<String> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).ok()?;
        write!(stream, "GET {path} HTTP/1.0\r\nHost: localhost\r\n\r\n").ok()?;
        let mut response = String::new();
        stream.read_to_string(&mut response).ok()?;
        response.starts_with("HTTP/1.0 200").then(|| {
            response
                .split("\r\n\r\n")
                .nth(1)
                .unwrap_or_default()
                .to_owned()
        })
    }

    /// Reconciles started, from its own metrics.
    pub fn reconciles(&self) -> u64 {
        self.metric_sum("microshop_operator_reconciles_total")
    }

    /// Reconciles failed, of every kind.
    pub fn failed_reconciles(&self) -> u64 {
        self.metric_sum("microshop_operator_reconcile_errors_total")
    }

    fn metric_sum(&self, name: &str) -> u64 {
        let metrics = self.get("/metrics").unwrap_or_default();
        metrics
            .lines()
            .filter(|l| {
                l.strip_prefix(name)
                    .is_some_and(|r| r.starts_with([' ', '{']))
            })
            .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
            .sum()
    }
}

impl Drop for OperatorProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
