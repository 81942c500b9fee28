//! The shop's generated secrets: store passwords and the gateway's signing keys. They are
//! made once, then read back from the cluster on every reconcile and kept, so a store's
//! volume and its password never part ways, not even across a Shop deleted and created
//! again on retained volumes (the volume owns the store's Secret too). This is the only
//! random part of rendering, kept outside the pure [`crate::render::render_shop`].

use std::collections::BTreeMap;

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use ed25519_dalek::SigningKey;
use k8s_openapi::{ByteString, apimachinery::pkg::apis::meta::v1::OwnerReference};
use rand::{Rng, distr::Alphanumeric};
use serde::{Deserialize, Serialize};

use crate::render::{VolumeClaims, component::USER_DATABASES};

/// Data of the shop's existing Secrets, by Secret name then key.
pub type ExistingSecrets = BTreeMap<String, BTreeMap<String, ByteString>>;

/// Length of generated passwords: 32 alphanumerics are ~190 bits and need no escaping in
/// URLs, shell scripts or SQL.
const PASSWORD_LEN: usize = 32;

#[derive(Clone, Debug, PartialEq)]
pub struct Credentials {
    /// The `postgres` superuser's password of `user-db`.
    pub user_db_superuser: String,
    /// Password of each `user-db` database's own role, by database.
    pub user_db_roles: BTreeMap<String, String>,
    pub catalog_db: String,
    pub redis: String,
    pub rabbitmq: String,
    /// Key of the frontend's CSRF tokens, shared by its replicas and kept across restarts.
    pub frontend_csrf: String,
    pub gateway_keys: GatewayKeys,
}

/// The gateway's JWK sets: the signer reads the private one, the validator the public one.
#[derive(Clone, Debug, PartialEq)]
pub struct GatewayKeys {
    pub private_jwks: String,
    pub public_jwks: String,
}

/// Secret names and keys, shared by rendering (which writes them) and resolving (which
/// reads them back).
pub mod keys {
    pub const SUPERUSER_PASSWORD: &str = "postgres-password";
    pub const PASSWORD: &str = "password";
    pub const URL: &str = "url";
    pub const PRIVATE_JWKS: &str = "private.json";
    pub const PUBLIC_JWKS: &str = "public.json";
    pub const CSRF_SECRET: &str = "csrf-secret";

    pub fn role_password(database: &str) -> String {
        format!("{database}-password")
    }

    pub fn database_url(database: &str) -> String {
        format!("{database}-url")
    }

    pub fn component_secret(shop: &str, store: &str) -> String {
        crate::render::object_name(shop, store)
    }

    pub fn gateway_secret(shop: &str) -> String {
        crate::render::object_name(shop, "gateway-jwk")
    }
}

impl Credentials {
    /// Keeps every value `existing` already holds for the shop `shop` and generates the rest.
    pub fn keep_or_generate(shop: &str, existing: &ExistingSecrets) -> Self {
        let read = |store: &str, key: &str| -> Option<String> {
            let value = existing
                .get(&keys::component_secret(shop, store))?
                .get(key)?;
            String::from_utf8(value.0.clone())
                .ok()
                .filter(|s| !s.is_empty())
        };
        let keep = |store: &str, key: &str| read(store, key).unwrap_or_else(password);
        let user_db_roles = USER_DATABASES
            .iter()
            .map(|(db, _)| ((*db).to_owned(), keep("user-db", &keys::role_password(db))))
            .collect();
        let gateway = existing.get(&keys::gateway_secret(shop));
        let gateway_keys = gateway
            .and_then(GatewayKeys::from_secret)
            .unwrap_or_else(GatewayKeys::generate);
        Self {
            user_db_superuser: keep("user-db", keys::SUPERUSER_PASSWORD),
            user_db_roles,
            catalog_db: keep("catalog-db", keys::PASSWORD),
            redis: keep("redis", keys::PASSWORD),
            rabbitmq: keep("rabbitmq", keys::PASSWORD),
            frontend_csrf: keep("frontend", keys::CSRF_SECRET),
            gateway_keys,
        }
    }
}

/// Whether a Secret under the shop's labels, owned by `owners`, holds credentials to keep:
/// one this Shop (`shop_uid`) owns, or one an existing store volume owns, left by an
/// earlier Shop of the same name together with the data its passwords open. Anything
/// else (a Secret of a deleted Shop that the garbage collector has yet to remove) is not
/// read, so its passwords are not taken over.
pub fn kept(owners: &[OwnerReference], shop_uid: Option<&str>, volumes: &VolumeClaims) -> bool {
    owners.iter().any(|owner| {
        shop_uid == Some(owner.uid.as_str())
            || (owner.kind == "PersistentVolumeClaim"
                && volumes.get(&owner.name) == Some(&owner.uid))
    })
}

fn password() -> String {
    rand::rng()
        .sample_iter(Alphanumeric)
        .take(PASSWORD_LEN)
        .map(char::from)
        .collect()
}

#[derive(Serialize, Deserialize)]
struct JwkSet {
    keys: Vec<Jwk>,
}

/// An Ed25519 key as a JWK (RFC 8037): `x` the public key, `d` the private seed.
#[derive(Serialize, Deserialize)]
struct Jwk {
    kty: String,
    crv: String,
    x: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    d: Option<String>,
    kid: String,
    alg: String,
    #[serde(rename = "use")]
    use_: String,
}

impl Jwk {
    fn is_ed25519(&self) -> bool {
        self.kty == "OKP" && self.crv == "Ed25519" && self.alg == "EdDSA" && self.kid == KEY_ID
    }
}

/// The `kid` of the gateway's key, which the signer names in `krakend/`'s settings. One
/// key per shop, so a fixed id is enough; a rotation would add a second id.
pub const KEY_ID: &str = "microshop-gateway";

impl GatewayKeys {
    /// A fresh Ed25519 key pair (the signer's `EdDSA`).
    pub fn generate() -> Self {
        let seed: [u8; 32] = rand::rng().random();
        let signing = SigningKey::from_bytes(&seed);
        let public = Jwk {
            kty: "OKP".into(),
            crv: "Ed25519".into(),
            x: URL_SAFE_NO_PAD.encode(signing.verifying_key().as_bytes()),
            d: None,
            kid: KEY_ID.into(),
            alg: "EdDSA".into(),
            use_: "sig".into(),
        };
        let private = Jwk {
            d: Some(URL_SAFE_NO_PAD.encode(seed)),
            ..clone_public(&public)
        };
        let set = |key: Jwk| {
            serde_json::to_string_pretty(&JwkSet { keys: vec![key] })
                .expect("a JWK set always serialises")
        };
        Self {
            private_jwks: set(private),
            public_jwks: set(public),
        }
    }

    /// The key pair a Secret already holds, if both halves are there and are the pair
    /// the gateway's configuration expects (an older ES256 pair is replaced).
    fn from_secret(data: &BTreeMap<String, ByteString>) -> Option<Self> {
        let read = |key: &str| String::from_utf8(data.get(key)?.0.clone()).ok();
        let keys = Self {
            private_jwks: read(keys::PRIVATE_JWKS)?,
            public_jwks: read(keys::PUBLIC_JWKS)?,
        };
        keys.pair_matches().then_some(keys)
    }

    /// Whether the private set's key is the one the public set publishes, and the public
    /// set holds no private part.
    pub fn pair_matches(&self) -> bool {
        let first = |text: &str| {
            serde_json::from_str::<JwkSet>(text)
                .ok()
                .and_then(|set| set.keys.into_iter().next())
                .filter(Jwk::is_ed25519)
        };
        let (Some(private), Some(public)) = (first(&self.private_jwks), first(&self.public_jwks))
        else {
            return false;
        };
        let seed = private
            .d
            .as_deref()
            .and_then(|d| URL_SAFE_NO_PAD.decode(d).ok())
            .and_then(|d| <[u8; 32]>::try_from(d).ok());
        let Some(seed) = seed else {
            return false;
        };
        let derived =
            URL_SAFE_NO_PAD.encode(SigningKey::from_bytes(&seed).verifying_key().as_bytes());
        public.d.is_none() && private.x == public.x && derived == public.x
    }
}

fn clone_public(key: &Jwk) -> Jwk {
    Jwk {
        kty: key.kty.clone(),
        crv: key.crv.clone(),
        x: key.x.clone(),
        d: None,
        kid: key.kid.clone(),
        alg: key.alg.clone(),
        use_: key.use_.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes(s: &str) -> ByteString {
        ByteString(s.as_bytes().to_vec())
    }

    fn owner(kind: &str, name: &str, uid: &str) -> OwnerReference {
        OwnerReference {
            api_version: "v1".into(),
            kind: kind.into(),
            name: name.into(),
            uid: uid.into(),
            ..OwnerReference::default()
        }
    }

    #[test]
    fn a_secret_is_kept_when_the_shop_or_an_existing_volume_owns_it() {
        let volumes = VolumeClaims::from([("data-demo-redis-0".into(), "pvc-1".into())]);
        let shop = owner("Shop", "demo", "shop-2");
        let volume = owner("PersistentVolumeClaim", "data-demo-redis-0", "pvc-1");
        let earlier_shop = owner("Shop", "demo", "shop-1");
        assert!(kept(std::slice::from_ref(&shop), Some("shop-2"), &volumes));
        // Left by an earlier Shop, with the volume the new one finds.
        assert!(kept(
            &[earlier_shop.clone(), volume.clone()],
            Some("shop-2"),
            &volumes
        ));
        assert!(kept(
            std::slice::from_ref(&volume),
            Some("shop-2"),
            &volumes
        ));
        // Only an earlier Shop's: the collector is about to remove it.
        assert!(!kept(&[earlier_shop], Some("shop-2"), &volumes));
        // A volume since deleted and made again has another uid: fresh data, fresh passwords.
        let remade = VolumeClaims::from([("data-demo-redis-0".into(), "pvc-9".into())]);
        assert!(!kept(&[volume], Some("shop-2"), &remade));
        assert!(!kept(&[], Some("shop-2"), &volumes));
    }

    #[test]
    fn generates_distinct_alphanumeric_passwords() {
        let creds = Credentials::keep_or_generate("demo", &ExistingSecrets::new());
        let all = [
            &creds.catalog_db,
            &creds.redis,
            &creds.rabbitmq,
            &creds.user_db_superuser,
        ];
        for p in all {
            assert_eq!(p.len(), PASSWORD_LEN);
            assert!(p.chars().all(|c| c.is_ascii_alphanumeric()));
        }
        assert_ne!(creds.redis, creds.rabbitmq);
        assert_eq!(creds.user_db_roles.len(), USER_DATABASES.len());
    }

    #[test]
    fn keeps_what_exists_and_fills_only_the_gaps() {
        let first = Credentials::keep_or_generate("demo", &ExistingSecrets::new());
        let mut existing = ExistingSecrets::new();
        existing.insert(
            "demo-redis".into(),
            BTreeMap::from([("password".into(), bytes(&first.redis))]),
        );
        existing.insert(
            "demo-gateway-jwk".into(),
            BTreeMap::from([
                (
                    "private.json".into(),
                    bytes(&first.gateway_keys.private_jwks),
                ),
                ("public.json".into(), bytes(&first.gateway_keys.public_jwks)),
            ]),
        );
        let second = Credentials::keep_or_generate("demo", &existing);
        assert_eq!(second.redis, first.redis);
        assert_eq!(second.gateway_keys, first.gateway_keys);
        assert_ne!(
            second.rabbitmq, first.rabbitmq,
            "absent values are generated"
        );
    }

    #[test]
    fn another_shops_secrets_are_not_taken() {
        let mut existing = ExistingSecrets::new();
        existing.insert(
            "other-redis".into(),
            BTreeMap::from([("password".into(), bytes("not-mine"))]),
        );
        let creds = Credentials::keep_or_generate("demo", &existing);
        assert_ne!(creds.redis, "not-mine");
    }

    #[test]
    fn gateway_key_sets_are_a_matching_ed25519_pair() {
        let keys = GatewayKeys::generate();
        assert!(keys.pair_matches());
        assert_ne!(GatewayKeys::generate(), keys, "each pair is new");
        let public: serde_json::Value = serde_json::from_str(&keys.public_jwks).unwrap();
        let key = &public["keys"][0];
        assert_eq!(key["kty"], "OKP");
        assert_eq!(key["crv"], "Ed25519");
        assert_eq!(key["alg"], "EdDSA");
        assert_eq!(key["kid"], KEY_ID);
        assert!(
            key.get("d").is_none(),
            "the public set must not carry the private key"
        );
        let private: serde_json::Value = serde_json::from_str(&keys.private_jwks).unwrap();
        assert!(private["keys"][0].get("d").is_some());
    }

    #[test]
    fn a_damaged_key_secret_is_replaced_by_a_fresh_pair() {
        let mut existing = ExistingSecrets::new();
        existing.insert(
            "demo-gateway-jwk".into(),
            BTreeMap::from([("private.json".into(), bytes("{not json"))]),
        );
        let creds = Credentials::keep_or_generate("demo", &existing);
        assert!(creds.gateway_keys.pair_matches());
    }

    #[test]
    fn a_pair_whose_halves_differ_is_replaced() {
        let (one, two) = (GatewayKeys::generate(), GatewayKeys::generate());
        let mixed = GatewayKeys {
            private_jwks: one.private_jwks.clone(),
            public_jwks: two.public_jwks.clone(),
        };
        assert!(!mixed.pair_matches());
        let mut existing = ExistingSecrets::new();
        existing.insert(
            "demo-gateway-jwk".into(),
            BTreeMap::from([
                ("private.json".into(), bytes(&mixed.private_jwks)),
                ("public.json".into(), bytes(&mixed.public_jwks)),
            ]),
        );
        let creds = Credentials::keep_or_generate("demo", &existing);
        assert!(creds.gateway_keys.pair_matches());
        assert_ne!(creds.gateway_keys, mixed);
    }
}
