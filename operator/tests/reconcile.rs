//! The reconciler against a scripted API server (tower-test, as kube-rs's controller-rs
//! does): every call it makes is recorded, answered, and asserted on.

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use base64::{Engine, engine::general_purpose::STANDARD};
use http::{Method, Request, Response, StatusCode};
use k8s_openapi::{
    api::apps::v1::{Deployment, DeploymentStatus, StatefulSetStatus},
    apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference},
};
use kube::{
    Client, Resource, ResourceExt,
    client::Body,
    runtime::{controller::Action, reflector::ObjectRef},
};
use operator::{
    caches::Caches,
    controller::{self, Backoff, Context, Error},
    crd::{Shop, ShopSpec},
    metrics::Metrics,
    owned::{ObjectVisitor, OwnedKind},
    render::{Object, RenderInputs, VolumeClaims, render_shop},
};
use serde_json::{Value, json};

const UID: &str = "7d6b6f3e-0000-4000-8000-000000000001";

fn shop(spec: ShopSpec) -> Shop {
    let mut shop = Shop::new("demo", spec);
    shop.metadata.namespace = Some("shops".into());
    shop.metadata.uid = Some(UID.into());
    shop.metadata.generation = Some(1);
    shop.metadata.resource_version = Some("1".into());
    shop
}

/// A Shop whose Redis has a volume.
fn shop_with_redis_volume() -> Shop {
    let mut spec = ShopSpec::default();
    spec.redis.storage = Some(operator::crd::Storage {
        size: k8s_openapi::apimachinery::pkg::api::resource::Quantity("1Gi".into()),
        storage_class_name: None,
    });
    shop(spec)
}

/// One request the reconciler made.
#[derive(Clone, Debug)]
struct Call {
    method: Method,
    path: String,
    query: String,
    content_type: String,
    body: Value,
}

impl Call {
    fn is_apply(&self) -> bool {
        self.method == Method::PATCH && self.content_type == "application/apply-patch+yaml"
    }

    fn query_has(&self, pair: &str) -> bool {
        self.query.split('&').any(|p| p == pair)
    }
}

/// How the fake API server answers.
#[derive(Clone, Default)]
struct Script {
    /// Answer every apply of an owned object with this status (e.g. 500).
    fail_applies: Option<u16>,
    /// Answer every apply as admission does while it cannot map the kind Shop yet.
    owner_kind_unmapped: bool,
    /// Answer every apply of an owned object as the API server does in a namespace being
    /// deleted.
    namespace_terminating: bool,
    /// Answer the first apply of this StatefulSet with 422 (an immutable field changed).
    immutable_stateful_set: Option<&'static str>,
    /// Redis's volume exists with this uid, and owns a Secret `demo-redis` left by an
    /// earlier Shop of the same name, holding this password.
    retained_redis: Option<(&'static str, &'static str)>,
}

struct FakeApi {
    calls: Arc<Mutex<Vec<Call>>>,
}

impl FakeApi {
    /// A client whose every request is answered by `script` and recorded.
    fn start(shop: &Shop, script: Script) -> (Client, Self) {
        let (service, mut handle) = tower_test::mock::pair::<Request<Body>, Response<Body>>();
        let calls = Arc::new(Mutex::new(Vec::new()));
        let recorded = calls.clone();
        let shop_json = serde_json::to_value(shop).unwrap();
        tokio::spawn(async move {
            while let Some((request, send)) = handle.next_request().await {
                let (parts, body) = request.into_parts();
                let bytes = body.collect_bytes().await.unwrap();
                let call = Call {
                    method: parts.method.clone(),
                    path: parts.uri.path().to_owned(),
                    query: parts.uri.query().unwrap_or_default().to_owned(),
                    content_type: parts
                        .headers
                        .get(http::header::CONTENT_TYPE)
                        .map(|v| v.to_str().unwrap().to_owned())
                        .unwrap_or_default(),
                    body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
                };
                let earlier = recorded
                    .lock()
                    .unwrap()
                    .iter()
                    .filter(|c: &&Call| c.path == call.path && c.method == call.method)
                    .count();
                recorded.lock().unwrap().push(call.clone());
                let (status, body) = answer(&call, &script, &shop_json, earlier);
                let response = Response::builder()
                    .status(status)
                    .header("content-type", "application/json")
                    .body(Body::from(serde_json::to_vec(&body).unwrap()))
                    .unwrap();
                send.send_response(response);
            }
        });
        (Client::new(service, "default"), Self { calls })
    }

    fn calls(&self) -> Vec<Call> {
        self.calls.lock().unwrap().clone()
    }
}

fn list(kind: &str, items: Vec<Value>) -> Value {
    json!({"apiVersion": "v1", "kind": format!("{kind}List"), "metadata": {"resourceVersion": "1"}, "items": items})
}

fn answer(call: &Call, script: &Script, shop: &Value, earlier: usize) -> (StatusCode, Value) {
    let path = call.path.as_str();
    let failure = |code: u16| {
        json!({"apiVersion": "v1", "kind": "Status", "status": "Failure",
               "message": "etcdserver: request timed out", "reason": "InternalError", "code": code})
    };
    if path.ends_with("/shops/demo/status") {
        let mut shop = shop.clone();
        shop["status"] = call.body["status"].clone();
        return (StatusCode::OK, shop);
    }
    if path.contains("/events") {
        return (StatusCode::CREATED, call.body.clone());
    }
    match call.method {
        // The shop's Secrets and, with a store on a volume, its volumes: what it reads from
        // the API server (none yet, unless scripted); what else it owns it reads from the
        // controller's caches.
        Method::GET if path.ends_with("/secrets") => {
            let items = script.retained_redis.map(|(uid, password)| {
                let password = STANDARD.encode(password);
                json!({"apiVersion": "v1", "kind": "Secret",
                       "metadata": {"name": "demo-redis", "namespace": "shops",
                                    "ownerReferences": [{"apiVersion": "v1",
                                        "kind": "PersistentVolumeClaim",
                                        "name": "data-demo-redis-0", "uid": uid}]},
                       "data": {"password": password}})
            });
            (StatusCode::OK, list("Secret", items.into_iter().collect()))
        }
        Method::GET if path.ends_with("/persistentvolumeclaims") => {
            let items = script.retained_redis.map(|(uid, _)| {
                json!({"apiVersion": "meta.k8s.io/v1", "kind": "PartialObjectMetadata",
                       "metadata": {"name": "data-demo-redis-0", "namespace": "shops", "uid": uid}})
            });
            (
                StatusCode::OK,
                json!({"apiVersion": "meta.k8s.io/v1", "kind": "PartialObjectMetadataList",
                       "metadata": {"resourceVersion": "1"},
                       "items": items.into_iter().collect::<Vec<_>>()}),
            )
        }
        Method::PATCH
            if call.is_apply()
                && earlier == 0
                && script
                    .immutable_stateful_set
                    .is_some_and(|name| path.ends_with(&format!("/statefulsets/{name}"))) =>
        {
            let mut status = failure(422);
            status["reason"] = json!("Invalid");
            status["message"] = json!(
                "StatefulSet.apps is invalid: spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden"
            );
            (StatusCode::UNPROCESSABLE_ENTITY, status)
        }
        Method::PATCH if call.is_apply() && script.namespace_terminating => (
            StatusCode::FORBIDDEN,
            json!({"apiVersion": "v1", "kind": "Status", "status": "Failure", "code": 403,
                   "reason": "Forbidden",
                   "message": "secrets \"demo-user-db\" is forbidden: unable to create new content in namespace shops because it is being terminated",
                   "details": {"name": "demo-user-db", "kind": "secrets", "causes": [{
                       "reason": "NamespaceTerminating", "field": "metadata.namespace",
                       "message": "namespace shops is being terminated"}]}}),
        ),
        Method::PATCH if call.is_apply() && script.owner_kind_unmapped => (
            StatusCode::FORBIDDEN,
            json!({"apiVersion": "v1", "kind": "Status", "status": "Failure", "reason": "Forbidden", "code": 403,
                   "message": "secrets \"demo-user-db\" is forbidden: cannot set blockOwnerDeletion in this case because cannot find RESTMapping for APIVersion microshop.dev/v1alpha1 Kind Shop: no matches for kind \"Shop\" in version \"microshop.dev/v1alpha1\""}),
        ),
        Method::PATCH if call.is_apply() => match script.fail_applies {
            Some(code) => (StatusCode::from_u16(code).unwrap(), failure(code)),
            None => (StatusCode::OK, call.body.clone()),
        },
        Method::DELETE => (
            StatusCode::OK,
            json!({"apiVersion": "v1", "kind": "Status", "status": "Success", "metadata": {}}),
        ),
        _ => (StatusCode::NOT_FOUND, failure(404)),
    }
}

fn context(client: Client) -> Arc<Context> {
    Arc::new(Context::new(
        client,
        Arc::new(Metrics::default()),
        Some("operator-0".into()),
    ))
}

/// What the reconciler should apply for `shop` (secrets aside, which are random).
fn rendered(shop: &Shop) -> Vec<Object> {
    let credentials = operator::credentials::Credentials::keep_or_generate(
        "demo",
        &operator::credentials::ExistingSecrets::new(),
    );
    let inputs = RenderInputs {
        operator_version: env!("CARGO_PKG_VERSION"),
        credentials: &credentials,
        volume_claims: &VolumeClaims::new(),
    };
    render_shop(shop, &inputs).unwrap()
}

/// The object's URL path, as the API server serves it.
fn resource_path(object: &Object) -> String {
    struct Path;
    impl ObjectVisitor<'_> for Path {
        type Output = String;
        fn visit<K: OwnedKind>(self, object: &K) -> String {
            let collection = K::url_path(&(), object.namespace().as_deref());
            format!("{collection}/{}", object.name_any())
        }
    }
    object.visit(Path)
}

#[tokio::test]
async fn applies_every_rendered_object_with_force_and_the_field_manager() {
    let shop = shop(ShopSpec::default());
    let (client, api) = FakeApi::start(&shop, Script::default());
    let action = controller::reconcile(Arc::new(shop.clone()), context(client))
        .await
        .unwrap();
    assert_eq!(action, Action::requeue(controller::RESYNC));

    let calls = api.calls();
    let applies: Vec<&Call> = calls
        .iter()
        .filter(|c| c.is_apply() && !c.path.ends_with("/status"))
        .collect();
    let expected: Vec<String> = rendered(&shop).iter().map(resource_path).collect();
    let applied: Vec<String> = applies.iter().map(|c| c.path.clone()).collect();
    assert_eq!(applied, expected, "every rendered object, in render order");
    for call in &applies {
        assert!(
            call.query_has("fieldManager=microshop-operator"),
            "{}",
            call.path
        );
        assert!(call.query_has("force=true"), "{}", call.path);
        assert!(call.body["apiVersion"].is_string() && call.body["kind"].is_string());
    }
    // The first call reads the shop's Secrets back, so passwords are kept, not regenerated.
    assert_eq!(calls[0].method, Method::GET);
    assert!(calls[0].path.ends_with("/namespaces/shops/secrets"));
    assert!(calls[0].query.contains("labelSelector="));
    // Nothing deleted: nothing was there to sweep.
    assert!(calls.iter().all(|c| c.method != Method::DELETE));
    // A new generation is announced with an Event.
    let events: Vec<_> = calls
        .iter()
        .filter(|c| c.path.contains("/events"))
        .collect();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].body["reason"], "Applied");
    assert_eq!(events[0].body["regarding"]["name"], "demo");
}

#[tokio::test]
async fn status_is_patched_with_conditions_components_and_url() {
    let shop = shop(ShopSpec::default());
    let (client, api) = FakeApi::start(&shop, Script::default());
    controller::reconcile(Arc::new(shop), context(client))
        .await
        .unwrap();
    let calls = api.calls();
    let status_calls: Vec<_> = calls
        .iter()
        .filter(|c| c.path == "/apis/microshop.dev/v1alpha1/namespaces/shops/shops/demo/status")
        .collect();
    assert_eq!(status_calls.len(), 1);
    let call = status_calls[0];
    assert!(call.is_apply());
    assert!(call.query_has("fieldManager=microshop-operator") && call.query_has("force=true"));
    assert_eq!(call.body["apiVersion"], "microshop.dev/v1alpha1");
    assert_eq!(call.body["kind"], "Shop");
    assert!(
        call.body.get("spec").is_none(),
        "status apply must not claim the spec"
    );
    let status = &call.body["status"];
    assert_eq!(status["observedGeneration"], 1);
    assert_eq!(status["componentsReady"], "0/13");
    assert_eq!(status["url"], "http://demo-frontend.shops.svc");
    let conditions: Vec<(&str, &str)> = status["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["type"].as_str().unwrap(), c["status"].as_str().unwrap()))
        .collect();
    assert_eq!(
        conditions,
        [
            ("Ready", "False"),
            ("Progressing", "True"),
            ("Degraded", "False")
        ]
    );
    for condition in status["conditions"].as_array().unwrap() {
        assert!(condition["lastTransitionTime"].is_string());
        assert!(condition["reason"].is_string());
    }
    // Status comes last, after everything was applied and observed.
    assert!(calls.last().unwrap().path.ends_with("/status"));
}

#[tokio::test]
async fn an_owner_kind_admission_cannot_map_yet_is_tried_again_every_two_seconds_for_a_while() {
    let shop = Arc::new(shop(ShopSpec::default()));
    let script = Script {
        owner_kind_unmapped: true,
        ..Script::default()
    };
    let (client, _api) = FakeApi::start(&shop, script);
    let ctx = context(client);
    let err = controller::reconcile(shop.clone(), ctx.clone())
        .await
        .unwrap_err();
    assert!(err.owner_kind_not_mapped_yet(), "{err}");
    let delays: Vec<Action> = (0..17)
        .map(|_| controller::error_policy(shop.clone(), &err, ctx.clone()))
        .collect();
    // 30 s of quick tries, the time admission takes to learn a new kind; then the usual
    // backoff, as for any refusal that lasts.
    assert!(
        delays[..15]
            .iter()
            .all(|d| *d == Action::requeue(Duration::from_secs(2)))
    );
    assert_eq!(delays[15], Action::requeue(Duration::from_secs(300)));
}

#[tokio::test]
async fn a_paused_shop_gets_no_writes_at_all() {
    let shop = shop(ShopSpec {
        paused: true,
        ..ShopSpec::default()
    });
    let (client, api) = FakeApi::start(&shop, Script::default());
    let action = controller::reconcile(Arc::new(shop), context(client))
        .await
        .unwrap();
    assert_eq!(action, Action::await_change());
    assert!(api.calls().is_empty(), "{:?}", api.calls());
}

#[tokio::test]
async fn an_api_error_is_reported_and_requeued_with_growing_backoff() {
    let shop = Arc::new(shop(ShopSpec::default()));
    let script = Script {
        fail_applies: Some(500),
        ..Script::default()
    };
    let (client, api) = FakeApi::start(&shop, script);
    let ctx = context(client);
    let err = controller::reconcile(shop.clone(), ctx.clone())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Apply { .. }), "{err}");
    assert!(
        !err.owner_kind_not_mapped_yet(),
        "a 500 is no mapping delay"
    );
    assert_eq!(err.metric_label(), "apply");

    let calls = api.calls();
    // It stopped at the first failed apply, recorded a warning and marked the shop Degraded.
    assert_eq!(
        calls
            .iter()
            .filter(|c| c.is_apply() && !c.path.ends_with("/status"))
            .count(),
        1
    );
    let warning = calls.iter().find(|c| c.path.contains("/events")).unwrap();
    assert_eq!(warning.body["type"], "Warning");
    assert_eq!(warning.body["reason"], "ApplyFailed");
    let status = calls.iter().find(|c| c.path.ends_with("/status")).unwrap();
    let degraded = status.body["status"]["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["type"] == "Degraded")
        .unwrap();
    assert_eq!(degraded["status"], "True");
    assert!(degraded["message"].as_str().unwrap().contains("timed out"));

    // Each failure waits twice as long as the one before, up to the cap.
    let delays: Vec<Action> = (0..3)
        .map(|_| controller::error_policy(shop.clone(), &err, ctx.clone()))
        .collect();
    assert_eq!(
        delays,
        [
            Action::requeue(Duration::from_secs(5)),
            Action::requeue(Duration::from_secs(10)),
            Action::requeue(Duration::from_secs(20)),
        ]
    );
    assert!(
        ctx.metrics
            .encode()
            .contains(r#"reconcile_errors_total{error="apply"} 3"#)
    );
}

/// The rendered workloads as the caches hold them once they run: every replica ready.
fn running(shop: &Shop) -> Caches {
    Caches::holding(rendered(shop).into_iter().map(|object| match object {
        Object::Deployment(mut d) => {
            let replicas = d.spec.replicas.unwrap_or(1);
            d.status = Some(DeploymentStatus {
                ready_replicas: Some(replicas),
                ..DeploymentStatus::default()
            });
            Object::Deployment(d)
        }
        Object::StatefulSet(mut s) => {
            s.status = Some(StatefulSetStatus {
                ready_replicas: Some(1),
                ..StatefulSetStatus::default()
            });
            Object::StatefulSet(s)
        }
        other => other,
    }))
}

#[tokio::test]
async fn a_failed_apply_reports_the_readiness_the_caches_see_and_names_the_failure() {
    let shop = Arc::new(shop(ShopSpec::default()));
    let script = Script {
        fail_applies: Some(500),
        ..Script::default()
    };
    let (client, api) = FakeApi::start(&shop, script);
    let ctx = context(client);
    ctx.use_caches(running(&shop));
    controller::reconcile(shop.clone(), ctx).await.unwrap_err();

    let calls = api.calls();
    let status = &calls
        .iter()
        .find(|c| c.path.ends_with("/status"))
        .unwrap()
        .body["status"];
    // The shop still runs: a failed apply changes nothing that was running.
    assert_eq!(status["componentsReady"], "13/13");
    for component in status["components"].as_array().unwrap() {
        assert_eq!(component["ready"], component["desired"], "{component}");
    }
    let condition = |type_: &str| {
        status["conditions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["type"] == type_)
            .unwrap()
            .clone()
    };
    assert_eq!(condition("Ready")["status"], "True");
    let degraded = condition("Degraded");
    assert_eq!(degraded["status"], "True");
    assert_eq!(degraded["reason"], "ReconcileFailed");
    let message = degraded["message"].as_str().unwrap();
    assert!(
        message.starts_with("applying Secret demo-") && message.contains("timed out"),
        "{message}"
    );
}

#[tokio::test]
async fn a_reconcile_lists_only_the_shops_secrets_and_reads_the_rest_from_the_caches() {
    let shop = shop(ShopSpec::default());
    let (client, api) = FakeApi::start(&shop, Script::default());
    let ctx = context(client);
    ctx.use_caches(running(&shop));
    controller::reconcile(Arc::new(shop), ctx).await.unwrap();
    let calls = api.calls();
    let reads: Vec<&str> = calls
        .iter()
        .filter(|c| c.method == Method::GET)
        .map(|c| c.path.as_str())
        .collect();
    assert_eq!(reads, ["/api/v1/namespaces/shops/secrets"]);
    // The status comes from the caches: everything there runs.
    let status = &calls.last().unwrap().body["status"];
    assert_eq!(status["componentsReady"], "13/13");
}

#[tokio::test]
async fn a_shop_made_again_reads_the_password_its_retained_volume_was_made_with() {
    let shop = shop_with_redis_volume();
    let script = Script {
        retained_redis: Some(("pvc-uid", "the-volume-password")),
        ..Script::default()
    };
    let (client, api) = FakeApi::start(&shop, script);
    let ctx = context(client);
    ctx.use_caches(running(&shop));
    controller::reconcile(Arc::new(shop), ctx).await.unwrap();
    let calls = api.calls();
    let reads: Vec<&str> = calls
        .iter()
        .filter(|c| c.method == Method::GET)
        .map(|c| c.path.as_str())
        .collect();
    assert_eq!(
        reads,
        [
            "/api/v1/namespaces/shops/persistentvolumeclaims",
            "/api/v1/namespaces/shops/secrets"
        ]
    );
    let applied = calls
        .iter()
        .find(|c| c.is_apply() && c.path.ends_with("/secrets/demo-redis"))
        .unwrap();
    let password = &applied.body["data"]["password"];
    assert_eq!(
        STANDARD.decode(password.as_str().unwrap()).unwrap(),
        b"the-volume-password"
    );
    let owners: Vec<(&str, &str)> = applied.body["metadata"]["ownerReferences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["kind"].as_str().unwrap(), r["uid"].as_str().unwrap()))
        .collect();
    assert_eq!(
        owners,
        [("Shop", UID), ("PersistentVolumeClaim", "pvc-uid")]
    );
    // A store without a volume gets a new password, not one of an earlier Shop.
    let catalog_db = calls
        .iter()
        .find(|c| c.is_apply() && c.path.ends_with("/secrets/demo-catalog-db"))
        .unwrap();
    assert_eq!(
        catalog_db.body["metadata"]["ownerReferences"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

/// Deleting a namespace deletes the Shop's objects before the Shop: the reconciles that
/// wakes up cannot re-create anything, and are no failure to report (seen against a real
/// API server).
#[tokio::test]
async fn a_shop_in_a_namespace_being_deleted_is_left_to_it() {
    let shop = Arc::new(shop(ShopSpec::default()));
    let script = Script {
        namespace_terminating: true,
        ..Script::default()
    };
    let (client, api) = FakeApi::start(&shop, script);
    let action = controller::reconcile(shop, context(client)).await.unwrap();
    assert_eq!(action, Action::await_change());
    let calls = api.calls();
    assert!(
        calls
            .iter()
            .all(|c| !c.path.contains("/events") && !c.path.ends_with("/status")),
        "no Warning, no Degraded: {calls:?}"
    );
}

#[test]
fn backoff_is_per_shop_capped_and_reset_by_success() {
    let backoff = Backoff::default();
    let demo = ObjectRef::<Shop>::new("demo").within("shops");
    let other = ObjectRef::<Shop>::new("other").within("shops");
    for _ in 0..20 {
        backoff.failed(&demo);
    }
    assert_eq!(backoff.failed(&demo), Backoff::MAX);
    assert_eq!(
        backoff.failed(&other),
        Backoff::BASE,
        "another shop has its own count"
    );
    backoff.succeeded(&demo);
    assert_eq!(backoff.failures(&demo), 0);
    assert_eq!(backoff.failed(&demo), Backoff::BASE);
}

fn deployment(name: &str, owner_uid: &str) -> Deployment {
    Deployment {
        metadata: ObjectMeta {
            name: Some(name.into()),
            namespace: Some("shops".into()),
            labels: Some(
                [
                    ("app.kubernetes.io/instance".to_owned(), "demo".to_owned()),
                    (
                        "app.kubernetes.io/managed-by".to_owned(),
                        "microshop-operator".to_owned(),
                    ),
                ]
                .into(),
            ),
            owner_references: Some(vec![OwnerReference {
                api_version: Shop::api_version(&()).into(),
                kind: "Shop".into(),
                name: "demo".into(),
                uid: owner_uid.into(),
                controller: Some(true),
                block_owner_deletion: Some(true),
            }]),
            ..ObjectMeta::default()
        },
        ..Deployment::default()
    }
}

#[tokio::test]
async fn objects_no_longer_rendered_are_swept_but_only_our_own() {
    let shop = shop(ShopSpec::default());
    let (client, api) = FakeApi::start(&shop, Script::default());
    let ctx = context(client);
    // What the controller's watch of Deployments has seen.
    ctx.use_caches(Caches::holding(
        [
            deployment("demo-catalog", UID),
            // Rendered by an older operator, gone from today's render: ours to delete.
            deployment("demo-recommendations", UID),
            // Same labels, another owner: not ours.
            deployment("demo-legacy", "another-uid"),
        ]
        .map(Object::from),
    ));
    controller::reconcile(Arc::new(shop), ctx).await.unwrap();
    let calls = api.calls();
    let deleted: Vec<_> = calls
        .iter()
        .filter(|c| c.method == Method::DELETE)
        .map(|c| c.path.as_str())
        .collect();
    assert_eq!(
        deleted,
        ["/apis/apps/v1/namespaces/shops/deployments/demo-recommendations"]
    );
    // Secrets are read, never listed for sweeping or deleted.
    let secret_calls = calls
        .iter()
        .filter(|c| c.path.ends_with("/secrets"))
        .count();
    assert_eq!(secret_calls, 1);
    let pruned = calls
        .iter()
        .find(|c| c.path.contains("/events") && c.body["reason"] == "Pruned")
        .unwrap();
    assert!(
        pruned.body["note"]
            .as_str()
            .unwrap()
            .contains("Deployment/demo-recommendations")
    );
}

#[tokio::test]
async fn a_stateful_set_with_a_changed_immutable_field_is_recreated_keeping_its_pods() {
    let shop = shop_with_redis_volume();
    let script = Script {
        immutable_stateful_set: Some("demo-redis"),
        ..Script::default()
    };
    let (client, api) = FakeApi::start(&shop, script);
    controller::reconcile(Arc::new(shop), context(client))
        .await
        .unwrap();
    let path = "/apis/apps/v1/namespaces/shops/statefulsets/demo-redis";
    let calls: Vec<_> = api.calls().into_iter().filter(|c| c.path == path).collect();
    let methods: Vec<_> = calls.iter().map(|c| c.method.as_str()).collect();
    assert_eq!(methods, ["PATCH", "DELETE", "PATCH"]);
    assert_eq!(
        calls[1].body["propagationPolicy"], "Orphan",
        "the pods stay up"
    );
}

#[tokio::test]
async fn a_shop_being_deleted_is_left_to_the_garbage_collector() {
    let mut shop = shop(ShopSpec::default());
    shop.metadata.deletion_timestamp = Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
        k8s_openapi::jiff::Timestamp::now(),
    ));
    let (client, api) = FakeApi::start(&shop, Script::default());
    let action = controller::reconcile(Arc::new(shop), context(client))
        .await
        .unwrap();
    assert_eq!(action, Action::await_change());
    assert!(api.calls().is_empty(), "{:?}", api.calls());
}
