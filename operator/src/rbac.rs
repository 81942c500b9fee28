//! The API calls the operator makes, as the RBAC rules they need: worked out from the list
//! of owned kinds (`crate::owned`) plus its calls on Shops, Events and its Lease, so the
//! chart's tests can tell when the chart grants less than the code uses.

use std::fmt;

use k8s_openapi::api::rbac::v1::PolicyRule;

use crate::owned::{self, KindVisitor, OnImmutable, OwnedKind, Removal};

/// Permission to call `verb` on `resource` of API group `group` (`""` is the core group).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Need {
    pub group: &'static str,
    pub resource: String,
    pub verb: &'static str,
}

impl fmt::Display for Need {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}:{}", self.group, self.resource, self.verb)
    }
}

/// What the operator calls apart from the kinds it owns: Shops, Events, and the store
/// volumes that own their Secrets too.
const NOT_OWNED: &[(&str, &str, &[&str])] = &[
    // The controller's watch.
    ("microshop.dev", "shops", &["list", "watch"]),
    // The status, by server-side apply.
    ("microshop.dev", "shops/status", &["patch"]),
    // Owner references with blockOwnerDeletion need update on the owner's finalizers.
    ("microshop.dev", "shops/finalizers", &["update"]),
    // The recorder creates an Event and patches its count when it repeats.
    ("events.k8s.io", "events", &["create", "patch"]),
    // A store's volume is read for its uid, which its Secret names as a second owner.
    ("", "persistentvolumeclaims", &["list"]),
    // Adding that owner to a Secret made earlier, or adopting one left by an earlier Shop,
    // changes its ownerReferences, which the API server (OwnerReferencesPermissionEnforcement)
    // allows only to who may delete it. The operator never deletes a Secret.
    ("", "secrets", &["delete"]),
];

/// What leader election calls on its Lease, in the operator's own namespace.
pub const LEASE: &[(&str, &str, &[&str])] =
    &[("coordination.k8s.io", "leases", &["get", "create", "patch"])];

/// The verbs the reconciler and the controller use on an owned kind.
fn verbs<K: OwnedKind>() -> Vec<&'static str> {
    // The controller's watch; server-side apply is a patch that creates what is missing.
    let mut verbs = vec!["list", "watch", "create", "patch"];
    if K::REMOVAL == Removal::Swept || K::ON_IMMUTABLE == OnImmutable::Recreate {
        verbs.push("delete");
    }
    verbs
}

/// Every rule the operator needs where it reconciles Shops (the chart's ClusterRole).
pub fn needs() -> Vec<Need> {
    struct Owned(Vec<Need>);
    impl KindVisitor for Owned {
        fn visit<K: OwnedKind>(&mut self) {
            for verb in verbs::<K>() {
                self.0.push(Need {
                    group: <K as k8s_openapi::Resource>::GROUP,
                    resource: <K as k8s_openapi::Resource>::URL_PATH_SEGMENT.to_owned(),
                    verb,
                });
            }
        }
    }
    let mut owned = Owned(flatten(NOT_OWNED));
    owned::each_kind(&mut owned);
    owned.0
}

/// Every rule leader election needs (the chart's leader Role).
pub fn lease_needs() -> Vec<Need> {
    flatten(LEASE)
}

fn flatten(rules: &[(&'static str, &str, &[&'static str])]) -> Vec<Need> {
    rules
        .iter()
        .flat_map(|(group, resource, verbs)| {
            verbs.iter().map(move |verb| Need {
                group,
                resource: (*resource).to_owned(),
                verb,
            })
        })
        .collect()
}

/// The needs that no rule in `granted` covers.
pub fn missing(needs: &[Need], granted: &[PolicyRule]) -> Vec<Need> {
    needs
        .iter()
        .filter(|need| !granted.iter().any(|rule| grants(rule, need)))
        .cloned()
        .collect()
}

fn grants(rule: &PolicyRule, need: &Need) -> bool {
    let has = |list: Option<&Vec<String>>, item: &str| {
        list.is_some_and(|l| l.iter().any(|x| x == item || x == "*"))
    };
    // A rule limited to some names cannot cover a list or a watch of them all.
    let any_name = rule.resource_names.as_ref().is_none_or(Vec::is_empty);
    any_name
        && has(rule.api_groups.as_ref(), need.group)
        && has(rule.resources.as_ref(), &need.resource)
        && has(Some(&rule.verbs), need.verb)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(group: &str, resources: &[&str], verbs: &[&str]) -> PolicyRule {
        PolicyRule {
            api_groups: Some(vec![group.to_owned()]),
            resources: Some(resources.iter().map(|r| (*r).to_owned()).collect()),
            verbs: verbs.iter().map(|v| (*v).to_owned()).collect(),
            ..PolicyRule::default()
        }
    }

    /// Exactly the needs, one rule each.
    fn exact() -> Vec<PolicyRule> {
        needs()
            .iter()
            .map(|n| rule(n.group, &[&n.resource], &[n.verb]))
            .collect()
    }

    #[test]
    fn the_needs_follow_the_list_of_owned_kinds() {
        let needs: Vec<String> = needs().iter().map(Need::to_string).collect();
        for expected in [
            "apps/deployments:patch",
            "apps/statefulsets:delete",
            "/secrets:create",
            "/secrets:list",
            "networking.k8s.io/ingresses:watch",
            "policy/poddisruptionbudgets:delete",
            "microshop.dev/shops/status:patch",
            "/persistentvolumeclaims:list",
        ] {
            assert!(needs.iter().any(|n| n == expected), "{expected}: {needs:?}");
        }
        assert!(
            needs.iter().any(|n| n == "/secrets:delete"),
            "owner references of Secrets change"
        );
    }

    #[test]
    fn rules_granting_every_need_miss_nothing() {
        assert_eq!(missing(&needs(), &exact()), []);
    }

    #[test]
    fn a_rule_without_a_verb_the_operator_uses_is_reported() {
        let mut rules = exact();
        rules.retain(|r| {
            !(r.resources.as_deref() == Some(&["statefulsets".to_owned()]) && r.verbs == ["delete"])
        });
        let missing: Vec<String> = missing(&needs(), &rules)
            .iter()
            .map(Need::to_string)
            .collect();
        assert_eq!(missing, ["apps/statefulsets:delete"]);
    }

    #[test]
    fn a_rule_of_another_group_or_limited_to_names_does_not_count() {
        let needs = [Need {
            group: "apps",
            resource: "deployments".into(),
            verb: "list",
        }];
        let other_group = rule("extensions", &["deployments"], &["list"]);
        let named = PolicyRule {
            resource_names: Some(vec!["demo-cart".into()]),
            ..rule("apps", &["deployments"], &["list"])
        };
        assert_eq!(missing(&needs, &[other_group, named]).len(), 1);
        assert_eq!(
            missing(&needs, &[rule("apps", &["deployments"], &["*"])]),
            []
        );
    }
}
