//! The KrakenD gateway: `krakend/`'s Flexible Configuration (its template and
//! sub-templates as they are, settings made from the `Shop`) as a ConfigMap, its signing
//! keys mounted from a Secret, and a checksum on the pod template so a configuration
//! change rolls the pods.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    ConfigMap, ConfigMapVolumeSource, Container, EnvVar, KeyToPath, PodSpec, SecretVolumeSource,
    Volume,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{
    ShopContext,
    component::{App, Component, HTTP_PORT},
    pod,
};
use crate::credentials::{KEY_ID, keys};

pub const IMAGE: &str = "devopsfaith/krakend:2.13";

/// Annotation on the gateway's pod template carrying the configuration's digest.
pub const CONFIG_CHECKSUM: &str = "microshop.dev/config-checksum";

/// `krakend/`'s template and sub-templates, embedded at build time: the cluster runs the
/// same files as the local stack, only the settings differ.
pub const TEMPLATE: &str = include_str!("../../../krakend/krakend.tmpl");
pub const ENDPOINTS_TEMPLATE: &str = include_str!("../../../krakend/templates/endpoints.tmpl");

const CONFIG_DIR: &str = "/etc/krakend";
// Beside, not inside, the config mount: a mount point inside a read-only volume may not
// be creatable. Each half of the key pair has a mount of its own.
const PRIVATE_KEY_DIR: &str = "/etc/krakend-keys/private";
const PUBLIC_KEY_DIR: &str = "/etc/krakend-keys/public";

/// The ConfigMap's keys and where each lands under [`CONFIG_DIR`] (KrakenD reads every
/// `*.json` of `settings/` and every `*.tmpl` of `templates/`).
const TEMPLATE_KEY: (&str, &str) = ("krakend.tmpl", "krakend.tmpl");
const ENDPOINTS_KEY: (&str, &str) = ("endpoints.tmpl", "templates/endpoints.tmpl");
const GATEWAY_SETTINGS_KEY: (&str, &str) = ("gateway.json", "settings/gateway.json");
const TELEMETRY_SETTINGS_KEY: (&str, &str) = ("telemetry.json", "settings/telemetry.json");

/// `settings/gateway.json`: what the template needs to know about this cluster.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
pub struct GatewaySettings {
    pub listen_ip: String,
    pub port: i32,
    /// Off in a cluster: a line per request costs the gateway a third of its throughput.
    pub access_log: bool,
    pub log_level: String,
    pub backends: Backends,
    pub keys: KeySettings,
    pub token: TokenSettings,
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
pub struct Backends {
    pub catalog: String,
    pub cart: String,
    pub identity: String,
    pub checkout: String,
    pub shipping: String,
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
pub struct KeySettings {
    pub kid: String,
    pub private: String,
    pub public: String,
}

/// What the validator expects of a token; identity's defaults (`TOKEN_ISSUER`,
/// `TOKEN_AUDIENCE`), which the operator does not change.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
pub struct TokenSettings {
    pub issuer: String,
    pub audience: String,
}

/// `settings/telemetry.json`, present only when the shop has a trace receiver: KrakenD's
/// OTLP/HTTP exporter takes a scheme and host, and a port apart.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
pub struct TelemetrySettings {
    pub environment: String,
    pub sample_rate: f64,
    pub otlp_host: String,
    pub otlp_port: u16,
}

pub fn settings(ctx: &ShopContext) -> GatewaySettings {
    GatewaySettings {
        listen_ip: "0.0.0.0".into(),
        port: HTTP_PORT,
        access_log: false,
        log_level: "WARNING".into(),
        backends: Backends {
            catalog: ctx.http_url(App::Catalog),
            cart: ctx.http_url(App::Cart),
            identity: ctx.http_url(App::Identity),
            checkout: ctx.http_url(App::Checkout),
            shipping: ctx.http_url(App::Shipping),
        },
        keys: KeySettings {
            kid: KEY_ID.into(),
            private: format!("{PRIVATE_KEY_DIR}/{}", keys::PRIVATE_JWKS),
            public: format!("{PUBLIC_KEY_DIR}/{}", keys::PUBLIC_JWKS),
        },
        token: TokenSettings {
            issuer: "microshop".into(),
            audience: "microshop".into(),
        },
    }
}

pub fn telemetry_settings(ctx: &ShopContext) -> Option<TelemetrySettings> {
    let endpoint = ctx.otlp_endpoint()?;
    let (otlp_host, otlp_port) = split_endpoint(&endpoint)?;
    Some(TelemetrySettings {
        environment: ctx.namespace.clone(),
        sample_rate: ctx.shop.spec.telemetry.sampling_ratio,
        otlp_host,
        otlp_port,
    })
}

/// `http://collector:4318` as KrakenD's exporter wants it: `("http://collector", 4318)`.
/// KrakenD posts to `/v1/traces` itself, so a path on the endpoint is not kept.
fn split_endpoint(endpoint: &str) -> Option<(String, u16)> {
    let uri: http::Uri = endpoint.parse().ok()?;
    let scheme = uri.scheme_str()?;
    let host = uri.host()?;
    let port = uri
        .port_u16()
        .unwrap_or(if scheme == "https" { 443 } else { 80 });
    Some((format!("{scheme}://{host}"), port))
}

fn to_json<T: Serialize>(value: &T) -> String {
    let mut text = serde_json::to_string_pretty(value).expect("gateway settings always serialise");
    text.push('\n');
    text
}

pub fn config_map(ctx: &ShopContext) -> ConfigMap {
    let mut data = BTreeMap::from([
        (TEMPLATE_KEY.0.to_owned(), TEMPLATE.to_owned()),
        (ENDPOINTS_KEY.0.to_owned(), ENDPOINTS_TEMPLATE.to_owned()),
        (GATEWAY_SETTINGS_KEY.0.to_owned(), to_json(&settings(ctx))),
    ]);
    if let Some(telemetry) = telemetry_settings(ctx) {
        data.insert(TELEMETRY_SETTINGS_KEY.0.to_owned(), to_json(&telemetry));
    }
    ConfigMap {
        metadata: ctx.meta(
            config_map_name(ctx),
            ctx.component_labels(Component::App(App::Gateway)),
        ),
        data: Some(data),
        ..ConfigMap::default()
    }
}

/// Where each key of the ConfigMap lands in the pod, relative to the config directory.
pub fn config_files(config: &ConfigMap) -> Vec<(String, String)> {
    [
        TEMPLATE_KEY,
        ENDPOINTS_KEY,
        GATEWAY_SETTINGS_KEY,
        TELEMETRY_SETTINGS_KEY,
    ]
    .into_iter()
    .filter(|(key, _)| config.data.iter().flatten().any(|(k, _)| k == key))
    .map(|(key, path)| (key.to_owned(), path.to_owned()))
    .collect()
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
    let config = config_map(ctx);
    annotations.insert(CONFIG_CHECKSUM.into(), checksum(&config));
    container.args = Some(vec![
        "run".into(),
        "-c".into(),
        format!("{CONFIG_DIR}/{}", TEMPLATE_KEY.1),
    ]);
    let env = container.env.get_or_insert_with(Vec::new);
    for (name, value) in [
        ("FC_ENABLE", "1".to_owned()),
        ("FC_SETTINGS", format!("{CONFIG_DIR}/settings")),
        ("FC_TEMPLATES", format!("{CONFIG_DIR}/templates")),
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
    mounts.push(pod::mount("private-key", PRIVATE_KEY_DIR, true));
    mounts.push(pod::mount("public-key", PUBLIC_KEY_DIR, true));
    let volumes = pod_spec.volumes.get_or_insert_with(Vec::new);
    volumes.push(Volume {
        name: "config".into(),
        config_map: Some(ConfigMapVolumeSource {
            name: config_map_name(ctx),
            items: Some(
                config_files(&config)
                    .iter()
                    .map(|(key, path)| key_to_path(key, path))
                    .collect(),
            ),
            ..ConfigMapVolumeSource::default()
        }),
        ..Volume::default()
    });
    for (volume, key) in [
        ("private-key", keys::PRIVATE_JWKS),
        ("public-key", keys::PUBLIC_JWKS),
    ] {
        volumes.push(Volume {
            name: volume.into(),
            secret: Some(SecretVolumeSource {
                secret_name: Some(keys::gateway_secret(&ctx.name)),
                items: Some(vec![key_to_path(key, key)]),
                default_mode: Some(0o440),
                ..SecretVolumeSource::default()
            }),
            ..Volume::default()
        });
    }
}

fn key_to_path(key: &str, path: &str) -> KeyToPath {
    KeyToPath {
        key: key.into(),
        path: path.into(),
        mode: None,
        user: None,
    }
}

/// The `gateway.json` a ConfigMap carries, read back.
pub fn settings_of(config: &ConfigMap) -> GatewaySettings {
    let text = config
        .data
        .as_ref()
        .and_then(|d| d.get(GATEWAY_SETTINGS_KEY.0))
        .expect("the gateway's ConfigMap always has its settings");
    serde_json::from_str(text).expect("the operator wrote these settings")
}
