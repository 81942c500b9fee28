//! The CRD: the checked-in file is what the code generates, its defaults make `spec: {}` a
//! working shop, and its CEL rules reject what the schema alone cannot.
//! (CEL is evaluated client-side with kube's `cel` feature, as the API server would.)

use kube::{
    CustomResourceExt,
    core::cel::{Validator, apply_defaults, compile_schema},
};
use operator::crd::{Shop, ShopSpec, crd_yaml};
use serde_json::{Value, json};

const CHECKED_IN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../crds/shop.yaml");

#[test]
fn checked_in_crd_is_what_the_code_generates() {
    let generated = crd_yaml();
    if std::env::var_os("UPDATE_CRDS").is_some() {
        std::fs::write(CHECKED_IN, &generated).unwrap();
    }
    let checked_in = std::fs::read_to_string(CHECKED_IN).unwrap_or_default();
    assert!(
        checked_in == generated,
        "crds/shop.yaml is stale: run `cargo run -p operator -- crd > crds/shop.yaml` \
         (or this test with UPDATE_CRDS=1)"
    );
}

fn schema() -> Value {
    let crd = Shop::crd();
    let version = &crd.spec.versions[0];
    serde_json::to_value(
        version
            .schema
            .as_ref()
            .and_then(|s| s.open_api_v3_schema.as_ref())
            .unwrap(),
    )
    .unwrap()
}

fn shop(spec: Value) -> Value {
    named("demo", spec)
}

fn named(name: &str, spec: Value) -> Value {
    json!({
        "apiVersion": "microshop.dev/v1alpha1",
        "kind": "Shop",
        "metadata": {"name": name, "namespace": "shops"},
        "spec": spec,
    })
}

#[test]
fn shop_names_must_leave_room_for_component_suffixes() {
    let validator = Validator::new();
    for ok in ["demo", "a", "shop-2", &"s".repeat(40)] {
        validator
            .validate(&schema(), &named(ok, json!({})), None)
            .unwrap_or_else(|e| panic!("{ok}: {e}"));
    }
    for bad in [&"s".repeat(41), "2shop", "shop-", "Shop"] {
        let err = validator
            .validate(&schema(), &named(bad, json!({})), None)
            .expect_err(bad);
        assert!(err.to_string().contains("DNS label"), "{bad}: {err}");
    }
}

#[test]
fn crd_names_scope_subresource_and_columns() {
    let crd = Shop::crd();
    assert_eq!(crd.spec.group, "microshop.dev");
    assert_eq!(crd.spec.scope, "Namespaced");
    assert_eq!(crd.spec.names.kind, "Shop");
    assert_eq!(crd.spec.names.short_names, Some(vec!["shop".into()]));
    let version = &crd.spec.versions[0];
    assert_eq!(version.name, "v1alpha1");
    assert!(version.subresources.as_ref().unwrap().status.is_some());
    let columns: Vec<_> = version
        .additional_printer_columns
        .iter()
        .flatten()
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(columns, ["Ready", "Components", "URL", "Age"]);
}

#[test]
fn every_cel_rule_compiles() {
    let compiled = compile_schema(&schema());
    assert!(
        !compiled.has_errors(),
        "{:?}",
        compiled.compilation_errors()
    );
}

#[test]
fn an_empty_spec_defaults_to_a_working_shop() {
    let defaulted = apply_defaults(&schema(), &shop(json!({})));
    let spec: ShopSpec = serde_json::from_value(defaulted["spec"].clone()).unwrap();
    assert_eq!(spec, ShopSpec::default());
    assert_eq!(defaulted["spec"]["imageRegistry"], "ghcr.io/microshop");
    assert_eq!(defaulted["spec"]["catalog"]["replicas"], 1);
    assert_eq!(defaulted["spec"]["exposure"]["type"], "ClusterIP");
    assert_eq!(defaulted["spec"]["pvcRetention"], "Retain");
    Validator::new()
        .validate(&schema(), &shop(json!({})), None)
        .unwrap();
}

#[test]
fn valid_specs_pass_the_cel_rules() {
    for spec in [
        json!({"exposure": {"type": "Ingress", "ingressHost": "shop.example.com"}}),
        json!({"exposure": {"type": "NodePort", "nodePort": 30080}}),
        json!({"telemetry": {"otlpEndpoint": "http://collector:4318", "samplingRatio": 0.25}}),
        json!({"telemetry": {"jaeger": {"enabled": true}, "samplingRatio": 0.5}}),
        json!({"telemetry": {"otlpEndpoint": "http://collector:4318", "jaeger": {"enabled": false}}}),
        json!({"redis": {"external": {"secretRef": {"name": "managed-redis"}}}}),
        json!({"userDb": {"storage": {"size": "5Gi", "storageClassName": "fast"}}}),
    ] {
        Validator::new()
            .validate(&schema(), &shop(spec.clone()), None)
            .unwrap_or_else(|e| panic!("{spec} was rejected: {e}"));
    }
}

#[test]
fn cel_rules_reject_what_the_schema_cannot_say() {
    let cases = [
        (
            json!({"redis": {"external": {"secretRef": {"name": "r"}}, "storage": {"size": "1Gi"}}}),
            "external and storage are mutually exclusive",
        ),
        (
            json!({"catalogDb": {"external": {"secretRef": {"name": "c"}}, "image": "postgres:16"}}),
            "no effect on an external store",
        ),
        (
            json!({"exposure": {"type": "Ingress"}}),
            "ingressHost is required",
        ),
        (
            json!({"exposure": {"type": "ClusterIP", "nodePort": 30080}}),
            "nodePort is only allowed",
        ),
        (
            json!({"exposure": {"type": "NodePort", "ingressHost": "shop.example.com"}}),
            "ingressHost is only allowed",
        ),
        (
            json!({"telemetry": {"samplingRatio": 1.5}}),
            "samplingRatio must be within 0..1",
        ),
        (
            json!({"telemetry": {"samplingRatio": -0.1}}),
            "samplingRatio must be within 0..1",
        ),
        (
            json!({"telemetry": {"otlpEndpoint": "http://collector:4318", "jaeger": {"enabled": true}}}),
            "otlpEndpoint and jaeger.enabled are mutually exclusive",
        ),
    ];
    for (spec, why) in cases {
        let err = Validator::new()
            .validate(&schema(), &shop(spec.clone()), None)
            .expect_err(&format!("{spec} must be rejected: {why}"));
        assert!(err.to_string().contains(why), "{spec}: {err}");
    }
}

#[test]
fn schema_bounds_replicas_and_storage_sizes() {
    let schema = schema();
    let spec = &schema["properties"]["spec"]["properties"];
    for service in [
        "frontend", "catalog", "cart", "identity", "checkout", "payment", "shipping", "email",
        "gateway",
    ] {
        let replicas = &spec[service]["properties"]["replicas"];
        assert_eq!(replicas["minimum"], 0.0, "{service}");
        assert_eq!(replicas["maximum"], 20.0, "{service}");
        assert_eq!(replicas["default"], 1, "{service}");
    }
    let pattern = spec["redis"]["properties"]["storage"]["properties"]["size"]["pattern"]
        .as_str()
        .unwrap();
    let size = regex::Regex::new(pattern).unwrap();
    for ok in ["1Gi", "512Mi", "10G", "1.5Gi", "100", "0.5Gi"] {
        assert!(size.is_match(ok), "{ok} is a quantity");
    }
    for bad in ["", "0", "-1Gi", "1 Gi", "1gb", "Gi", "1Gi ", "0.0Gi"] {
        assert!(!size.is_match(bad), "{bad:?} is not a storage size");
    }
}

#[test]
fn the_kind_shop_is_a_valid_shop() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../e2e/kind/shop.yaml");
    let shop: Value = yaml_serde::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    Validator::new().validate(&schema(), &shop, None).unwrap();
    let defaulted = apply_defaults(&schema(), &shop);
    let parsed: Shop = serde_json::from_value(defaulted).unwrap();
    assert_eq!(parsed.spec.exposure.node_port, Some(30080));
}
