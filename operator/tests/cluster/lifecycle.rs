//! A Shop's life in a real cluster: everything it owns appears as rendered, it becomes
//! Ready when its workloads are available, and its deletion leaves nothing behind.

use std::collections::{BTreeMap, BTreeSet};

use futures::{FutureExt, future::BoxFuture};
use k8s_openapi::api::{
    apps::v1::{Deployment, ReplicaSet},
    core::v1::{PersistentVolumeClaim, Pod, Secret},
    events::v1::Event,
};
use kube::{
    ResourceExt,
    api::{DeleteParams, ListParams},
};
use operator::{
    crd::Shop,
    credentials::{Credentials, ExistingSecrets},
    owned::{ObjectVisitor, OwnedKind},
    render::{Object, RenderInputs, VolumeClaims, render_shop},
};
use serde_json::{Value, json};

use crate::{
    harness::{WAIT, operator, wait_for},
    namespace::TestNamespace,
};

/// What the operator would render for the Shop as the cluster has it, with the
/// credentials it generated read back from the cluster.
async fn rendered(ns: &TestNamespace, shop: &Shop) -> Vec<Object> {
    let existing: ExistingSecrets = ns
        .list::<Secret>(&shop.name_any())
        .await
        .into_iter()
        .map(|s| (s.name_any(), s.data.unwrap_or_default()))
        .collect();
    let credentials = Credentials::keep_or_generate(&shop.name_any(), &existing);
    let inputs = RenderInputs {
        operator_version: env!("CARGO_PKG_VERSION"),
        credentials: &credentials,
        volume_claims: &VolumeClaims::new(),
    };
    render_shop(shop, &inputs).expect("a Shop from the cluster renders")
}

/// The live object of the same kind and name, as JSON.
async fn live(ns: &TestNamespace, object: &Object) -> Value {
    struct Get<'a>(&'a TestNamespace);
    impl<'o> ObjectVisitor<'o> for Get<'o> {
        type Output = BoxFuture<'o, Value>;
        fn visit<K: OwnedKind>(self, object: &'o K) -> Self::Output {
            async move {
                let found = self.0.api::<K>().get(&object.name_any()).await;
                serde_json::to_value(found.unwrap_or_else(|e| panic!("{}: {e}", object.name_any())))
                    .unwrap()
            }
            .boxed()
        }
    }
    object.visit(Get(ns)).await
}

fn rendered_json(object: &Object) -> Value {
    serde_json::to_value(object).unwrap()
}

/// Paths where the live object lacks or contradicts a field the operator rendered (the
/// API server may only add: defaults, status, bookkeeping).
fn differences(rendered: &Value, live: &Value, path: &str, out: &mut Vec<String>) {
    match (rendered, live) {
        (Value::Object(r), Value::Object(l)) => {
            for (key, value) in r {
                if value.is_null() {
                    continue;
                }
                let at = format!("{path}.{key}");
                match l.get(key) {
                    Some(live) => differences(value, live, &at, out),
                    None => out.push(format!("{at}: missing")),
                }
            }
        }
        (Value::Array(r), Value::Array(l)) if r.len() == l.len() => {
            for (i, (r, l)) in r.iter().zip(l).enumerate() {
                differences(r, l, &format!("{path}[{i}]"), out);
            }
        }
        (r, l) if r != l => out.push(format!("{path}: rendered {r}, cluster has {l}")),
        _ => {}
    }
}

#[tokio::test]
#[ignore = "needs a cluster: e2e/tests/cluster-test.sh"]
async fn an_empty_spec_becomes_every_owned_object_and_then_ready() {
    operator();
    let ns = TestNamespace::create("empty-spec").await;
    ns.apply_shop("demo", json!({})).await;
    let shop = ns.wait_ready("demo", WAIT).await;

    // Exactly what render_shop says, field for field, owned by the Shop.
    let expected = rendered(&ns, &shop).await;
    let owned = ns.owned("demo").await;
    let expected_keys: BTreeSet<String> = expected
        .iter()
        .map(|o| format!("{}/{}", o.kind(), o.name()))
        .collect();
    let owned_keys: BTreeSet<String> = owned.keys().cloned().collect();
    assert_eq!(owned_keys, expected_keys);
    let mut diffs = Vec::new();
    for object in &expected {
        let at = format!("{}/{}", object.kind(), object.name());
        differences(
            &rendered_json(object),
            &live(&ns, object).await,
            &at,
            &mut diffs,
        );
    }
    assert!(diffs.is_empty(), "{}", diffs.join("\n"));
    let uid = shop.uid().unwrap();
    for (key, object) in &owned {
        let owners = object.meta.owner_references.clone().unwrap_or_default();
        assert_eq!(owners.len(), 1, "{key}: {owners:?}");
        let owner = &owners[0];
        assert_eq!(
            (
                owner.api_version.as_str(),
                owner.kind.as_str(),
                owner.name.as_str(),
                owner.uid.as_str(),
                owner.controller,
                owner.block_owner_deletion,
            ),
            (
                "microshop.dev/v1alpha1",
                "Shop",
                "demo",
                uid.as_str(),
                Some(true),
                Some(true)
            ),
            "{key}"
        );
    }

    // Written once: a reconcile that re-applies an unchanged object changes nothing (an
    // object applied with a field the server drops would be rewritten every time).
    for (key, object) in &owned {
        if let Some(generation) = object.meta.generation {
            assert_eq!(generation, 1, "{key} was rewritten");
        }
    }

    // The pods the controllers made from it were admitted under `restricted` and run.
    let pods = ns
        .api::<Pod>()
        .list(&ListParams::default().labels("app.kubernetes.io/instance=demo"))
        .await
        .unwrap()
        .items;
    assert_eq!(
        pods.len(),
        13,
        "9 Deployments and 4 StatefulSets of one replica"
    );
    for pod in &pods {
        let spec = pod.spec.as_ref().unwrap();
        let at = pod.name_any();
        assert_eq!(
            pod.status.as_ref().unwrap().phase.as_deref(),
            Some("Running"),
            "{at}"
        );
        let security = spec.security_context.as_ref().unwrap();
        assert_eq!(security.run_as_non_root, Some(true), "{at}");
        assert_eq!(
            security.seccomp_profile.as_ref().map(|p| p.type_.as_str()),
            Some("RuntimeDefault"),
            "{at}"
        );
        assert_eq!(spec.automount_service_account_token, Some(false), "{at}");
        for container in &spec.containers {
            let at = format!("{at}/{}", container.name);
            let image = container.image.as_deref().unwrap_or_default();
            assert!(!image.is_empty(), "{at}");
            assert!(container.readiness_probe.is_some(), "{at}");
            assert!(container.liveness_probe.is_some(), "{at}");
            let resources = container.resources.as_ref().unwrap();
            assert!(
                resources.requests.is_some() && resources.limits.is_some(),
                "{at}"
            );
            let security = container.security_context.as_ref().unwrap();
            assert_eq!(security.allow_privilege_escalation, Some(false), "{at}");
            let drop = security.capabilities.as_ref().and_then(|c| c.drop.clone());
            assert_eq!(drop, Some(vec!["ALL".to_owned()]), "{at}");
        }
    }
    let catalog = ns.api::<Deployment>().get("demo-catalog").await.unwrap();
    let container = &catalog.spec.template.spec.unwrap().containers[0];
    assert_eq!(
        container.image.as_deref(),
        Some(format!("ghcr.io/microshop/catalog:{}", env!("CARGO_PKG_VERSION")).as_str())
    );
    let env: BTreeMap<_, _> = container
        .env
        .iter()
        .flatten()
        .map(|e| (e.name.as_str(), e))
        .collect();
    let database = env["DATABASE_URL"].value_from.as_ref().unwrap();
    assert_eq!(
        database.secret_key_ref.as_ref().map(|s| s.name.as_str()),
        Some("demo-catalog-db")
    );
    assert_eq!(env["PORT"].value.as_deref(), Some("8080"));

    // Status as a user sees it, and the Event the operator recorded.
    let status = shop.status.unwrap();
    assert_eq!(status.components_ready.as_deref(), Some("13/13"));
    assert!(
        status
            .components
            .iter()
            .all(|c| c.ready == c.desired && c.desired == 1)
    );
    assert_eq!(
        status.url.as_deref(),
        Some(format!("http://demo-frontend.{}.svc", ns.name).as_str())
    );
    let condition = |type_: &str| {
        status
            .conditions
            .iter()
            .find(|c| c.type_ == type_)
            .map(|c| (c.status.clone(), c.reason.clone()))
    };
    assert_eq!(
        condition("Progressing"),
        Some(("False".into(), "Stable".into()))
    );
    assert_eq!(
        condition("Degraded"),
        Some(("False".into(), "AsExpected".into()))
    );
    let events = ns
        .api::<Event>()
        .list(&ListParams::default())
        .await
        .unwrap();
    assert!(
        events
            .items
            .iter()
            .any(|e| e.reason.as_deref() == Some("Applied")
                && e.regarding.as_ref().and_then(|r| r.name.as_deref()) == Some("demo")),
        "an Applied event: {:?}",
        events.items.iter().map(|e| &e.reason).collect::<Vec<_>>()
    );
    ns.delete().await;
}

#[tokio::test]
#[ignore = "needs a cluster: e2e/tests/cluster-test.sh"]
async fn deleting_the_shop_lets_the_garbage_collector_remove_everything() {
    operator();
    let ns = TestNamespace::create("deleted").await;
    ns.apply_shop("gone", json!({})).await;
    ns.wait_ready("gone", WAIT).await;
    assert!(!ns.owned("gone").await.is_empty());

    // Foreground: the Shop stays until the collector has removed all it owns (every
    // object blocks its owner's deletion), then goes.
    ns.shops()
        .delete("gone", &DeleteParams::foreground())
        .await
        .unwrap();
    let shops = ns.shops();
    wait_for("the Shop gone", WAIT, || {
        let shops = shops.clone();
        async move {
            match shops.get_opt("gone").await {
                Ok(None) => Ok(()),
                other => Err(format!(
                    "{:?}",
                    other.map(|s| s.map(|s| s.metadata.finalizers))
                )),
            }
        }
    })
    .await;
    let selector = ListParams::default().labels("app.kubernetes.io/instance=gone");
    let mut left: Vec<String> = ns.owned("gone").await.into_keys().collect();
    for pod in ns.api::<Pod>().list(&selector).await.unwrap() {
        left.push(format!("Pod/{}", pod.name_any()));
    }
    for rs in ns.api::<ReplicaSet>().list(&selector).await.unwrap() {
        left.push(format!("ReplicaSet/{}", rs.name_any()));
    }
    assert!(left.is_empty(), "left behind: {left:?}");
    ns.delete().await;
}

/// A store's Secret, once its volume exists, is owned by both; with the Shop gone it stays
/// as long as the volume, and a Shop made again of the same name reads its passwords back
/// instead of generating ones the volume's data was not initialised with.
#[tokio::test]
#[ignore = "needs a cluster: e2e/tests/cluster-test.sh"]
async fn a_shop_made_again_on_its_retained_volume_finds_the_passwords_of_its_data() {
    operator();
    let ns = TestNamespace::create("again").await;
    let spec = json!({"redis": {"storage": {"size": "1Gi"}}});
    let first = ns.apply_shop("kept", spec.clone()).await;
    let claims = ns.api::<PersistentVolumeClaim>();
    let secrets = ns.api::<Secret>();
    let claim_uid = wait_for(
        "redis's volume, made by the StatefulSet controller",
        WAIT,
        || {
            let claims = claims.clone();
            async move {
                match claims.get_opt("data-kept-redis-0").await {
                    Ok(Some(claim)) => claim.uid().ok_or_else(|| "no uid".to_owned()),
                    other => Err(format!("{other:?}")),
                }
            }
        },
    )
    .await;
    let password = |secret: &Secret| secret.data.as_ref().unwrap()["password"].0.clone();
    let redis = redis_secret_owned_by(
        &secrets,
        "the volume as a second owner of redis's Secret",
        [first.uid().unwrap(), claim_uid.clone()],
    )
    .await;
    let catalog_db = secrets.get("kept-catalog-db").await.unwrap();

    ns.shops()
        .delete("kept", &DeleteParams::default())
        .await
        .unwrap();
    wait_for("the Shop's other Secrets collected", WAIT, || {
        let secrets = secrets.clone();
        async move {
            match secrets.get_opt("kept-catalog-db").await {
                Ok(None) => Ok(()),
                other => Err(format!("{:?}", other.map(|s| s.map(|s| s.name_any())))),
            }
        }
    })
    .await;
    let left = redis_secret_owned_by(
        &secrets,
        "redis's Secret kept, owned by its volume alone",
        [claim_uid.clone()],
    )
    .await;
    assert_eq!(password(&left), password(&redis));

    let again = ns.apply_shop("kept", spec).await;
    let adopted = redis_secret_owned_by(
        &secrets,
        "redis's Secret owned by the new Shop and the volume",
        [again.uid().unwrap(), claim_uid],
    )
    .await;
    assert_eq!(
        password(&adopted),
        password(&redis),
        "the volume's password, not a new one"
    );
    // A store without a volume starts afresh, with a fresh password.
    let new_catalog_db = wait_for("catalog-db's Secret made again", WAIT, || {
        let secrets = secrets.clone();
        async move {
            match secrets.get_opt("kept-catalog-db").await {
                Ok(Some(secret)) => Ok(secret),
                other => Err(format!("{:?}", other.map(|s| s.map(|s| s.name_any())))),
            }
        }
    })
    .await;
    assert_ne!(password(&new_catalog_db), password(&catalog_db));
    ns.delete().await;
}

/// Redis's Secret of the Shop `kept`, once its owners are exactly `owners` (by uid).
async fn redis_secret_owned_by<const N: usize>(
    secrets: &kube::Api<Secret>,
    what: &str,
    owners: [String; N],
) -> Secret {
    let owners = BTreeSet::from(owners);
    wait_for(what, WAIT, || {
        let (secrets, owners) = (secrets.clone(), owners.clone());
        async move {
            let secret = secrets.get("kept-redis").await.map_err(|e| e.to_string())?;
            let uids: BTreeSet<String> = secret
                .owner_references()
                .iter()
                .map(|r| r.uid.clone())
                .collect();
            if uids == owners {
                Ok(secret)
            } else {
                Err(format!("{:?}", secret.owner_references()))
            }
        }
    })
    .await
}
