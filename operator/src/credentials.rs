//! The shop's generated secrets: store passwords and the gateway's signing keys. They are
//! made once, then read back from the cluster on every reconcile and kept, so a store's
//! volume and its password never part ways. This is the only random part of rendering,
//! kept outside the pure [`crate::render::render_shop`].

use std::collections::BTreeMap;

use k8s_openapi::ByteString;
use p256::{SecretKey, elliptic_curve::JwkEcKey, elliptic_curve::rand_core::OsRng};
use rand::{Rng, distr::Alphanumeric};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::render::component::USER_DATABASES;

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
        format!("{shop}-{store}")
    }

    pub fn gateway_secret(shop: &str) -> String {
        format!("{shop}-gateway-jwk")
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

#[derive(Serialize, Deserialize)]
struct Jwk {
    #[serde(flatten)]
    key: JwkEcKey,
    kid: String,
    alg: String,
    #[serde(rename = "use")]
    use_: String,
}

impl GatewayKeys {
    /// A fresh ES256 (P-256) key pair.
    pub fn generate() -> Self {
        let secret = SecretKey::random(&mut OsRng);
        let public = secret.public_key().to_jwk();
        // The kid is derived from the public key, so both sets name the same key.
        let kid = {
            let digest = Sha256::digest(public.to_string().as_bytes());
            let hex: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
            format!("microshop-{hex}")
        };
        let set = |key: JwkEcKey| {
            let set = JwkSet {
                keys: vec![Jwk {
                    key,
                    kid: kid.clone(),
                    alg: "ES256".into(),
                    use_: "sig".into(),
                }],
            };
            serde_json::to_string_pretty(&set).expect("a JWK set always serialises")
        };
        Self {
            private_jwks: set(secret.to_jwk()),
            public_jwks: set(public),
        }
    }

    /// The key pair a Secret already holds, if both halves are there and well formed.
    fn from_secret(data: &BTreeMap<String, ByteString>) -> Option<Self> {
        let read = |key: &str| {
            let text = String::from_utf8(data.get(key)?.0.clone()).ok()?;
            serde_json::from_str::<JwkSet>(&text).ok()?;
            Some(text)
        };
        Some(Self {
            private_jwks: read(keys::PRIVATE_JWKS)?,
            public_jwks: read(keys::PUBLIC_JWKS)?,
        })
    }

    /// Whether the private set's key is the one the public set publishes.
    pub fn pair_matches(&self) -> bool {
        let parse = |text: &str| serde_json::from_str::<JwkSet>(text).ok();
        let (Some(private), Some(public)) = (parse(&self.private_jwks), parse(&self.public_jwks))
        else {
            return false;
        };
        let (Some(private), Some(public)) = (private.keys.first(), public.keys.first()) else {
            return false;
        };
        let Ok(secret) = SecretKey::from_jwk(&private.key) else {
            return false;
        };
        public.key.to_secret_key::<p256::NistP256>().is_err()
            && private.kid == public.kid
            && secret.public_key().to_jwk() == public.key
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes(s: &str) -> ByteString {
        ByteString(s.as_bytes().to_vec())
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
    fn gateway_key_sets_are_a_matching_es256_pair() {
        let keys = GatewayKeys::generate();
        assert!(keys.pair_matches());
        let public: serde_json::Value = serde_json::from_str(&keys.public_jwks).unwrap();
        let key = &public["keys"][0];
        assert_eq!(key["kty"], "EC");
        assert_eq!(key["crv"], "P-256");
        assert_eq!(key["alg"], "ES256");
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
}
