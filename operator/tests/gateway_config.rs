//! The gateway's ConfigMap is `krakend/` itself: the template and sub-templates as they
//! are in the repository, and settings that match `krakend/settings/kubernetes/` (the
//! settings of a Shop named `shop` in namespace `shops` with Jaeger on). When
//! `KRAKEND_STAND_IN` names the stand-in's binary (e2e/test.sh builds it), both are also
//! rendered as KrakenD renders them and compared, and the operator's is linted.

use std::{
    path::{Path, PathBuf},
    process::Command,
};

use k8s_openapi::api::{apps::v1::Deployment, core::v1::ConfigMap};
use operator::{
    crd::{Shop, ShopSpec},
    credentials::{Credentials, ExistingSecrets},
    render::{Object, RenderInputs, VolumeClaims, gateway, render_shop},
};
use serde_json::Value;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn render(name: &str, spec: ShopSpec) -> Vec<Object> {
    let mut shop = Shop::new(name, spec);
    shop.metadata.namespace = Some("shops".into());
    shop.metadata.uid = Some("7d6b6f3e-0000-4000-8000-000000000002".into());
    let credentials = Credentials::keep_or_generate(name, &ExistingSecrets::new());
    let inputs = RenderInputs {
        operator_version: "0.1.0",
        credentials: &credentials,
        volume_claims: &VolumeClaims::new(),
    };
    render_shop(&shop, &inputs).unwrap()
}

fn example_spec() -> ShopSpec {
    let mut spec = ShopSpec::default();
    spec.telemetry.jaeger.enabled = true;
    spec
}

fn config_map<'a>(objects: &'a [Object], shop: &str) -> &'a ConfigMap {
    objects
        .iter()
        .find_map(|o| match o {
            Object::ConfigMap(c)
                if c.metadata.name.as_deref() == Some(&format!("{shop}-gateway-config")) =>
            {
                Some(c)
            }
            _ => None,
        })
        .expect("the gateway's ConfigMap")
}

fn gateway_deployment<'a>(objects: &'a [Object], shop: &str) -> &'a Deployment {
    objects
        .iter()
        .find_map(|o| match o {
            Object::Deployment(d)
                if d.metadata.name.as_deref() == Some(&format!("{shop}-gateway")) =>
            {
                Some(d)
            }
            _ => None,
        })
        .expect("the gateway's Deployment")
}

fn data<'a>(config: &'a ConfigMap, key: &str) -> &'a str {
    config
        .data
        .as_ref()
        .and_then(|d| d.get(key))
        .unwrap_or_else(|| panic!("no {key} in the ConfigMap"))
}

fn json_file(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap())
        .unwrap_or_else(|err| panic!("{}: {err}", path.display()))
}

#[test]
fn the_configmap_holds_krakends_files_and_the_kubernetes_settings() {
    let objects = render("shop", example_spec());
    let config = config_map(&objects, "shop");
    let krakend = repo().join("krakend");
    assert_eq!(
        data(config, "krakend.tmpl"),
        std::fs::read_to_string(krakend.join("krakend.tmpl")).unwrap(),
        "the template is krakend/krakend.tmpl as it is"
    );
    assert_eq!(
        data(config, "endpoints.tmpl"),
        std::fs::read_to_string(krakend.join("templates/endpoints.tmpl")).unwrap()
    );
    for file in ["gateway.json", "telemetry.json"] {
        let rendered: Value = serde_json::from_str(data(config, file)).unwrap();
        assert_eq!(
            rendered,
            json_file(&krakend.join("settings/kubernetes").join(file)),
            "{file}: krakend/settings/kubernetes/ is what the operator writes for Shop `shop`"
        );
    }
    // Every settings file and template of krakend/ has its place in the ConfigMap.
    let placed: Vec<String> = gateway::config_files(config)
        .into_iter()
        .map(|(_, path)| path)
        .collect();
    let mut expected = vec!["krakend.tmpl".to_owned()];
    for dir in ["templates", "settings/kubernetes"] {
        for entry in std::fs::read_dir(krakend.join(dir)).unwrap() {
            let name = entry.unwrap().file_name().into_string().unwrap();
            expected.push(format!("{}/{name}", dir.trim_end_matches("/kubernetes")));
        }
    }
    let (mut placed_sorted, mut expected_sorted) = (placed.clone(), expected);
    placed_sorted.sort();
    expected_sorted.sort();
    assert_eq!(placed_sorted, expected_sorted);
}

#[test]
fn the_pod_mounts_the_files_where_krakend_looks_and_each_key_half_apart() {
    let objects = render("shop", example_spec());
    let deployment = gateway_deployment(&objects, "shop");
    let pod = deployment.spec.template.spec.as_ref().unwrap();
    let container = &pod.containers[0];
    let env = |name: &str| {
        container
            .env
            .iter()
            .flatten()
            .find(|e| e.name == name)
            .and_then(|e| e.value.clone())
    };
    assert_eq!(env("FC_ENABLE").as_deref(), Some("1"));
    assert_eq!(env("FC_SETTINGS").as_deref(), Some("/etc/krakend/settings"));
    assert_eq!(
        env("FC_TEMPLATES").as_deref(),
        Some("/etc/krakend/templates")
    );
    assert_eq!(
        container.args.as_deref(),
        Some(
            &[
                "run".to_owned(),
                "-c".into(),
                "/etc/krakend/krakend.tmpl".into()
            ][..]
        )
    );
    let volume = |name: &str| {
        pod.volumes
            .iter()
            .flatten()
            .find(|v| v.name == name)
            .unwrap_or_else(|| panic!("no volume {name}"))
    };
    let items = |name: &str| -> Vec<(String, String)> {
        let v = volume(name);
        let items = v
            .config_map
            .as_ref()
            .and_then(|c| c.items.clone())
            .or_else(|| v.secret.as_ref().and_then(|s| s.items.clone()))
            .unwrap();
        items.into_iter().map(|i| (i.key, i.path)).collect()
    };
    assert_eq!(
        items("config"),
        gateway::config_files(config_map(&objects, "shop"))
    );
    assert_eq!(
        items("private-key"),
        [("private.json".to_owned(), "private.json".to_owned())]
    );
    assert_eq!(
        items("public-key"),
        [("public.json".to_owned(), "public.json".to_owned())]
    );
    let mount = |name: &str| {
        container
            .volume_mounts
            .iter()
            .flatten()
            .find(|m| m.name == name)
            .map(|m| (m.mount_path.clone(), m.read_only))
            .unwrap()
    };
    let settings = gateway::settings_of(config_map(&objects, "shop"));
    assert_eq!(
        format!("{}/private.json", mount("private-key").0),
        settings.keys.private
    );
    assert_eq!(
        format!("{}/public.json", mount("public-key").0),
        settings.keys.public
    );
    for name in ["config", "private-key", "public-key"] {
        assert_eq!(mount(name).1, Some(true), "{name} is read-only");
    }
}

#[test]
fn telemetry_settings_follow_the_shops_receiver() {
    let objects = render("demo", ShopSpec::default());
    let config = config_map(&objects, "demo");
    assert!(
        !config.data.as_ref().unwrap().contains_key("telemetry.json"),
        "no receiver, no exporter: KrakenD would log export errors for ever"
    );
    assert!(
        gateway::config_files(config)
            .iter()
            .all(|(key, _)| key != "telemetry.json")
    );

    let mut spec = ShopSpec::default();
    spec.telemetry.otlp_endpoint = Some("https://collector.observability:4318/".into());
    spec.telemetry.sampling_ratio = 0.25;
    let objects = render("demo", spec);
    let telemetry: Value =
        serde_json::from_str(data(config_map(&objects, "demo"), "telemetry.json")).unwrap();
    assert_eq!(
        telemetry,
        serde_json::json!({
            "environment": "shops",
            "sample_rate": 0.25,
            "otlp_host": "https://collector.observability",
            "otlp_port": 4318,
        })
    );
}

#[test]
fn backends_are_the_shops_own_services() {
    let objects = render("blue", ShopSpec::default());
    let settings = gateway::settings_of(config_map(&objects, "blue"));
    assert_eq!(settings.backends.catalog, "http://blue-catalog:8080");
    assert_eq!(settings.backends.checkout, "http://blue-checkout:8080");
    assert_eq!(settings.port, 8080);
}

/// Writes the ConfigMap's files as the pod sees them under `dir`.
fn write_pod_files(config: &ConfigMap, dir: &Path) {
    for (key, path) in gateway::config_files(config) {
        let target = dir.join(path);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::write(target, data(config, &key)).unwrap();
    }
}

fn stand_in_render(stand_in: &str, template: &Path, settings: &Path, templates: &Path) -> String {
    let output = Command::new(stand_in)
        .args(["render", "-c"])
        .arg(template)
        .env("FC_ENABLE", "1")
        .env("FC_SETTINGS", settings)
        .env("FC_TEMPLATES", templates)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn rendered_as_krakend_renders_it_the_operators_config_is_krakends() {
    let Ok(stand_in) = std::env::var("KRAKEND_STAND_IN") else {
        eprintln!("KRAKEND_STAND_IN unset: rendering left to e2e/test.sh");
        return;
    };
    let objects = render("shop", example_spec());
    let dir = std::env::temp_dir().join(format!("gateway-config-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    write_pod_files(config_map(&objects, "shop"), &dir);
    let krakend = repo().join("krakend");
    let ours = stand_in_render(
        &stand_in,
        &dir.join("krakend.tmpl"),
        &dir.join("settings"),
        &dir.join("templates"),
    );
    let theirs = stand_in_render(
        &stand_in,
        &krakend.join("krakend.tmpl"),
        &krakend.join("settings/kubernetes"),
        &krakend.join("templates"),
    );
    assert_eq!(ours, theirs);
    let rendered: Value = serde_json::from_str(&ours).expect("the rendered config is JSON");
    assert!(rendered["endpoints"].as_array().unwrap().len() > 20);
    let schema = repo().join("../shared/krakend/schema-v2.13.json");
    let check = Command::new(&stand_in)
        .args(["check", "-c"])
        .arg(dir.join("krakend.tmpl"))
        .arg("-s")
        .arg(&schema)
        .env("FC_ENABLE", "1")
        .env("FC_SETTINGS", dir.join("settings"))
        .env("FC_TEMPLATES", dir.join("templates"))
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
