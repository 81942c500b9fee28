//! The Helm chart without Helm (not installed here): its files parse, its values match
//! their schema, its CRD is the generated one, its example Shop is a valid Shop, and its RBAC
//! grants every call the operator makes (`operator::rbac`).

use std::{collections::BTreeSet, fs, path::PathBuf};

use k8s_openapi::api::rbac::v1::PolicyRule;
use kube::{
    CustomResourceExt,
    core::cel::{Validator, apply_defaults},
};
use operator::{
    crd::{Shop, ShopSpec, chart_crd_template},
    rbac,
};
use serde_json::{Value, json};

fn chart() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../charts/microshop-operator")
}

fn read(path: &str) -> String {
    fs::read_to_string(chart().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn yaml(path: &str) -> Value {
    yaml_serde::from_str(&read(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn chart_crd_is_the_generated_one_kept_on_uninstall() {
    let expected = chart_crd_template();
    let path = chart().join("templates/crd.yaml");
    if std::env::var_os("UPDATE_CRDS").is_some() {
        fs::write(&path, &expected).unwrap();
    }
    assert!(
        fs::read_to_string(&path).unwrap_or_default() == expected,
        "charts/microshop-operator/templates/crd.yaml is stale: run this test with UPDATE_CRDS=1"
    );
    // Stripped of its `if`, it is the CRD of crds/shop.yaml plus the keep annotation.
    let crd: Value = yaml_serde::from_str(&strip_actions(&expected)).unwrap();
    let mut generated = serde_json::to_value(Shop::crd()).unwrap();
    generated["metadata"]["annotations"] = json!({"helm.sh/resource-policy": "keep"});
    assert_eq!(crd, generated);
}

#[test]
fn chart_metadata_matches_the_operator() {
    let chart = yaml("Chart.yaml");
    assert_eq!(chart["apiVersion"], "v2");
    assert_eq!(chart["name"], "microshop-operator");
    assert_eq!(chart["appVersion"], env!("CARGO_PKG_VERSION"));
    assert!(chart["version"].is_string());
    let values = yaml("values.yaml");
    assert_eq!(values["image"]["repository"], "ghcr.io/microshop/operator");
}

#[test]
fn values_and_their_schema_agree() {
    let values = yaml("values.yaml");
    let schema: Value = serde_json::from_str(&read("values.schema.json")).unwrap();
    assert_eq!(schema["additionalProperties"], false);
    let keys = |v: &Value| -> BTreeSet<String> { v.as_object().unwrap().keys().cloned().collect() };
    assert_eq!(
        keys(&values),
        keys(&schema["properties"]),
        "every value is described"
    );
    // Nested objects that forbid unknown keys must describe every default they hold.
    for (name, property) in schema["properties"].as_object().unwrap() {
        if property["additionalProperties"] == false {
            let described = keys(&property["properties"]);
            for key in keys(&values[name]) {
                assert!(
                    described.contains(&key),
                    "{name}.{key} is not in the schema"
                );
            }
        }
    }
}

#[test]
fn the_example_shop_is_a_valid_shop() {
    let values = yaml("values.yaml");
    let example = &values["exampleShop"];
    assert_eq!(example["enabled"], false, "opt-in");
    let crd = Shop::crd();
    let schema = serde_json::to_value(
        crd.spec.versions[0]
            .schema
            .as_ref()
            .and_then(|s| s.open_api_v3_schema.as_ref())
            .unwrap(),
    )
    .unwrap();
    let shop = json!({
        "apiVersion": "microshop.dev/v1alpha1",
        "kind": "Shop",
        "metadata": {"name": example["name"], "namespace": "shops"},
        "spec": example["spec"],
    });
    Validator::new().validate(&schema, &shop, None).unwrap();
    let defaulted = apply_defaults(&schema, &shop);
    let spec: ShopSpec = serde_json::from_value(defaulted["spec"].clone()).unwrap();
    // kind-config.yaml maps node port 30080 to the host's 8080.
    assert_eq!(spec.exposure.node_port, Some(30080));
}

/// A template with its actions taken out: lines that are only actions go, inline actions
/// become a placeholder. What is left of a well-formed template is YAML.
fn strip_actions(template: &str) -> String {
    let mut out = String::new();
    for line in template.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with("{{")
            && trimmed.ends_with("}}")
            && trimmed.matches("{{").count() == 1
        {
            continue;
        }
        let mut rest = line;
        while let Some(start) = rest.find("{{") {
            out.push_str(&rest[..start]);
            out.push('x');
            let end = rest[start..]
                .find("}}")
                .expect("an action ends on its line");
            rest = &rest[start + end + 2..];
        }
        out.push_str(rest);
        out.push('\n');
    }
    out
}

fn templates() -> Vec<(String, String)> {
    let mut files: Vec<_> = fs::read_dir(chart().join("templates"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                fs::read_to_string(&p).unwrap(),
            )
        })
        .collect()
}

#[test]
fn template_actions_are_balanced() {
    for (name, text) in templates() {
        assert_eq!(
            text.matches("{{").count(),
            text.matches("}}").count(),
            "{name}"
        );
        let actions: Vec<&str> = text
            .split("{{")
            .skip(1)
            .map(|a| a.split("}}").next().unwrap().trim_start_matches('-').trim())
            .collect();
        let opens = actions
            .iter()
            .filter(|a| {
                ["if ", "with ", "range ", "define "]
                    .iter()
                    .any(|k| a.starts_with(k))
            })
            .count();
        let ends = actions
            .iter()
            .filter(|a| a.trim_end_matches('-').trim() == "end")
            .count();
        assert_eq!(
            opens, ends,
            "{name}: every if/with/range/define has its end"
        );
    }
}

#[test]
fn templates_are_kubernetes_objects_once_their_actions_are_out() {
    let mut kinds = BTreeSet::new();
    for (name, text) in templates() {
        if !name.ends_with(".yaml") {
            continue;
        }
        let stripped = strip_actions(&text);
        for doc in stripped.split("\n---\n") {
            let object: Value = yaml_serde::from_str(doc)
                .unwrap_or_else(|e| panic!("{name} is not YAML once stripped: {e}\n{doc}"));
            if object.is_null() {
                continue;
            }
            assert!(object["apiVersion"].is_string(), "{name}");
            assert!(object["metadata"]["name"].is_string(), "{name}");
            kinds.insert(object["kind"].as_str().unwrap().to_owned());
        }
    }
    for kind in [
        "CustomResourceDefinition",
        "Deployment",
        "ServiceAccount",
        "ClusterRole",
        "Role",
        "RoleBinding",
        "Service",
        "Shop",
    ] {
        assert!(kinds.contains(kind), "no {kind} in the chart: {kinds:?}");
    }
}

#[test]
fn the_operator_runs_restricted_with_probes() {
    let deployment: Value =
        yaml_serde::from_str(&strip_actions(&read("templates/deployment.yaml"))).unwrap();
    let pod = &deployment["spec"]["template"]["spec"];
    assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
    assert_eq!(pod["securityContext"]["runAsUser"], 65532);
    assert_eq!(
        pod["securityContext"]["seccompProfile"]["type"],
        "RuntimeDefault"
    );
    let container = &pod["containers"][0];
    let sc = &container["securityContext"];
    assert_eq!(sc["allowPrivilegeEscalation"], false);
    assert_eq!(sc["readOnlyRootFilesystem"], true);
    assert_eq!(sc["capabilities"]["drop"], json!(["ALL"]));
    assert_eq!(container["readinessProbe"]["httpGet"]["path"], "/readyz");
    assert_eq!(container["livenessProbe"]["httpGet"]["path"], "/healthz");
}

/// The rules of the chart's RBAC document of `kind` (`ClusterRole`, or `Role` for the
/// leader's Lease), with the template's actions taken out.
fn chart_rules(kind: &str) -> Vec<PolicyRule> {
    let rbac = strip_actions(&read("templates/rbac.yaml"));
    let role = rbac
        .split("\n---\n")
        .map(|doc| yaml_serde::from_str::<Value>(doc).unwrap())
        .find(|doc| doc["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind} in templates/rbac.yaml"));
    serde_json::from_value(role["rules"].clone()).expect("RBAC rules")
}

#[test]
fn rbac_grants_every_call_the_operator_makes() {
    let missing = rbac::missing(&rbac::needs(), &chart_rules("ClusterRole"));
    assert!(
        missing.is_empty(),
        "the chart's ClusterRole lacks: {}",
        missing
            .iter()
            .map(|n| n.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
    let missing = rbac::missing(&rbac::lease_needs(), &chart_rules("Role"));
    assert!(missing.is_empty(), "the leader's Role lacks: {missing:?}");
}

#[test]
fn rbac_grants_only_what_the_operator_uses() {
    let mut granted = BTreeSet::new();
    for rule in chart_rules("ClusterRole") {
        for group in rule.api_groups.unwrap_or_default() {
            for resource in rule.resources.as_deref().unwrap_or_default() {
                for verb in &rule.verbs {
                    granted.insert(format!("{group}/{resource}:{verb}"));
                }
            }
        }
    }
    assert!(!granted.iter().any(|g| g.contains('*')), "no wildcards");
    let on_volumes: Vec<&String> = granted
        .iter()
        .filter(|g| g.starts_with("/persistentvolumeclaims:"))
        .collect();
    assert_eq!(
        on_volumes,
        ["/persistentvolumeclaims:list"],
        "the operator only reads the volumes' uids, never changes a volume"
    );
    assert!(
        !granted.iter().any(|g| g.starts_with("microshop.dev/shops:")
            && !g.ends_with(":get")
            && !g.ends_with(":list")
            && !g.ends_with(":watch")),
        "the operator never writes a Shop's spec"
    );
    // Nothing for a kind the operator does not touch.
    let resources: BTreeSet<String> = rbac::needs()
        .into_iter()
        .map(|n| format!("{}/{}", n.group, n.resource))
        .collect();
    for grant in &granted {
        let resource = grant.rsplit_once(':').unwrap().0;
        assert!(resources.contains(resource), "{grant} is not used");
    }
}
