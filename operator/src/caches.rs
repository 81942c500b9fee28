//! The controller's own caches of what the shops own: one reflector store per swept kind,
//! filled by the very watches that wake the controller. A reconcile reads them for the
//! status and for the sweep instead of listing every kind again.

use std::{
    any::{Any, TypeId},
    collections::HashMap,
    sync::Arc,
};

use futures::{FutureExt, future::BoxFuture};
use kube::{
    Api, Client, ResourceExt,
    runtime::{
        Controller, WatchStreamExt,
        reflector::{self, Store},
        watcher,
    },
};

use crate::{
    crd::Shop,
    owned::{self, KindVisitor, Object, OwnedKind, Removal},
    render::labels,
};

/// A watch ended before it had listed its kind once (the controller is stopping).
#[derive(Debug, thiserror::Error)]
#[error("the cache of {kind} closed before it was filled")]
pub struct CacheClosed {
    pub kind: &'static str,
}

/// One store per kind that is [`Removal::Swept`]; kinds kept with the shop (Secrets) are
/// watched for changes but not cached.
pub struct Caches {
    stores: HashMap<TypeId, Box<dyn CachedKind>>,
}

/// A `Store<K>` with its kind forgotten, so stores of every kind live in one map.
trait CachedKind: Send + Sync {
    fn kind(&self) -> &'static str;
    fn ready(&self) -> BoxFuture<'_, Result<(), CacheClosed>>;
    fn as_any(&self) -> &dyn Any;
}

impl<K: OwnedKind> CachedKind for Store<K> {
    fn kind(&self) -> &'static str {
        <K as k8s_openapi::Resource>::KIND
    }

    fn ready(&self) -> BoxFuture<'_, Result<(), CacheClosed>> {
        let kind = self.kind();
        self.wait_until_ready()
            .map(move |ready| ready.map_err(|_| CacheClosed { kind }))
            .boxed()
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

impl Caches {
    /// Caches holding exactly `objects`, as if each watch had just listed them: what a
    /// reconcile sees before the controller runs (nothing) and in tests.
    pub fn holding(objects: impl IntoIterator<Item = Object>) -> Self {
        struct Fill {
            objects: Vec<Object>,
            stores: HashMap<TypeId, Box<dyn CachedKind>>,
        }
        impl KindVisitor for Fill {
            fn visit<K: OwnedKind>(&mut self) {
                if K::REMOVAL != Removal::Swept {
                    return;
                }
                let (store, mut writer) = reflector::store::<K>();
                writer.apply_watcher_event(&watcher::Event::Init);
                for object in self.objects.iter().filter_map(K::in_object) {
                    writer.apply_watcher_event(&watcher::Event::InitApply(object.clone()));
                }
                writer.apply_watcher_event(&watcher::Event::InitDone);
                self.stores.insert(TypeId::of::<K>(), Box::new(store));
            }
        }
        let mut fill = Fill {
            objects: objects.into_iter().collect(),
            stores: HashMap::new(),
        };
        owned::each_kind(&mut fill);
        Self {
            stores: fill.stores,
        }
    }

    /// The store of kind `K`; `None` for a kind that is not cached.
    pub fn store<K: OwnedKind>(&self) -> Option<&Store<K>> {
        self.stores
            .get(&TypeId::of::<K>())
            .and_then(|store| store.as_any().downcast_ref())
    }

    /// Waits until every watch has listed its kind once: before that a cache cannot tell
    /// an object that is missing from one not yet seen.
    pub async fn ready(&self) -> Result<(), CacheClosed> {
        for store in self.stores.values() {
            store.ready().await?;
        }
        Ok(())
    }

    /// The cached objects of kind `K` of the shop `shop` in `namespace` (by its instance
    /// label, as the operator labels everything it makes).
    pub fn of_shop<K: OwnedKind>(&self, namespace: &str, shop: &str) -> Vec<Arc<K>> {
        let Some(store) = self.store::<K>() else {
            return Vec::new();
        };
        store.state_filter(|object| {
            object.namespace().as_deref() == Some(namespace)
                && object.labels().get(labels::INSTANCE).map(String::as_str) == Some(shop)
        })
    }

    pub fn kinds(&self) -> Vec<&'static str> {
        let mut kinds: Vec<_> = self.stores.values().map(|store| store.kind()).collect();
        kinds.sort_unstable();
        kinds
    }
}

/// Adds a watch of every owned kind to `controller` (only objects that `config` selects),
/// and returns it with the caches those watches fill as they run.
pub fn watch_owned(
    controller: Controller<Shop>,
    client: &Client,
    namespace: Option<&str>,
    config: &watcher::Config,
) -> (Controller<Shop>, Caches) {
    struct Watch<'a> {
        controller: Option<Controller<Shop>>,
        client: &'a Client,
        namespace: Option<&'a str>,
        config: &'a watcher::Config,
        stores: HashMap<TypeId, Box<dyn CachedKind>>,
    }
    impl KindVisitor for Watch<'_> {
        fn visit<K: OwnedKind>(&mut self) {
            let api: Api<K> = match self.namespace {
                Some(ns) => Api::namespaced(self.client.clone(), ns),
                None => Api::all(self.client.clone()),
            };
            let controller = self.controller.take().expect("one controller throughout");
            let controller = match K::REMOVAL {
                // Metadata only: nothing of a Secret's data stays in the operator.
                Removal::WithShop => controller.owns(api, self.config.clone()),
                Removal::Swept => {
                    let (store, writer) = reflector::store::<K>();
                    self.stores.insert(TypeId::of::<K>(), Box::new(store));
                    let objects = watcher(api, self.config.clone())
                        .default_backoff()
                        // Nothing reads them, and they are most of an object's size.
                        .modify(|object| object.managed_fields_mut().clear())
                        .reflect(writer)
                        .touched_objects();
                    controller.owns_stream(objects)
                }
            };
            self.controller = Some(controller);
        }
    }
    let mut watch = Watch {
        controller: Some(controller),
        client,
        namespace,
        config,
        stores: HashMap::new(),
    };
    owned::each_kind(&mut watch);
    let controller = watch.controller.expect("one controller throughout");
    (
        controller,
        Caches {
            stores: watch.stores,
        },
    )
}

#[cfg(test)]
mod tests {
    use k8s_openapi::{
        api::{
            apps::v1::Deployment,
            core::v1::{ConfigMap, Secret},
        },
        apimachinery::pkg::apis::meta::v1::ObjectMeta,
    };

    use super::*;

    fn deployment(namespace: &str, shop: &str, name: &str) -> Object {
        Deployment {
            metadata: ObjectMeta {
                name: Some(name.into()),
                namespace: Some(namespace.into()),
                labels: Some([(labels::INSTANCE.to_owned(), shop.to_owned())].into()),
                ..ObjectMeta::default()
            },
            ..Deployment::default()
        }
        .into()
    }

    #[test]
    fn every_swept_kind_is_cached_and_secrets_are_not() {
        let caches = Caches::holding([]);
        assert!(caches.store::<Deployment>().is_some());
        assert!(caches.store::<ConfigMap>().is_some());
        assert!(caches.store::<Secret>().is_none());
        assert_eq!(caches.kinds().len(), owned::kinds().len() - 1);
    }

    #[test]
    fn a_shop_sees_only_its_own_objects_in_its_own_namespace() {
        let caches = Caches::holding([
            deployment("shops", "demo", "demo-cart"),
            deployment("shops", "other", "other-cart"),
            deployment("elsewhere", "demo", "demo-cart"),
        ]);
        let names: Vec<String> = caches
            .of_shop::<Deployment>("shops", "demo")
            .iter()
            .map(|d| d.name_any())
            .collect();
        assert_eq!(names, ["demo-cart"]);
    }

    #[tokio::test]
    async fn filled_caches_are_ready() {
        Caches::holding([]).ready().await.unwrap();
    }
}
