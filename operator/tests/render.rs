//! `render_shop` without an API server: what `spec: {}` produces, what each override
//! changes, and the rules every object and pod must keep.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::{
    ByteString,
    api::{
        apps::v1::{Deployment, StatefulSet},
        core::v1::{Container, EnvVar, PodSpec, Probe, ResourceRequirements, Secret},
        networking::v1::NetworkPolicy,
    },
    apimachinery::pkg::{api::resource::Quantity, util::intstr::IntOrString},
};
use operator::{
    crd::{ExposureType, ExternalStore, PvcRetention, SecretRef, Shop, ShopSpec, Storage},
    credentials::{Credentials, ExistingSecrets},
    render::{Object, RenderError, RenderInputs, VolumeClaims, gateway, render_shop},
};

const UID: &str = "7d6b6f3e-0000-4000-8000-000000000001";

fn shop(spec: ShopSpec) -> Shop {
    let mut shop = Shop::new("demo", spec);
    shop.metadata.namespace = Some("shops".into());
    shop.metadata.uid = Some(UID.into());
    shop.metadata.generation = Some(1);
    shop
}

fn render_with(shop: &Shop, credentials: &Credentials) -> Vec<Object> {
    render_on(shop, credentials, &VolumeClaims::new())
}

fn render_on(shop: &Shop, credentials: &Credentials, volumes: &VolumeClaims) -> Vec<Object> {
    let inputs = RenderInputs {
        operator_version: "0.1.0",
        credentials,
        volume_claims: volumes,
    };
    render_shop(shop, &inputs).unwrap()
}

fn render(spec: ShopSpec) -> Vec<Object> {
    let credentials = Credentials::keep_or_generate("demo", &ExistingSecrets::new());
    render_with(&shop(spec), &credentials)
}

fn names(objects: &[Object], kind: &str) -> BTreeSet<String> {
    objects
        .iter()
        .filter(|o| o.kind() == kind)
        .map(|o| o.name().to_owned())
        .collect()
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|n| format!("demo-{n}")).collect()
}

fn deployments(objects: &[Object]) -> Vec<&Deployment> {
    objects
        .iter()
        .filter_map(|o| match o {
            Object::Deployment(d) => Some(d),
            _ => None,
        })
        .collect()
}

fn stateful_sets(objects: &[Object]) -> Vec<&StatefulSet> {
    objects
        .iter()
        .filter_map(|o| match o {
            Object::StatefulSet(s) => Some(s),
            _ => None,
        })
        .collect()
}

fn deployment<'a>(objects: &'a [Object], name: &str) -> &'a Deployment {
    deployments(objects)
        .into_iter()
        .find(|d| d.metadata.name.as_deref() == Some(&format!("demo-{name}")))
        .unwrap_or_else(|| panic!("no Deployment demo-{name}"))
}

fn stateful_set<'a>(objects: &'a [Object], name: &str) -> &'a StatefulSet {
    stateful_sets(objects)
        .into_iter()
        .find(|s| s.metadata.name.as_deref() == Some(&format!("demo-{name}")))
        .unwrap_or_else(|| panic!("no StatefulSet demo-{name}"))
}

fn container(pod: &PodSpec) -> &Container {
    assert_eq!(pod.containers.len(), 1);
    &pod.containers[0]
}

fn pod_of_deployment(d: &Deployment) -> &PodSpec {
    d.spec.template.spec.as_ref().unwrap()
}

fn pod_of_stateful_set(s: &StatefulSet) -> &PodSpec {
    s.spec.template.spec.as_ref().unwrap()
}

/// Every pod the shop runs, by component name.
fn pods(objects: &[Object]) -> Vec<(String, &PodSpec)> {
    let mut pods: Vec<(String, &PodSpec)> = deployments(objects)
        .into_iter()
        .map(|d| (d.metadata.name.clone().unwrap(), pod_of_deployment(d)))
        .collect();
    pods.extend(
        stateful_sets(objects)
            .into_iter()
            .map(|s| (s.metadata.name.clone().unwrap(), pod_of_stateful_set(s))),
    );
    pods
}

fn env<'a>(c: &'a Container, name: &str) -> Option<&'a EnvVar> {
    c.env.iter().flatten().find(|e| e.name == name)
}

fn secret_ref(var: &EnvVar) -> (String, String) {
    let key_ref = var
        .value_from
        .as_ref()
        .and_then(|v| v.secret_key_ref.as_ref())
        .unwrap_or_else(|| panic!("{} is not from a Secret", var.name));
    (key_ref.name.clone(), key_ref.key.clone())
}

const APPS: [&str; 9] = [
    "frontend", "gateway", "catalog", "cart", "identity", "checkout", "payment", "shipping",
    "email",
];
const STORES: [&str; 4] = ["user-db", "catalog-db", "redis", "rabbitmq"];

#[test]
fn an_empty_spec_renders_every_expected_object() {
    let objects = render(ShopSpec::default());
    let mut by_kind: BTreeMap<&str, usize> = BTreeMap::new();
    for object in &objects {
        *by_kind.entry(object.kind()).or_default() += 1;
    }
    assert_eq!(
        by_kind,
        BTreeMap::from([
            ("ConfigMap", 3),
            ("Deployment", 9),
            ("NetworkPolicy", 15),
            ("Secret", 6),
            ("Service", 13),
            ("ServiceAccount", 13),
            ("StatefulSet", 4),
        ])
    );
    let all: Vec<&str> = APPS.iter().chain(STORES.iter()).copied().collect();
    assert_eq!(names(&objects, "Deployment"), set(&APPS));
    assert_eq!(names(&objects, "StatefulSet"), set(&STORES));
    assert_eq!(names(&objects, "Service"), set(&all));
    assert_eq!(names(&objects, "ServiceAccount"), set(&all));
    assert_eq!(
        names(&objects, "ConfigMap"),
        set(&["gateway-config", "rabbitmq-config", "user-db-init"])
    );
    assert_eq!(
        names(&objects, "Secret"),
        set(&[
            "user-db",
            "catalog-db",
            "redis",
            "rabbitmq",
            "gateway-jwk",
            "frontend"
        ])
    );
    let mut policies = all.clone();
    policies.extend(["default-deny", "allow-dns"]);
    assert_eq!(names(&objects, "NetworkPolicy"), set(&policies));
}

#[test]
fn images_default_to_the_registry_and_the_operators_version() {
    let objects = render(ShopSpec::default());
    let image = |name: &str| {
        container(pod_of_deployment(deployment(&objects, name)))
            .image
            .clone()
    };
    assert_eq!(
        image("catalog").as_deref(),
        Some("ghcr.io/microshop/catalog:0.1.0")
    );
    assert_eq!(
        image("frontend").as_deref(),
        Some("ghcr.io/microshop/frontend:0.1.0")
    );
    assert_eq!(
        image("gateway").as_deref(),
        Some("devopsfaith/krakend:2.13")
    );
    let store_image = |name: &str| {
        container(pod_of_stateful_set(stateful_set(&objects, name)))
            .image
            .clone()
    };
    assert_eq!(store_image("user-db").as_deref(), Some("postgres:17"));
    assert_eq!(store_image("redis").as_deref(), Some("redis:7.4"));
    assert_eq!(store_image("rabbitmq").as_deref(), Some("rabbitmq:4.1"));
}

#[test]
fn version_registry_and_image_overrides_are_used() {
    let mut spec = ShopSpec {
        version: Some("1.2.3".into()),
        image_registry: "registry.local:5000/shop/".into(),
        ..ShopSpec::default()
    };
    spec.cart.image = Some("example.org/my-cart@sha256:abc".into());
    spec.redis.image = Some("valkey/valkey:8".into());
    let objects = render(spec);
    let image = |name: &str| {
        container(pod_of_deployment(deployment(&objects, name)))
            .image
            .clone()
    };
    assert_eq!(
        image("catalog").as_deref(),
        Some("registry.local:5000/shop/catalog:1.2.3")
    );
    assert_eq!(
        image("cart").as_deref(),
        Some("example.org/my-cart@sha256:abc")
    );
    let redis = container(pod_of_stateful_set(stateful_set(&objects, "redis")));
    assert_eq!(redis.image.as_deref(), Some("valkey/valkey:8"));
}

#[test]
fn replicas_resources_and_env_overrides_reach_the_deployment() {
    let mut spec = ShopSpec::default();
    spec.catalog.replicas = 3;
    let resources = ResourceRequirements {
        requests: Some(BTreeMap::from([("cpu".into(), Quantity("250m".into()))])),
        limits: Some(BTreeMap::from([("memory".into(), Quantity("1Gi".into()))])),
        claims: None,
    };
    spec.catalog.resources = Some(resources.clone());
    spec.catalog.env = vec![
        EnvVar {
            name: "RUST_LOG".into(),
            value: Some("debug".into()),
            value_from: None,
        },
        EnvVar {
            name: "FEATURE_X".into(),
            value: Some("on".into()),
            value_from: None,
        },
    ];
    let objects = render(spec);
    let catalog = deployment(&objects, "catalog");
    assert_eq!(catalog.spec.replicas, Some(3));
    let c = container(pod_of_deployment(catalog));
    assert_eq!(c.resources.as_ref(), Some(&resources));
    assert_eq!(env(c, "RUST_LOG").unwrap().value.as_deref(), Some("debug"));
    assert_eq!(env(c, "FEATURE_X").unwrap().value.as_deref(), Some("on"));
    let names: Vec<_> = c.env.iter().flatten().map(|e| e.name.as_str()).collect();
    let unique: BTreeSet<_> = names.iter().collect();
    assert_eq!(names.len(), unique.len(), "duplicate env names: {names:?}");
    // Other services keep their defaults.
    let cart = deployment(&objects, "cart");
    assert_eq!(cart.spec.replicas, Some(1));
    assert_eq!(
        env(container(pod_of_deployment(cart)), "RUST_LOG")
            .unwrap()
            .value
            .as_deref(),
        Some("info")
    );
}

#[test]
fn services_are_wired_as_the_design_says() {
    let objects = render(ShopSpec::default());
    let c = |name: &str| container(pod_of_deployment(deployment(&objects, name))).clone();
    for app in APPS {
        let c = c(app);
        assert_eq!(
            env(&c, "PORT").unwrap().value.as_deref(),
            Some("8080"),
            "{app}"
        );
        assert_eq!(
            env(&c, "OTEL_SERVICE_NAME").unwrap().value.as_deref(),
            Some(app)
        );
        assert!(
            env(&c, "OTEL_EXPORTER_OTLP_ENDPOINT").is_none(),
            "tracing off by default"
        );
    }
    let checkout = c("checkout");
    assert_eq!(
        env(&checkout, "CART_URL").unwrap().value.as_deref(),
        Some("http://demo-cart:8080")
    );
    assert_eq!(
        env(&checkout, "CATALOG_URL").unwrap().value.as_deref(),
        Some("http://demo-catalog:8080")
    );
    assert_eq!(
        env(&checkout, "SHIPPING_URL").unwrap().value.as_deref(),
        Some("http://demo-shipping:8080")
    );
    assert_eq!(
        secret_ref(env(&checkout, "DATABASE_URL").unwrap()),
        ("demo-user-db".into(), "orders-url".into())
    );
    assert_eq!(
        secret_ref(env(&checkout, "AMQP_URL").unwrap()),
        ("demo-rabbitmq".into(), "url".into())
    );
    assert_eq!(
        secret_ref(env(&c("identity"), "DATABASE_URL").unwrap()),
        ("demo-user-db".into(), "users-url".into())
    );
    assert_eq!(
        secret_ref(env(&c("catalog"), "DATABASE_URL").unwrap()),
        ("demo-catalog-db".into(), "url".into())
    );
    assert_eq!(
        secret_ref(env(&c("cart"), "REDIS_URL").unwrap()),
        ("demo-redis".into(), "url".into())
    );
    assert_eq!(
        env(&c("cart"), "CATALOG_URL").unwrap().value.as_deref(),
        Some("http://demo-catalog:8080")
    );
    assert_eq!(
        env(&c("frontend"), "GATEWAY_URL").unwrap().value.as_deref(),
        Some("http://demo-gateway:8080")
    );
    assert!(env(&c("frontend"), "DATABASE_URL").is_none());
    assert_eq!(
        secret_ref(env(&c("frontend"), "CSRF_SECRET").unwrap()),
        ("demo-frontend".into(), "csrf-secret".into())
    );

    // Each URL a service is given is in the Secret the operator renders.
    let secrets: BTreeMap<String, &Secret> = objects
        .iter()
        .filter_map(|o| match o {
            Object::Secret(s) => Some((s.metadata.name.clone().unwrap(), s)),
            _ => None,
        })
        .collect();
    for app in APPS {
        for var in c(app)
            .env
            .iter()
            .flatten()
            .filter(|v| v.value_from.is_some())
        {
            let (secret, key) = secret_ref(var);
            let data = secrets[&secret].data.as_ref().unwrap();
            assert!(data.contains_key(&key), "{app}: {secret} has no {key}");
        }
    }
    let user_db = secrets["demo-user-db"].data.as_ref().unwrap();
    let url = String::from_utf8(user_db["orders-url"].0.clone()).unwrap();
    let password = String::from_utf8(user_db["orders-password"].0.clone()).unwrap();
    assert_eq!(
        url,
        format!("postgres://orders:{password}@demo-user-db:5432/orders")
    );
}

#[test]
fn telemetry_settings_reach_every_service() {
    let mut spec = ShopSpec::default();
    spec.telemetry.otlp_endpoint = Some("http://collector.observability:4318".into());
    spec.telemetry.sampling_ratio = 0.25;
    let objects = render(spec);
    for d in deployments(&objects) {
        let c = container(pod_of_deployment(d));
        assert_eq!(
            env(c, "OTEL_EXPORTER_OTLP_ENDPOINT")
                .unwrap()
                .value
                .as_deref(),
            Some("http://collector.observability:4318")
        );
        assert_eq!(
            env(c, "OTEL_TRACES_SAMPLER_ARG").unwrap().value.as_deref(),
            Some("0.25")
        );
    }
}

#[test]
fn storage_gives_claims_and_its_absence_an_empty_dir() {
    let mut spec = ShopSpec {
        pvc_retention: PvcRetention::Delete,
        ..ShopSpec::default()
    };
    spec.user_db.storage = Some(Storage {
        size: Quantity("5Gi".into()),
        storage_class_name: Some("fast".into()),
    });
    let objects = render(spec);

    let user_db = stateful_set(&objects, "user-db");
    let claims = user_db.spec.volume_claim_templates.as_ref().unwrap();
    assert_eq!(claims.len(), 1);
    let claim = claims[0].spec.as_ref().unwrap();
    assert_eq!(claim.storage_class_name.as_deref(), Some("fast"));
    assert_eq!(
        claim.resources.as_ref().unwrap().requests.as_ref().unwrap()["storage"],
        Quantity("5Gi".into())
    );
    let pod = pod_of_stateful_set(user_db);
    assert!(
        !pod.volumes.iter().flatten().any(|v| v.name == "data"),
        "the claim, not a pod volume, backs `data`"
    );
    let retention = user_db
        .spec
        .persistent_volume_claim_retention_policy
        .as_ref()
        .unwrap();
    assert_eq!(retention.when_deleted.as_deref(), Some("Delete"));

    let redis = stateful_set(&objects, "redis");
    assert!(redis.spec.volume_claim_templates.is_none());
    let data = pod_of_stateful_set(redis)
        .volumes
        .iter()
        .flatten()
        .find(|v| v.name == "data")
        .unwrap();
    assert!(data.empty_dir.is_some());
}

#[test]
fn pvc_retention_defaults_to_retain() {
    let objects = render(ShopSpec::default());
    for s in stateful_sets(&objects) {
        let retention = s
            .spec
            .persistent_volume_claim_retention_policy
            .as_ref()
            .unwrap();
        assert_eq!(retention.when_deleted.as_deref(), Some("Retain"));
        assert_eq!(retention.when_scaled.as_deref(), Some("Retain"));
    }
}

fn external(name: &str) -> Option<ExternalStore> {
    Some(ExternalStore {
        secret_ref: SecretRef { name: name.into() },
    })
}

#[test]
fn an_external_store_is_not_run_and_its_secret_is_used() {
    let mut spec = ShopSpec::default();
    spec.redis.external = external("managed-redis");
    spec.user_db.external = external("managed-postgres");
    let objects = render(spec);
    for kind in [
        "StatefulSet",
        "Service",
        "ServiceAccount",
        "NetworkPolicy",
        "Secret",
    ] {
        let names = names(&objects, kind);
        assert!(!names.contains("demo-redis"), "{kind} demo-redis");
        assert!(!names.contains("demo-user-db"), "{kind} demo-user-db");
    }
    assert!(!names(&objects, "ConfigMap").contains("demo-user-db-init"));
    assert_eq!(stateful_sets(&objects).len(), 2);
    let c = |name: &str| container(pod_of_deployment(deployment(&objects, name))).clone();
    assert_eq!(
        secret_ref(env(&c("cart"), "REDIS_URL").unwrap()),
        ("managed-redis".into(), "url".into())
    );
    assert_eq!(
        secret_ref(env(&c("identity"), "DATABASE_URL").unwrap()),
        ("managed-postgres".into(), "users-url".into())
    );
    assert_eq!(
        secret_ref(env(&c("payment"), "DATABASE_URL").unwrap()),
        ("managed-postgres".into(), "payments-url".into())
    );
}

#[test]
fn disruption_budgets_only_for_more_than_one_replica() {
    for (replicas, expected) in [(0, false), (1, false), (2, true), (20, true)] {
        let mut spec = ShopSpec::default();
        spec.checkout.replicas = replicas;
        let objects = render(spec);
        let budgets = names(&objects, "PodDisruptionBudget");
        assert_eq!(
            budgets.contains("demo-checkout"),
            expected,
            "replicas {replicas}"
        );
        assert_eq!(
            budgets.len(),
            usize::from(expected),
            "only checkout has more than one"
        );
    }
}

#[test]
fn exposure_shapes_the_frontend_service_and_ingress() {
    let objects = render(ShopSpec::default());
    let frontend_service = |objects: &[Object]| {
        objects
            .iter()
            .find_map(|o| match o {
                Object::Service(s) if s.metadata.name.as_deref() == Some("demo-frontend") => {
                    Some(s.spec.clone().unwrap())
                }
                _ => None,
            })
            .unwrap()
    };
    assert_eq!(
        frontend_service(&objects).type_.as_deref(),
        Some("ClusterIP")
    );
    assert!(names(&objects, "Ingress").is_empty());

    let mut spec = ShopSpec::default();
    spec.exposure.type_ = ExposureType::NodePort;
    spec.exposure.node_port = Some(30080);
    let service = frontend_service(&render(spec));
    assert_eq!(service.type_.as_deref(), Some("NodePort"));
    assert_eq!(service.ports.unwrap()[0].node_port, Some(30080));

    let mut spec = ShopSpec::default();
    spec.exposure.type_ = ExposureType::Ingress;
    spec.exposure.ingress_host = Some("shop.example.com".into());
    let objects = render(spec);
    assert_eq!(
        frontend_service(&objects).type_.as_deref(),
        Some("ClusterIP")
    );
    let ingress = objects
        .iter()
        .find_map(|o| match o {
            Object::Ingress(i) => Some(i.spec.clone().unwrap()),
            _ => None,
        })
        .unwrap();
    let rule = &ingress.rules.unwrap()[0];
    assert_eq!(rule.host.as_deref(), Some("shop.example.com"));
    let backend = rule.http.as_ref().unwrap().paths[0]
        .backend
        .service
        .as_ref()
        .unwrap();
    assert_eq!(backend.name, "demo-frontend");
}

#[test]
fn every_object_is_owned_labelled_and_namespaced() {
    let mut spec = ShopSpec::default();
    spec.cart.replicas = 2;
    spec.exposure.type_ = ExposureType::Ingress;
    spec.exposure.ingress_host = Some("shop.example.com".into());
    spec.telemetry.jaeger.enabled = true;
    for object in render(spec) {
        let meta = object.meta();
        let what = format!("{} {}", object.kind(), object.name());
        assert_eq!(meta.namespace.as_deref(), Some("shops"), "{what}");
        let owners = meta.owner_references.as_ref().unwrap();
        assert_eq!(owners.len(), 1, "{what}");
        let owner = &owners[0];
        assert_eq!(
            (owner.kind.as_str(), owner.name.as_str(), owner.uid.as_str()),
            ("Shop", "demo", UID),
            "{what}"
        );
        assert_eq!(owner.api_version, "microshop.dev/v1alpha1");
        assert_eq!(owner.controller, Some(true), "{what}");
        assert_eq!(owner.block_owner_deletion, Some(true), "{what}");
        let labels = meta.labels.as_ref().unwrap();
        assert_eq!(labels["app.kubernetes.io/instance"], "demo", "{what}");
        assert_eq!(labels["app.kubernetes.io/part-of"], "microshop", "{what}");
        assert_eq!(
            labels["app.kubernetes.io/managed-by"], "microshop-operator",
            "{what}"
        );
        assert!(labels.contains_key("app.kubernetes.io/name"), "{what}");
        assert!(labels.contains_key("app.kubernetes.io/component"), "{what}");
        assert!(object.name().starts_with("demo-"), "{what}");
    }
}

#[test]
fn workload_selectors_match_their_pod_labels() {
    let mut spec = ShopSpec::default();
    spec.telemetry.jaeger.enabled = true;
    let objects = render(spec);
    for d in deployments(&objects) {
        let selector = d.spec.selector.match_labels.as_ref().unwrap();
        let labels = d
            .spec
            .template
            .metadata
            .as_ref()
            .unwrap()
            .labels
            .as_ref()
            .unwrap();
        assert!(selector.iter().all(|(k, v)| labels.get(k) == Some(v)));
    }
    for s in stateful_sets(&objects) {
        let selector = s.spec.selector.match_labels.as_ref().unwrap();
        let labels = s
            .spec
            .template
            .metadata
            .as_ref()
            .unwrap()
            .labels
            .as_ref()
            .unwrap();
        assert!(selector.iter().all(|(k, v)| labels.get(k) == Some(v)));
        assert_eq!(
            s.spec.service_name, s.metadata.name,
            "governed by its headless Service"
        );
    }
}

fn has_requests_and_limits(resources: Option<&ResourceRequirements>) -> bool {
    let Some(r) = resources else { return false };
    let both = |m: &Option<BTreeMap<String, Quantity>>| {
        m.as_ref()
            .is_some_and(|m| m.contains_key("cpu") && m.contains_key("memory"))
    };
    both(&r.requests) && both(&r.limits)
}

#[test]
fn every_pod_meets_the_restricted_pod_security_standard() {
    let mut spec = ShopSpec::default();
    spec.gateway.replicas = 2;
    spec.telemetry.jaeger.enabled = true;
    let objects = render(spec);
    let pods = pods(&objects);
    assert_eq!(pods.len(), 14, "13 components and Jaeger");
    for (name, pod) in pods {
        let sc = pod.security_context.as_ref().unwrap();
        assert_eq!(sc.run_as_non_root, Some(true), "{name}");
        assert!(
            sc.run_as_user.is_some_and(|uid| uid > 0),
            "{name}: numeric non-root user"
        );
        assert!(sc.fs_group.is_some_and(|gid| gid > 0), "{name}");
        assert_eq!(
            sc.seccomp_profile.as_ref().unwrap().type_,
            "RuntimeDefault",
            "{name}"
        );
        assert_eq!(pod.automount_service_account_token, Some(false), "{name}");
        assert_eq!(
            pod.service_account_name.as_deref(),
            Some(name.as_str()),
            "{name}"
        );
        assert!(pod.host_network.is_none() && pod.host_pid.is_none() && pod.host_ipc.is_none());
        for volume in pod.volumes.iter().flatten() {
            assert!(volume.host_path.is_none(), "{name}: no hostPath");
        }
        let containers = pod
            .containers
            .iter()
            .chain(pod.init_containers.iter().flatten());
        for c in containers {
            let csc = c.security_context.as_ref().unwrap();
            assert_eq!(csc.allow_privilege_escalation, Some(false), "{name}");
            assert_ne!(csc.privileged, Some(true), "{name}");
            let caps = csc.capabilities.as_ref().unwrap();
            assert_eq!(
                caps.drop.as_deref(),
                Some(&["ALL".to_owned()][..]),
                "{name}"
            );
            assert!(caps.add.is_none(), "{name}");
            assert!(csc.run_as_user.is_none_or(|uid| uid > 0), "{name}");
            assert_eq!(
                csc.read_only_root_filesystem,
                Some(true),
                "{name}: a read-only root filesystem"
            );
            assert!(
                c.ports.iter().flatten().all(|p| p.host_port.is_none()),
                "{name}"
            );
            assert!(
                has_requests_and_limits(c.resources.as_ref()),
                "{name}: requests and limits"
            );
        }
    }
}

fn http_path(probe: Option<&Probe>) -> Option<&str> {
    probe?.http_get.as_ref()?.path.as_deref()
}

#[test]
fn every_pod_has_probes() {
    let mut spec = ShopSpec::default();
    spec.telemetry.jaeger.enabled = true;
    let objects = render(spec);
    for (name, pod) in pods(&objects) {
        let c = container(pod);
        let (ready, live) = (c.readiness_probe.as_ref(), c.liveness_probe.as_ref());
        assert!(
            ready.is_some() && live.is_some() && c.startup_probe.is_some(),
            "{name}"
        );
        let component = name.trim_start_matches("demo-");
        if STORES.contains(&component) {
            let kind_ok = |p: &Probe| p.exec.is_some() || p.tcp_socket.is_some();
            assert!(
                kind_ok(ready.unwrap()) && kind_ok(live.unwrap()),
                "{name}: exec/tcp probes"
            );
        } else if component == "gateway" {
            // KrakenD's built-in health endpoint; it has no /readyz of its own.
            assert_eq!(http_path(ready), Some("/__health"));
            assert_eq!(http_path(live), Some("/__health"));
        } else if component == "jaeger" {
            // The healthcheckv2 extension of Jaeger's all-in-one configuration.
            for probe in [ready, live, c.startup_probe.as_ref()] {
                assert_eq!(http_path(probe), Some("/status"));
                let port = &probe.unwrap().http_get.as_ref().unwrap().port;
                assert_eq!(port, &IntOrString::String("health".into()));
            }
        } else {
            assert_eq!(http_path(ready), Some("/readyz"), "{name}");
            assert_eq!(http_path(live), Some("/healthz"), "{name}");
            let port = &ready.unwrap().http_get.as_ref().unwrap().port;
            assert_eq!(port, &IntOrString::String("http".into()));
        }
    }
}

#[test]
fn stores_run_as_the_images_numeric_users() {
    let objects = render(ShopSpec::default());
    for store in STORES {
        let pod = pod_of_stateful_set(stateful_set(&objects, store));
        let sc = pod.security_context.as_ref().unwrap();
        assert_eq!(sc.run_as_user, Some(999), "{store}");
        assert_eq!(sc.fs_group, Some(999), "{store}");
    }
    let redis = container(pod_of_stateful_set(stateful_set(&objects, "redis")));
    let args = redis.args.as_ref().unwrap();
    assert!(args.windows(2).any(|w| w == ["--appendonly", "yes"]));
}

#[test]
fn user_db_creates_every_database_from_its_init_script() {
    let objects = render(ShopSpec::default());
    let script = objects
        .iter()
        .find_map(|o| match o {
            Object::ConfigMap(c) if c.metadata.name.as_deref() == Some("demo-user-db-init") => {
                c.data.as_ref()?.values().next().cloned()
            }
            _ => None,
        })
        .unwrap();
    assert!(script.contains("for db in users orders payments shipping email; do"));
    let pg = container(pod_of_stateful_set(stateful_set(&objects, "user-db")));
    for db in ["USERS", "ORDERS", "PAYMENTS", "SHIPPING", "EMAIL"] {
        let var = env(pg, &format!("{db}_PASSWORD")).unwrap();
        assert_eq!(secret_ref(var).0, "demo-user-db");
    }
    let mounts: Vec<_> = pg
        .volume_mounts
        .iter()
        .flatten()
        .map(|m| m.mount_path.as_str())
        .collect();
    assert!(mounts.contains(&"/docker-entrypoint-initdb.d"));
}

#[test]
fn gateway_config_change_rolls_the_pods() {
    let credentials = Credentials::keep_or_generate("demo", &ExistingSecrets::new());
    let checksum_of = |objects: &[Object]| {
        let gateway = deployment(objects, "gateway");
        let annotations = gateway
            .spec
            .template
            .metadata
            .as_ref()
            .unwrap()
            .annotations
            .as_ref()
            .unwrap();
        annotations[gateway::CONFIG_CHECKSUM].clone()
    };
    let first = render_with(&shop(ShopSpec::default()), &credentials);
    let config = first
        .iter()
        .find_map(|o| match o {
            Object::ConfigMap(c) if c.metadata.name.as_deref() == Some("demo-gateway-config") => {
                Some(c)
            }
            _ => None,
        })
        .unwrap();
    assert_eq!(checksum_of(&first), gateway::checksum(config));
    assert_eq!(checksum_of(&first).len(), 64);
    // Same input, same checksum: no needless rollout.
    let again = render_with(&shop(ShopSpec::default()), &credentials);
    assert_eq!(checksum_of(&first), checksum_of(&again));
    // Another shop's backends are other hosts: a different config, a different checksum.
    let mut other = shop(ShopSpec::default());
    other.metadata.name = Some("other".into());
    let objects = render_with(&other, &credentials);
    let other_checksum = {
        let gateway = objects.iter().find_map(|o| match o {
            Object::Deployment(d) if d.metadata.name.as_deref() == Some("other-gateway") => Some(d),
            _ => None,
        });
        gateway
            .unwrap()
            .spec
            .template
            .metadata
            .as_ref()
            .unwrap()
            .annotations
            .as_ref()
            .unwrap()[gateway::CONFIG_CHECKSUM]
            .clone()
    };
    assert_ne!(checksum_of(&first), other_checksum);
}

fn secret_data(objects: &[Object]) -> ExistingSecrets {
    objects
        .iter()
        .filter_map(|o| match o {
            Object::Secret(s) => Some((s.metadata.name.clone()?, s.data.clone()?)),
            _ => None,
        })
        .collect()
}

#[test]
fn existing_secrets_are_kept_not_regenerated() {
    let first_credentials = Credentials::keep_or_generate("demo", &ExistingSecrets::new());
    let first = render_with(&shop(ShopSpec::default()), &first_credentials);
    let existing = secret_data(&first);
    // The next reconcile reads them back and renders the very same Secrets.
    let second_credentials = Credentials::keep_or_generate("demo", &existing);
    assert_eq!(second_credentials, first_credentials);
    let second = render_with(&shop(ShopSpec::default()), &second_credentials);
    assert_eq!(secret_data(&second), existing);

    // A secret missing one key gets only that key generated.
    let mut partial = existing.clone();
    partial.get_mut("demo-redis").unwrap().remove("password");
    let third = Credentials::keep_or_generate("demo", &partial);
    assert_ne!(third.redis, first_credentials.redis);
    assert_eq!(third.rabbitmq, first_credentials.rabbitmq);
    assert_eq!(third.gateway_keys, first_credentials.gateway_keys);
}

#[test]
fn a_store_secret_is_owned_by_its_volume_once_that_exists() {
    let mut spec = ShopSpec::default();
    spec.redis.storage = Some(Storage {
        size: Quantity("1Gi".into()),
        storage_class_name: None,
    });
    let credentials = Credentials::keep_or_generate("demo", &ExistingSecrets::new());
    let owners = |objects: &[Object], name: &str| -> Vec<(String, String, Option<bool>)> {
        let secret = objects
            .iter()
            .find_map(|o| match o {
                Object::Secret(s) if s.metadata.name.as_deref() == Some(name) => Some(s),
                _ => None,
            })
            .unwrap();
        secret
            .metadata
            .owner_references
            .iter()
            .flatten()
            .map(|r| (r.kind.clone(), r.uid.clone(), r.controller))
            .collect()
    };

    // Before the StatefulSet has made the volume: the Shop alone.
    let before = render_on(&shop(spec.clone()), &credentials, &VolumeClaims::new());
    assert_eq!(
        owners(&before, "demo-redis"),
        [("Shop".to_owned(), UID.to_owned(), Some(true))]
    );

    // Then the volume too (named as the StatefulSet controller names it), so the Secret
    // stays while a retained volume does; other Secrets are the Shop's alone.
    let volumes = VolumeClaims::from([
        ("data-demo-redis-0".to_owned(), "pvc-uid".to_owned()),
        ("something-else".to_owned(), "other-uid".to_owned()),
    ]);
    let after = render_on(&shop(spec), &credentials, &volumes);
    assert_eq!(
        owners(&after, "demo-redis"),
        [
            ("Shop".to_owned(), UID.to_owned(), Some(true)),
            (
                "PersistentVolumeClaim".to_owned(),
                "pvc-uid".to_owned(),
                None
            ),
        ]
    );
    for name in [
        "demo-user-db",
        "demo-rabbitmq",
        "demo-gateway-jwk",
        "demo-frontend",
    ] {
        assert_eq!(owners(&after, name).len(), 1, "{name}");
    }
    let claim = &stateful_set(&after, "redis").spec;
    assert_eq!(
        claim.volume_claim_templates.as_ref().unwrap()[0]
            .metadata
            .name
            .as_deref(),
        Some("data"),
        "the claim template the volume's name is made from"
    );
    assert_eq!(
        stateful_set(&after, "redis").metadata.name.as_deref(),
        Some("demo-redis")
    );
}

#[test]
fn secrets_hold_data_never_string_data() {
    let objects = render(ShopSpec::default());
    for object in &objects {
        if let Object::Secret(s) = object {
            assert!(s.string_data.is_none());
            let data = s.data.as_ref().unwrap();
            assert!(data.values().all(|v: &ByteString| !v.0.is_empty()));
        }
    }
}

/// The paths of empty lists in `value`.
fn empty_lists(value: &serde_json::Value, path: &str, out: &mut Vec<String>) {
    match value {
        serde_json::Value::Array(items) if items.is_empty() => out.push(path.to_owned()),
        serde_json::Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                empty_lists(item, &format!("{path}[{i}]"), out);
            }
        }
        serde_json::Value::Object(fields) => {
            for (key, field) in fields {
                empty_lists(field, &format!("{path}.{key}"), out);
            }
        }
        _ => {}
    }
}

/// The API server drops an empty list (Go's `omitempty`), so an object applied with one
/// never matches what is stored: every server-side apply rewrites it, its watch event
/// wakes the operator, which applies it again — a loop found against a real API server.
#[test]
fn no_object_holds_an_empty_list() {
    let mut spec = ShopSpec::default();
    spec.redis.external = external("managed-redis");
    spec.telemetry.otlp_endpoint = Some("http://collector:4318".into());
    let mut with_jaeger = ShopSpec::default();
    with_jaeger.telemetry.jaeger.enabled = true;
    for spec in [ShopSpec::default(), spec, with_jaeger] {
        let mut found = Vec::new();
        for object in render(spec) {
            let json = match &object {
                Object::Deployment(o) => serde_json::to_value(o),
                Object::StatefulSet(o) => serde_json::to_value(o),
                Object::Service(o) => serde_json::to_value(o),
                Object::ConfigMap(o) => serde_json::to_value(o),
                Object::Secret(o) => serde_json::to_value(o),
                Object::ServiceAccount(o) => serde_json::to_value(o),
                Object::NetworkPolicy(o) => serde_json::to_value(o),
                Object::PodDisruptionBudget(o) => serde_json::to_value(o),
                Object::Ingress(o) => serde_json::to_value(o),
            }
            .unwrap();
            empty_lists(
                &json,
                &format!("{}/{}", object.kind(), object.name()),
                &mut found,
            );
        }
        assert!(found.is_empty(), "{found:#?}");
    }
}

#[test]
fn rendering_needs_a_shop_from_the_api_server() {
    let credentials = Credentials::keep_or_generate("demo", &ExistingSecrets::new());
    let inputs = RenderInputs {
        operator_version: "0.1.0",
        credentials: &credentials,
        volume_claims: &VolumeClaims::new(),
    };
    let mut no_uid = shop(ShopSpec::default());
    no_uid.metadata.uid = None;
    assert_eq!(
        render_shop(&no_uid, &inputs),
        Err(RenderError::MissingMetadata("uid"))
    );
    let mut no_namespace = shop(ShopSpec::default());
    no_namespace.metadata.namespace = None;
    assert_eq!(
        render_shop(&no_namespace, &inputs),
        Err(RenderError::MissingMetadata("namespace"))
    );
}

// --- NetworkPolicies, evaluated as a CNI would ------------------------------------------

type Labels = BTreeMap<String, String>;

fn pod_labels(objects: &[Object]) -> BTreeMap<String, Labels> {
    let mut out = BTreeMap::new();
    for d in deployments(objects) {
        let labels = d
            .spec
            .template
            .metadata
            .as_ref()
            .unwrap()
            .labels
            .clone()
            .unwrap();
        out.insert(labels["app.kubernetes.io/name"].clone(), labels);
    }
    for s in stateful_sets(objects) {
        let labels = s
            .spec
            .template
            .metadata
            .as_ref()
            .unwrap()
            .labels
            .clone()
            .unwrap();
        out.insert(labels["app.kubernetes.io/name"].clone(), labels);
    }
    out
}

fn container_port(objects: &[Object], component: &str) -> i32 {
    let (_, pod) = pods(objects)
        .into_iter()
        .find(|(name, _)| name == &format!("demo-{component}"))
        .unwrap();
    container(pod).ports.as_ref().unwrap()[0].container_port
}

fn selects(
    selector: &Option<k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector>,
    labels: &Labels,
) -> bool {
    let selector = selector.as_ref().unwrap();
    assert!(selector.match_expressions.is_none());
    selector
        .match_labels
        .iter()
        .flatten()
        .all(|(k, v)| labels.get(k) == Some(v))
}

fn port_allowed(
    ports: &Option<Vec<k8s_openapi::api::networking::v1::NetworkPolicyPort>>,
    port: i32,
) -> bool {
    match ports {
        None => true,
        Some(ports) => ports.iter().any(|p| {
            p.protocol.as_deref() == Some("TCP") && p.port == Some(IntOrString::Int(port))
        }),
    }
}

fn policies(objects: &[Object]) -> Vec<&NetworkPolicy> {
    objects
        .iter()
        .filter_map(|o| match o {
            Object::NetworkPolicy(p) => Some(p),
            _ => None,
        })
        .collect()
}

/// Whether a pod labelled `from` may open a TCP connection to a pod labelled `to` on `port`:
/// the source's egress AND the destination's ingress must both allow it.
fn allowed(objects: &[Object], from: &Labels, to: &Labels, port: i32) -> bool {
    let policies = policies(objects);
    let for_pod = |labels: &Labels, kind: &str| -> Vec<&NetworkPolicy> {
        policies
            .iter()
            .copied()
            .filter(|p| {
                let spec = p.spec.as_ref().unwrap();
                selects(&spec.pod_selector, labels)
                    && spec.policy_types.iter().flatten().any(|t| t == kind)
            })
            .collect()
    };
    let peer_matches =
        |peers: &Option<Vec<k8s_openapi::api::networking::v1::NetworkPolicyPeer>>,
         labels: &Labels| match peers {
            None => true,
            Some(peers) => peers.iter().any(|peer| {
                assert!(peer.namespace_selector.is_none() && peer.ip_block.is_none());
                selects(&peer.pod_selector, labels)
            }),
        };
    let egress = for_pod(from, "Egress").iter().any(|p| {
        p.spec
            .as_ref()
            .unwrap()
            .egress
            .iter()
            .flatten()
            .any(|rule| peer_matches(&rule.to, to) && port_allowed(&rule.ports, port))
    });
    let ingress = for_pod(to, "Ingress").iter().any(|p| {
        p.spec
            .as_ref()
            .unwrap()
            .ingress
            .iter()
            .flatten()
            .any(|rule| peer_matches(&rule.from, from) && port_allowed(&rule.ports, port))
    });
    egress && ingress
}

/// The paths of DESIGN.md, written out independently of the code that renders them.
const INTENDED_PATHS: [(&str, &str); 21] = [
    ("frontend", "gateway"),
    ("gateway", "catalog"),
    ("gateway", "cart"),
    ("gateway", "identity"),
    ("gateway", "checkout"),
    ("gateway", "shipping"),
    ("checkout", "cart"),
    ("checkout", "catalog"),
    ("checkout", "shipping"),
    ("cart", "catalog"),
    ("catalog", "catalog-db"),
    ("identity", "user-db"),
    ("checkout", "user-db"),
    ("payment", "user-db"),
    ("shipping", "user-db"),
    ("email", "user-db"),
    ("cart", "redis"),
    ("checkout", "rabbitmq"),
    ("payment", "rabbitmq"),
    ("shipping", "rabbitmq"),
    ("email", "rabbitmq"),
];

#[test]
fn network_policies_allow_exactly_the_intended_paths() {
    let objects = render(ShopSpec::default());
    let pods = pod_labels(&objects);
    assert_eq!(pods.len(), 13);
    let mut open = BTreeSet::new();
    for (from, from_labels) in &pods {
        for (to, to_labels) in &pods {
            if from != to
                && allowed(
                    &objects,
                    from_labels,
                    to_labels,
                    container_port(&objects, to),
                )
            {
                open.insert((from.as_str(), to.as_str()));
            }
        }
    }
    let intended: BTreeSet<_> = INTENDED_PATHS.into_iter().collect();
    let extra: Vec<_> = open.difference(&intended).collect();
    let missing: Vec<_> = intended.difference(&open).collect();
    assert!(
        extra.is_empty() && missing.is_empty(),
        "extra: {extra:?}, missing: {missing:?}"
    );
}

#[test]
fn network_policies_deny_by_default_and_allow_dns_and_the_public_frontend() {
    let objects = render(ShopSpec::default());
    let pods = pod_labels(&objects);
    let outsider: Labels = BTreeMap::from([("app".into(), "somebody-else".into())]);
    for (name, labels) in &pods {
        let in_default_deny = policies(&objects).iter().any(|p| {
            p.metadata.name.as_deref() == Some("demo-default-deny")
                && selects(&p.spec.as_ref().unwrap().pod_selector, labels)
        });
        assert!(in_default_deny, "{name} is not under default deny");
        let dns = policies(&objects).iter().any(|p| {
            let spec = p.spec.as_ref().unwrap();
            selects(&spec.pod_selector, labels)
                && spec.egress.iter().flatten().any(|r| {
                    r.ports.iter().flatten().any(|p| {
                        p.port == Some(IntOrString::Int(53)) && p.protocol.as_deref() == Some("UDP")
                    })
                })
        });
        assert!(dns, "{name} cannot resolve names");
        // Nothing outside the shop reaches a pod except the frontend's public port.
        let ingress_from_outside = policies(&objects).iter().any(|p| {
            let spec = p.spec.as_ref().unwrap();
            selects(&spec.pod_selector, labels)
                && spec.ingress.iter().flatten().any(|rule| match &rule.from {
                    None => true,
                    Some(peers) => peers
                        .iter()
                        .any(|peer| selects(&peer.pod_selector, &outsider)),
                })
        });
        assert_eq!(ingress_from_outside, name == "frontend", "{name}");
    }
}

#[test]
fn external_stores_and_the_collector_are_reachable_by_egress() {
    let mut spec = ShopSpec::default();
    spec.redis.external = external("managed-redis");
    spec.telemetry.otlp_endpoint = Some("http://collector.observability:4317".into());
    let objects = render(spec);
    let pods = pod_labels(&objects);
    let anywhere: Labels = BTreeMap::from([("app".into(), "outside".into())]);
    let egress_to = |from: &str, port: i32| {
        policies(&objects).iter().any(|p| {
            let spec = p.spec.as_ref().unwrap();
            selects(&spec.pod_selector, &pods[from])
                && spec.egress.iter().flatten().any(|rule| {
                    rule.to.as_ref().is_none_or(|peers| {
                        peers
                            .iter()
                            .any(|peer| selects(&peer.pod_selector, &anywhere))
                    }) && port_allowed(&rule.ports, port)
                })
        })
    };
    assert!(
        egress_to("cart", 6380),
        "cart reaches the managed Redis wherever it is"
    );
    assert!(egress_to("catalog", 4317), "services reach the collector");
    assert!(!egress_to("catalog", 6380), "but nothing else outside");
}

// --- Jaeger (`telemetry.jaeger`) --------------------------------------------------------

fn with_jaeger() -> ShopSpec {
    let mut spec = ShopSpec::default();
    spec.telemetry.jaeger.enabled = true;
    spec
}

fn env_value<'a>(c: &'a Container, name: &str) -> Option<&'a str> {
    env(c, name)?.value.as_deref()
}

#[test]
fn by_default_there_is_no_jaeger_and_no_trace_export() {
    let objects = render(ShopSpec::default());
    assert!(
        objects.iter().all(|o| !o.name().contains("jaeger")),
        "nothing of Jaeger"
    );
    for d in deployments(&objects) {
        let c = container(pod_of_deployment(d));
        for var in [
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            "OTEL_TRACES_SAMPLER",
            "OTEL_RESOURCE_ATTRIBUTES",
        ] {
            assert!(env(c, var).is_none(), "{:?}: {var}", d.metadata.name);
        }
    }
}

#[test]
fn an_enabled_jaeger_is_one_in_memory_pod_behind_a_cluster_ip_service() {
    let objects = render(with_jaeger());
    for kind in ["Deployment", "Service", "ServiceAccount", "NetworkPolicy"] {
        assert!(
            names(&objects, kind).contains("demo-jaeger"),
            "no {kind} demo-jaeger"
        );
    }
    assert!(!names(&objects, "StatefulSet").contains("demo-jaeger"));

    let d = deployment(&objects, "jaeger");
    assert_eq!(d.spec.replicas, Some(1));
    assert_eq!(
        d.spec.strategy.as_ref().unwrap().type_.as_deref(),
        Some("Recreate"),
        "one instance holds the traces: never two side by side"
    );
    let labels = d
        .spec
        .template
        .metadata
        .as_ref()
        .unwrap()
        .labels
        .as_ref()
        .unwrap();
    assert_eq!(labels["app.kubernetes.io/name"], "jaeger");
    assert_eq!(labels["app.kubernetes.io/component"], "tracing");
    let pod = pod_of_deployment(d);
    assert!(
        pod.volumes.as_ref().unwrap()[0].empty_dir.is_some(),
        "/tmp is an emptyDir"
    );
    let c = container(pod);
    assert_eq!(c.image.as_deref(), Some("jaegertracing/jaeger:2.17.0"));
    assert!(
        c.args.is_none() && c.command.is_none(),
        "the image's all-in-one config"
    );
    assert_eq!(env_value(c, "JAEGER_LISTEN_HOST"), Some("0.0.0.0"));
    let ports: BTreeMap<&str, i32> = c
        .ports
        .iter()
        .flatten()
        .map(|p| (p.name.as_deref().unwrap(), p.container_port))
        .collect();
    assert_eq!(
        ports,
        BTreeMap::from([
            ("otlp-http", 4318),
            ("otlp-grpc", 4317),
            ("ui", 16686),
            ("health", 13133)
        ])
    );
    let sc = pod.security_context.as_ref().unwrap();
    assert_eq!(sc.run_as_user, Some(10001), "the image's numeric user");
    assert_eq!(
        c.security_context
            .as_ref()
            .unwrap()
            .read_only_root_filesystem,
        Some(true)
    );
    assert_eq!(
        c.resources.as_ref().unwrap().limits.as_ref().unwrap()["memory"],
        Quantity("1Gi".into())
    );

    let service = objects
        .iter()
        .find_map(|o| match o {
            Object::Service(s) if o.name() == "demo-jaeger" => Some(s),
            _ => None,
        })
        .unwrap();
    let spec = service.spec.as_ref().unwrap();
    assert_eq!(spec.type_.as_deref(), Some("ClusterIP"));
    assert!(
        spec.selector
            .as_ref()
            .unwrap()
            .iter()
            .all(|(k, v)| labels.get(k) == Some(v))
    );
    let service_ports: BTreeMap<i32, String> = spec
        .ports
        .iter()
        .flatten()
        .map(|p| {
            let target = match p.target_port.as_ref().unwrap() {
                IntOrString::String(name) => name.clone(),
                IntOrString::Int(n) => n.to_string(),
            };
            (p.port, target)
        })
        .collect();
    assert_eq!(
        service_ports,
        BTreeMap::from([
            (4317, "otlp-grpc".into()),
            (4318, "otlp-http".into()),
            (16686, "ui".into())
        ])
    );
}

#[test]
fn jaeger_image_and_resources_can_be_overridden() {
    let mut spec = with_jaeger();
    spec.telemetry.jaeger.image = Some("registry.example.com/jaeger:2.17.0".into());
    spec.telemetry.jaeger.resources = Some(ResourceRequirements {
        limits: Some(BTreeMap::from([("memory".into(), Quantity("2Gi".into()))])),
        ..ResourceRequirements::default()
    });
    let objects = render(spec);
    let c = container(pod_of_deployment(deployment(&objects, "jaeger")));
    assert_eq!(
        c.image.as_deref(),
        Some("registry.example.com/jaeger:2.17.0")
    );
    let resources = c.resources.as_ref().unwrap();
    assert_eq!(
        resources.limits.as_ref().unwrap()["memory"],
        Quantity("2Gi".into())
    );
    assert!(
        resources.requests.is_none(),
        "the user's resources replace ours whole"
    );
}

#[test]
fn with_jaeger_every_service_and_the_gateway_send_it_their_traces() {
    let mut spec = with_jaeger();
    spec.telemetry.sampling_ratio = 0.5;
    let objects = render(spec);
    for app in APPS {
        let c = container(pod_of_deployment(deployment(&objects, app)));
        assert_eq!(
            env_value(c, "OTEL_EXPORTER_OTLP_ENDPOINT"),
            Some("http://demo-jaeger:4318"),
            "{app}"
        );
        assert_eq!(
            env_value(c, "OTEL_TRACES_SAMPLER_ARG"),
            Some("0.5"),
            "{app}"
        );
        assert_eq!(
            env_value(c, "OTEL_RESOURCE_ATTRIBUTES"),
            Some("deployment.environment.name=shops"),
            "{app}: traces carry the Shop's namespace as their environment"
        );
    }
    // Jaeger does not trace itself into itself.
    let jaeger = container(pod_of_deployment(deployment(&objects, "jaeger")));
    assert!(env(jaeger, "OTEL_EXPORTER_OTLP_ENDPOINT").is_none());
}

#[test]
fn a_users_collector_gets_the_environment_too() {
    let mut spec = ShopSpec::default();
    spec.telemetry.otlp_endpoint = Some("http://collector.observability:4318".into());
    let objects = render(spec);
    for app in APPS {
        let c = container(pod_of_deployment(deployment(&objects, app)));
        assert_eq!(
            env_value(c, "OTEL_RESOURCE_ATTRIBUTES"),
            Some("deployment.environment.name=shops"),
            "{app}"
        );
    }
}

#[test]
fn network_policies_let_every_service_reach_jaegers_otlp_port_and_nothing_more() {
    let objects = render(with_jaeger());
    let pods = pod_labels(&objects);
    assert_eq!(pods.len(), 14);
    let jaeger = &pods["jaeger"];
    // Every path of the shop is unchanged, plus each service to Jaeger's OTLP/HTTP port.
    let mut open = BTreeSet::new();
    for (from, from_labels) in &pods {
        for (to, to_labels) in &pods {
            if from != to
                && allowed(
                    &objects,
                    from_labels,
                    to_labels,
                    container_port(&objects, to),
                )
            {
                open.insert((from.as_str(), to.as_str()));
            }
        }
    }
    let mut intended: BTreeSet<_> = INTENDED_PATHS.into_iter().collect();
    intended.extend(APPS.iter().map(|app| (*app, "jaeger")));
    assert_eq!(open, intended);
    for app in APPS {
        assert!(allowed(&objects, &pods[app], jaeger, 4318), "{app}");
        for closed in [4317, 16686, 13133] {
            assert!(
                !allowed(&objects, &pods[app], jaeger, closed),
                "{app}:{closed}"
            );
        }
    }
    for store in STORES {
        assert!(!allowed(&objects, &pods[store], jaeger, 4318), "{store}");
    }
    // Under the shop's default deny like every other pod, reachable from no outsider.
    let outsider: Labels = BTreeMap::from([("app".into(), "somebody-else".into())]);
    assert!(!allowed(&objects, &outsider, jaeger, 4318));
    assert!(!allowed(&objects, &outsider, jaeger, 16686));
    let default_deny = policies(&objects)
        .into_iter()
        .find(|p| p.metadata.name.as_deref() == Some("demo-default-deny"))
        .unwrap();
    assert!(selects(
        &default_deny.spec.as_ref().unwrap().pod_selector,
        jaeger
    ));
}
