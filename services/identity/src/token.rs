//! The claims of an access token, unsigned: the gateway's `auth/signer` signs the
//! `access_token` object of the answer, so identity never holds a key.

use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;
use uuid::Uuid;

#[derive(Debug, Clone, clap::Args)]
pub struct TokenConfig {
    /// `iss` claim; the gateway's validator must expect the same.
    #[arg(
        long = "token-issuer",
        env = "TOKEN_ISSUER",
        default_value = "microshop"
    )]
    pub issuer: String,
    /// `aud` claim; the gateway's validator must expect the same.
    #[arg(
        long = "token-audience",
        env = "TOKEN_AUDIENCE",
        default_value = "microshop"
    )]
    pub audience: String,
    /// Token lifetime in seconds (one minute to one day).
    #[arg(
        long = "token-ttl-secs",
        env = "TOKEN_TTL_SECS",
        default_value_t = 3600,
        value_parser = clap::value_parser!(u64).range(60..=86_400)
    )]
    pub ttl_secs: u64,
}

impl Default for TokenConfig {
    fn default() -> Self {
        Self {
            issuer: "microshop".into(),
            audience: "microshop".into(),
            ttl_secs: 3600,
        }
    }
}

/// Who the token is for, as the gateway propagates it (`sub` becomes `X-User-Id`).
#[derive(Debug, Clone, Serialize)]
pub struct Claims {
    pub sub: Uuid,
    pub email: String,
    pub name: String,
    pub roles: Vec<&'static str>,
    pub iat: u64,
    /// Always set: the gateway's validator accepts a token without `exp` forever.
    pub exp: u64,
    pub iss: String,
    pub aud: String,
}

/// The answer to register and login, in the shape the gateway's signer expects.
#[derive(Debug, Clone, Serialize)]
pub struct TokenResponse {
    pub access_token: Claims,
    pub expires_in: u64,
}

/// The account a token is issued to.
pub struct Subject<'a> {
    pub id: Uuid,
    pub email: &'a str,
    pub name: &'a str,
}

pub fn issue(config: &TokenConfig, subject: &Subject<'_>, now: SystemTime) -> TokenResponse {
    let iat = now
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_secs());
    TokenResponse {
        access_token: Claims {
            sub: subject.id,
            email: subject.email.to_owned(),
            name: subject.name.to_owned(),
            roles: vec!["customer"],
            iat,
            exp: iat + config.ttl_secs,
            iss: config.issuer.clone(),
            aud: config.audience.clone(),
        },
        expires_in: config.ttl_secs,
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn claims_expire_after_the_configured_lifetime() {
        let config = TokenConfig {
            issuer: "shop".into(),
            audience: "web".into(),
            ttl_secs: 900,
        };
        let id = Uuid::new_v4();
        let subject = Subject {
            id,
            email: "Ada@example.org",
            name: "Ada",
        };
        let now = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let json = serde_json::to_value(issue(&config, &subject, now)).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "access_token": {
                    "sub": id.to_string(),
                    "email": "Ada@example.org",
                    "name": "Ada",
                    "roles": ["customer"],
                    "iat": 1_800_000_000u64,
                    "exp": 1_800_000_900u64,
                    "iss": "shop",
                    "aud": "web",
                },
                "expires_in": 900,
            })
        );
    }
}
