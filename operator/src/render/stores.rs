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
    component::{Component, Store, USER_DATABASES},
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

pub fn render(ctx: &ShopContext, store: Store) -> Vec<Object> {
    let component = Component::Store(store);
    let mut objects = vec![
        Object::ServiceAccount(apps::service_account(ctx, component)),
        Object::Service(headless_service(ctx, store)),
    ];
    if store == Store::UserDb {
        objects.push(Object::ConfigMap(init_script(ctx)));
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
                args: None,
                data_path: "/var/lib/postgresql/data",
                scratch: vec![("run", "/var/run/postgresql"), ("tmp", "/tmp")],
                read_only_root: true,
                readiness: pod::exec_probe(&ready, 5, 3, 3),
                liveness: pod::tcp_probe(store.port_name(), 10, 6),
                resources: pod::resources("100m", "256Mi", "1", "512Mi"),
            }
        }
        Store::Redis => Program {
            env: vec![
                secret_env(ctx, store, "REDIS_PASSWORD", keys::PASSWORD),
                // redis-cli in the probe reads its password from here.
                secret_env(ctx, store, "REDISCLI_AUTH", keys::PASSWORD),
            ],
            args: Some(
                [
                    "redis-server",
                    "--appendonly",
                    "yes",
                    "--dir",
                    "/data",
                    "--requirepass",
                    "$(REDIS_PASSWORD)",
                ]
                .map(String::from)
                .to_vec(),
            ),
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
            resources: pod::resources("50m", "64Mi", "500m", "256Mi"),
        },
        Store::Rabbitmq => Program {
            env: vec![
                plain("RABBITMQ_DEFAULT_USER", "microshop"),
                secret_env(ctx, store, "RABBITMQ_DEFAULT_PASS", keys::PASSWORD),
            ],
            args: None,
            data_path: "/var/lib/rabbitmq",
            scratch: vec![("tmp", "/tmp")],
            // The image's entrypoint writes its generated config under /etc/rabbitmq.
            read_only_root: false,
            readiness: pod::exec_probe(
                &["rabbitmq-diagnostics", "-q", "check_port_connectivity"],
                10,
                10,
                3,
            ),
            liveness: pod::tcp_probe(store.port_name(), 15, 6),
            resources: pod::resources("100m", "256Mi", "1", "1Gi"),
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
            volumes.push(pod::scratch(DATA_VOLUME, "1Gi"));
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
        resources: Some(pod::resources_or(
            spec.resources.as_ref(),
            program.resources,
        )),
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
