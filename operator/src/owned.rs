//! The kinds of object a Shop owns, listed once. The list makes the [`Object`] enum that
//! rendering returns, tells the reconciler how to apply and remove each kind, and says
//! what the controller watches and caches and which RBAC rules the chart must grant
//! (`crate::rbac`). Adding a kind is one line in `owned_kinds!` below.

use std::fmt::Debug;

use k8s_openapi::{
    NamespaceResourceScope,
    api::{
        apps::v1::{Deployment, StatefulSet},
        core::v1::{ConfigMap, Secret, Service, ServiceAccount},
        networking::v1::{Ingress, NetworkPolicy},
        policy::v1::PodDisruptionBudget,
    },
    apimachinery::pkg::apis::meta::v1::ObjectMeta,
};
use kube::Resource;
use serde::{Serialize, de::DeserializeOwned};

/// What becomes of an object the shop no longer renders.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Removal {
    /// Deleted by the reconciler's sweep (server-side apply never deletes anything).
    Swept,
    /// Kept until the Shop goes (the garbage collector follows the owner reference). Never
    /// read from a cache either, so the operator holds none of its data in memory.
    WithShop,
}

/// What the reconciler does when the API server refuses an apply because a field it
/// changed is immutable (422).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnImmutable {
    /// Report the failure.
    Fail,
    /// Delete the object with its dependents orphaned and apply it anew; the new object
    /// adopts them (a StatefulSet given `storage` later keeps its pods).
    Recreate,
}

/// A kind of object a Shop owns, as `owned_kinds!` declares it.
pub trait OwnedKind:
    Resource<Scope = NamespaceResourceScope, DynamicType = ()>
    + k8s_openapi::Resource
    + Clone
    + Debug
    + Serialize
    + DeserializeOwned
    + Send
    + Sync
    + 'static
{
    const REMOVAL: Removal;
    const ON_IMMUTABLE: OnImmutable;
    fn into_object(self) -> Object;
    /// The object inside `object`, if it is of this kind.
    fn in_object(object: &Object) -> Option<&Self>;
}

/// Called once per owned kind, with the kind as a type (see [`each_kind`]).
pub trait KindVisitor {
    fn visit<K: OwnedKind>(&mut self);
}

/// Called with the object inside an [`Object`], as its own type (see [`Object::visit`]).
pub trait ObjectVisitor<'o> {
    type Output;
    fn visit<K: OwnedKind>(self, object: &'o K) -> Self::Output;
}

macro_rules! owned_kinds {
    ($($kind:ident: $removal:ident, $on_immutable:ident;)+) => {
        /// One object the shop owns.
        #[derive(Clone, Debug, PartialEq, Serialize)]
        #[serde(untagged)]
        pub enum Object {
            $($kind($kind),)+
        }

        impl Object {
            /// Hands the object, as its own type, to `visitor`.
            pub fn visit<'o, V: ObjectVisitor<'o>>(&'o self, visitor: V) -> V::Output {
                match self {
                    $(Object::$kind(o) => visitor.visit(o),)+
                }
            }
        }

        $(
            impl OwnedKind for $kind {
                const REMOVAL: Removal = Removal::$removal;
                const ON_IMMUTABLE: OnImmutable = OnImmutable::$on_immutable;
                fn into_object(self) -> Object {
                    Object::$kind(self)
                }
                fn in_object(object: &Object) -> Option<&Self> {
                    match object {
                        Object::$kind(o) => Some(o),
                        _ => None,
                    }
                }
            }

            impl From<$kind> for Object {
                fn from(object: $kind) -> Self {
                    Object::$kind(object)
                }
            }
        )+

        /// Hands every owned kind to `visitor`, in the order of the list.
        pub fn each_kind<V: KindVisitor>(visitor: &mut V) {
            $(visitor.visit::<$kind>();)+
        }
    };
}

owned_kinds! {
    Deployment: Swept, Fail;
    StatefulSet: Swept, Recreate;
    Service: Swept, Fail;
    ConfigMap: Swept, Fail;
    // A store switched to `external` and back must find the password its retained volume
    // was initialised with.
    Secret: WithShop, Fail;
    ServiceAccount: Swept, Fail;
    NetworkPolicy: Swept, Fail;
    PodDisruptionBudget: Swept, Fail;
    Ingress: Swept, Fail;
}

impl Object {
    pub fn kind(&self) -> &'static str {
        struct Kind;
        impl ObjectVisitor<'_> for Kind {
            type Output = &'static str;
            fn visit<K: OwnedKind>(self, _: &K) -> &'static str {
                <K as k8s_openapi::Resource>::KIND
            }
        }
        self.visit(Kind)
    }

    pub fn meta(&self) -> &ObjectMeta {
        struct Meta;
        impl<'o> ObjectVisitor<'o> for Meta {
            type Output = &'o ObjectMeta;
            fn visit<K: OwnedKind>(self, object: &'o K) -> &'o ObjectMeta {
                object.meta()
            }
        }
        self.visit(Meta)
    }

    pub fn name(&self) -> &str {
        self.meta().name.as_deref().unwrap_or_default()
    }
}

/// The kinds, as `KIND` names, in the order of the list.
pub fn kinds() -> Vec<&'static str> {
    struct Names(Vec<&'static str>);
    impl KindVisitor for Names {
        fn visit<K: OwnedKind>(&mut self) {
            self.0.push(<K as k8s_openapi::Resource>::KIND);
        }
    }
    let mut names = Names(Vec::new());
    each_kind(&mut names);
    names.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_is_listed_once() {
        let kinds = kinds();
        let unique: std::collections::BTreeSet<_> = kinds.iter().collect();
        assert_eq!(unique.len(), kinds.len(), "{kinds:?}");
        assert_eq!(kinds.len(), 9);
    }

    #[test]
    fn an_object_names_its_own_kind() {
        let object: Object = ConfigMap::default().into();
        assert_eq!(object.kind(), "ConfigMap");
        let object = Secret::default().into_object();
        assert_eq!(object.kind(), "Secret");
    }
}
