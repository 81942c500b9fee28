//! Invalid Shops are refused by the API server itself, by the CRD's schema and CEL rules,
//! before the operator ever sees them.

use kube::api::{Api, DynamicObject, Patch, PatchParams};
use operator::crd::{Shop, ShopSpec};
use serde_json::{Value, json};

use crate::{
    harness::{TESTS, operator},
    namespace::TestNamespace,
};

/// (Shop name, spec, what the API server's answer must say, why it is invalid).
fn invalid() -> Vec<(&'static str, Value, &'static str, &'static str)> {
    vec![
        (
            "too-many",
            json!({"catalog": {"replicas": 21}}),
            "spec.catalog.replicas",
            "replicas are bounded by the schema (0..20)",
        ),
        (
            "negative",
            json!({"cart": {"replicas": -1}}),
            "spec.cart.replicas",
            "replicas are bounded by the schema (0..20)",
        ),
        (
            "policy",
            json!({"imagePullPolicy": "Sometimes"}),
            "spec.imagePullPolicy",
            "pull policies are an enum",
        ),
        (
            "size",
            json!({"redis": {"storage": {"size": "lots"}}}),
            "spec.redis.storage.size",
            "a volume's size is a quantity",
        ),
        (
            "node-port",
            json!({"exposure": {"type": "NodePort", "nodePort": 80}}),
            "spec.exposure.nodePort",
            "node ports lie in 30000..32767",
        ),
        (
            "typo",
            json!({"frontend": {"replica": 2}}),
            "replica",
            "an unknown field is not silently dropped",
        ),
        (
            "sampling",
            json!({"telemetry": {"samplingRatio": 1.5}}),
            "samplingRatio must be within 0..1",
            "CEL: a ratio",
        ),
        (
            "two-trace-sinks",
            json!({"telemetry": {"otlpEndpoint": "http://collector:4318", "jaeger": {"enabled": true}}}),
            "otlpEndpoint and jaeger.enabled are mutually exclusive",
            "CEL: services export their traces to one place",
        ),
        (
            "no-host",
            json!({"exposure": {"type": "Ingress"}}),
            "ingressHost is required when type is Ingress",
            "CEL: an Ingress needs a host",
        ),
        (
            "stray-host",
            json!({"exposure": {"ingressHost": "shop.example.com"}}),
            "ingressHost is only allowed when type is Ingress",
            "CEL: a host without an Ingress does nothing",
        ),
        (
            "stray-port",
            json!({"exposure": {"type": "ClusterIP", "nodePort": 30080}}),
            "nodePort is only allowed when type is NodePort",
            "CEL: a node port without NodePort does nothing",
        ),
        (
            "both",
            json!({"redis": {"external": {"secretRef": {"name": "r"}}, "storage": {"size": "1Gi"}}}),
            "external and storage are mutually exclusive",
            "CEL: an external store has no volume here",
        ),
        (
            "a-shop-name-that-is-far-too-long-for-its-objects",
            json!({}),
            "a Shop's name is a DNS label of at most 40 characters",
            "CEL: every object is named {shop}-{component}",
        ),
        (
            "9lives",
            json!({}),
            "a Shop's name is a DNS label of at most 40 characters",
            "CEL: Service names start with a letter",
        ),
    ]
}

#[tokio::test]
#[ignore = "needs a cluster: e2e/tests/cluster-test.sh"]
async fn invalid_shops_are_refused_by_the_api_server() {
    operator();
    let ns = TestNamespace::create("invalid").await;
    let mut failures = Vec::new();
    for (name, spec, expected, why) in invalid() {
        match ns.try_apply_shop(name, spec.clone()).await {
            // An undeclared field in a server-side apply is answered 500, not 4xx
            // (kubernetes/kubernetes#139253), but refused all the same.
            Err(kube::Error::Api(status))
                if status.code == 422
                    || (status.code == 500
                        && status.message.contains("not declared in schema")) =>
            {
                if !status.message.contains(expected) {
                    failures.push(format!(
                        "{name} ({why}): refused, but not for `{expected}`: {}",
                        status.message
                    ));
                }
            }
            other => failures.push(format!("{name} ({why}): {spec} was not refused: {other:?}")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(
        ns.shops()
            .list(&Default::default())
            .await
            .unwrap()
            .items
            .is_empty()
    );
    ns.delete().await;
}

#[tokio::test]
#[ignore = "needs a cluster: e2e/tests/cluster-test.sh"]
async fn the_api_server_defaults_an_empty_spec_as_the_operator_does() {
    operator();
    let ns = TestNamespace::create("defaults").await;
    // Paused, so the operator leaves this one alone; everything else is `{}`.
    let body = json!({
        "apiVersion": "microshop.dev/v1alpha1",
        "kind": "Shop",
        "metadata": {"name": "defaults"},
        "spec": {"paused": true},
    });
    let raw: Api<DynamicObject> = Api::namespaced_with(
        ns.client.clone(),
        &ns.name,
        &kube::api::ApiResource::erase::<Shop>(&()),
    );
    let stored = raw
        .patch("defaults", &PatchParams::apply(TESTS), &Patch::Apply(body))
        .await
        .expect("a Shop");
    let expected = serde_json::to_value(ShopSpec {
        paused: true,
        ..ShopSpec::default()
    })
    .unwrap();
    // Compared as numbers, not JSON texts: the server stores `1.0` as `1`.
    assert_eq!(
        numbers_as_f64(&stored.data["spec"]),
        numbers_as_f64(&expected)
    );
    ns.delete().await;
}

fn numbers_as_f64(value: &Value) -> Value {
    match value {
        Value::Number(n) => json!(n.as_f64()),
        Value::Array(items) => Value::Array(items.iter().map(numbers_as_f64).collect()),
        Value::Object(fields) => Value::Object(
            fields
                .iter()
                .map(|(k, v)| (k.clone(), numbers_as_f64(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}
