//! `/healthz` says the process is alive; `/readyz` says its own dependencies answer.

use std::{collections::BTreeMap, future::Future, pin::Pin, sync::Arc, time::Duration};

use axum::{Json, response::IntoResponse};
use futures::future::join_all;
use serde_json::json;

use crate::Problem;

type CheckFuture = Pin<Box<dyn Future<Output = Result<(), String>> + Send>>;
type Check = Arc<dyn Fn() -> CheckFuture + Send + Sync>;

/// How long one dependency may take to answer a readiness probe.
const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

/// The dependencies a service needs to be ready, each with a probe.
#[derive(Clone, Default)]
pub struct Readiness {
    checks: Vec<Probe>,
}

#[derive(Clone)]
struct Probe {
    name: &'static str,
    check: Check,
    /// A degraded dependency is reported but keeps the service ready: it can still do
    /// its main work without it (checkout takes orders while the broker is away).
    degrades_only: bool,
}

impl Readiness {
    pub fn new() -> Self {
        Self::default()
    }

    /// A dependency the service cannot work without: unready while it fails.
    pub fn with_check<F, Fut>(self, name: &'static str, check: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), String>> + Send + 'static,
    {
        self.add(name, check, false)
    }

    /// A dependency whose failure is reported in `/readyz` but keeps the service ready.
    pub fn with_degrading_check<F, Fut>(self, name: &'static str, check: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), String>> + Send + 'static,
    {
        self.add(name, check, true)
    }

    fn add<F, Fut>(mut self, name: &'static str, check: F, degrades_only: bool) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), String>> + Send + 'static,
    {
        let check: Check = Arc::new(move || Box::pin(check()));
        self.checks.push(Probe {
            name,
            check,
            degrades_only,
        });
        self
    }

    /// Runs every probe at once; each answers "ok" or why not.
    pub async fn report(&self) -> (bool, BTreeMap<&'static str, String>) {
        let probes = self.checks.iter().map(|probe| async move {
            let outcome = match tokio::time::timeout(CHECK_TIMEOUT, (probe.check)()).await {
                Ok(Ok(())) => Ok(()),
                Ok(Err(why)) => Err(why),
                Err(_) => Err(format!("no answer within {CHECK_TIMEOUT:?}")),
            };
            (probe, outcome)
        });
        let results = join_all(probes).await;
        let ready = results
            .iter()
            .all(|(probe, outcome)| outcome.is_ok() || probe.degrades_only);
        let report = results
            .into_iter()
            .map(|(probe, outcome)| {
                let state = match outcome {
                    Ok(()) => "ok".to_owned(),
                    Err(why) if probe.degrades_only => format!("degraded: {why}"),
                    Err(why) => why,
                };
                (probe.name, state)
            })
            .collect();
        (ready, report)
    }
}

pub(crate) async fn healthz() -> impl IntoResponse {
    Json(json!({"status": "alive"}))
}

pub(crate) async fn readyz(readiness: Readiness) -> axum::response::Response {
    let (ready, report) = readiness.report().await;
    if ready {
        Json(json!({"status": "ready", "checks": report})).into_response()
    } else {
        let failing: Vec<_> = report
            .iter()
            .filter(|(_, v)| *v != "ok")
            .map(|(k, _)| *k)
            .collect();
        Problem::unavailable(&failing.join(", "))
            .with_extension("checks", json!(report))
            .into_response()
    }
}
