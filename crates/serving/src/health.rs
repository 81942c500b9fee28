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
    checks: Vec<(&'static str, Check)>,
}

impl Readiness {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with_check<F, Fut>(mut self, name: &'static str, check: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), String>> + Send + 'static,
    {
        self.checks
            .push((name, Arc::new(move || Box::pin(check()))));
        self
    }

    /// Runs every probe at once; each answers "ok" or why not.
    pub async fn report(&self) -> (bool, BTreeMap<&'static str, String>) {
        let probes = self.checks.iter().map(|(name, check)| async move {
            let outcome = match tokio::time::timeout(CHECK_TIMEOUT, check()).await {
                Ok(Ok(())) => Ok(()),
                Ok(Err(why)) => Err(why),
                Err(_) => Err(format!("no answer within {CHECK_TIMEOUT:?}")),
            };
            (*name, outcome)
        });
        let results = join_all(probes).await;
        let ready = results.iter().all(|(_, outcome)| outcome.is_ok());
        let report = results
            .into_iter()
            .map(|(name, outcome)| (name, outcome.err().unwrap_or_else(|| "ok".into())))
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
