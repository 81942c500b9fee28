//! Numbers, not a test: the operator's release binary against the control plane of
//! `e2e/local/cluster.sh`, as the chart's ServiceAccount with leader election on, measured for
//! the time from a Shop applied to all its objects present and to Ready, its resident
//! memory idle and with 20 and 100 Shops, and the API requests it makes per reconcile
//! (from the API server's audit log of its ServiceAccount). Run by `e2e/bench/cluster.sh`.

#[path = "../cluster/harness.rs"]
#[expect(
    dead_code,
    reason = "shared with the cluster tests; the benchmark uses part of it"
)]
mod harness;
#[path = "../cluster/namespace.rs"]
#[expect(dead_code, reason = "shared with the cluster tests")]
mod namespace;
#[path = "../cluster/process.rs"]
#[expect(dead_code, reason = "shared with the cluster tests")]
mod process;

use std::{
    collections::BTreeMap,
    fs::File,
    io::{Read, Seek, SeekFrom, Write},
    time::{Duration, Instant},
};

use futures::future::join_all;
use harness::{
    RELEASE, SERVICE_ACCOUNT, SYSTEM_NAMESPACE, admin, client_with_token, cluster_dir,
    install_chart, kubeconfig_with_token, service_account_token, wait_for,
    wait_until_admission_knows_shops,
};
use k8s_openapi::api::coordination::v1::Lease;
use kube::{
    Api,
    api::{Patch, PatchParams},
};
use namespace::{TestNamespace, is_ready};
use operator::{
    credentials::{Credentials, ExistingSecrets},
    render::{RenderInputs, VolumeClaims, render_shop},
};
use process::OperatorProcess;
use serde_json::{Value, json};

/// What only the benchmark asks of the operator's process.
impl OperatorProcess {
    /// VmRSS in MiB.
    pub fn resident_mib(&self) -> f64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        let kib: f64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmRSS");
        kib / 1024.0
    }

    /// Waits until no reconcile has started for three seconds.
    pub async fn settle(&self) {
        let mut last = (self.reconciles(), Instant::now());
        let deadline = Instant::now() + Duration::from_secs(300);
        while last.1.elapsed() < Duration::from_secs(3) && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(250)).await;
            let now = self.reconciles();
            if now != last.0 {
                last = (now, Instant::now());
            }
        }
    }
}

/// The requests of the operator's ServiceAccount, from the API server's audit log.
struct Audit {
    file: File,
}

impl Audit {
    fn open() -> Self {
        let mut file = File::open(cluster_dir().join("logs/audit.log")).expect("the audit log");
        file.seek(SeekFrom::End(0)).unwrap();
        Self { file }
    }

    /// Completed requests (watches excluded) by verb since the last call.
    fn since_last(&mut self) -> BTreeMap<String, u64> {
        let user = format!("system:serviceaccount:{SYSTEM_NAMESPACE}:{SERVICE_ACCOUNT}");
        let mut text = String::new();
        self.file.read_to_string(&mut text).unwrap();
        let mut by_verb = BTreeMap::new();
        for line in text.lines() {
            let Ok(event) = serde_json::from_str::<Value>(line) else {
                continue;
            };
            if event["user"]["username"] != user.as_str()
                || event["stage"] != "ResponseComplete"
                || event["verb"] == "watch"
            {
                continue;
            }
            let verb = event["verb"].as_str().unwrap_or("?").to_owned();
            *by_verb.entry(verb).or_insert(0) += 1;
        }
        by_verb
    }
}

fn total(by_verb: &BTreeMap<String, u64>) -> u64 {
    by_verb.values().sum()
}

/// Shops measured one at a time.
const SINGLES: usize = 5;

/// Applies `spec: {}` and answers (objects rendered, time to all of them present, time to
/// Ready), both checked every 50 ms.
async fn time_one_shop(ns: &TestNamespace) -> (usize, Duration, Duration) {
    let applied = Instant::now();
    let shop = ns.apply_shop("shop", json!({})).await;
    let credentials = Credentials::keep_or_generate("shop", &ExistingSecrets::new());
    let inputs = RenderInputs {
        operator_version: env!("CARGO_PKG_VERSION"),
        credentials: &credentials,
        volume_claims: &VolumeClaims::new(),
    };
    let expected = render_shop(&shop, &inputs).unwrap().len();
    let (mut objects, mut ready) = (None, None);
    while objects.is_none() || ready.is_none() {
        assert!(
            applied.elapsed() < Duration::from_secs(120),
            "Shop {} not Ready",
            ns.name
        );
        if objects.is_none() && ns.owned("shop").await.len() >= expected {
            objects = Some(applied.elapsed());
        }
        if ready.is_none() && is_ready(&ns.shops().get("shop").await.unwrap()) {
            ready = Some(applied.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    (expected, objects.unwrap(), ready.unwrap())
}

async fn apply_shops(namespaces: &[TestNamespace]) -> Duration {
    let started = Instant::now();
    join_all(namespaces.iter().map(|ns| ns.apply_shop("shop", json!({})))).await;
    join_all(
        namespaces
            .iter()
            .map(|ns| ns.wait_ready("shop", Duration::from_secs(1800))),
    )
    .await;
    started.elapsed()
}

async fn namespaces(from: usize, to: usize) -> Vec<TestNamespace> {
    let prefixes: Vec<String> = (from..to).map(|i| format!("bench-{i}")).collect();
    let mut out = Vec::new();
    // A few at a time: creating a namespace is cheap, a thousand at once is not.
    for chunk in prefixes.chunks(20) {
        out.extend(join_all(chunk.iter().map(|p| TestNamespace::create(p))).await);
    }
    out
}

#[tokio::test]
#[ignore = "a benchmark: e2e/bench/cluster.sh"]
async fn operator_benchmark() {
    let installed = Instant::now();
    install_chart(&["--set", "leaderElection.enabled=true"]);
    let client = admin().await;
    let token = service_account_token(&client).await;
    // Right after the CRD is created the API server refuses objects owned by a Shop for a
    // while (see wait_until_admission_knows_shops): measured once, then out of the way.
    wait_until_admission_knows_shops(&client_with_token(&token).await).await;
    let admission_after = installed.elapsed();
    let operator = OperatorProcess::start(
        &kubeconfig_with_token(&token, "operator-bench"),
        &[
            ("LEADER_ELECTION", "true"),
            ("LEASE_NAME", RELEASE),
            ("POD_NAMESPACE", SYSTEM_NAMESPACE),
            ("POD_NAME", "bench"),
        ],
        "operator-bench.log",
    );
    let leases: Api<Lease> = Api::namespaced(client.clone(), SYSTEM_NAMESPACE);
    wait_for(
        "the operator holding the Lease",
        Duration::from_secs(60),
        || {
            let leases = leases.clone();
            async move {
                let lease = leases.get_opt(RELEASE).await.map_err(|e| e.to_string())?;
                let holder = lease.and_then(|l| l.spec).and_then(|s| s.holder_identity);
                (holder.as_deref() == Some("bench"))
                    .then_some(())
                    .ok_or_else(|| format!("holder {holder:?}"))
            }
        },
    )
    .await;
    operator.settle().await;
    let idle = operator.resident_mib();
    let mut audit = Audit::open();

    // One Shop at a time: time to every object, to Ready, and the requests that took.
    let singles = namespaces(0, SINGLES).await;
    let reconciles_before = operator.reconciles();
    let mut timings = Vec::new();
    for ns in &singles {
        timings.push(time_one_shop(ns).await);
        operator.settle().await;
    }
    let creation = audit.since_last();
    let creation_reconciles = operator.reconciles() - reconciles_before;
    let expected = timings[0].0;
    let ns = &singles[0];

    // A steady reconcile: nothing to change, the Shop only touched.
    let touches = 10;
    let reconciles_before = operator.reconciles();
    for i in 0..touches {
        let touch =
            json!({"metadata": {"annotations": {"bench.microshop.dev/touch": i.to_string()}}});
        ns.shops()
            .patch("shop", &PatchParams::default(), &Patch::Merge(touch))
            .await
            .unwrap();
        let target = reconciles_before + i + 1;
        wait_for(
            "a reconcile of the touched Shop",
            Duration::from_secs(30),
            || async {
                (operator.reconciles() >= target)
                    .then_some(())
                    .ok_or_else(|| "not yet".to_owned())
            },
        )
        .await;
    }
    operator.settle().await;
    let steady = audit.since_last();
    let steady_reconciles = operator.reconciles() - reconciles_before;

    // Twenty, then a hundred.
    let twenty = namespaces(SINGLES, 20).await;
    let twenty_ready = apply_shops(&twenty).await;
    operator.settle().await;
    let with_20 = operator.resident_mib();
    let hundred = namespaces(20, 100).await;
    let hundred_ready = apply_shops(&hundred).await;
    operator.settle().await;
    let with_100 = operator.resident_mib();
    let scale_reconciles = operator.reconciles();
    let scale = audit.since_last();

    let seconds = |pick: fn(&(usize, Duration, Duration)) -> Duration| {
        let mut all: Vec<f64> = timings.iter().map(|t| pick(t).as_secs_f64()).collect();
        all.sort_by(f64::total_cmp);
        let (median, min, max) = (all[all.len() / 2], all[0], all[all.len() - 1]);
        format!("{median:>8.2} s  (median of {SINGLES}, {min:.2}..{max:.2} s)")
    };
    println!("\noperator benchmark (release binary, kwok nodes, {expected} objects per Shop)");
    println!(
        "  Shop applied -> all objects present   {}",
        seconds(|t| t.1)
    );
    println!(
        "  Shop applied -> Ready                 {}",
        seconds(|t| t.2)
    );
    println!(
        "  {:>2} more Shops applied -> all Ready    {:>8.2} s",
        20 - SINGLES,
        twenty_ready.as_secs_f64()
    );
    println!(
        "  80 more Shops applied -> all Ready    {:>8.2} s",
        hundred_ready.as_secs_f64()
    );
    println!(
        "  CRD installed -> Shop-owned objects admitted {:>6.2} s",
        admission_after.as_secs_f64()
    );
    println!("  resident memory, idle                 {idle:>8.1} MiB");
    println!("  resident memory, 20 Shops             {with_20:>8.1} MiB");
    println!("  resident memory, 100 Shops            {with_100:>8.1} MiB");
    println!(
        "  creating {SINGLES} Shops: {} requests in {creation_reconciles} reconciles = {:.1} per reconcile {creation:?}",
        total(&creation),
        total(&creation) as f64 / creation_reconciles.max(1) as f64
    );
    println!(
        "  steady Shop: {} requests in {steady_reconciles} reconciles = {:.1} per reconcile {steady:?}",
        total(&steady),
        total(&steady) as f64 / steady_reconciles.max(1) as f64
    );
    println!(
        "  {} more Shops: {} requests, {} reconciles in all so far {scale:?}",
        100 - SINGLES,
        total(&scale),
        scale_reconciles
    );
    let _ = std::io::stdout().flush();
}
