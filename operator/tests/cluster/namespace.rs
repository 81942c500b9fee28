//! A namespace per test, and what the tests ask of a Shop in it.

use std::{collections::BTreeMap, fmt::Debug, time::Duration};

use k8s_openapi::{
    NamespaceResourceScope,
    api::{
        apps::v1::{Deployment, StatefulSet},
        core::v1::{ConfigMap, Namespace, Secret, Service, ServiceAccount},
        networking::v1::{Ingress, NetworkPolicy},
        policy::v1::PodDisruptionBudget,
    },
    apimachinery::pkg::apis::meta::v1::ObjectMeta,
};
use kube::{
    Client, Resource, ResourceExt,
    api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams},
};
use operator::{crd::Shop, render::shop_label_selector, status};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::harness::{TESTS, admin, wait_for};

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
