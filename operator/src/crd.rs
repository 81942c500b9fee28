//! The `Shop` custom resource: what a user asks for (`spec`) and what the operator saw
//! (`status`). Defaults make `spec: {}` a working shop; the schema's bounds and CEL rules
//! let the API server reject invalid specs before the operator ever sees them.

use k8s_openapi::{
    api::core::v1::{EnvVar, LocalObjectReference, ResourceRequirements},
    apimachinery::pkg::{api::resource::Quantity, apis::meta::v1::Condition},
};
use kube::{CustomResource, CustomResourceExt, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The registry the project's images are published to.
pub const DEFAULT_IMAGE_REGISTRY: &str = "ghcr.io/microshop";

/// One microshop: eight services, the gateway and four stores in one namespace.
#[derive(CustomResource, JsonSchema, Deserialize, Serialize, Clone, Debug, PartialEq)]
#[kube(
    group = "microshop.dev",
    version = "v1alpha1",
    kind = "Shop",
    namespaced,
    shortname = "shop",
    category = "microshop",
    status = "ShopStatus",
    derive = "PartialEq",
    doc = "A microshop deployment: services, gateway and stores rendered from one resource.",
    printcolumn(
        name = "Ready",
        type_ = "string",
        json_path = ".status.conditions[?(@.type==\"Ready\")].status"
    ),
    printcolumn(
        name = "Components",
        type_ = "string",
        description = "components ready / components",
        json_path = ".status.componentsReady"
    ),
    printcolumn(name = "URL", type_ = "string", json_path = ".status.url"),
    printcolumn(
        name = "Age",
        type_ = "date",
        json_path = ".metadata.creationTimestamp"
    ),
    // Objects are named `{shop}-{component}` and must stay valid Service names (a DNS
    // label of at most 63 characters, starting with a letter) with room for the suffix.
    validation = Rule::new("self.metadata.name.size() <= 40 && self.metadata.name.matches('^[a-z]([-a-z0-9]*[a-z0-9])?$')").message("a Shop's name is a DNS label of at most 40 characters starting with a letter")
)]
#[serde(rename_all = "camelCase")]
pub struct ShopSpec {
    /// Tag of the project's images; defaults to the operator's own version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(
        length(min = 1, max = 128),
        regex(pattern = r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
    )]
    pub version: Option<String>,
    /// Registry and path the project's images are pulled from: `{imageRegistry}/{service}:{version}`.
    #[serde(default = "default_image_registry")]
    #[schemars(length(min = 1, max = 255))]
    pub image_registry: String,
    /// Pull policy of every container; the cluster's default when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "pull_policy_schema")]
    pub image_pull_policy: Option<PullPolicy>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 16))]
    pub image_pull_secrets: Vec<LocalObjectReference>,

    #[serde(default)]
    pub frontend: ServiceSpec,
    #[serde(default)]
    pub catalog: ServiceSpec,
    #[serde(default)]
    pub cart: ServiceSpec,
    #[serde(default)]
    pub identity: ServiceSpec,
    #[serde(default)]
    pub checkout: ServiceSpec,
    #[serde(default)]
    pub payment: ServiceSpec,
    #[serde(default)]
    pub shipping: ServiceSpec,
    #[serde(default)]
    pub email: ServiceSpec,
    /// The KrakenD API gateway.
    #[serde(default)]
    pub gateway: ServiceSpec,

    #[serde(default)]
    pub redis: StoreSpec,
    #[serde(default)]
    pub rabbitmq: StoreSpec,
    /// PostgreSQL holding the `users`, `orders`, `payments`, `shipping` and `email` databases.
    #[serde(default)]
    pub user_db: StoreSpec,
    /// PostgreSQL holding the catalog.
    #[serde(default)]
    pub catalog_db: StoreSpec,

    /// How the frontend is reached from outside the cluster.
    #[serde(default)]
    pub exposure: Exposure,
    #[serde(default)]
    pub telemetry: Telemetry,
    /// Stop reconciling: nothing is created, changed or deleted while true.
    #[serde(default)]
    pub paused: bool,
    /// What happens to the stores' volumes when the Shop or a store is deleted.
    #[serde(default)]
    pub pvc_retention: PvcRetention,
}

impl Default for ShopSpec {
    /// What `spec: {}` means.
    fn default() -> Self {
        Self {
            version: None,
            image_registry: default_image_registry(),
            image_pull_policy: None,
            image_pull_secrets: Vec::new(),
            frontend: ServiceSpec::default(),
            catalog: ServiceSpec::default(),
            cart: ServiceSpec::default(),
            identity: ServiceSpec::default(),
            checkout: ServiceSpec::default(),
            payment: ServiceSpec::default(),
            shipping: ServiceSpec::default(),
            email: ServiceSpec::default(),
            gateway: ServiceSpec::default(),
            redis: StoreSpec::default(),
            rabbitmq: StoreSpec::default(),
            user_db: StoreSpec::default(),
            catalog_db: StoreSpec::default(),
            exposure: Exposure::default(),
            telemetry: Telemetry::default(),
            paused: false,
            pvc_retention: PvcRetention::default(),
        }
    }
}

fn default_image_registry() -> String {
    DEFAULT_IMAGE_REGISTRY.to_owned()
}

/// Absent rather than `null` (an enum holding `null` is not a valid structural schema).
fn pull_policy_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "type": "string",
        "description": "Pull policy of every container; the cluster's default when absent.",
        "enum": ["Always", "IfNotPresent", "Never"],
    })
}

#[derive(Deserialize, Serialize, Clone, Copy, Debug, PartialEq, Eq, JsonSchema)]
pub enum PullPolicy {
    Always,
    IfNotPresent,
    Never,
}

impl PullPolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Always => "Always",
            Self::IfNotPresent => "IfNotPresent",
            Self::Never => "Never",
        }
    }
}

/// One of the shop's stateless services (or the gateway).
#[derive(Deserialize, Serialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ServiceSpec {
    #[serde(default = "one")]
    #[schemars(range(min = 0, max = 20))]
    pub replicas: i32,
    /// Requests and limits; the operator's defaults when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<ResourceRequirements>,
    /// A full image reference replacing `{imageRegistry}/{service}:{version}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 512))]
    pub image: Option<String>,
    /// Extra environment variables; one with the name of a rendered variable replaces it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 64))]
    pub env: Vec<EnvVar>,
}

fn one() -> i32 {
    1
}

impl Default for ServiceSpec {
    fn default() -> Self {
        Self {
            replicas: 1,
            resources: None,
            image: None,
            env: Vec::new(),
        }
    }
}

/// A store run by the operator as a StatefulSet, or a managed one the shop only connects to.
#[derive(KubeSchema, Deserialize, Serialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("!(has(self.external) && has(self.storage))").message("external and storage are mutually exclusive: an external store has no volume here"))]
#[x_kube(validation = Rule::new("!(has(self.external) && (has(self.image) || has(self.resources)))").message("image and resources have no effect on an external store"))]
pub struct StoreSpec {
    /// Image replacing the operator's default for this store.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 512))]
    pub image: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<ResourceRequirements>,
    /// A PersistentVolumeClaim per replica; absent means an emptyDir (data lost with the pod).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage: Option<Storage>,
    /// Use a managed service instead of running the store.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external: Option<ExternalStore>,
}

#[derive(Deserialize, Serialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Storage {
    /// Size of the volume, a Kubernetes quantity such as `1Gi`.
    #[schemars(schema_with = "storage_size_schema")]
    pub size: Quantity,
    /// StorageClass of the claim; the cluster's default when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 253))]
    pub storage_class_name: Option<String>,
}

fn storage_size_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "type": "string",
        "description": "Size of the volume, a Kubernetes quantity such as `1Gi`.",
        "pattern": r"^([1-9][0-9]*(\.[0-9]+)?|0\.[0-9]*[1-9][0-9]*)(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$",
        "maxLength": 32,
    })
}

/// A managed store, reached through connection URLs kept in a Secret.
///
/// Keys: `url` for `redis`, `rabbitmq` and `catalogDb`; for `userDb` one per database:
/// `users-url`, `orders-url`, `payments-url`, `shipping-url`, `email-url`.
#[derive(Deserialize, Serialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExternalStore {
    pub secret_ref: SecretRef,
}

#[derive(Deserialize, Serialize, Clone, Debug, PartialEq, JsonSchema)]
pub struct SecretRef {
    /// A Secret in the Shop's namespace.
    #[schemars(length(min = 1, max = 253))]
    pub name: String,
}

#[derive(KubeSchema, Deserialize, Serialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("self.type != 'Ingress' || has(self.ingressHost)").message("ingressHost is required when type is Ingress"))]
#[x_kube(validation = Rule::new("!has(self.nodePort) || self.type == 'NodePort'").message("nodePort is only allowed when type is NodePort"))]
#[x_kube(validation = Rule::new("!has(self.ingressHost) || self.type == 'Ingress'").message("ingressHost is only allowed when type is Ingress"))]
pub struct Exposure {
    #[serde(default, rename = "type")]
    pub type_: ExposureType,
    /// Fixed node port of the frontend (30000-32767); the cluster picks one when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 30000, max = 32767))]
    pub node_port: Option<i32>,
    /// Host name the Ingress routes to the frontend.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(
        length(min = 1, max = 253),
        regex(pattern = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
    )]
    pub ingress_host: Option<String>,
    /// IngressClass of the Ingress; the cluster's default when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 253))]
    pub ingress_class_name: Option<String>,
}

#[derive(Deserialize, Serialize, Clone, Copy, Debug, Default, PartialEq, Eq, JsonSchema)]
pub enum ExposureType {
    #[default]
    ClusterIP,
    NodePort,
    LoadBalancer,
    Ingress,
}

impl ExposureType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ClusterIP => "ClusterIP",
            Self::NodePort => "NodePort",
            Self::LoadBalancer => "LoadBalancer",
            Self::Ingress => "Ingress",
        }
    }
}

#[derive(KubeSchema, Deserialize, Serialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("self.samplingRatio >= 0.0 && self.samplingRatio <= 1.0").message("samplingRatio must be within 0..1"))]
#[x_kube(validation = Rule::new("!has(self.otlpEndpoint) || !has(self.jaeger) || !self.jaeger.enabled").message("otlpEndpoint and jaeger.enabled are mutually exclusive: traces go to one place"))]
pub struct Telemetry {
    /// OTLP/HTTP endpoint traces are sent to. Tracing is off when absent, unless
    /// `jaeger.enabled` (which cannot be combined with this field).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 512))]
    pub otlp_endpoint: Option<String>,
    /// Share of new traces that are sampled (a parent's decision is always followed).
    #[serde(default = "full_sampling")]
    pub sampling_ratio: f64,
    /// A Jaeger v2 trace viewer run with the shop (`{shop}-jaeger`; its UI on port 16686,
    /// `kubectl port-forward svc/{shop}-jaeger 16686`). When enabled, every service and the
    /// gateway send their traces to it over OTLP/HTTP; refused together with `otlpEndpoint`
    /// (a service exports to one place). Traces are kept in memory only.
    #[serde(default)]
    pub jaeger: Jaeger,
}

/// The image of the Jaeger v2 all-in-one program (collector, in-memory storage, query
/// and UI in one process), pinned to the 2.17.0 release.
pub const DEFAULT_JAEGER_IMAGE: &str = "jaegertracing/jaeger:2.17.0";

/// A Jaeger v2 all-in-one instance (collector, in-memory storage, query API and UI in one
/// pod) for looking at the shop's traces.
///
/// Traces are kept in memory (Jaeger's default of at most 100,000) and lost when its pod
/// restarts: a viewer for development and demos, not a trace store. It cannot be combined
/// with `otlpEndpoint`: the API server refuses both, since a service exports to one place
/// and a Jaeger nobody sends to would only look broken.
#[derive(Deserialize, Serialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Jaeger {
    /// Run Jaeger with the shop.
    #[serde(default)]
    pub enabled: bool,
    /// Image replacing the default, `jaegertracing/jaeger:2.17.0` (a Jaeger v2 release:
    /// its default configuration is the all-in-one one, and it runs as user 10001).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 512))]
    pub image: Option<String>,
    /// Requests and limits; the operator's defaults when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<ResourceRequirements>,
}

fn full_sampling() -> f64 {
    1.0
}

impl Default for Telemetry {
    fn default() -> Self {
        Self {
            otlp_endpoint: None,
            sampling_ratio: 1.0,
            jaeger: Jaeger::default(),
        }
    }
}

#[derive(Deserialize, Serialize, Clone, Copy, Debug, Default, PartialEq, Eq, JsonSchema)]
pub enum PvcRetention {
    /// Volumes outlive the Shop: deleting a shop never deletes its data.
    #[default]
    Retain,
    Delete,
}

impl PvcRetention {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Retain => "Retain",
            Self::Delete => "Delete",
        }
    }
}

/// What the operator last saw of the shop it runs.
#[derive(Deserialize, Serialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ShopStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// `Ready`, `Progressing` and `Degraded`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub components: Vec<ComponentStatus>,
    /// Components ready out of components run, e.g. `9/13`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub components_ready: Option<String>,
    /// Where the frontend answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

#[derive(Deserialize, Serialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ComponentStatus {
    pub name: String,
    pub desired: i32,
    pub ready: i32,
}

/// The CRD as YAML, exactly as `crds/shop.yaml` holds it.
pub fn crd_yaml() -> String {
    let crd = Shop::crd();
    let body = yaml_serde::to_string(&crd).expect("a CRD always serialises");
    format!("# Generated by `operator crd` from operator/src/crd.rs; do not edit.\n---\n{body}")
}

/// The chart's `templates/crd.yaml`: the same CRD, installed only with `crds.install`,
/// and kept by `helm uninstall` (deleting the CRD would delete every Shop, and so every shop).
pub fn chart_crd_template() -> String {
    let mut crd = Shop::crd();
    crd.metadata
        .annotations
        .get_or_insert_with(Default::default)
        .insert("helm.sh/resource-policy".into(), "keep".into());
    let body = yaml_serde::to_string(&crd).expect("a CRD always serialises");
    format!(
        "{{{{- if .Values.crds.install }}}}\n\
         # Generated from operator/src/crd.rs (`operator crd` prints it without the annotation); do not edit.\n\
         {body}{{{{- end }}}}\n"
    )
}
