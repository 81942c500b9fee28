//! The Shop's status from what the cluster reports: per-component readiness from the
//! Deployments and StatefulSets, the frontend's URL from its Service, and conditions whose
//! `lastTransitionTime` moves only when their status does. Pure, like rendering.

use std::sync::Arc;

use k8s_openapi::{
    api::{
        apps::v1::{Deployment, StatefulSet},
        core::v1::Service,
    },
    apimachinery::pkg::apis::meta::v1::{Condition, Time},
};
use kube::ResourceExt;

use crate::{
    caches::Caches,
    crd::{ComponentStatus, ExposureType, Shop, ShopStatus},
    render::{
        apps::FRONTEND_SERVICE_PORT,
        component::{App, Component, Store},
        jaeger, object_name,
    },
};

pub const READY: &str = "Ready";
pub const PROGRESSING: &str = "Progressing";
pub const DEGRADED: &str = "Degraded";

/// What the reconciler saw of the shop's workloads.
#[derive(Default)]
pub struct Observed {
    pub deployments: Vec<Arc<Deployment>>,
    pub stateful_sets: Vec<Arc<StatefulSet>>,
    pub services: Vec<Arc<Service>>,
}

impl Observed {
    /// What the controller's caches hold of `shop`'s workloads.
    pub fn in_caches(caches: &Caches, shop: &Shop) -> Self {
        let namespace = shop.namespace().unwrap_or_default();
        let name = shop.name_any();
        Self {
            deployments: caches.of_shop(&namespace, &name),
            stateful_sets: caches.of_shop(&namespace, &name),
            services: caches.of_shop(&namespace, &name),
        }
    }
}

/// The status to write: `failure` is the error of this reconcile, if it failed.
pub fn shop_status(
    shop: &Shop,
    observed: &Observed,
    failure: Option<&str>,
    now: Time,
) -> ShopStatus {
    let components = components(shop, observed);
    let ready_count = components.iter().filter(|c| c.ready >= c.desired).count();
    let waiting: Vec<String> = components
        .iter()
        .filter(|c| c.ready < c.desired)
        .map(|c| format!("{} ({}/{})", c.name, c.ready, c.desired))
        .collect();
    let all_ready = waiting.is_empty();
    let generation = shop.metadata.generation;

    let ready = if all_ready {
        (
            READY,
            true,
            "AllComponentsReady",
            format!("{ready_count} of {} components ready", components.len()),
        )
    } else {
        (
            READY,
            false,
            "ComponentsNotReady",
            format!("waiting for {}", waiting.join(", ")),
        )
    };
    let progressing = match (failure, all_ready) {
        (Some(_), _) => (
            PROGRESSING,
            false,
            "ReconcileFailed",
            "changes could not be applied; see Degraded".to_owned(),
        ),
        (None, false) => (
            PROGRESSING,
            true,
            "RollingOut",
            format!("waiting for {}", waiting.join(", ")),
        ),
        (None, true) => (
            PROGRESSING,
            false,
            "Stable",
            "every component runs the desired spec".to_owned(),
        ),
    };
    let degraded = match failure {
        Some(why) => (DEGRADED, true, "ReconcileFailed", why.to_owned()),
        None => (
            DEGRADED,
            false,
            "AsExpected",
            "the last reconcile succeeded".to_owned(),
        ),
    };
    let previous = shop
        .status
        .as_ref()
        .map(|s| s.conditions.as_slice())
        .unwrap_or_default();
    let conditions = [ready, progressing, degraded]
        .into_iter()
        .map(|(type_, status, reason, message)| {
            condition(previous, type_, status, reason, message, generation, &now)
        })
        .collect();
    ShopStatus {
        observed_generation: generation,
        conditions,
        components_ready: Some(format!("{ready_count}/{}", components.len())),
        components,
        url: url(shop, observed),
    }
}

/// A condition whose `lastTransitionTime` is kept from `previous` when its status is
/// unchanged (kube has no helper for this).
pub fn condition(
    previous: &[Condition],
    type_: &str,
    status: bool,
    reason: &str,
    message: String,
    generation: Option<i64>,
    now: &Time,
) -> Condition {
    let status = if status { "True" } else { "False" }.to_owned();
    let last_transition_time = previous
        .iter()
        .find(|c| c.type_ == type_ && c.status == status)
        .map_or_else(|| now.clone(), |c| c.last_transition_time.clone());
    Condition {
        type_: type_.to_owned(),
        status,
        reason: reason.to_owned(),
        message,
        observed_generation: generation,
        last_transition_time,
    }
}

fn component_object(shop: &Shop, component: Component) -> String {
    object_name(&shop.name_any(), component.name())
}

fn components(shop: &Shop, observed: &Observed) -> Vec<ComponentStatus> {
    let mut out = Vec::new();
    for app in App::ALL {
        let name = component_object(shop, Component::App(app));
        let ready = deployment_ready(observed, &name);
        out.push(ComponentStatus {
            name: app.name().into(),
            desired: app.spec(&shop.spec).replicas,
            ready,
        });
    }
    for store in Store::ALL {
        if store.spec(&shop.spec).external.is_some() {
            continue;
        }
        let name = component_object(shop, Component::Store(store));
        let ready = observed
            .stateful_sets
            .iter()
            .find(|s| s.name_any() == name)
            .and_then(|s| s.status.as_ref())
            .and_then(|s| s.ready_replicas)
            .unwrap_or(0);
        out.push(ComponentStatus {
            name: store.name().into(),
            desired: 1,
            ready,
        });
    }
    if shop.spec.telemetry.jaeger.enabled {
        // A shop asked to show its traces is not ready while nothing can show them.
        let name = object_name(&shop.name_any(), jaeger::NAME);
        out.push(ComponentStatus {
            name: jaeger::NAME.into(),
            desired: 1,
            ready: deployment_ready(observed, &name),
        });
    }
    out
}

fn deployment_ready(observed: &Observed, name: &str) -> i32 {
    observed
        .deployments
        .iter()
        .find(|d| d.name_any() == name)
        .and_then(|d| d.status.as_ref())
        .and_then(|s| s.ready_replicas)
        .unwrap_or(0)
}

/// Where the frontend answers, as far as the cluster has said so yet.
fn url(shop: &Shop, observed: &Observed) -> Option<String> {
    let exposure = &shop.spec.exposure;
    let name = component_object(shop, Component::App(App::Frontend));
    let service = observed.services.iter().find(|s| s.name_any() == name);
    match exposure.type_ {
        ExposureType::ClusterIP => Some(format!(
            "http://{name}.{}.svc",
            shop.namespace().unwrap_or_default()
        )),
        ExposureType::NodePort => {
            let port = service
                .and_then(|s| s.spec.as_ref())
                .and_then(|s| s.ports.as_ref())
                .and_then(|ports| ports.iter().find_map(|p| p.node_port))
                .or(exposure.node_port)?;
            Some(format!("http://<node-address>:{port}"))
        }
        ExposureType::LoadBalancer => {
            let ingress = service
                .and_then(|s| s.status.as_ref())
                .and_then(|s| s.load_balancer.as_ref())
                .and_then(|lb| lb.ingress.as_ref())
                .and_then(|i| i.first())?;
            let host = ingress.hostname.clone().or_else(|| ingress.ip.clone())?;
            Some(if FRONTEND_SERVICE_PORT == 80 {
                format!("http://{host}")
            } else {
                format!("http://{host}:{FRONTEND_SERVICE_PORT}")
            })
        }
        ExposureType::Ingress => exposure
            .ingress_host
            .as_ref()
            .map(|host| format!("http://{host}/")),
    }
}

#[cfg(test)]
mod tests {
    use k8s_openapi::{
        api::apps::v1::{DeploymentStatus, StatefulSetStatus},
        apimachinery::pkg::apis::meta::v1::ObjectMeta,
        jiff::Timestamp,
    };

    use super::*;
    use crate::crd::{ExternalStore, SecretRef, ShopSpec};

    fn shop(spec: ShopSpec) -> Shop {
        let mut shop = Shop::new("demo", spec);
        shop.metadata.namespace = Some("shops".into());
        shop.metadata.generation = Some(3);
        shop
    }

    fn time(seconds: i64) -> Time {
        Time(Timestamp::from_second(seconds).unwrap())
    }

    fn deployment(name: &str, ready: i32) -> Deployment {
        Deployment {
            metadata: ObjectMeta {
                name: Some(format!("demo-{name}")),
                ..ObjectMeta::default()
            },
            status: Some(DeploymentStatus {
                ready_replicas: Some(ready),
                ..DeploymentStatus::default()
            }),
            ..Deployment::default()
        }
    }

    fn stateful_set(name: &str, ready: i32) -> StatefulSet {
        StatefulSet {
            metadata: ObjectMeta {
                name: Some(format!("demo-{name}")),
                ..ObjectMeta::default()
            },
            status: Some(StatefulSetStatus {
                ready_replicas: Some(ready),
                ..StatefulSetStatus::default()
            }),
            ..StatefulSet::default()
        }
    }

    fn all_ready() -> (Vec<Arc<Deployment>>, Vec<Arc<StatefulSet>>) {
        (
            App::ALL
                .iter()
                .map(|a| Arc::new(deployment(a.name(), 1)))
                .collect(),
            Store::ALL
                .iter()
                .map(|s| Arc::new(stateful_set(s.name(), 1)))
                .collect(),
        )
    }

    fn get<'a>(status: &'a ShopStatus, type_: &str) -> &'a Condition {
        status.conditions.iter().find(|c| c.type_ == type_).unwrap()
    }

    #[test]
    fn a_fresh_shop_is_progressing_with_nothing_ready() {
        let status = shop_status(
            &shop(ShopSpec::default()),
            &Observed::default(),
            None,
            time(10),
        );
        assert_eq!(status.components_ready.as_deref(), Some("0/13"));
        assert_eq!(get(&status, READY).status, "False");
        assert_eq!(get(&status, PROGRESSING).status, "True");
        assert_eq!(get(&status, DEGRADED).status, "False");
        assert_eq!(status.observed_generation, Some(3));
        assert_eq!(
            status.url.as_deref(),
            Some("http://demo-frontend.shops.svc")
        );
    }

    #[test]
    fn all_components_ready_make_the_shop_ready() {
        let (deployments, stateful_sets) = all_ready();
        let observed = Observed {
            deployments: deployments.clone(),
            stateful_sets: stateful_sets.clone(),
            services: Vec::new(),
        };
        let status = shop_status(&shop(ShopSpec::default()), &observed, None, time(10));
        assert_eq!(status.components_ready.as_deref(), Some("13/13"));
        assert_eq!(get(&status, READY).status, "True");
        assert_eq!(get(&status, READY).reason, "AllComponentsReady");
        assert_eq!(get(&status, PROGRESSING).reason, "Stable");
    }

    #[test]
    fn external_stores_are_not_components() {
        let mut spec = ShopSpec::default();
        spec.redis.external = Some(ExternalStore {
            secret_ref: SecretRef {
                name: "managed-redis".into(),
            },
        });
        let status = shop_status(&shop(spec), &Observed::default(), None, time(10));
        assert_eq!(status.components.len(), 12);
        assert!(status.components.iter().all(|c| c.name != "redis"));
    }

    #[test]
    fn an_enabled_jaeger_is_a_component_the_shop_waits_for() {
        let mut spec = ShopSpec::default();
        spec.telemetry.jaeger.enabled = true;
        let shop = shop(spec);
        let (mut deployments, stateful_sets) = all_ready();
        let observed = Observed {
            deployments: deployments.clone(),
            stateful_sets: stateful_sets.clone(),
            services: Vec::new(),
        };
        let waiting = shop_status(&shop, &observed, None, time(10));
        assert_eq!(waiting.components_ready.as_deref(), Some("13/14"));
        assert_eq!(get(&waiting, READY).message, "waiting for jaeger (0/1)");

        deployments.push(Arc::new(deployment("jaeger", 1)));
        let observed = Observed {
            deployments: deployments.clone(),
            stateful_sets: stateful_sets.clone(),
            services: Vec::new(),
        };
        let ready = shop_status(&shop, &observed, None, time(20));
        assert_eq!(ready.components_ready.as_deref(), Some("14/14"));
        assert_eq!(get(&ready, READY).status, "True");
    }

    #[test]
    fn transition_time_moves_only_when_the_status_changes() {
        let mut shop = shop(ShopSpec::default());
        let first = shop_status(&shop, &Observed::default(), None, time(10));
        shop.status = Some(first.clone());
        // Still not ready later: Ready keeps its first transition time.
        let second = shop_status(&shop, &Observed::default(), None, time(20));
        assert_eq!(get(&second, READY).last_transition_time, time(10));
        shop.status = Some(second);
        // Now ready: Ready moves, Degraded (unchanged False) does not.
        let (deployments, stateful_sets) = all_ready();
        let observed = Observed {
            deployments: deployments.clone(),
            stateful_sets: stateful_sets.clone(),
            services: Vec::new(),
        };
        let third = shop_status(&shop, &observed, None, time(30));
        assert_eq!(get(&third, READY).last_transition_time, time(30));
        assert_eq!(get(&third, DEGRADED).last_transition_time, time(10));
    }

    #[test]
    fn a_failure_marks_the_shop_degraded_with_the_reason() {
        let status = shop_status(
            &shop(ShopSpec::default()),
            &Observed::default(),
            Some("applying Deployment demo-cart: forbidden"),
            time(10),
        );
        let degraded = get(&status, DEGRADED);
        assert_eq!(degraded.status, "True");
        assert_eq!(degraded.reason, "ReconcileFailed");
        assert!(degraded.message.contains("forbidden"));
        assert_eq!(get(&status, PROGRESSING).status, "False");
    }
}
