//! The KrakenD gateway: its configuration as a ConfigMap (KrakenD's Flexible
//! Configuration: a template plus settings), its signing keys mounted from a Secret, and
//! a checksum on the pod template so a configuration change rolls the pods.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    ConfigMap, ConfigMapVolumeSource, Container, EnvVar, KeyToPath, PodSpec, SecretVolumeSource,
    Volume,
};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::{
    ShopContext,
    component::{App, Component},
    pod,
};
use crate::credentials::keys;

pub const IMAGE: &str = "devopsfaith/krakend:2.13";

/// Annotation on the gateway's pod template carrying the configuration's digest.
pub const CONFIG_CHECKSUM: &str = "microshop.dev/config-checksum";

/// Stand-in for the real configuration, which will live in `krakend/`: a valid KrakenD
/// template that serves on 8080 and routes the catalog, so the wiring can be exercised.
pub const CONFIG_TEMPLATE: &str = r#"{
  "$schema": "https://www.krakend.io/schema/v2.13/krakend.json",
  "version": 3,
  "name": "microshop gateway (placeholder)",
  "port": 8080,
  "timeout": "5s",
  "endpoints": [
    {
      "endpoint": "/api/v1/products",
      "method": "GET",
      "input_query_strings": ["q", "category", "page", "per_page"],
      "backend": [
        {
          "host": ["{{ .service.catalog }}"],
          "url_pattern": "/products"
        }
      ]
    }
  ]
}
"#;

const CONFIG_DIR: &str = "/etc/krakend";
// Beside, not inside, the config mount: a mount point inside a read-only volume may not be creatable.
const KEYS_DIR: &str = "/etc/krakend-keys";

/// The per-cluster settings the template reads (`settings/service.json`): where each
/// backend answers and where the keys are mounted.
#[derive(Serialize)]
struct ServiceSettings {
    catalog: String,
    cart: String,
    identity: String,
    checkout: String,
    shipping: String,
    jwk_private_path: String,
    jwk_public_path: String,
}

pub fn config_map(ctx: &ShopContext) -> ConfigMap {
    let settings = ServiceSettings {
        catalog: ctx.http_url(App::Catalog),
        cart: ctx.http_url(App::Cart),
        identity: ctx.http_url(App::Identity),
        checkout: ctx.http_url(App::Checkout),
        shipping: ctx.http_url(App::Shipping),
        jwk_private_path: format!("{KEYS_DIR}/{}", keys::PRIVATE_JWKS),
        jwk_public_path: format!("{KEYS_DIR}/{}", keys::PUBLIC_JWKS),
    };
    let settings =
        serde_json::to_string_pretty(&settings).expect("gateway settings always serialise");
    ConfigMap {
        metadata: ctx.meta(
            config_map_name(ctx),
            ctx.component_labels(Component::App(App::Gateway)),
        ),
        data: Some(BTreeMap::from([
            ("krakend.tmpl".to_owned(), CONFIG_TEMPLATE.to_owned()),
            ("service.json".to_owned(), settings),
        ])),
        ..ConfigMap::default()
    }
}

pub fn config_map_name(ctx: &ShopContext) -> String {
    format!("{}-config", ctx.object_name(Component::App(App::Gateway)))
}

/// Digest of everything the gateway reads at start, in a stable order.
pub fn checksum(config: &ConfigMap) -> String {
    let mut hasher = Sha256::new();
    for (key, value) in config.data.iter().flatten() {
        hasher.update(key.as_bytes());
        hasher.update([0]);
        hasher.update(value.as_bytes());
        hasher.update([0]);
    }
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Turns the generic app container into KrakenD: its command, config and keys, and
/// KrakenD's own health endpoint (it has no `/readyz`).
pub fn configure(
    ctx: &ShopContext,
    container: &mut Container,
    pod_spec: &mut PodSpec,
    annotations: &mut BTreeMap<String, String>,
) {
    annotations.insert(CONFIG_CHECKSUM.into(), checksum(&config_map(ctx)));
    container.args = Some(vec![
        "run".into(),
        "-c".into(),
        format!("{CONFIG_DIR}/krakend.tmpl"),
    ]);
    let env = container.env.get_or_insert_with(Vec::new);
    for (name, value) in [
        ("FC_ENABLE", "1".to_owned()),
        ("FC_SETTINGS", format!("{CONFIG_DIR}/settings")),
    ] {
        env.push(EnvVar {
            name: name.into(),
            value: Some(value),
            value_from: None,
        });
    }
    for probe in [
        &mut container.startup_probe,
        &mut container.readiness_probe,
        &mut container.liveness_probe,
    ]
    .into_iter()
    .flatten()
    {
        if let Some(http) = &mut probe.http_get {
            http.path = Some("/__health".into());
        }
    }
    let mounts = container.volume_mounts.get_or_insert_with(Vec::new);
    mounts.push(pod::mount("config", CONFIG_DIR, true));
    mounts.push(pod::mount("keys", KEYS_DIR, true));
    let volumes = pod_spec.volumes.get_or_insert_with(Vec::new);
    volumes.push(Volume {
        name: "config".into(),
        config_map: Some(ConfigMapVolumeSource {
            name: config_map_name(ctx),
            items: Some(vec![
                key_to_path("krakend.tmpl", "krakend.tmpl"),
                key_to_path("service.json", "settings/service.json"),
            ]),
            ..ConfigMapVolumeSource::default()
        }),
        ..Volume::default()
    });
    volumes.push(Volume {
        name: "keys".into(),
        secret: Some(SecretVolumeSource {
            secret_name: Some(keys::gateway_secret(&ctx.name)),
            default_mode: Some(0o440),
            ..SecretVolumeSource::default()
        }),
        ..Volume::default()
    });
}

fn key_to_path(key: &str, path: &str) -> KeyToPath {
    KeyToPath {
        key: key.into(),
        path: path.into(),
        mode: None,
        user: None,
    }
}
