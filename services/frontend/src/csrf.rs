//! CSRF protection: every form carries `csrf_token` = HMAC-SHA256(secret, session id),
//! and every POST is checked by [`require_token`] before any handler runs, so no handler
//! can forget. The token is bound to the visitor's session cookie, which another site
//! can neither read nor set.

use std::sync::Arc;

use axum::{
    body::{Body, to_bytes},
    extract::{Request, State},
    http::{Method, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use uuid::Uuid;

use crate::{error::PageError, session::Visitor};

/// The form field that carries the token.
pub const FIELD: &str = "csrf_token";

/// The HMAC key tokens are made with.
#[derive(Clone)]
pub struct CsrfKey(Arc<[u8]>);

impl std::fmt::Debug for CsrfKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CsrfKey(..)")
    }
}

impl CsrfKey {
    pub fn from_secret(secret: &str) -> Self {
        Self(secret.as_bytes().into())
    }

    /// A key of 32 random bytes: forms rendered by another replica or before a restart
    /// no longer verify, so set `CSRF_SECRET` when running more than one.
    pub fn random() -> Self {
        Self(rand::random::<[u8; 32]>().to_vec().into())
    }

    fn mac(&self, session: Uuid) -> Hmac<Sha256> {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC accepts keys of any length");
        mac.update(session.as_bytes());
        mac
    }

    /// The token for a session's forms, hex.
    pub fn token(&self, session: Uuid) -> String {
        hex::encode(self.mac(session).finalize().into_bytes())
    }

    /// Whether `token` was made for `session` with this key, compared in constant time.
    pub fn verify(&self, session: Uuid, token: &str) -> bool {
        match hex::decode(token) {
            Ok(bytes) => self.mac(session).verify_slice(&bytes).is_ok(),
            Err(_) => false,
        }
    }
}

/// Refuses any POST whose url-encoded body lacks a valid `csrf_token` with a 403 page;
/// the body is read once here and handed on unchanged.
pub async fn require_token(
    State((key, limit)): State<(CsrfKey, usize)>,
    request: Request,
    next: Next,
) -> Response {
    if request.method() != Method::POST {
        return next.run(request).await;
    }
    let Some(visitor) = request.extensions().get::<Visitor>().cloned() else {
        return PageError::Forbidden.into_response();
    };
    let is_form = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    let (parts, body) = request.into_parts();
    let Ok(bytes) = to_bytes(body, limit).await else {
        return PageError::BadForm("The form was too large.".into()).into_response();
    };
    let token = form_urlencoded_value(&bytes, FIELD);
    if !is_form || !token.is_some_and(|t| key.verify(visitor.session, &t)) {
        tracing::info!(http.route = %parts.uri.path(), "refused a POST without a valid CSRF token");
        return PageError::Forbidden.into_response();
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

fn form_urlencoded_value(body: &[u8], name: &str) -> Option<String> {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(body)
        .ok()?
        .into_iter()
        .find_map(|(k, v)| (k == name).then_some(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_verifies_for_its_own_session() {
        let key = CsrfKey::from_secret("test secret");
        let session = Uuid::new_v4();
        let token = key.token(session);
        assert_eq!(token.len(), 64, "hex of 32 bytes");
        assert!(key.verify(session, &token));
        assert_eq!(token, key.token(session), "stable for a session");
    }

    #[test]
    fn a_token_is_refused_for_another_session() {
        let key = CsrfKey::from_secret("test secret");
        let token = key.token(Uuid::new_v4());
        assert!(!key.verify(Uuid::new_v4(), &token));
    }

    #[test]
    fn tampered_or_foreign_tokens_are_refused() {
        let key = CsrfKey::from_secret("test secret");
        let session = Uuid::new_v4();
        let token = key.token(session);
        let mut flipped = token.clone().into_bytes();
        flipped[0] = if flipped[0] == b'a' { b'b' } else { b'a' };
        let cases = [
            (String::from_utf8(flipped).unwrap(), "one character changed"),
            (token[..62].to_owned(), "truncated"),
            (format!("{token}00"), "extended"),
            ("not hex at all".to_owned(), "not hex"),
            (String::new(), "empty"),
            (
                CsrfKey::from_secret("another secret").token(session),
                "made with another key",
            ),
            (CsrfKey::random().token(session), "made with a random key"),
        ];
        for (candidate, why) in cases {
            assert!(!key.verify(session, &candidate), "{why}");
        }
    }

    #[test]
    fn the_token_is_found_in_a_form_body() {
        let body = b"quantity=2&csrf_token=abc%20d&x=1";
        assert_eq!(form_urlencoded_value(body, FIELD).as_deref(), Some("abc d"));
        assert_eq!(form_urlencoded_value(b"quantity=2", FIELD), None);
    }
}
