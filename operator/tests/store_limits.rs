//! The stores sized from their pods, not from the images' defaults: RabbitMQ's memory
//! alarm below its limit, Redis bounded under its limit, PostgreSQL with connections for
//! every pool and a WAL that fits its volume, Jaeger's Go heap goal below its limit.

use std::collections::BTreeMap;

use k8s_openapi::{
    api::{
        apps::v1::{Deployment, StatefulSet},
        core::v1::{ConfigMap, Container, ResourceRequirements},
    },
    apimachinery::pkg::api::resource::Quantity,
};
use operator::{
    crd::{Shop, ShopSpec},
    credentials::{Credentials, ExistingSecrets},
    render::{Object, RenderInputs, VolumeClaims, render_shop},
};

fn render(spec: ShopSpec) -> Vec<Object> {
    let mut shop = Shop::new("demo", spec);
    shop.metadata.namespace = Some("shops".into());
    shop.metadata.uid = Some("7d6b6f3e-0000-4000-8000-000000000002".into());
    let credentials = Credentials::keep_or_generate("demo", &ExistingSecrets::new());
    let inputs = RenderInputs {
        operator_version: "0.1.0",
        credentials: &credentials,
        volume_claims: &VolumeClaims::new(),
    };
    render_shop(&shop, &inputs).unwrap()
}

fn store<'a>(objects: &'a [Object], name: &str) -> &'a Container {
    let set: &StatefulSet = objects
        .iter()
        .find_map(|o| match o {
            Object::StatefulSet(s) if s.metadata.name.as_deref() == Some(name) => Some(s),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no StatefulSet {name}"));
    &set.spec.template.spec.as_ref().unwrap().containers[0]
}

fn config_map<'a>(objects: &'a [Object], name: &str) -> &'a ConfigMap {
    objects
        .iter()
        .find_map(|o| match o {
            Object::ConfigMap(c) if c.metadata.name.as_deref() == Some(name) => Some(c),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no ConfigMap {name}"))
}

fn memory_limit(limit: &str) -> Option<ResourceRequirements> {
    Some(ResourceRequirements {
        limits: Some(BTreeMap::from([("memory".into(), Quantity(limit.into()))])),
        ..ResourceRequirements::default()
    })
}

/// The value after `flag` in a container's arguments.
fn arg<'a>(container: &'a Container, flag: &str) -> Option<&'a str> {
    let args = container.args.as_deref().unwrap_or_default();
    let at = args.iter().position(|a| a == flag)?;
    args.get(at + 1).map(String::as_str)
}

/// PostgreSQL's `-c name=value` settings.
fn postgres_setting(container: &Container, name: &str) -> Option<String> {
    let args = container.args.as_deref().unwrap_or_default();
    args.windows(2)
        .filter(|w| w[0] == "-c")
        .find_map(|w| w[1].strip_prefix(&format!("{name}=")).map(str::to_owned))
}

#[test]
fn rabbitmqs_memory_alarm_sits_below_its_pods_limit_with_a_disk_limit_and_a_small_log() {
    let objects = render(ShopSpec::default());
    let settings = &config_map(&objects, "demo-rabbitmq-config")
        .data
        .as_ref()
        .unwrap()["20-microshop.conf"];
    // 60 % of the default 1 GiB limit, not of the node's memory.
    assert!(settings.contains("vm_memory_high_watermark.absolute = 614MiB\n"));
    assert!(settings.contains("disk_free_limit.absolute = 128MiB\n"));
    assert!(settings.contains("raft.wal_max_size_bytes = 67108864\n"));

    let rabbitmq = store(&objects, "demo-rabbitmq");
    let mount = rabbitmq
        .volume_mounts
        .iter()
        .flatten()
        .find(|m| m.name == "config")
        .expect("the settings are mounted");
    // One file beside the image's own conf.d files, not over the whole directory.
    assert_eq!(mount.mount_path, "/etc/rabbitmq/conf.d/20-microshop.conf");
    assert_eq!(mount.sub_path.as_deref(), Some("20-microshop.conf"));
    // No Erlang VM booted per probe; a read-only root with its logs on scratch.
    let readiness = rabbitmq.readiness_probe.as_ref().unwrap();
    assert!(readiness.exec.is_none() && readiness.tcp_socket.is_some());
    let security = rabbitmq.security_context.as_ref().unwrap();
    assert_eq!(security.read_only_root_filesystem, Some(true));
    assert!(
        rabbitmq
            .volume_mounts
            .iter()
            .flatten()
            .any(|m| m.mount_path == "/var/log/rabbitmq")
    );

    let mut spec = ShopSpec::default();
    spec.rabbitmq.resources = memory_limit("2Gi");
    let objects = render(spec);
    let settings = &config_map(&objects, "demo-rabbitmq-config")
        .data
        .as_ref()
        .unwrap()["20-microshop.conf"];
    assert!(
        settings.contains("vm_memory_high_watermark.absolute = 1228MiB\n"),
        "the alarm follows a limit the Shop sets: {settings}"
    );
}

#[test]
fn redis_refuses_writes_before_its_pods_limit_instead_of_being_killed() {
    let objects = render(ShopSpec::default());
    let redis = store(&objects, "demo-redis");
    // 60 % of 256 MiB: the rest is headroom for the append-only file's rewrite.
    assert_eq!(arg(redis, "--maxmemory"), Some("153mb"));
    // Carts are never evicted: a full Redis refuses writes, which cart answers with 503.
    assert_eq!(arg(redis, "--maxmemory-policy"), Some("noeviction"));
    assert_eq!(arg(redis, "--appendonly"), Some("yes"));

    let mut spec = ShopSpec::default();
    spec.redis.resources = memory_limit("1Gi");
    let objects = render(spec);
    assert_eq!(
        arg(store(&objects, "demo-redis"), "--maxmemory"),
        Some("614mb")
    );
}

#[test]
fn user_db_has_connections_for_every_pool_of_every_replica_during_a_rollout() {
    let objects = render(ShopSpec::default());
    let user_db = store(&objects, "demo-user-db");
    // Five services of one replica each, surging to two in a rollout, 16 per pool, and
    // ten spare (three of them PostgreSQL's own for superusers).
    assert_eq!(
        postgres_setting(user_db, "max_connections").as_deref(),
        Some("170")
    );
    assert_eq!(
        postgres_setting(user_db, "max_wal_size").as_deref(),
        Some("256MB"),
        "the WAL fits a 1 GiB volume"
    );
    // The official image runs `postgres` with these arguments after its initialisation.
    assert_eq!(user_db.args.as_deref().unwrap()[0], "postgres");

    let mut spec = ShopSpec::default();
    spec.identity.replicas = 2;
    spec.checkout.replicas = 2;
    spec.payment.replicas = 2;
    spec.shipping.replicas = 2;
    spec.email.replicas = 2;
    let objects = render(spec);
    assert_eq!(
        postgres_setting(store(&objects, "demo-user-db"), "max_connections").as_deref(),
        Some("250"),
        "5 services × 3 pods × 16 + 10"
    );
    // catalog-db serves catalog alone: PostgreSQL's default is enough for it.
    assert_eq!(
        postgres_setting(store(&objects, "demo-catalog-db"), "max_connections").as_deref(),
        Some("100")
    );
}

#[test]
fn jaegers_heap_goal_sits_below_its_memory_limit() {
    let mut spec = ShopSpec::default();
    spec.telemetry.jaeger.enabled = true;
    let objects = render(spec);
    let jaeger: &Deployment = objects
        .iter()
        .find_map(|o| match o {
            Object::Deployment(d) if d.metadata.name.as_deref() == Some("demo-jaeger") => Some(d),
            _ => None,
        })
        .expect("a Jaeger Deployment");
    let container = &jaeger.spec.template.spec.as_ref().unwrap().containers[0];
    let limit = container
        .env
        .iter()
        .flatten()
        .find(|e| e.name == "GOMEMLIMIT")
        .expect("GOMEMLIMIT is set");
    // 75 % of the default 1 GiB, as a value: a reference to the limit would be all of it.
    assert_eq!(limit.value.as_deref(), Some("768MiB"));
    assert!(limit.value_from.is_none());
}
