//! The optional Jaeger v2 trace viewer (`telemetry.jaeger`): one all-in-one pod (OTLP
//! receiver, in-memory storage, query API and UI) behind a ClusterIP Service, which every
//! service of the shop sends its traces to.

use k8s_openapi::{
    api::{
        apps::v1::{Deployment, DeploymentSpec, DeploymentStrategy},
        core::v1::{
            Container, ContainerPort, EnvVar, PodSpec, PodTemplateSpec, ResourceRequirements,
            Service, ServiceAccount, ServicePort, ServiceSpec,
        },
    },
    apimachinery::pkg::{
        apis::meta::v1::{LabelSelector, ObjectMeta},
        util::intstr::IntOrString,
    },
};

use super::{Object, ShopContext, pod};
use crate::crd::DEFAULT_JAEGER_IMAGE;

/// `app.kubernetes.io/name` of Jaeger's objects and pods; objects are `{shop}-jaeger`.
pub const NAME: &str = "jaeger";
/// `app.kubernetes.io/component`.
pub const ROLE: &str = "tracing";

pub const OTLP_GRPC_PORT: i32 = 4317;
/// What the services export to (their exporter speaks OTLP/HTTP).
pub const OTLP_HTTP_PORT: i32 = 4318;
pub const UI_PORT: i32 = 16686;
/// The `healthcheckv2` extension of Jaeger's default (all-in-one) configuration; its
/// `/status` answers 200 once every pipeline has started.
pub const HEALTH_PORT: i32 = 13133;
pub const HEALTH_PATH: &str = "/status";

/// The numeric user of the official image (`USER 10001` in its Dockerfile).
pub const UID: i64 = 10001;

pub fn object_name(ctx: &ShopContext) -> String {
    super::object_name(&ctx.name, NAME)
}

/// Where the services send their traces.
pub fn otlp_endpoint(ctx: &ShopContext) -> String {
    format!("http://{}:{OTLP_HTTP_PORT}", object_name(ctx))
}

fn meta(ctx: &ShopContext) -> ObjectMeta {
    ctx.meta(object_name(ctx), ctx.labels(NAME, ROLE))
}

pub fn render(ctx: &ShopContext) -> Vec<Object> {
    vec![
        Object::ServiceAccount(ServiceAccount {
            metadata: meta(ctx),
            automount_service_account_token: Some(false),
            ..ServiceAccount::default()
        }),
        Object::Service(service(ctx)),
        Object::Deployment(deployment(ctx)),
    ]
}

/// `(name, port, appProtocol)` of every port Jaeger serves to others.
const PORTS: [(&str, i32, &str); 3] = [
    ("otlp-http", OTLP_HTTP_PORT, "http"),
    ("otlp-grpc", OTLP_GRPC_PORT, "grpc"),
    ("ui", UI_PORT, "http"),
];

fn service(ctx: &ShopContext) -> Service {
    Service {
        metadata: meta(ctx),
        spec: Some(ServiceSpec {
            type_: Some("ClusterIP".into()),
            selector: Some(ctx.selector_of(NAME)),
            ports: Some(
                PORTS
                    .iter()
                    .map(|(name, port, protocol)| ServicePort {
                        name: Some((*name).into()),
                        port: *port,
                        target_port: Some(IntOrString::String((*name).into())),
                        protocol: Some("TCP".into()),
                        app_protocol: Some((*protocol).into()),
                        node_port: None,
                    })
                    .collect(),
            ),
            ..ServiceSpec::default()
        }),
        ..Service::default()
    }
}

fn container_port(name: &str, port: i32) -> ContainerPort {
    ContainerPort {
        name: Some(name.into()),
        container_port: port,
        protocol: Some("TCP".into()),
        ..ContainerPort::default()
    }
}

fn default_resources() -> ResourceRequirements {
    // In-memory storage grows with the traces kept (at most 100,000, Jaeger's default).
    pod::resources("50m", "128Mi", "500m", "1Gi")
}

fn deployment(ctx: &ShopContext) -> Deployment {
    let spec = &ctx.shop.spec.telemetry.jaeger;
    let mut ports: Vec<_> = PORTS
        .iter()
        .map(|(name, port, _)| container_port(name, *port))
        .collect();
    ports.push(container_port("health", HEALTH_PORT));
    let resources = pod::resources_or(spec.resources.as_ref(), default_resources());
    let mut env = vec![EnvVar {
        // Its default configuration listens on localhost unless told otherwise (the
        // image says so too; repeated here so an image override keeps it).
        name: "JAEGER_LISTEN_HOST".into(),
        value: Some("0.0.0.0".into()),
        value_from: None,
    }];
    if let Some(limit) = pod::memory_limit(&resources) {
        // The Go runtime collects harder from here on. Below the limit, not at it: the
        // in-memory store is bounded by trace count only, and a heap that reaches the
        // limit is OOM-killed before it is collected.
        env.push(EnvVar {
            name: "GOMEMLIMIT".into(),
            value: Some(format!("{}MiB", pod::mebibytes_of(limit, 75))),
            value_from: None,
        });
    }
    let container = Container {
        name: NAME.into(),
        image: Some(
            spec.image
                .clone()
                .unwrap_or_else(|| DEFAULT_JAEGER_IMAGE.into()),
        ),
        image_pull_policy: ctx.shop.spec.image_pull_policy.map(|p| p.as_str().into()),
        // No arguments: the image's default configuration is the all-in-one one.
        env: Some(env),
        ports: Some(ports),
        startup_probe: Some(pod::http_probe_on("health", HEALTH_PATH, 2, 30)),
        readiness_probe: Some(pod::http_probe_on("health", HEALTH_PATH, 5, 3)),
        liveness_probe: Some(pod::http_probe_on("health", HEALTH_PATH, 10, 3)),
        resources: Some(resources),
        security_context: Some(pod::container_security(true)),
        volume_mounts: Some(vec![pod::mount("tmp", "/tmp", false)]),
        ..Container::default()
    };
    let pod_spec = PodSpec {
        service_account_name: Some(object_name(ctx)),
        automount_service_account_token: Some(false),
        enable_service_links: Some(false),
        security_context: Some(pod::pod_security(UID)),
        image_pull_secrets: (!ctx.shop.spec.image_pull_secrets.is_empty())
            .then(|| ctx.shop.spec.image_pull_secrets.clone()),
        termination_grace_period_seconds: Some(30),
        volumes: Some(vec![pod::scratch("tmp", "64Mi")]),
        containers: vec![container],
        ..PodSpec::default()
    };
    Deployment {
        metadata: meta(ctx),
        spec: DeploymentSpec {
            // One process holds every trace in memory: two would each hold half.
            replicas: Some(1),
            selector: LabelSelector {
                match_labels: Some(ctx.selector_of(NAME)),
                match_expressions: None,
            },
            strategy: Some(DeploymentStrategy {
                type_: Some("Recreate".into()),
                rolling_update: None,
            }),
            revision_history_limit: Some(3),
            template: PodTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: Some(ctx.labels(NAME, ROLE)),
                    ..ObjectMeta::default()
                }),
                spec: Some(pod_spec),
            },
            ..DeploymentSpec::default()
        },
        ..Deployment::default()
    }
}
