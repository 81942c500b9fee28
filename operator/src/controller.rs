//! The reconciler: render the Shop, server-side apply what it renders, sweep what it no
//! longer renders, and report status and events. What the shop owns is read from the
//! controller's caches, not listed again. It never panics; failures go to
//! [`error_policy`], which requeues with a per-Shop exponential backoff.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, RwLock},
    time::{Duration, Instant},
};

use futures::StreamExt;
use k8s_openapi::{
    api::core::v1::{PersistentVolumeClaim, Secret},
    apimachinery::pkg::apis::meta::v1::Time,
    jiff::Timestamp,
};
use kube::{
    Client, Resource, ResourceExt,
    api::{Api, ListParams, Patch, PatchParams},
    runtime::{
        Controller,
        controller::{self, Action},
        events::{Event, EventType, Recorder, Reporter},
        reflector::ObjectRef,
        watcher,
    },
};
use serde::Serialize;

use crate::{
    apply::{apply_all, sweep},
    caches::{self, CacheClosed, Caches},
    crd::{Shop, ShopStatus},
    credentials::{self, Credentials, ExistingSecrets},
    metrics::Metrics,
    render::{
        self, FIELD_MANAGER, RenderInputs, VolumeClaims, component::Store, shop_label_selector,
    },
    status::{self, Observed},
};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("applying {kind} {name}: {source}")]
    Apply {
        kind: &'static str,
        name: String,
        #[source]
        source: kube::Error,
    },
    #[error("listing {kind}: {source}")]
    List {
        kind: &'static str,
        #[source]
        source: kube::Error,
    },
    #[error("deleting {kind} {name}: {source}")]
    Delete {
        kind: &'static str,
        name: String,
        #[source]
        source: kube::Error,
    },
    #[error("patching the Shop's status: {0}")]
    Status(#[source] kube::Error),
    #[error(transparent)]
    Cache(#[from] CacheClosed),
    #[error(transparent)]
    Render(#[from] render::RenderError),
}

impl Error {
    /// The API server refused to create something because the namespace is being deleted
    /// (the cause `NamespaceTerminating` of NamespaceLifecycle admission).
    pub fn namespace_terminating(&self) -> bool {
        let source = match self {
            Error::Apply { source, .. } | Error::Delete { source, .. } => source,
            _ => return false,
        };
        matches!(source, kube::Error::Api(status)
        if status.details.as_ref().is_some_and(|d| {
            d.causes.iter().any(|c| c.reason == "NamespaceTerminating")
        }))
    }

    /// Admission refused an owner reference to the Shop because it cannot map the kind yet.
    /// OwnerReferencesPermissionEnforcement refreshes its RESTMapper every 30 s, so right
    /// after the CRD is installed the first Shop's objects are refused for up to that long.
    pub fn owner_kind_not_mapped_yet(&self) -> bool {
        matches!(self, Error::Apply { source: kube::Error::Api(status), .. }
            if status.code == 403 && status.message.contains("cannot find RESTMapping"))
    }

    /// The variant's name: a metric label, so failures are countable by kind.
    pub fn metric_label(&self) -> &'static str {
        match self {
            Error::Apply { .. } => "apply",
            Error::List { .. } => "list",
            Error::Delete { .. } => "delete",
            Error::Status(_) => "status",
            Error::Cache(_) => "cache",
            Error::Render(_) => "render",
        }
    }
}

/// Backoff after consecutive failures of one Shop: 5 s, 10 s, 20 s, ... at most 5 min.
#[derive(Debug, Default)]
pub struct Backoff {
    failures: Mutex<HashMap<ObjectRef<Shop>, u32>>,
}

impl Backoff {
    pub const BASE: Duration = Duration::from_secs(5);
    pub const MAX: Duration = Duration::from_secs(300);

    /// Counts one more failure and answers how long to wait before the next try.
    pub fn failed(&self, shop: &ObjectRef<Shop>) -> Duration {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let count = failures.entry(shop.clone()).or_insert(0);
        *count = count.saturating_add(1);
        let factor = 2u32.saturating_pow(count.saturating_sub(1).min(16));
        Self::BASE.saturating_mul(factor).min(Self::MAX)
    }

    pub fn succeeded(&self, shop: &ObjectRef<Shop>) {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        failures.remove(shop);
    }

    pub fn failures(&self, shop: &ObjectRef<Shop>) -> u32 {
        let failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        failures.get(shop).copied().unwrap_or(0)
    }
}

/// Everything a reconcile needs, shared by all of them.
pub struct Context {
    pub client: Client,
    pub recorder: Recorder,
    pub metrics: Arc<Metrics>,
    pub backoff: Backoff,
    /// Default image tag of the shop's services.
    pub operator_version: String,
    /// What the running controller's watches have seen; replaced each time it starts.
    caches: RwLock<Arc<Caches>>,
}

impl Context {
    pub fn new(client: Client, metrics: Arc<Metrics>, instance: Option<String>) -> Self {
        let reporter = Reporter {
            controller: FIELD_MANAGER.into(),
            instance,
        };
        Self {
            recorder: Recorder::new(client.clone(), reporter),
            client,
            metrics,
            backoff: Backoff::default(),
            operator_version: env!("CARGO_PKG_VERSION").into(),
            caches: RwLock::new(Arc::new(Caches::holding([]))),
        }
    }

    /// The caches reconciles read from now on.
    pub fn use_caches(&self, caches: Caches) {
        *self.caches.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(caches);
    }

    pub fn caches(&self) -> Arc<Caches> {
        self.caches
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

/// How often a healthy shop is looked at again even when nothing changed.
pub const RESYNC: Duration = Duration::from_secs(300);

#[tracing::instrument(skip_all, fields(shop.name = %shop.name_any(), shop.namespace = shop.namespace().unwrap_or_default()))]
pub async fn reconcile(shop: Arc<Shop>, ctx: Arc<Context>) -> Result<Action, Error> {
    let started = Instant::now();
    // Within kube-runtime's span, which names why this reconcile runs (`object.reason`).
    tracing::debug!("reconciling");
    ctx.metrics.reconciled();
    let result = reconcile_inner(&shop, &ctx).await;
    ctx.metrics.observe_duration(started.elapsed());
    if result.is_ok() {
        ctx.backoff.succeeded(&ObjectRef::from_obj(&*shop));
    }
    result
}

async fn reconcile_inner(shop: &Shop, ctx: &Context) -> Result<Action, Error> {
    if shop.spec.paused {
        tracing::info!(shop = %shop.name_any(), "paused; leaving everything as it is");
        return Ok(Action::await_change());
    }
    if shop.metadata.deletion_timestamp.is_some() {
        // The garbage collector is removing what the Shop owns; re-applying would fight it.
        return Ok(Action::await_change());
    }
    let namespace = shop
        .namespace()
        .ok_or(render::RenderError::MissingMetadata("namespace"))?;
    let client = &ctx.client;
    let selector = shop_label_selector(&shop.name_any());

    // Read from the API server, not a cache: a Secret made by the last reconcile and not yet
    // seen by the watch would otherwise get new passwords.
    let volume_claims = volume_claims(client, &namespace, &selector, shop).await?;
    let existing = existing_secrets(client, &namespace, &selector, shop, &volume_claims).await?;
    let credentials = Credentials::keep_or_generate(&shop.name_any(), &existing);
    let inputs = RenderInputs {
        operator_version: &ctx.operator_version,
        credentials: &credentials,
        volume_claims: &volume_claims,
    };
    let objects = render::render_shop(shop, &inputs)?;
    let caches = ctx.caches();
    caches.ready().await?;

    if let Err(err) = apply_all(client, &namespace, &objects).await {
        if err.namespace_terminating() {
            // The namespace controller is deleting everything in it, the Shop too: nothing
            // can be re-created there, and nothing is wrong.
            tracing::info!(shop = %shop.name_any(), "namespace is being deleted; leaving the shop to it");
            return Ok(Action::await_change());
        }
        publish(
            ctx,
            shop,
            EventType::Warning,
            "ApplyFailed",
            &err.to_string(),
        )
        .await;
        // What runs keeps running: report the readiness the watches see, beside the failure.
        let observed = Observed::in_caches(&caches, shop);
        report(ctx, shop, &namespace, &observed, Some(&err)).await;
        return Err(err);
    }

    let deleted = sweep(client, &caches, shop, &objects).await?;
    if !deleted.is_empty() {
        let note = format!("deleted objects no longer rendered: {}", deleted.join(", "));
        publish(ctx, shop, EventType::Normal, "Pruned", &note).await;
    }

    let spec_changed =
        shop.status.as_ref().and_then(|s| s.observed_generation) != shop.metadata.generation;
    if spec_changed {
        let note = format!("applied {} objects", objects.len());
        publish(ctx, shop, EventType::Normal, "Applied", &note).await;
    }
    let observed = Observed::in_caches(&caches, shop);
    let status = status::shop_status(shop, &observed, None, now());
    patch_status(client, shop, &namespace, &status).await?;
    Ok(Action::requeue(RESYNC))
}

/// How soon, and how many times, an owner kind admission cannot map yet is tried again.
const UNMAPPED_OWNER_RETRY: Duration = Duration::from_secs(2);
const UNMAPPED_OWNER_RETRIES: u32 = 15;

/// Requeue with this Shop's backoff; never a crash loop.
pub fn error_policy(shop: Arc<Shop>, error: &Error, ctx: Arc<Context>) -> Action {
    ctx.metrics.failed(error.metric_label());
    let key = ObjectRef::from_obj(&*shop);
    let backoff = ctx.backoff.failed(&key);
    // A refusal that clears by itself within 30 s is tried again every 2 s for that long,
    // rather than at 5, 10, 20 s, which kept a new shop waiting up to 35 s after install.
    let delay = if error.owner_kind_not_mapped_yet()
        && ctx.backoff.failures(&key) <= UNMAPPED_OWNER_RETRIES
    {
        UNMAPPED_OWNER_RETRY
    } else {
        backoff
    };
    tracing::warn!(shop = %shop.name_any(), error = %error, retry_in_s = delay.as_secs(), "reconcile failed");
    Action::requeue(delay)
}

fn now() -> Time {
    Time(Timestamp::now())
}

/// The shop's store volumes, listed only when a store the operator runs has one.
async fn volume_claims(
    client: &Client,
    namespace: &str,
    selector: &str,
    shop: &Shop,
) -> Result<VolumeClaims, Error> {
    let any_volume = Store::ALL.iter().any(|store| {
        let spec = store.spec(&shop.spec);
        spec.external.is_none() && spec.storage.is_some()
    });
    if !any_volume {
        return Ok(VolumeClaims::new());
    }
    let api: Api<PersistentVolumeClaim> = Api::namespaced(client.clone(), namespace);
    let list = api
        .list_metadata(&ListParams::default().labels(selector))
        .await
        .map_err(|source| Error::List {
            kind: "PersistentVolumeClaim",
            source,
        })?;
    Ok(list
        .items
        .into_iter()
        .filter_map(|claim| Some((claim.name_any(), claim.uid()?)))
        .collect())
}

/// Data of the Secrets the operator made for this shop before, or for an earlier Shop of
/// the same name whose volumes remain ([`credentials::kept`]).
async fn existing_secrets(
    client: &Client,
    namespace: &str,
    selector: &str,
    shop: &Shop,
    volume_claims: &VolumeClaims,
) -> Result<ExistingSecrets, Error> {
    let api: Api<Secret> = Api::namespaced(client.clone(), namespace);
    let list = api
        .list(&ListParams::default().labels(selector))
        .await
        .map_err(|source| Error::List {
            kind: "Secret",
            source,
        })?;
    let owner = shop.uid();
    Ok(list
        .items
        .into_iter()
        .filter(|s| credentials::kept(s.owner_references(), owner.as_deref(), volume_claims))
        .map(|s| (s.name_any(), s.data.unwrap_or_default()))
        .collect())
}

/// What a status apply sends: only `status`, so the operator owns no field of the spec.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct StatusApply<'a> {
    api_version: String,
    kind: String,
    status: &'a ShopStatus,
}

async fn patch_status(
    client: &Client,
    shop: &Shop,
    namespace: &str,
    status: &ShopStatus,
) -> Result<(), Error> {
    let api: Api<Shop> = Api::namespaced(client.clone(), namespace);
    let body = StatusApply {
        api_version: Shop::api_version(&()).into_owned(),
        kind: Shop::kind(&()).into_owned(),
        status,
    };
    let params = PatchParams::apply(FIELD_MANAGER).force();
    api.patch_status(&shop.name_any(), &params, &Patch::Apply(&body))
        .await
        .map_err(Error::Status)?;
    Ok(())
}

/// Best effort on the failure path: the reconcile's own error is what gets returned.
async fn report(
    ctx: &Context,
    shop: &Shop,
    namespace: &str,
    observed: &Observed,
    failure: Option<&Error>,
) {
    let why = failure.map(|e| e.to_string());
    let status = status::shop_status(shop, observed, why.as_deref(), now());
    if let Err(err) = patch_status(&ctx.client, shop, namespace, &status).await {
        tracing::warn!(shop = %shop.name_any(), error = %err, "could not record the failure in status");
    }
}

/// Events are best effort too: losing one must not fail a reconcile.
async fn publish(ctx: &Context, shop: &Shop, type_: EventType, reason: &str, note: &str) {
    let event = Event {
        type_,
        reason: reason.into(),
        note: Some(truncate(note, 1000)),
        action: "Reconcile".into(),
        secondary: None,
    };
    if let Err(err) = ctx.recorder.publish(&event, &shop.object_ref(&())).await {
        tracing::warn!(shop = %shop.name_any(), error = %err, "could not publish an event");
    }
}

fn truncate(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

/// Runs the controller until `shutdown` resolves.
pub async fn run(
    ctx: Arc<Context>,
    watch_namespace: Option<&str>,
    shutdown: impl std::future::Future<Output = ()> + Send + Sync + 'static,
) {
    let client = ctx.client.clone();
    let shops: Api<Shop> = match watch_namespace {
        Some(ns) => Api::namespaced(client.clone(), ns),
        None => Api::all(client.clone()),
    };
    // Only our own objects: the operator never caches anyone else's Secrets.
    let owned = watcher::Config::default()
        .labels(&format!("{}={FIELD_MANAGER}", render::labels::MANAGED_BY));
    let (controller, caches) = caches::watch_owned(
        Controller::new(shops, watcher::Config::default()),
        &client,
        watch_namespace,
        &owned,
    );
    ctx.use_caches(caches);
    controller
        // A rollout changes many owned objects at once: one reconcile for the burst.
        .with_config(
            controller::Config::default()
                .debounce(Duration::from_secs(1))
                .concurrency(4),
        )
        .graceful_shutdown_on(shutdown)
        .run(reconcile, error_policy, ctx)
        .for_each(|result| async move {
            match result {
                Ok((shop, _)) => tracing::debug!(shop = %shop.name, "reconciled"),
                Err(err) => tracing::debug!(error = %err, "controller event"),
            }
        })
        .await;
}
