//! A Shop that changes in a real cluster: drift is put back, a spec change touches only
//! what it changes, a store made external is swept, and `paused` holds everything still.

use k8s_openapi::api::{
    apps::v1::{Deployment, StatefulSet},
    core::v1::{ConfigMap, Secret, Service},
    networking::v1::NetworkPolicy,
    policy::v1::PodDisruptionBudget,
};
use kube::api::{DeleteParams, Patch, PatchParams};
use serde_json::json;

use crate::{
    harness::{WAIT, operator, wait_for},
    namespace::{TestNamespace, is_ready},
};

#[tokio::test]
#[ignore = "needs a cluster: e2e/tests/cluster-test.sh"]
async fn a_deleted_or_edited_owned_object_is_put_back() {
    operator();
    let ns = TestNamespace::create("drift").await;
    ns.apply_shop("drift", json!({})).await;
    ns.wait_ready("drift", WAIT).await;
    let before = ns.owned("drift").await;

    let gone = DeleteParams::default();
    ns.api::<Service>()
        .delete("drift-catalog", &gone)
        .await
        .unwrap();
    ns.api::<ConfigMap>()
        .delete("drift-gateway-config", &gone)
        .await
        .unwrap();
    ns.api::<NetworkPolicy>()
        .delete("drift-default-deny", &gone)
        .await
        .unwrap();
    ns.api::<StatefulSet>()
        .delete("drift-redis", &gone)
        .await
        .unwrap();
    // `kubectl edit`: another manager changes fields the operator owns.
    let edit = json!({"spec": {"replicas": 3, "template": {"spec": {"containers": [
        {"name": "cart", "image": "example.com/not-the-cart:1"}
    ]}}}});
    ns.api::<Deployment>()
        .patch(
            "drift-cart",
            &PatchParams::default(),
            &Patch::Strategic(edit),
        )
        .await
        .unwrap();

    let deployments = ns.api::<Deployment>();
    wait_for(
        "every deleted object back and the edit undone",
        WAIT,
        || {
            let ns = &ns;
            let before = &before;
            let deployments = deployments.clone();
            async move {
                let now = ns.owned("drift").await;
                let missing: Vec<&String> =
                    before.keys().filter(|k| !now.contains_key(*k)).collect();
                if !missing.is_empty() {
                    return Err(format!("missing {missing:?}"));
                }
                for key in [
                    "Service/drift-catalog",
                    "ConfigMap/drift-gateway-config",
                    "NetworkPolicy/drift-default-deny",
                    "StatefulSet/drift-redis",
                ] {
                    if now[key].meta.uid == before[key].meta.uid {
                        return Err(format!("{key} not re-created yet"));
                    }
                }
                let cart = deployments
                    .get("drift-cart")
                    .await
                    .map_err(|e| e.to_string())?;
                let spec = cart.spec;
                let image = spec.template.spec.unwrap().containers[0].image.clone();
                match (spec.replicas, image.as_deref()) {
                    (Some(1), Some(image)) if image.starts_with("ghcr.io/microshop/cart:") => {
                        Ok(())
                    }
                    other => Err(format!("cart still edited: {other:?}")),
                }
            }
        },
    )
    .await;
    ns.wait_ready("drift", WAIT).await;
    ns.delete().await;
}

#[tokio::test]
#[ignore = "needs a cluster: e2e/tests/cluster-test.sh"]
async fn a_spec_change_updates_only_what_changed() {
    operator();
    let ns = TestNamespace::create("change").await;
    ns.apply_shop("change", json!({})).await;
    ns.wait_ready("change", WAIT).await;
    let before = ns.owned("change").await;

    ns.apply_shop("change", json!({"catalog": {"replicas": 2}}))
        .await;
    let shop = ns.wait_ready("change", WAIT).await;
    let catalog = shop
        .status
        .as_ref()
        .unwrap()
        .components
        .iter()
        .find(|c| c.name == "catalog");
    assert_eq!(catalog.map(|c| (c.desired, c.ready)), Some((2, 2)));
    let after = ns.owned("change").await;
    let changed: Vec<&String> = before
        .iter()
        .filter(|(k, v)| after.get(*k).is_some_and(|a| a.version(k) != v.version(k)))
        .map(|(k, _)| k)
        .collect();
    let added: Vec<&String> = after.keys().filter(|k| !before.contains_key(*k)).collect();
    let removed: Vec<&String> = before.keys().filter(|k| !after.contains_key(*k)).collect();
    assert_eq!(
        changed,
        ["Deployment/change-catalog"],
        "only the catalog's Deployment moves"
    );
    assert_eq!(
        added,
        ["PodDisruptionBudget/change-catalog"],
        "two replicas get a PDB"
    );
    assert!(removed.is_empty(), "{removed:?}");

    // Back to one replica: the PDB no longer rendered is swept.
    ns.apply_shop("change", json!({})).await;
    ns.wait_ready("change", WAIT).await;
    let budgets = ns.api::<PodDisruptionBudget>();
    wait_for("the catalog's PDB swept", WAIT, || {
        let budgets = budgets.clone();
        async move {
            match budgets.get_opt("change-catalog").await {
                Ok(None) => Ok(()),
                other => Err(format!("{other:?}")),
            }
        }
    })
    .await;
    ns.delete().await;
}

#[tokio::test]
#[ignore = "needs a cluster: e2e/tests/cluster-test.sh"]
async fn a_store_made_external_is_swept_but_its_secret_is_kept() {
    operator();
    let ns = TestNamespace::create("external").await;
    ns.apply_shop("ext", json!({})).await;
    ns.wait_ready("ext", WAIT).await;
    let password = ns.api::<Secret>().get("ext-redis").await.unwrap().data;

    ns.apply_shop(
        "ext",
        json!({"redis": {"external": {"secretRef": {"name": "managed-redis"}}}}),
    )
    .await;
    let shop = ns.wait_ready("ext", WAIT).await;
    assert_eq!(
        shop.status.unwrap().components_ready.as_deref(),
        Some("12/12")
    );
    let owned = ns.owned("ext").await;
    let redis: Vec<&String> = owned.keys().filter(|k| k.contains("ext-redis")).collect();
    assert_eq!(
        redis,
        ["Secret/ext-redis"],
        "only the Secret of the store stays"
    );
    assert_eq!(
        ns.api::<Secret>().get("ext-redis").await.unwrap().data,
        password
    );
    let cart = ns.api::<Deployment>().get("ext-cart").await.unwrap();
    let env = cart.spec.template.spec.unwrap().containers[0]
        .env
        .clone()
        .unwrap();
    let redis_url = env.iter().find(|e| e.name == "REDIS_URL").unwrap();
    let from = redis_url
        .value_from
        .as_ref()
        .and_then(|v| v.secret_key_ref.as_ref());
    assert_eq!(from.map(|s| s.name.as_str()), Some("managed-redis"));
    ns.delete().await;
}

#[tokio::test]
#[ignore = "needs a cluster: e2e/tests/cluster-test.sh"]
async fn a_paused_shop_is_left_as_it_is() {
    operator();
    let ns = TestNamespace::create("paused").await;
    ns.apply_shop("held", json!({})).await;
    // A second shop in the namespace shows when the operator has acted on a change.
    ns.apply_shop("sentinel", json!({})).await;
    ns.wait_ready("held", WAIT).await;
    ns.wait_ready("sentinel", WAIT).await;

    ns.apply_shop("held", json!({"paused": true})).await;
    // Shops come through one watch, in order: once the sentinel's later change is
    // reconciled, the operator has seen the pause.
    ns.apply_shop("sentinel", json!({"telemetry": {"samplingRatio": 0.5}}))
        .await;
    ns.wait_ready("sentinel", WAIT).await;
    let held_before = ns.shops().get("held").await.unwrap();

    let gone = DeleteParams::default();
    ns.api::<Service>()
        .delete("held-catalog", &gone)
        .await
        .unwrap();
    ns.api::<Service>()
        .delete("sentinel-catalog", &gone)
        .await
        .unwrap();
    ns.apply_shop("held", json!({"paused": true, "frontend": {"replicas": 2}}))
        .await;
    let services = ns.api::<Service>();
    wait_for("sentinel-catalog put back", WAIT, || {
        let services = services.clone();
        async move {
            match services.get_opt("sentinel-catalog").await {
                Ok(Some(_)) => Ok(()),
                other => Err(format!("{other:?}")),
            }
        }
    })
    .await;
    // The held shop's deletion was seen in the same stream of Service events.
    wait_for("the sentinel Ready again", WAIT, || {
        let shops = ns.shops();
        async move {
            let shop = shops.get("sentinel").await.map_err(|e| e.to_string())?;
            is_ready(&shop)
                .then_some(())
                .ok_or_else(|| format!("{:?}", shop.status))
        }
    })
    .await;
    assert!(
        services.get_opt("held-catalog").await.unwrap().is_none(),
        "paused: not put back"
    );
    let frontend = ns.api::<Deployment>().get("held-frontend").await.unwrap();
    assert_eq!(
        frontend.spec.replicas,
        Some(1),
        "paused: the spec change waits"
    );
    let held = ns.shops().get("held").await.unwrap();
    assert_eq!(
        held.status, held_before.status,
        "paused: not even status is written"
    );

    // Unpaused, both changes happen.
    ns.apply_shop("held", json!({"frontend": {"replicas": 2}}))
        .await;
    ns.wait_ready("held", WAIT).await;
    assert!(services.get_opt("held-catalog").await.unwrap().is_some());
    let frontend = ns.api::<Deployment>().get("held-frontend").await.unwrap();
    assert_eq!(frontend.spec.replicas, Some(2));
    ns.delete().await;
}
