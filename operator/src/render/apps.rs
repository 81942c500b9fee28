//! The stateless parts: a Deployment, a Service, a ServiceAccount and (with more than
//! one replica) a PodDisruptionBudget each; the frontend's exposure; the gateway's config.

use std::collections::BTreeMap;

use k8s_openapi::{
    api::{
        apps::v1::{Deployment, DeploymentSpec, DeploymentStrategy, RollingUpdateDeployment},
        core::v1::{
            Container, ContainerPort, EnvVar, EnvVarSource, PodSpec, PodTemplateSpec,
            SecretKeySelector, Service, ServiceAccount, ServicePort, ServiceSpec,
        },
        networking::v1::{
            HTTPIngressPath, HTTPIngressRuleValue, Ingress, IngressBackend, IngressRule,
            IngressServiceBackend, IngressSpec, ServiceBackendPort,
        },
        policy::v1::{PodDisruptionBudget, PodDisruptionBudgetSpec},
    },
    apimachinery::pkg::{
        apis::meta::v1::{LabelSelector, ObjectMeta},
        util::intstr::IntOrString,
    },
};

use super::{
    Object, ShopContext,
    component::{self, App, Component, HTTP_PORT, Store},
    gateway, pod,
};
use crate::{crd::ExposureType, credentials::keys};

/// Port of the frontend's Service, so its URL needs no port.
pub const FRONTEND_SERVICE_PORT: i32 = 80;

pub fn render(ctx: &ShopContext, app: App) -> Vec<Object> {
    let component = Component::App(app);
    let spec = app.spec(&ctx.shop.spec);
    let mut objects = vec![
        Object::ServiceAccount(service_account(ctx, component)),
        Object::Service(service(ctx, app)),
    ];
    if app == App::Gateway {
        objects.push(Object::ConfigMap(gateway::config_map(ctx)));
    }
    objects.push(Object::Deployment(deployment(ctx, app)));
    if spec.replicas > 1 {
        objects.push(Object::PodDisruptionBudget(disruption_budget(
            ctx, component,
        )));
    }
    if app == App::Frontend && ctx.shop.spec.exposure.type_ == ExposureType::Ingress {
        objects.push(Object::Ingress(ingress(ctx)));
    }
    objects
}

pub fn service_account(ctx: &ShopContext, component: Component) -> ServiceAccount {
    ServiceAccount {
        metadata: ctx.component_meta(component),
        // No shop pod talks to the Kubernetes API.
        automount_service_account_token: Some(false),
        ..ServiceAccount::default()
    }
}

fn service(ctx: &ShopContext, app: App) -> Service {
    let exposure = &ctx.shop.spec.exposure;
    let (type_, port, node_port) = if app == App::Frontend {
        let type_ = match exposure.type_ {
            ExposureType::Ingress => ExposureType::ClusterIP,
            other => other,
        };
        let node_port = (type_ == ExposureType::NodePort)
            .then_some(exposure.node_port)
            .flatten();
        (type_, FRONTEND_SERVICE_PORT, node_port)
    } else {
        (ExposureType::ClusterIP, HTTP_PORT, None)
    };
    Service {
        metadata: ctx.component_meta(Component::App(app)),
        spec: Some(ServiceSpec {
            type_: Some(type_.as_str().into()),
            selector: Some(ctx.selector(Component::App(app))),
            ports: Some(vec![ServicePort {
                name: Some("http".into()),
                port,
                target_port: Some(IntOrString::String("http".into())),
                node_port,
                protocol: Some("TCP".into()),
                app_protocol: Some("http".into()),
            }]),
            ..ServiceSpec::default()
        }),
        ..Service::default()
    }
}

fn ingress(ctx: &ShopContext) -> Ingress {
    let exposure = &ctx.shop.spec.exposure;
    let component = Component::App(App::Frontend);
    Ingress {
        metadata: ctx.component_meta(component),
        spec: Some(IngressSpec {
            ingress_class_name: exposure.ingress_class_name.clone(),
            rules: Some(vec![IngressRule {
                host: exposure.ingress_host.clone(),
                http: Some(HTTPIngressRuleValue {
                    paths: vec![HTTPIngressPath {
                        path: Some("/".into()),
                        path_type: "Prefix".into(),
                        backend: IngressBackend {
                            service: Some(IngressServiceBackend {
                                name: ctx.object_name(component),
                                port: Some(ServiceBackendPort {
                                    name: Some("http".into()),
                                    number: None,
                                }),
                            }),
                            resource: None,
                        },
                    }],
                }),
            }]),
            ..IngressSpec::default()
        }),
        ..Ingress::default()
    }
}

fn disruption_budget(ctx: &ShopContext, component: Component) -> PodDisruptionBudget {
    PodDisruptionBudget {
        metadata: ctx.component_meta(component),
        spec: Some(PodDisruptionBudgetSpec {
            max_unavailable: Some(IntOrString::Int(1)),
            selector: Some(LabelSelector {
                match_labels: Some(ctx.selector(component)),
                match_expressions: None,
            }),
            ..PodDisruptionBudgetSpec::default()
        }),
        ..PodDisruptionBudget::default()
    }
}

/// `{imageRegistry}/{service}:{version}` unless the spec names an image.
pub fn image(ctx: &ShopContext, app: App) -> String {
    if let Some(image) = &app.spec(&ctx.shop.spec).image {
        return image.clone();
    }
    if app == App::Gateway {
        return gateway::IMAGE.into();
    }
    let registry = ctx.shop.spec.image_registry.trim_end_matches('/');
    format!("{registry}/{}:{}", app.name(), ctx.version)
}

fn deployment(ctx: &ShopContext, app: App) -> Deployment {
    let component = Component::App(app);
    let spec = app.spec(&ctx.shop.spec);
    let mut container = Container {
        name: app.name().into(),
        image: Some(image(ctx, app)),
        image_pull_policy: ctx.shop.spec.image_pull_policy.map(|p| p.as_str().into()),
        ports: Some(vec![ContainerPort {
            name: Some("http".into()),
            container_port: HTTP_PORT,
            protocol: Some("TCP".into()),
            ..ContainerPort::default()
        }]),
        env: Some(merge_env(env(ctx, app), &spec.env)),
        // Migrations run at start: the startup probe holds liveness off until then.
        startup_probe: Some(pod::http_probe("/healthz", 2, 60)),
        readiness_probe: Some(pod::http_probe("/readyz", 5, 3)),
        liveness_probe: Some(pod::http_probe("/healthz", 10, 3)),
        resources: Some(pod::resources_or(
            spec.resources.as_ref(),
            default_resources(app),
        )),
        security_context: Some(pod::container_security(true)),
        volume_mounts: Some(vec![pod::mount("tmp", "/tmp", false)]),
        ..Container::default()
    };
    let mut pod_spec = PodSpec {
        service_account_name: Some(ctx.object_name(component)),
        automount_service_account_token: Some(false),
        enable_service_links: Some(false),
        security_context: Some(pod::pod_security(pod::APP_UID)),
        image_pull_secrets: non_empty(ctx.shop.spec.image_pull_secrets.clone()),
        termination_grace_period_seconds: Some(30),
        volumes: Some(vec![pod::scratch("tmp", "64Mi")]),
        ..PodSpec::default()
    };
    let mut annotations = BTreeMap::new();
    if app == App::Gateway {
        gateway::configure(ctx, &mut container, &mut pod_spec, &mut annotations);
    }
    pod_spec.containers = vec![container];
    Deployment {
        metadata: ctx.component_meta(component),
        spec: DeploymentSpec {
            replicas: Some(spec.replicas),
            selector: LabelSelector {
                match_labels: Some(ctx.selector(component)),
                match_expressions: None,
            },
            strategy: Some(DeploymentStrategy {
                type_: Some("RollingUpdate".into()),
                rolling_update: Some(RollingUpdateDeployment {
                    max_surge: Some(IntOrString::Int(1)),
                    max_unavailable: Some(IntOrString::Int(0)),
                }),
            }),
            revision_history_limit: Some(3),
            template: PodTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: Some(ctx.component_labels(component)),
                    annotations: (!annotations.is_empty()).then_some(annotations),
                    ..ObjectMeta::default()
                }),
                spec: Some(pod_spec),
            },
            ..DeploymentSpec::default()
        },
        ..Deployment::default()
    }
}

fn non_empty<T>(items: Vec<T>) -> Option<Vec<T>> {
    (!items.is_empty()).then_some(items)
}

fn default_resources(app: App) -> k8s_openapi::api::core::v1::ResourceRequirements {
    match app {
        App::Gateway => pod::resources("100m", "64Mi", "1", "256Mi"),
        // Argon2id hashes take 19 MiB each.
        App::Identity => pod::resources("100m", "128Mi", "1", "512Mi"),
        _ => pod::resources("50m", "64Mi", "500m", "256Mi"),
    }
}

fn plain(name: &str, value: impl Into<String>) -> EnvVar {
    EnvVar {
        name: name.into(),
        value: Some(value.into()),
        value_from: None,
    }
}

fn from_secret(name: &str, secret: String, key: String) -> EnvVar {
    EnvVar {
        name: name.into(),
        value: None,
        value_from: Some(EnvVarSource {
            secret_key_ref: Some(SecretKeySelector {
                name: secret,
                key,
                optional: Some(false),
            }),
            ..EnvVarSource::default()
        }),
    }
}

/// The Secret and key holding the URL `app` reaches `store` with: the operator's own
/// Secret, or the user's for an external store.
pub fn store_url_ref(ctx: &ShopContext, app: App, store: Store) -> (String, String) {
    let secret = match &store.spec(&ctx.shop.spec).external {
        Some(external) => external.secret_ref.name.clone(),
        None => keys::component_secret(&ctx.name, store.name()),
    };
    let key = match store {
        Store::UserDb => keys::database_url(
            app.user_database()
                .expect("only owners of a user-db database reach user-db"),
        ),
        _ => keys::URL.to_owned(),
    };
    (secret, key)
}

/// The wiring of DESIGN.md: PORT, the URLs of what the app calls, telemetry, logs.
fn env(ctx: &ShopContext, app: App) -> Vec<EnvVar> {
    let mut env = vec![
        plain("PORT", HTTP_PORT.to_string()),
        plain("LOG_FORMAT", "json"),
        plain("RUST_LOG", "info"),
        plain("OTEL_SERVICE_NAME", app.name()),
    ];
    if app == App::Frontend {
        // One key for every replica, so a form rendered by one is accepted by another.
        env.push(from_secret(
            "CSRF_SECRET",
            keys::component_secret(&ctx.name, app.name()),
            keys::CSRF_SECRET.to_owned(),
        ));
    }
    if let Some(endpoint) = ctx.otlp_endpoint() {
        env.push(plain("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint));
        env.push(plain("OTEL_TRACES_SAMPLER", "parentbased_traceidratio"));
        env.push(plain(
            "OTEL_TRACES_SAMPLER_ARG",
            ctx.shop.spec.telemetry.sampling_ratio.to_string(),
        ));
        env.push(plain("OTEL_RESOURCE_ATTRIBUTES", resource_attributes(ctx)));
    }
    for target in component::targets(app) {
        match target {
            Component::App(callee) => {
                let var = match callee {
                    App::Gateway => "GATEWAY_URL",
                    App::Catalog => "CATALOG_URL",
                    App::Cart => "CART_URL",
                    App::Shipping => "SHIPPING_URL",
                    App::Identity => "IDENTITY_URL",
                    App::Checkout => "CHECKOUT_URL",
                    App::Frontend | App::Payment | App::Email => continue,
                };
                env.push(plain(var, ctx.http_url(callee)));
            }
            Component::Store(store) => {
                let var = match store {
                    Store::UserDb | Store::CatalogDb => "DATABASE_URL",
                    Store::Redis => "REDIS_URL",
                    Store::Rabbitmq => "AMQP_URL",
                };
                let (secret, key) = store_url_ref(ctx, app, store);
                env.push(from_secret(var, secret, key));
            }
        }
    }
    env
}

/// What every span of the shop carries besides its service's name: the Shop's namespace as
/// the deployment environment (OpenTelemetry's `deployment.environment.name`, which the
/// services' telemetry otherwise sets to `local`).
pub fn resource_attributes(ctx: &ShopContext) -> String {
    format!("deployment.environment.name={}", ctx.namespace)
}

/// The user's variables replace rendered ones of the same name and come after the rest
/// (server-side apply rejects two entries with one name).
fn merge_env(rendered: Vec<EnvVar>, extra: &[EnvVar]) -> Vec<EnvVar> {
    let mut merged: Vec<EnvVar> = rendered
        .into_iter()
        .filter(|var| !extra.iter().any(|e| e.name == var.name))
        .collect();
    for var in extra {
        if let Some(existing) = merged.iter_mut().find(|m| m.name == var.name) {
            *existing = var.clone();
        } else {
            merged.push(var.clone());
        }
    }
    merged
}
