//! Rendering: a `Shop` in, the typed Kubernetes objects it should own out. A pure function
//! of the resource and its inputs (the operator's version, the credentials and the store
//! volumes already in the cluster), so every rule here is tested without an API server.

pub mod apps;
pub mod component;
pub mod gateway;
pub mod jaeger;
pub mod network;
pub mod pod;
pub mod secrets;
pub mod stores;

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use kube::{Resource, ResourceExt};

pub use crate::owned::Object;
use crate::{crd::Shop, credentials::Credentials};
use component::{App, Component, Store};

pub const FIELD_MANAGER: &str = "microshop-operator";
pub const PART_OF: &str = "microshop";

pub mod labels {
    pub const NAME: &str = "app.kubernetes.io/name";
    pub const INSTANCE: &str = "app.kubernetes.io/instance";
    pub const COMPONENT: &str = "app.kubernetes.io/component";
    pub const PART_OF: &str = "app.kubernetes.io/part-of";
    pub const MANAGED_BY: &str = "app.kubernetes.io/managed-by";
}

/// What rendering needs besides the Shop itself.
#[derive(Clone, Debug)]
pub struct RenderInputs<'a> {
    /// Default image tag: the operator's own version.
    pub operator_version: &'a str,
    pub credentials: &'a Credentials,
    /// The shop's store volumes that exist (see [`VolumeClaims`]).
    pub volume_claims: &'a VolumeClaims,
}

/// The uid of each of the shop's PersistentVolumeClaims that exist, by name. A store's
/// Secret is owned by its volume as well as by the Shop, so that the passwords the data
/// was initialised with last as long as the data: a retained volume keeps its Secret when
/// the Shop is deleted, and a Shop created again finds both.
pub type VolumeClaims = BTreeMap<String, String>;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RenderError {
    #[error("the Shop has no {0} yet; it must come from the API server")]
    MissingMetadata(&'static str),
}

/// Everything a Shop should own, in an order that lets pods start cleanly: accounts,
/// secrets and config before the workloads that mount them.
pub fn render_shop(shop: &Shop, inputs: &RenderInputs) -> Result<Vec<Object>, RenderError> {
    let ctx = ShopContext::new(shop, inputs)?;
    let mut objects = Vec::new();
    objects.extend(secrets::render(&ctx));
    objects.extend(network::render(&ctx));
    for app in App::ALL {
        objects.extend(apps::render(&ctx, app));
    }
    for store in Store::ALL {
        if ctx.runs(store) {
            objects.extend(stores::render(&ctx, store));
        }
    }
    if ctx.runs_jaeger() {
        objects.extend(jaeger::render(&ctx));
    }
    Ok(objects)
}

/// The Shop with the facts every renderer needs already worked out.
pub struct ShopContext<'a> {
    pub shop: &'a Shop,
    pub name: String,
    pub namespace: String,
    pub owner: OwnerReference,
    pub version: String,
    pub credentials: &'a Credentials,
    pub volume_claims: &'a VolumeClaims,
}

impl<'a> ShopContext<'a> {
    pub fn new(shop: &'a Shop, inputs: &RenderInputs<'a>) -> Result<Self, RenderError> {
        let namespace = shop
            .namespace()
            .ok_or(RenderError::MissingMetadata("namespace"))?;
        // blockOwnerDeletion: a foreground deletion of the Shop (`kubectl delete
        // --cascade=foreground`) ends only when everything it owns is gone. The API server
        // lets only who may update `shops/finalizers` set it; the chart grants that.
        let owner = shop
            .controller_owner_ref(&())
            .map(|owner| OwnerReference {
                block_owner_deletion: Some(true),
                ..owner
            })
            .ok_or(RenderError::MissingMetadata("uid"))?;
        let version = shop
            .spec
            .version
            .clone()
            .unwrap_or_else(|| inputs.operator_version.to_owned());
        Ok(Self {
            shop,
            name: shop.name_any(),
            namespace,
            owner,
            version,
            credentials: inputs.credentials,
            volume_claims: inputs.volume_claims,
        })
    }

    /// Whether the operator runs `store` itself (rather than pointing at an external one).
    pub fn runs(&self, store: Store) -> bool {
        store.spec(&self.shop.spec).external.is_none()
    }

    /// Whether the shop runs its own Jaeger (`telemetry.jaeger.enabled`).
    pub fn runs_jaeger(&self) -> bool {
        self.shop.spec.telemetry.jaeger.enabled
    }

    /// Where the services send their traces (OTLP/HTTP): the user's collector, else the
    /// shop's own Jaeger; `None` when tracing is off.
    pub fn otlp_endpoint(&self) -> Option<String> {
        // The API server refuses both at once; should it happen anyway, the user's wins.
        match &self.shop.spec.telemetry.otlp_endpoint {
            Some(endpoint) => Some(endpoint.clone()),
            None => self.runs_jaeger().then(|| jaeger::otlp_endpoint(self)),
        }
    }

    /// The name of `component`'s objects (see [`object_name`]).
    pub fn object_name(&self, component: Component) -> String {
        object_name(&self.name, component.name())
    }

    /// Labels that pick out one component's pods.
    pub fn selector(&self, component: Component) -> BTreeMap<String, String> {
        self.selector_of(component.name())
    }

    /// Labels that pick out the pods named `name` (`app.kubernetes.io/name`).
    pub fn selector_of(&self, name: &str) -> BTreeMap<String, String> {
        BTreeMap::from([
            (labels::NAME.to_owned(), name.to_owned()),
            (labels::INSTANCE.to_owned(), self.name.clone()),
        ])
    }

    /// Labels that pick out every pod and object of this shop.
    pub fn shop_selector(&self) -> BTreeMap<String, String> {
        BTreeMap::from([
            (labels::INSTANCE.to_owned(), self.name.clone()),
            (labels::PART_OF.to_owned(), PART_OF.to_owned()),
        ])
    }

    /// The full label set of an object or pod belonging to `name` with role `role`.
    pub fn labels(&self, name: &str, role: &str) -> BTreeMap<String, String> {
        BTreeMap::from([
            (labels::NAME.to_owned(), name.to_owned()),
            (labels::INSTANCE.to_owned(), self.name.clone()),
            (labels::COMPONENT.to_owned(), role.to_owned()),
            (labels::PART_OF.to_owned(), PART_OF.to_owned()),
            (labels::MANAGED_BY.to_owned(), FIELD_MANAGER.to_owned()),
        ])
    }

    pub fn component_labels(&self, component: Component) -> BTreeMap<String, String> {
        self.labels(component.name(), component.role())
    }

    /// Metadata of an object named `name` owned by the shop.
    pub fn meta(&self, name: String, labels: BTreeMap<String, String>) -> ObjectMeta {
        ObjectMeta {
            name: Some(name),
            namespace: Some(self.namespace.clone()),
            labels: Some(labels),
            owner_references: Some(vec![self.owner.clone()]),
            ..ObjectMeta::default()
        }
    }

    pub fn component_meta(&self, component: Component) -> ObjectMeta {
        self.meta(
            self.object_name(component),
            self.component_labels(component),
        )
    }

    /// In-cluster URL of an app's HTTP Service.
    pub fn http_url(&self, app: App) -> String {
        format!(
            "http://{}:{}",
            self.object_name(Component::App(app)),
            component::HTTP_PORT
        )
    }

    /// Host of a store's headless Service.
    pub fn store_host(&self, store: Store) -> String {
        self.object_name(Component::Store(store))
    }
}

/// `{shop}-{part}`: the name of every object a shop owns, so several shops can live in one
/// namespace. `part` is a component's name or what else the object is for.
pub fn object_name(shop: &str, part: &str) -> String {
    format!("{shop}-{part}")
}

/// The label selector (as `key=value,...`) the reconciler lists a shop's objects with.
pub fn shop_label_selector(shop_name: &str) -> String {
    format!(
        "{}={shop_name},{}={FIELD_MANAGER}",
        labels::INSTANCE,
        labels::MANAGED_BY
    )
}
