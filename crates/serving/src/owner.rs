//! Whose request it is, from the headers the gateway sets: `X-User-Id` for a signed-in
//! shopper, else `X-Session-Id` for an anonymous one. Cart keys carts by it; checkout
//! reads and empties that cart and records the user.

use std::fmt;

use axum::{
    extract::FromRequestParts,
    http::{HeaderMap, HeaderName, request::Parts},
};
use uuid::Uuid;

use crate::Problem;

pub const USER_HEADER: &str = "X-User-Id";
pub const SESSION_HEADER: &str = "X-Session-Id";

/// A shopper; its `Display` (`u:{uuid}` or `s:{uuid}`) names a cart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    User(Uuid),
    Session(Uuid),
}

impl Owner {
    /// A present `X-User-Id` wins. A present but malformed header is refused rather than
    /// skipped: the gateway sends a missing claim as an empty header, and falling back to
    /// the session would put a signed-in shopper's lines in an anonymous cart.
    pub fn from_headers(headers: &HeaderMap) -> Result<Self, HeaderError> {
        if let Some(user) = uuid_header(headers, USER_HEADER)? {
            return Ok(Self::User(user));
        }
        uuid_header(headers, SESSION_HEADER)?
            .map(Self::Session)
            .ok_or(HeaderError::Missing(SESSION_HEADER))
    }

    pub fn user_id(self) -> Option<Uuid> {
        match self {
            Self::User(id) => Some(id),
            Self::Session(_) => None,
        }
    }

    /// The header that names this owner to another service.
    pub fn header(self) -> (HeaderName, String) {
        match self {
            Self::User(id) => (HeaderName::from_static("x-user-id"), id.to_string()),
            Self::Session(id) => (HeaderName::from_static("x-session-id"), id.to_string()),
        }
    }

    /// The owner for logs: session ids open a cart to whoever holds them, so only a
    /// prefix is shown.
    pub fn for_logs(&self) -> String {
        match self {
            Self::User(id) => format!("u:{id}"),
            Self::Session(id) => format!("s:{}…", &id.simple().to_string()[..8]),
        }
    }
}

impl fmt::Display for Owner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Hyphenated lower case whatever form the header used, so one id is one key.
        match self {
            Self::User(id) => write!(f, "u:{}", id.hyphenated()),
            Self::Session(id) => write!(f, "s:{}", id.hyphenated()),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Owner {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Problem> {
        Ok(Self::from_headers(&parts.headers)?)
    }
}

/// The signed-in user, when the gateway said so; for reads, where a session is not needed.
pub struct MaybeUser(pub Option<Uuid>);

impl<S: Send + Sync> FromRequestParts<S> for MaybeUser {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Problem> {
        Ok(MaybeUser(uuid_header(&parts.headers, USER_HEADER)?))
    }
}

/// Why the owner headers name no owner.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum HeaderError {
    #[error("the {0} header is required")]
    Missing(&'static str),
    #[error("the {0} header must be a UUID")]
    NotUuid(&'static str),
}

impl From<HeaderError> for Problem {
    fn from(err: HeaderError) -> Self {
        match err {
            HeaderError::Missing(name) => Problem::missing_header(name),
            HeaderError::NotUuid(name) => Problem::invalid_header(name, err.to_string()),
        }
    }
}

/// The header's UUID; `None` when absent.
pub fn uuid_header(headers: &HeaderMap, name: &'static str) -> Result<Option<Uuid>, HeaderError> {
    let Some(value) = headers.get(name) else {
        return Ok(None);
    };
    value
        .to_str()
        .ok()
        .and_then(|text| Uuid::parse_str(text.trim()).ok())
        .map(Some)
        .ok_or(HeaderError::NotUuid(name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    const USER: &str = "6f1c1f5e-3a0b-4c2e-9d57-0c6b9a3f2e11";
    const SESSION: &str = "0b9e7d2a-58c4-4f13-a1e6-7d3f5c2b8a90";

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn the_user_header_wins_over_the_session_header() {
        let owner =
            Owner::from_headers(&headers(&[(USER_HEADER, USER), (SESSION_HEADER, SESSION)]));
        assert_eq!(owner.unwrap().to_string(), format!("u:{USER}"));
        let owner = Owner::from_headers(&headers(&[(SESSION_HEADER, SESSION)]));
        assert_eq!(owner.unwrap().to_string(), format!("s:{SESSION}"));
    }

    #[test]
    fn one_uuid_is_one_owner_whatever_its_spelling() {
        let upper = SESSION.to_uppercase();
        let simple = SESSION.replace('-', "");
        for spelling in [upper.as_str(), simple.as_str()] {
            let owner = Owner::from_headers(&headers(&[(SESSION_HEADER, spelling)]));
            assert_eq!(
                owner.unwrap().to_string(),
                format!("s:{SESSION}"),
                "{spelling}"
            );
        }
    }

    #[test]
    fn bad_owner_headers_are_400s_naming_the_header() {
        let cases = [
            (headers(&[]), SESSION_HEADER, "neither header"),
            (
                headers(&[(SESSION_HEADER, "abc")]),
                SESSION_HEADER,
                "not a UUID",
            ),
            (
                headers(&[(USER_HEADER, "")]),
                USER_HEADER,
                "an empty claim header",
            ),
            (
                headers(&[(USER_HEADER, ""), (SESSION_HEADER, SESSION)]),
                USER_HEADER,
                "an empty claim is not skipped",
            ),
            (
                headers(&[(USER_HEADER, "42"), (SESSION_HEADER, SESSION)]),
                USER_HEADER,
                "a bad user id is not skipped",
            ),
        ];
        for (headers, field, why) in cases {
            let problem = Problem::from(Owner::from_headers(&headers).unwrap_err());
            assert_eq!(problem.status, 400, "{why}");
            assert_eq!(problem.field.as_deref(), Some(field), "{why}");
        }
    }

    #[test]
    fn the_owner_names_itself_to_other_services() {
        let user = Uuid::parse_str(USER).unwrap();
        assert_eq!(Owner::User(user).user_id(), Some(user));
        assert_eq!(
            Owner::User(user).header(),
            (HeaderName::from_static("x-user-id"), USER.to_owned())
        );
        let session = Owner::Session(Uuid::parse_str(SESSION).unwrap());
        assert_eq!(session.user_id(), None);
        assert_eq!(
            session.header(),
            (HeaderName::from_static("x-session-id"), SESSION.to_owned())
        );
    }

    #[test]
    fn logs_show_only_a_prefix_of_a_session_id() {
        let owner = Owner::Session(Uuid::parse_str(SESSION).unwrap());
        assert_eq!(owner.for_logs(), "s:0b9e7d2a…");
    }
}
