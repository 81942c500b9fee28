//! Applying what a Shop renders and sweeping what it no longer renders, for every kind in
//! the list of owned kinds (`crate::owned`), each as its own type.

use std::collections::BTreeSet;

use futures::{FutureExt, future::BoxFuture};
use kube::{
    Client, Resource, ResourceExt,
    api::{Api, DeleteParams, Patch, PatchParams},
};

use crate::{
    caches::Caches,
    controller::Error,
    crd::Shop,
    owned::{self, KindVisitor, Object, ObjectVisitor, OnImmutable, OwnedKind, Removal},
    render::FIELD_MANAGER,
};

pub(crate) fn owned_by<K: Resource>(object: &K, uid: Option<&str>) -> bool {
    let Some(uid) = uid else { return false };
    object.owner_references().iter().any(|r| r.uid == uid)
}

pub(crate) async fn apply_all(
    client: &Client,
    namespace: &str,
    objects: &[Object],
) -> Result<(), Error> {
    struct Apply<'a> {
        client: &'a Client,
        namespace: &'a str,
    }
    impl<'o> ObjectVisitor<'o> for Apply<'o> {
        type Output = BoxFuture<'o, Result<(), Error>>;
        fn visit<K: OwnedKind>(self, object: &'o K) -> Self::Output {
            apply_owned(self.client, self.namespace, object).boxed()
        }
    }
    for object in objects {
        object.visit(Apply { client, namespace }).await?;
    }
    Ok(())
}

/// Server-side apply under our field manager, forced: a `kubectl edit` of a field we own
/// is drift to put back, not a conflict to stop on.
async fn apply<K: OwnedKind>(client: &Client, namespace: &str, object: &K) -> Result<(), Error> {
    let api: Api<K> = Api::namespaced(client.clone(), namespace);
    let name = object.name_any();
    let params = PatchParams::apply(FIELD_MANAGER).force();
    api.patch(&name, &params, &Patch::Apply(object))
        .await
        .map_err(|source| Error::Apply {
            kind: <K as k8s_openapi::Resource>::KIND,
            name,
            source,
        })?;
    Ok(())
}

/// An apply, and for a kind that is [`OnImmutable::Recreate`] (a StatefulSet, whose
/// `volumeClaimTemplates` cannot be patched once a store is given `storage`) an apply
/// refused for an immutable field deletes the object with its pods orphaned and applies
/// it anew; the new one adopts the pods and rolls them onto the claims.
async fn apply_owned<K: OwnedKind>(
    client: &Client,
    namespace: &str,
    object: &K,
) -> Result<(), Error> {
    match apply(client, namespace, object).await {
        Err(Error::Apply {
            source: kube::Error::Api(status),
            name,
            kind,
        }) if status.code == 422 && K::ON_IMMUTABLE == OnImmutable::Recreate => {
            tracing::info!(kind, name = %name, reason = %status.message, "immutable field changed; re-creating");
            let api: Api<K> = Api::namespaced(client.clone(), namespace);
            api.delete(&name, &DeleteParams::orphan())
                .await
                .map_err(|source| Error::Delete { kind, name, source })?;
            apply(client, namespace, object).await
        }
        other => other,
    }
}

/// Deletes this shop's objects that it no longer renders, of every [`Removal::Swept`]
/// kind, as the caches know them; returns `Kind/name` of each one deleted. Objects with the
/// shop's labels but another owner are left alone.
pub(crate) async fn sweep(
    client: &Client,
    caches: &Caches,
    shop: &Shop,
    rendered: &[Object],
) -> Result<Vec<String>, Error> {
    struct Orphans<'a> {
        caches: &'a Caches,
        namespace: String,
        shop: String,
        owner: Option<String>,
        keep: BTreeSet<(&'static str, &'a str)>,
        found: Vec<Object>,
    }
    impl KindVisitor for Orphans<'_> {
        fn visit<K: OwnedKind>(&mut self) {
            if K::REMOVAL != Removal::Swept {
                return;
            }
            let kind = <K as k8s_openapi::Resource>::KIND;
            for object in self.caches.of_shop::<K>(&self.namespace, &self.shop) {
                let name = object.name_any();
                if owned_by(&*object, self.owner.as_deref())
                    && !self.keep.contains(&(kind, name.as_str()))
                {
                    self.found.push(K::clone(&object).into_object());
                }
            }
        }
    }
    let mut orphans = Orphans {
        caches,
        namespace: shop.namespace().unwrap_or_default(),
        shop: shop.name_any(),
        owner: shop.uid(),
        keep: rendered.iter().map(|o| (o.kind(), o.name())).collect(),
        found: Vec::new(),
    };
    owned::each_kind(&mut orphans);

    struct Delete<'a> {
        client: &'a Client,
    }
    impl<'o> ObjectVisitor<'o> for Delete<'o> {
        type Output = BoxFuture<'o, Result<bool, Error>>;
        fn visit<K: OwnedKind>(self, object: &'o K) -> Self::Output {
            delete_owned(self.client, object).boxed()
        }
    }
    let mut deleted = Vec::new();
    for orphan in &orphans.found {
        if orphan.visit(Delete { client }).await? {
            deleted.push(format!("{}/{}", orphan.kind(), orphan.name()));
        }
    }
    Ok(deleted)
}

/// Deletes `object`; false when it was gone already (deleted by someone else first, or a
/// cache that had not caught up with an earlier sweep): the outcome we wanted.
async fn delete_owned<K: OwnedKind>(client: &Client, object: &K) -> Result<bool, Error> {
    let api: Api<K> = Api::namespaced(client.clone(), &object.namespace().unwrap_or_default());
    let name = object.name_any();
    match api.delete(&name, &DeleteParams::background()).await {
        Ok(_) => Ok(true),
        Err(kube::Error::Api(status)) if status.code == 404 => Ok(false),
        Err(source) => Err(Error::Delete {
            kind: <K as k8s_openapi::Resource>::KIND,
            name,
            source,
        }),
    }
}
