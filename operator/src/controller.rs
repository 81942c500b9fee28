//! The reconciler: render the Shop, server-side apply what it renders, sweep what it no
//! longer renders, and report status and events. It never panics; failures go to
//! [`error_policy`], which requeues with a per-Shop exponential backoff.

use std::{
    collections::{BTreeSet, HashMap},
    fmt::Debug,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use futures::StreamExt;
use k8s_openapi::{
    NamespaceResourceScope,
    api::{
        apps::v1::{Deployment, StatefulSet},
        core::v1::{ConfigMap, Secret, Service, ServiceAccount},
        networking::v1::{Ingress, NetworkPolicy},
        policy::v1::PodDisruptionBudget,
    },
    apimachinery::pkg::apis::meta::v1::Time,
    jiff::Timestamp,
};
use kube::{
    Client, Resource, ResourceExt,
    api::{Api, DeleteParams, ListParams, Patch, PatchParams},
    runtime::{
        Controller,
        controller::{self, Action},
        events::{Event, EventType, Recorder, Reporter},
        reflector::ObjectRef,
        watcher,
    },
};
use serde::{Serialize, de::DeserializeOwned};

use crate::{
    crd::{Shop, ShopStatus},
    credentials::{Credentials, ExistingSecrets},
    metrics::Metrics,
    render::{self, FIELD_MANAGER, Object, RenderInputs, shop_label_selector},
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

    /// The variant's name: a metric label, so failures are countable by kind.
    pub fn metric_label(&self) -> &'static str {
        match self {
            Error::Apply { .. } => "apply",
            Error::List { .. } => "list",
            Error::Delete { .. } => "delete",
            Error::Status(_) => "status",
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
        }
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

    let existing = existing_secrets(client, &namespace, &selector, shop).await?;
    let credentials = Credentials::keep_or_generate(&shop.name_any(), &existing);
    let inputs = RenderInputs {
        operator_version: &ctx.operator_version,
        credentials: &credentials,
    };
    let objects = render::render_shop(shop, &inputs)?;

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
        report(ctx, shop, &namespace, &Observed::default(), Some(&err)).await;
        return Err(err);
    }

    let owner = shop.uid().unwrap_or_default();
    let keep = |kind: &str| -> BTreeSet<String> {
        objects
            .iter()
            .filter(|o| o.kind() == kind)
            .map(|o| o.name().to_owned())
            .collect()
    };
    let sweep_ctx = Sweep {
        client,
        namespace: &namespace,
        selector: &selector,
        owner: &owner,
    };
    let mut deleted = Vec::new();
    let deployments = sweep_ctx
        .run::<Deployment>(&keep("Deployment"), &mut deleted)
        .await?;
    let stateful_sets = sweep_ctx
        .run::<StatefulSet>(&keep("StatefulSet"), &mut deleted)
        .await?;
    let services = sweep_ctx
        .run::<Service>(&keep("Service"), &mut deleted)
        .await?;
    sweep_ctx
        .run::<ConfigMap>(&keep("ConfigMap"), &mut deleted)
        .await?;
    sweep_ctx
        .run::<ServiceAccount>(&keep("ServiceAccount"), &mut deleted)
        .await?;
    sweep_ctx
        .run::<NetworkPolicy>(&keep("NetworkPolicy"), &mut deleted)
        .await?;
    sweep_ctx
        .run::<PodDisruptionBudget>(&keep("PodDisruptionBudget"), &mut deleted)
        .await?;
    sweep_ctx
        .run::<Ingress>(&keep("Ingress"), &mut deleted)
        .await?;
    // Secrets are never swept: a store switched to `external` and back must find the
    // password its retained volume was initialised with. They go with the Shop.
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
    let observed = Observed {
        deployments: &deployments,
        stateful_sets: &stateful_sets,
        services: &services,
    };
    let status = status::shop_status(shop, &observed, None, now());
    patch_status(client, shop, &namespace, &status).await?;
    Ok(Action::requeue(RESYNC))
}

/// Requeue with this Shop's backoff; never a crash loop.
pub fn error_policy(shop: Arc<Shop>, error: &Error, ctx: Arc<Context>) -> Action {
    ctx.metrics.failed(error.metric_label());
    let delay = ctx.backoff.failed(&ObjectRef::from_obj(&*shop));
    tracing::warn!(shop = %shop.name_any(), error = %error, retry_in_s = delay.as_secs(), "reconcile failed");
    Action::requeue(delay)
}

fn now() -> Time {
    Time(Timestamp::now())
}

/// Data of the Secrets the operator made for this shop before.
async fn existing_secrets(
    client: &Client,
    namespace: &str,
    selector: &str,
    shop: &Shop,
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
        .filter(|s| owned_by(s, owner.as_deref()))
        .map(|s| (s.name_any(), s.data.unwrap_or_default()))
        .collect())
}

fn owned_by<K: Resource>(object: &K, uid: Option<&str>) -> bool {
    let Some(uid) = uid else { return false };
    object.owner_references().iter().any(|r| r.uid == uid)
}

async fn apply_all(client: &Client, namespace: &str, objects: &[Object]) -> Result<(), Error> {
    for object in objects {
        match object {
            Object::Deployment(o) => apply(client, namespace, o).await?,
            Object::StatefulSet(o) => apply_stateful_set(client, namespace, o).await?,
            Object::Service(o) => apply(client, namespace, o).await?,
            Object::ConfigMap(o) => apply(client, namespace, o).await?,
            Object::Secret(o) => apply(client, namespace, o).await?,
            Object::ServiceAccount(o) => apply(client, namespace, o).await?,
            Object::NetworkPolicy(o) => apply(client, namespace, o).await?,
            Object::PodDisruptionBudget(o) => apply(client, namespace, o).await?,
            Object::Ingress(o) => apply(client, namespace, o).await?,
        }
    }
    Ok(())
}

/// Server-side apply under our field manager, forced: a `kubectl edit` of a field we own
/// is drift to put back, not a conflict to stop on.
async fn apply<K>(client: &Client, namespace: &str, object: &K) -> Result<(), Error>
where
    K: Resource<Scope = NamespaceResourceScope, DynamicType = ()>
        + k8s_openapi::Resource
        + Clone
        + Debug
        + Serialize
        + DeserializeOwned,
{
    let api: Api<K> = Api::namespaced(client.clone(), namespace);
    let name = object.name_any();
    let params = PatchParams::apply(FIELD_MANAGER).force();
    api.patch(&name, &params, &Patch::Apply(object))
        .await
        .map_err(|source| Error::Apply {
            kind: <K as k8s_openapi::Resource>::KIND,
            name,
            source,
        })?;
    Ok(())
}

/// A StatefulSet's `volumeClaimTemplates` (and a few other fields) are immutable: a store
/// given `storage` later cannot be patched. The StatefulSet is then deleted with its pods
/// orphaned and applied anew; the new one adopts the pods and rolls them onto the claims.
async fn apply_stateful_set(
    client: &Client,
    namespace: &str,
    object: &StatefulSet,
) -> Result<(), Error> {
    match apply(client, namespace, object).await {
        Err(Error::Apply {
            source: kube::Error::Api(status),
            name,
            ..
        }) if status.code == 422 => {
            tracing::info!(statefulset = %name, reason = %status.message, "immutable field changed; re-creating");
            let api: Api<StatefulSet> = Api::namespaced(client.clone(), namespace);
            api.delete(&name, &DeleteParams::orphan())
                .await
                .map_err(|source| Error::Delete {
                    kind: "StatefulSet",
                    name,
                    source,
                })?;
            apply(client, namespace, object).await
        }
        other => other,
    }
}

struct Sweep<'a> {
    client: &'a Client,
    namespace: &'a str,
    selector: &'a str,
    owner: &'a str,
}

impl Sweep<'_> {
    /// Deletes this shop's objects of kind `K` that are not in `keep`; returns those kept.
    async fn run<K>(
        &self,
        keep: &BTreeSet<String>,
        deleted: &mut Vec<String>,
    ) -> Result<Vec<K>, Error>
    where
        K: Resource<Scope = NamespaceResourceScope, DynamicType = ()>
            + k8s_openapi::Resource
            + Clone
            + Debug
            + Serialize
            + DeserializeOwned,
    {
        let kind = <K as k8s_openapi::Resource>::KIND;
        let api: Api<K> = Api::namespaced(self.client.clone(), self.namespace);
        let list = api
            .list(&ListParams::default().labels(self.selector))
            .await
            .map_err(|source| Error::List { kind, source })?;
        let mut kept = Vec::new();
        for object in list.items {
            let name = object.name_any();
            if keep.contains(&name) || !owned_by(&object, Some(self.owner)) {
                kept.push(object);
                continue;
            }
            match api.delete(&name, &DeleteParams::background()).await {
                Ok(_) => deleted.push(format!("{kind}/{name}")),
                // Someone else deleted it first: the outcome we wanted.
                Err(kube::Error::Api(status)) if status.code == 404 => {}
                Err(source) => return Err(Error::Delete { kind, name, source }),
            }
        }
        Ok(kept)
    }
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
    observed: &Observed<'_>,
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
    fn api<K>(client: &Client, namespace: Option<&str>) -> Api<K>
    where
        K: Resource<Scope = NamespaceResourceScope, DynamicType = ()>,
    {
        match namespace {
            Some(ns) => Api::namespaced(client.clone(), ns),
            None => Api::all(client.clone()),
        }
    }
    let ns = watch_namespace;
    // Only our own objects: the operator never caches anyone else's Secrets.
    let owned = watcher::Config::default()
        .labels(&format!("{}={FIELD_MANAGER}", render::labels::MANAGED_BY));
    Controller::new(api::<Shop>(&client, ns), watcher::Config::default())
        .owns(api::<Deployment>(&client, ns), owned.clone())
        .owns(api::<StatefulSet>(&client, ns), owned.clone())
        .owns(api::<Service>(&client, ns), owned.clone())
        .owns(api::<ConfigMap>(&client, ns), owned.clone())
        .owns(api::<Secret>(&client, ns), owned.clone())
        .owns(api::<ServiceAccount>(&client, ns), owned.clone())
        .owns(api::<NetworkPolicy>(&client, ns), owned.clone())
        .owns(api::<PodDisruptionBudget>(&client, ns), owned.clone())
        .owns(api::<Ingress>(&client, ns), owned)
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
