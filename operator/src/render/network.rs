//! NetworkPolicies: everything of the shop is denied in and out, then each component is
//! opened exactly along [`component::PATHS`] (plus DNS, the frontend's public port, and
//! egress to what lives outside the cluster: external stores and the trace collector; or,
//! with `telemetry.jaeger`, from every service to the shop's own Jaeger).

use k8s_openapi::{
    api::networking::v1::{
        NetworkPolicy, NetworkPolicyEgressRule, NetworkPolicyIngressRule, NetworkPolicyPeer,
        NetworkPolicyPort, NetworkPolicySpec,
    },
    apimachinery::pkg::{apis::meta::v1::LabelSelector, util::intstr::IntOrString},
};

use super::{
    Object, ShopContext,
    component::{self, App, Component},
    jaeger,
};

pub fn render(ctx: &ShopContext) -> Vec<Object> {
    let mut objects = vec![
        Object::NetworkPolicy(default_deny(ctx)),
        Object::NetworkPolicy(allow_dns(ctx)),
    ];
    for component in Component::all() {
        if let Component::Store(store) = component
            && !ctx.runs(store)
        {
            continue;
        }
        objects.push(Object::NetworkPolicy(component_policy(ctx, component)));
    }
    if ctx.runs_jaeger() {
        objects.push(Object::NetworkPolicy(jaeger_policy(ctx)));
    }
    objects
}

pub fn default_deny_name(ctx: &ShopContext) -> String {
    super::object_name(&ctx.name, "default-deny")
}

pub fn allow_dns_name(ctx: &ShopContext) -> String {
    super::object_name(&ctx.name, "allow-dns")
}

fn shop_wide(ctx: &ShopContext, name: String, spec: NetworkPolicySpec) -> NetworkPolicy {
    NetworkPolicy {
        metadata: ctx.meta(name, ctx.labels("microshop", "network")),
        spec: Some(spec),
    }
}

fn default_deny(ctx: &ShopContext) -> NetworkPolicy {
    shop_wide(
        ctx,
        default_deny_name(ctx),
        NetworkPolicySpec {
            pod_selector: Some(selector(ctx.shop_selector())),
            policy_types: Some(vec!["Ingress".into(), "Egress".into()]),
            ingress: None,
            egress: None,
        },
    )
}

fn allow_dns(ctx: &ShopContext) -> NetworkPolicy {
    shop_wide(
        ctx,
        allow_dns_name(ctx),
        NetworkPolicySpec {
            pod_selector: Some(selector(ctx.shop_selector())),
            policy_types: Some(vec!["Egress".into()]),
            ingress: None,
            egress: Some(vec![NetworkPolicyEgressRule {
                // The cluster's DNS lives in another namespace under labels that vary by
                // distribution; the port is what every one has in common.
                to: None,
                ports: Some(vec![port(53, "UDP"), port(53, "TCP")]),
            }]),
        },
    )
}

fn component_policy(ctx: &ShopContext, component: Component) -> NetworkPolicy {
    let ingress = if component == Component::App(App::Frontend) {
        // The public entrance: ingress controllers, node ports and load balancers.
        vec![NetworkPolicyIngressRule {
            from: None,
            ports: Some(vec![port(component.port(), "TCP")]),
        }]
    } else {
        let from: Vec<_> = component::callers(component)
            .map(|caller| peer(ctx, Component::App(caller)))
            .collect();
        if from.is_empty() {
            Vec::new()
        } else {
            vec![NetworkPolicyIngressRule {
                from: Some(from),
                ports: Some(vec![port(component.port(), "TCP")]),
            }]
        }
    };
    let mut egress = Vec::new();
    if let Component::App(app) = component {
        for target in component::targets(app) {
            match target {
                Component::Store(store) if !ctx.runs(store) => {
                    // A managed store's address and port are only in the user's Secret.
                    egress.push(NetworkPolicyEgressRule {
                        to: None,
                        ports: None,
                    });
                }
                _ => egress.push(NetworkPolicyEgressRule {
                    to: Some(vec![peer(ctx, target)]),
                    ports: Some(vec![port(target.port(), "TCP")]),
                }),
            }
        }
        if let Some(endpoint) = &ctx.shop.spec.telemetry.otlp_endpoint {
            egress.push(NetworkPolicyEgressRule {
                to: None,
                ports: Some(vec![port(otlp_port(endpoint), "TCP")]),
            });
        } else if ctx.runs_jaeger() {
            egress.push(NetworkPolicyEgressRule {
                to: Some(vec![jaeger_peer(ctx)]),
                ports: Some(vec![port(jaeger::OTLP_HTTP_PORT, "TCP")]),
            });
        }
    }
    NetworkPolicy {
        metadata: ctx.component_meta(component),
        spec: Some(NetworkPolicySpec {
            pod_selector: Some(selector(ctx.selector(component))),
            policy_types: Some(vec!["Ingress".into(), "Egress".into()]),
            // Absent rather than empty: the API server drops an empty list, and a server-side
            // apply that keeps sending one rewrites the object (and wakes the operator) forever.
            ingress: (!ingress.is_empty()).then_some(ingress),
            egress: (!egress.is_empty()).then_some(egress),
        }),
    }
}

/// Jaeger takes traces from the shop's services on its OTLP/HTTP port and calls nothing.
/// Its UI is not opened to any pod: it is reached with `kubectl port-forward`, which
/// NetworkPolicies do not filter.
fn jaeger_policy(ctx: &ShopContext) -> NetworkPolicy {
    let from = App::ALL
        .into_iter()
        .map(|app| peer(ctx, Component::App(app)))
        .collect();
    NetworkPolicy {
        metadata: ctx.meta(
            jaeger::object_name(ctx),
            ctx.labels(jaeger::NAME, jaeger::ROLE),
        ),
        spec: Some(NetworkPolicySpec {
            pod_selector: Some(selector(ctx.selector_of(jaeger::NAME))),
            policy_types: Some(vec!["Ingress".into(), "Egress".into()]),
            ingress: Some(vec![NetworkPolicyIngressRule {
                from: Some(from),
                ports: Some(vec![port(jaeger::OTLP_HTTP_PORT, "TCP")]),
            }]),
            egress: None,
        }),
    }
}

fn jaeger_peer(ctx: &ShopContext) -> NetworkPolicyPeer {
    NetworkPolicyPeer {
        pod_selector: Some(selector(ctx.selector_of(jaeger::NAME))),
        ..NetworkPolicyPeer::default()
    }
}

fn selector(labels: std::collections::BTreeMap<String, String>) -> LabelSelector {
    LabelSelector {
        match_labels: Some(labels),
        match_expressions: None,
    }
}

fn peer(ctx: &ShopContext, component: Component) -> NetworkPolicyPeer {
    NetworkPolicyPeer {
        pod_selector: Some(selector(ctx.selector(component))),
        ..NetworkPolicyPeer::default()
    }
}

fn port(number: i32, protocol: &str) -> NetworkPolicyPort {
    NetworkPolicyPort {
        port: Some(IntOrString::Int(number)),
        protocol: Some(protocol.into()),
        end_port: None,
    }
}

/// The port of an OTLP endpoint URL: explicit, else the scheme's (OTLP/HTTP's 4318 for
/// plain `http`, 443 for `https`).
pub fn otlp_port(endpoint: &str) -> i32 {
    let (scheme, rest) = endpoint.split_once("://").unwrap_or(("http", endpoint));
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_port = authority.rsplit('@').next().unwrap_or_default();
    // An IPv6 literal keeps its colons inside brackets.
    let after_host = host_port.rsplit_once(']').map_or(host_port, |(_, p)| p);
    after_host
        .rsplit_once(':')
        .and_then(|(_, port)| port.parse().ok())
        .unwrap_or(if scheme.eq_ignore_ascii_case("https") {
            443
        } else {
            4318
        })
}

#[cfg(test)]
mod tests {
    use super::otlp_port;

    #[test]
    fn otlp_port_comes_from_the_url_or_the_scheme() {
        for (endpoint, port) in [
            ("http://collector:4318", 4318),
            ("http://collector.observability:4317/v1", 4317),
            ("https://otel.example.com", 443),
            ("http://collector", 4318),
            ("http://[fd00::1]:9000", 9000),
            ("http://[fd00::1]", 4318),
            ("collector:5555", 5555),
        ] {
            assert_eq!(otlp_port(endpoint), port, "{endpoint}");
        }
    }
}
