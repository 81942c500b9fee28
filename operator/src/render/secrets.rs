//! The shop's Secrets, filled from [`Credentials`](crate::credentials::Credentials): one per
//! store the operator runs (passwords and the URLs services connect with), the
//! gateway's JWK sets and the frontend's CSRF key. A store's Secret is also owned by the
//! store's volume once that exists (see [`VolumeClaims`](super::VolumeClaims)).

use std::collections::BTreeMap;

use k8s_openapi::{
    ByteString,
    api::core::v1::{PersistentVolumeClaim, Secret},
    apimachinery::pkg::apis::meta::v1::OwnerReference,
};

use super::{
    Object, ShopContext,
    component::{App, Component, Store, USER_DATABASES},
    stores,
};
use crate::credentials::keys;

pub fn render(ctx: &ShopContext) -> Vec<Object> {
    let mut objects = Vec::new();
    for store in Store::ALL {
        if ctx.runs(store) {
            objects.push(Object::Secret(component_secret(ctx, store)));
        }
    }
    objects.push(Object::Secret(gateway_keys(ctx)));
    objects.push(Object::Secret(frontend(ctx)));
    objects
}

fn frontend(ctx: &ShopContext) -> Secret {
    secret(
        ctx,
        keys::component_secret(&ctx.name, App::Frontend.name()),
        Component::App(App::Frontend),
        BTreeMap::from([(
            keys::CSRF_SECRET.to_owned(),
            ctx.credentials.frontend_csrf.clone(),
        )]),
    )
}

fn secret(
    ctx: &ShopContext,
    name: String,
    component: Component,
    data: BTreeMap<String, String>,
) -> Secret {
    Secret {
        metadata: ctx.meta(name, ctx.component_labels(component)),
        type_: Some("Opaque".into()),
        // `data`, not `stringData`: the API server never returns stringData, so a server-side
        // apply of it would look like a change on every reconcile.
        data: Some(
            data.into_iter()
                .map(|(k, v)| (k, ByteString(v.into_bytes())))
                .collect(),
        ),
        ..Secret::default()
    }
}

fn component_secret(ctx: &ShopContext, store: Store) -> Secret {
    let creds = ctx.credentials;
    let host = ctx.store_host(store);
    let port = store.port();
    let data: BTreeMap<String, String> = match store {
        Store::UserDb => {
            let mut data = BTreeMap::from([(
                keys::SUPERUSER_PASSWORD.to_owned(),
                creds.user_db_superuser.clone(),
            )]);
            for (db, _) in USER_DATABASES {
                let password = &creds.user_db_roles[db];
                data.insert(keys::role_password(db), password.clone());
                data.insert(
                    keys::database_url(db),
                    format!("postgres://{db}:{password}@{host}:{port}/{db}"),
                );
            }
            data
        }
        Store::CatalogDb => BTreeMap::from([
            (keys::PASSWORD.to_owned(), creds.catalog_db.clone()),
            (
                keys::URL.to_owned(),
                format!(
                    "postgres://catalog:{}@{host}:{port}/catalog",
                    creds.catalog_db
                ),
            ),
        ]),
        Store::Redis => BTreeMap::from([
            (keys::PASSWORD.to_owned(), creds.redis.clone()),
            (
                keys::URL.to_owned(),
                format!("redis://:{}@{host}:{port}/0", creds.redis),
            ),
        ]),
        Store::Rabbitmq => BTreeMap::from([
            (keys::PASSWORD.to_owned(), creds.rabbitmq.clone()),
            (
                keys::URL.to_owned(),
                format!("amqp://microshop:{}@{host}:{port}/%2f", creds.rabbitmq),
            ),
        ]),
    };
    let mut secret = secret(
        ctx,
        keys::component_secret(&ctx.name, store.name()),
        Component::Store(store),
        data,
    );
    if let Some(volume) = volume_owner(ctx, store) {
        secret
            .metadata
            .owner_references
            .get_or_insert_default()
            .push(volume);
    }
    secret
}

/// A second owner for a store's Secret: its data volume, when it exists. The garbage
/// collector deletes an object only once all its owners are gone, so a volume retained
/// after the Shop keeps the passwords it was initialised with. Not the controller, and not
/// blocking: the Shop stays the one that manages the Secret.
fn volume_owner(ctx: &ShopContext, store: Store) -> Option<OwnerReference> {
    let name = stores::claim_name(ctx, store);
    let uid = ctx.volume_claims.get(&name)?;
    Some(OwnerReference {
        api_version: <PersistentVolumeClaim as k8s_openapi::Resource>::API_VERSION.into(),
        kind: <PersistentVolumeClaim as k8s_openapi::Resource>::KIND.into(),
        name,
        uid: uid.clone(),
        controller: None,
        block_owner_deletion: None,
    })
}

fn gateway_keys(ctx: &ShopContext) -> Secret {
    let keys_ = &ctx.credentials.gateway_keys;
    secret(
        ctx,
        keys::gateway_secret(&ctx.name),
        Component::App(App::Gateway),
        BTreeMap::from([
            (keys::PRIVATE_JWKS.to_owned(), keys_.private_jwks.clone()),
            (keys::PUBLIC_JWKS.to_owned(), keys_.public_jwks.clone()),
        ]),
    )
}
