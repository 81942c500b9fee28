//! The stores the operator runs itself: one-replica StatefulSets of the official
//! postgres, redis and rabbitmq images behind headless Services, on PersistentVolumeClaims
//! when `storage` is set and on an emptyDir otherwise.

use std::collections::BTreeMap;

use k8s_openapi::{
    api::{
        apps::v1::{StatefulSet, StatefulSetPersistentVolumeClaimRetentionPolicy, StatefulSetSpec},
        core::v1::{
            ConfigMap, ConfigMapVolumeSource, Container, ContainerPort, EnvVar, EnvVarSource,
            PersistentVolumeClaim, PersistentVolumeClaimSpec, PodSpec, PodTemplateSpec,
            ResourceRequirements, SecretKeySelector, Service, ServicePort, ServiceSpec,
            VolumeMount, VolumeResourceRequirements,
        },
    },
    apimachinery::pkg::{
        apis::meta::v1::{LabelSelector, ObjectMeta},
        util::intstr::IntOrString,
    },
};

use super::{
    Object, ShopContext, apps,
    component::{App, Component, Store, USER_DATABASES},
    pod,
};
use crate::credentials::keys;

/// Creates one role and one database per `user-db` database, each role owning its own.
/// Runs once, when the data directory is first initialised. Passwords come from the
/// environment (alphanumeric, so they need no quoting).
pub const USER_DB_INIT_SCRIPT: &str = r#"#!/bin/sh
set -eu
for db in users orders payments shipping email; do
  var="$(echo "${db}_PASSWORD" | tr '[:lower:]' '[:upper:]')"
  password="$(printenv "$var")"
  psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres <<SQL
CREATE ROLE "$db" LOGIN PASSWORD '$password';
CREATE DATABASE "$db" OWNER "$db";
REVOKE ALL ON DATABASE "$db" FROM PUBLIC;
SQL
done
"#;

const DATA_VOLUME: &str = "data";

/// The name the StatefulSet controller gives the data volume of `store`'s one pod
/// (`<claim template>-<StatefulSet>-<ordinal>`).
pub fn claim_name(ctx: &ShopContext, store: Store) -> String {
    format!(
        "{DATA_VOLUME}-{}-0",
        ctx.object_name(Component::Store(store))
    )
}

/// Connections each service's pool opens at most (`serving::postgres::pool_options`).
const POOL_SIZE: i32 = 16;
/// Connections PostgreSQL keeps for superusers, plus a few for people and probes.
const SPARE_CONNECTIONS: i32 = 3 + 7;
/// The data volume's scratch size when no `storage` is set (an emptyDir).
const SCRATCH_DATA_SIZE: &str = "1Gi";

/// The file of RabbitMQ settings in `conf.d`, beside the image's own.
const RABBITMQ_CONFIG_FILE: &str = "20-microshop.conf";

/// `postgres` with what the defaults get wrong here: enough connections for every pool
/// of every replica during a rolling update (each Deployment surges by one), and a WAL
/// that fits a 1 GiB volume (the default `max_wal_size` is 1 GB).
fn postgres_args(ctx: &ShopContext, store: Store) -> Vec<String> {
    let apps = match store {
        Store::UserDb => USER_DATABASES.map(|(_, app)| app).to_vec(),
        _ => vec![App::Catalog],
    };
    let pools: i32 = apps
        .iter()
        .map(|app| (app.spec(&ctx.shop.spec).replicas + 1) * POOL_SIZE)
        .sum();
    let max_connections = (pools + SPARE_CONNECTIONS).max(100);
    [
        "postgres".to_owned(),
        "-c".to_owned(),
        format!("max_connections={max_connections}"),
        "-c".to_owned(),
        "max_wal_size=256MB".to_owned(),
    ]
    .to_vec()
}

fn rabbitmq_resources(ctx: &ShopContext) -> ResourceRequirements {
    pod::resources_or(
        Store::Rabbitmq.spec(&ctx.shop.spec).resources.as_ref(),
        pod::resources("100m", "256Mi", "1", "1Gi"),
    )
}

pub fn rabbitmq_config_name(ctx: &ShopContext) -> String {
    format!(
        "{}-config",
        ctx.object_name(Component::Store(Store::Rabbitmq))
    )
}

/// RabbitMQ's own limits, sized from the pod's: its memory alarm otherwise follows the
/// node's memory (0.6 of it), so it is OOM-killed instead of blocking publishers.
pub fn rabbitmq_settings(ctx: &ShopContext) -> String {
    let mut settings = String::new();
    if let Some(limit) = pod::memory_limit(&rabbitmq_resources(ctx)) {
        settings.push_str(&format!(
            "vm_memory_high_watermark.absolute = {}MiB\n",
            pod::mebibytes_of(limit, 60)
        ));
    }
    // Publishers are blocked while less than this is free on the data volume, before
    // the quorum queues' log fills it; the log is kept small enough for a 1 GiB volume.
    settings.push_str("disk_free_limit.absolute = 128MiB\n");
    settings.push_str("raft.wal_max_size_bytes = 67108864\n");
    settings
}

fn rabbitmq_config(ctx: &ShopContext) -> ConfigMap {
    ConfigMap {
        metadata: ctx.meta(
            rabbitmq_config_name(ctx),
            ctx.component_labels(Component::Store(Store::Rabbitmq)),
        ),
        data: Some(BTreeMap::from([(
            RABBITMQ_CONFIG_FILE.to_owned(),
            rabbitmq_settings(ctx),
        )])),
        ..ConfigMap::default()
    }
}

pub fn render(ctx: &ShopContext, store: Store) -> Vec<Object> {
    let component = Component::Store(store);
    let mut objects = vec![
        Object::ServiceAccount(apps::service_account(ctx, component)),
        Object::Service(headless_service(ctx, store)),
    ];
    if store == Store::UserDb {
        objects.push(Object::ConfigMap(init_script(ctx)));
    }
    if store == Store::Rabbitmq {
        objects.push(Object::ConfigMap(rabbitmq_config(ctx)));
    }
    objects.push(Object::StatefulSet(stateful_set(ctx, store)));
    objects
}

fn headless_service(ctx: &ShopContext, store: Store) -> Service {
    let component = Component::Store(store);
    Service {
        metadata: ctx.component_meta(component),
        spec: Some(ServiceSpec {
            cluster_ip: Some("None".into()),
            selector: Some(ctx.selector(component)),
            // Clients resolve the pod even before it is ready, and wait on their own terms.
            publish_not_ready_addresses: Some(true),
            ports: Some(vec![ServicePort {
                name: Some(store.port_name().into()),
                port: store.port(),
                target_port: Some(IntOrString::String(store.port_name().into())),
                protocol: Some("TCP".into()),
                ..ServicePort::default()
            }]),
            ..ServiceSpec::default()
        }),
        ..Service::default()
    }
}

pub fn init_script_name(ctx: &ShopContext) -> String {
    format!("{}-init", ctx.object_name(Component::Store(Store::UserDb)))
}

fn init_script(ctx: &ShopContext) -> ConfigMap {
    ConfigMap {
        metadata: ctx.meta(
            init_script_name(ctx),
            ctx.component_labels(Component::Store(Store::UserDb)),
        ),
        data: Some(BTreeMap::from([(
            "10-databases.sh".to_owned(),
            USER_DB_INIT_SCRIPT.to_owned(),
        )])),
        ..ConfigMap::default()
    }
}

fn secret_env(ctx: &ShopContext, store: Store, name: &str, key: &str) -> EnvVar {
    EnvVar {
        name: name.into(),
        value: None,
        value_from: Some(EnvVarSource {
            secret_key_ref: Some(SecretKeySelector {
                name: keys::component_secret(&ctx.name, store.name()),
                key: key.into(),
                optional: Some(false),
            }),
            ..EnvVarSource::default()
        }),
    }
}

fn plain(name: &str, value: &str) -> EnvVar {
    EnvVar {
        name: name.into(),
        value: Some(value.into()),
        value_from: None,
    }
}

/// What differs between the stores: environment, command, probes, where data lives.
struct Program {
    env: Vec<EnvVar>,
    args: Option<Vec<String>>,
    data_path: &'static str,
    /// Writable scratch directories besides the data volume.
    scratch: Vec<(&'static str, &'static str)>,
    read_only_root: bool,
    readiness: k8s_openapi::api::core::v1::Probe,
    liveness: k8s_openapi::api::core::v1::Probe,
    resources: ResourceRequirements,
}

fn program(ctx: &ShopContext, store: Store) -> Program {
    let user_resources = store.spec(&ctx.shop.spec).resources.as_ref();
    match store {
        Store::UserDb | Store::CatalogDb => {
            let mut env = vec![
                // A subdirectory: a fresh volume's root holds `lost+found`, which initdb refuses.
                plain("PGDATA", "/var/lib/postgresql/data/pgdata"),
            ];
            if store == Store::UserDb {
                env.push(plain("POSTGRES_USER", "postgres"));
                env.push(secret_env(
                    ctx,
                    store,
                    "POSTGRES_PASSWORD",
                    keys::SUPERUSER_PASSWORD,
                ));
                for (db, _) in USER_DATABASES {
                    env.push(secret_env(
                        ctx,
                        store,
                        &format!("{}_PASSWORD", db.to_uppercase()),
                        &keys::role_password(db),
                    ));
                }
            } else {
                env.push(plain("POSTGRES_USER", "catalog"));
                env.push(plain("POSTGRES_DB", "catalog"));
                env.push(secret_env(ctx, store, "POSTGRES_PASSWORD", keys::PASSWORD));
            }
            let ready = [
                "sh",
                "-c",
                "pg_isready -h 127.0.0.1 -p 5432 -U \"$POSTGRES_USER\"",
            ];
            Program {
                env,
                args: Some(postgres_args(ctx, store)),
                data_path: "/var/lib/postgresql/data",
                scratch: vec![("run", "/var/run/postgresql"), ("tmp", "/tmp")],
                read_only_root: true,
                readiness: pod::exec_probe(&ready, 5, 3, 3),
                liveness: pod::tcp_probe(store.port_name(), 10, 6),
                resources: pod::resources_or(
                    user_resources,
                    pod::resources("100m", "256Mi", "1", "512Mi"),
                ),
            }
        }
        Store::Redis => {
            let resources = pod::resources_or(
                user_resources,
                pod::resources("50m", "64Mi", "500m", "256Mi"),
            );
            let mut args: Vec<String> = [
                "redis-server",
                "--appendonly",
                "yes",
                "--dir",
                "/data",
                "--requirepass",
                "$(REDIS_PASSWORD)",
            ]
            .map(String::from)
            .to_vec();
            if let Some(limit) = pod::memory_limit(&resources) {
                // Without a bound Redis grows past its limit and is OOM-killed, carts and
                // all. Writes past it are refused (cart answers 503) rather than carts
                // evicted; the rest is headroom for the append-only file's rewrite.
                args.extend([
                    "--maxmemory".to_owned(),
                    format!("{}mb", pod::mebibytes_of(limit, 60)),
                    "--maxmemory-policy".to_owned(),
                    "noeviction".to_owned(),
                ]);
            }
            Program {
                env: vec![
                    secret_env(ctx, store, "REDIS_PASSWORD", keys::PASSWORD),
                    // redis-cli in the probe reads its password from here.
                    secret_env(ctx, store, "REDISCLI_AUTH", keys::PASSWORD),
                ],
                args: Some(args),
                data_path: "/data",
                scratch: vec![("tmp", "/tmp")],
                read_only_root: true,
                readiness: pod::exec_probe(
                    &["sh", "-c", "[ \"$(redis-cli -h 127.0.0.1 ping)\" = PONG ]"],
                    5,
                    3,
                    3,
                ),
                liveness: pod::tcp_probe(store.port_name(), 10, 6),
                resources,
            }
        }
        Store::Rabbitmq => Program {
            env: vec![
                plain("RABBITMQ_DEFAULT_USER", "microshop"),
                secret_env(ctx, store, "RABBITMQ_DEFAULT_PASS", keys::PASSWORD),
            ],
            args: None,
            data_path: "/var/lib/rabbitmq",
            // 4.1's entrypoint writes nothing under /etc/rabbitmq; the server writes its
            // data directory and its logs.
            scratch: vec![("tmp", "/tmp"), ("log", "/var/log/rabbitmq")],
            read_only_root: true,
            // The AMQP listener opens once the node has booted. `rabbitmq-diagnostics`
            // would boot an Erlang VM per probe, a second's CPU on a 100m request.
            readiness: pod::tcp_probe(store.port_name(), 10, 3),
            liveness: pod::tcp_probe(store.port_name(), 15, 6),
            resources: rabbitmq_resources(ctx),
        },
    }
}

fn stateful_set(ctx: &ShopContext, store: Store) -> StatefulSet {
    let component = Component::Store(store);
    let spec = store.spec(&ctx.shop.spec);
    let program = program(ctx, store);
    let mut mounts = vec![pod::mount(DATA_VOLUME, program.data_path, false)];
    let mut volumes = Vec::new();
    for (name, path) in &program.scratch {
        mounts.push(pod::mount(name, path, false));
        volumes.push(pod::scratch(name, "64Mi"));
    }
    if store == Store::Rabbitmq {
        mounts.push(VolumeMount {
            name: "config".into(),
            mount_path: format!("/etc/rabbitmq/conf.d/{RABBITMQ_CONFIG_FILE}"),
            sub_path: Some(RABBITMQ_CONFIG_FILE.into()),
            read_only: Some(true),
            ..VolumeMount::default()
        });
        volumes.push(k8s_openapi::api::core::v1::Volume {
            name: "config".into(),
            config_map: Some(ConfigMapVolumeSource {
                name: rabbitmq_config_name(ctx),
                ..ConfigMapVolumeSource::default()
            }),
            ..Default::default()
        });
    }
    if store == Store::UserDb {
        mounts.push(VolumeMount {
            name: "init".into(),
            mount_path: "/docker-entrypoint-initdb.d".into(),
            read_only: Some(true),
            ..VolumeMount::default()
        });
        volumes.push(k8s_openapi::api::core::v1::Volume {
            name: "init".into(),
            config_map: Some(ConfigMapVolumeSource {
                name: init_script_name(ctx),
                default_mode: Some(0o555),
                ..ConfigMapVolumeSource::default()
            }),
            ..Default::default()
        });
    }
    let claims = match &spec.storage {
        Some(storage) => Some(vec![PersistentVolumeClaim {
            metadata: ObjectMeta {
                name: Some(DATA_VOLUME.into()),
                labels: Some(ctx.component_labels(component)),
                ..ObjectMeta::default()
            },
            spec: Some(PersistentVolumeClaimSpec {
                access_modes: Some(vec!["ReadWriteOnce".into()]),
                storage_class_name: storage.storage_class_name.clone(),
                resources: Some(VolumeResourceRequirements {
                    requests: Some(BTreeMap::from([(
                        "storage".to_owned(),
                        storage.size.clone(),
                    )])),
                    limits: None,
                }),
                ..PersistentVolumeClaimSpec::default()
            }),
            status: None,
        }]),
        None => {
            volumes.push(pod::scratch(DATA_VOLUME, SCRATCH_DATA_SIZE));
            None
        }
    };
    let container = Container {
        name: store.name().into(),
        image: Some(
            spec.image
                .clone()
                .unwrap_or_else(|| store.default_image().into()),
        ),
        image_pull_policy: ctx.shop.spec.image_pull_policy.map(|p| p.as_str().into()),
        args: program.args,
        env: Some(program.env),
        ports: Some(vec![ContainerPort {
            name: Some(store.port_name().into()),
            container_port: store.port(),
            protocol: Some("TCP".into()),
            ..ContainerPort::default()
        }]),
        startup_probe: Some(pod::tcp_probe(store.port_name(), 5, 60)),
        readiness_probe: Some(program.readiness),
        liveness_probe: Some(program.liveness),
        resources: Some(program.resources),
        security_context: Some(pod::container_security(program.read_only_root)),
        volume_mounts: Some(mounts),
        ..Container::default()
    };
    let retention = ctx.shop.spec.pvc_retention.as_str();
    StatefulSet {
        metadata: ctx.component_meta(component),
        spec: StatefulSetSpec {
            replicas: Some(1),
            service_name: Some(ctx.object_name(component)),
            selector: LabelSelector {
                match_labels: Some(ctx.selector(component)),
                match_expressions: None,
            },
            persistent_volume_claim_retention_policy: Some(
                StatefulSetPersistentVolumeClaimRetentionPolicy {
                    when_deleted: Some(retention.into()),
                    when_scaled: Some("Retain".into()),
                },
            ),
            volume_claim_templates: claims,
            template: PodTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: Some(ctx.component_labels(component)),
                    ..ObjectMeta::default()
                }),
                spec: Some(PodSpec {
                    containers: vec![container],
                    service_account_name: Some(ctx.object_name(component)),
                    automount_service_account_token: Some(false),
                    enable_service_links: Some(false),
                    security_context: Some(pod::pod_security(store.image_uid())),
                    image_pull_secrets: (!ctx.shop.spec.image_pull_secrets.is_empty())
                        .then(|| ctx.shop.spec.image_pull_secrets.clone()),
                    termination_grace_period_seconds: Some(60),
                    volumes: Some(volumes),
                    ..PodSpec::default()
                }),
            },
            ..StatefulSetSpec::default()
        },
        ..StatefulSet::default()
    }
}
