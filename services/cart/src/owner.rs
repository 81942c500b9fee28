//! Whose cart a request is about, from the headers the gateway sets: `X-User-Id` for a
//! signed-in shopper, else `X-Session-Id` for an anonymous one.

use std::fmt;

use axum::{
    extract::FromRequestParts,
    http::{HeaderMap, StatusCode, request::Parts},
};
use serving::Problem;
use uuid::Uuid;

pub const USER_HEADER: &str = "X-User-Id";
pub const SESSION_HEADER: &str = "X-Session-Id";

/// The owner of a cart; its `Display` is the owner part of the Redis key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CartOwner {
    User(Uuid),
    Session(Uuid),
}

impl CartOwner {
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

    /// The owner for logs: session ids open a cart to whoever holds them, so only a
    /// prefix is shown.
    pub fn for_logs(&self) -> String {
        match self {
            Self::User(id) => format!("u:{id}"),
            Self::Session(id) => format!("s:{}…", &id.simple().to_string()[..8]),
        }
    }
}

impl fmt::Display for CartOwner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Hyphenated lower case whatever form the header used, so one id is one key.
        match self {
            Self::User(id) => write!(f, "u:{}", id.hyphenated()),
            Self::Session(id) => write!(f, "s:{}", id.hyphenated()),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for CartOwner {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Problem> {
        Ok(Self::from_headers(&parts.headers)?)
    }
}

/// The two carts a sign-in merges: the anonymous session's into the user's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MergeOwners {
    pub user: CartOwner,
    pub session: CartOwner,
}

impl MergeOwners {
    pub fn from_headers(headers: &HeaderMap) -> Result<Self, HeaderError> {
        let user = uuid_header(headers, USER_HEADER)?.ok_or(HeaderError::Missing(USER_HEADER))?;
        let session =
            uuid_header(headers, SESSION_HEADER)?.ok_or(HeaderError::Missing(SESSION_HEADER))?;
        Ok(Self {
            user: CartOwner::User(user),
            session: CartOwner::Session(session),
        })
    }
}

impl<S: Send + Sync> FromRequestParts<S> for MergeOwners {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Problem> {
        Ok(Self::from_headers(&parts.headers)?)
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
            HeaderError::NotUuid(name) => Problem::new(
                StatusCode::BAD_REQUEST,
                "invalid-header",
                "A header is invalid",
            )
            .with_field(name)
            .with_detail(err.to_string()),
        }
    }
}

/// The header's UUID; `None` when absent.
fn uuid_header(headers: &HeaderMap, name: &'static str) -> Result<Option<Uuid>, HeaderError> {
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
            CartOwner::from_headers(&headers(&[(USER_HEADER, USER), (SESSION_HEADER, SESSION)]));
        assert_eq!(owner.unwrap().to_string(), format!("u:{USER}"));
        let owner = CartOwner::from_headers(&headers(&[(SESSION_HEADER, SESSION)]));
        assert_eq!(owner.unwrap().to_string(), format!("s:{SESSION}"));
    }

    #[test]
    fn one_uuid_is_one_owner_whatever_its_spelling() {
        let upper = SESSION.to_uppercase();
        let simple = SESSION.replace('-', "");
        for spelling in [upper.as_str(), simple.as_str()] {
            let owner = CartOwner::from_headers(&headers(&[(SESSION_HEADER, spelling)]));
            assert_eq!(
                owner.unwrap().to_string(),
                format!("s:{SESSION}"),
                "{spelling}"
            );
        }
    }

    #[test]
    fn bad_owner_headers_are_problems_naming_the_header() {
        let cases = [
            (headers(&[]), 400, SESSION_HEADER, "neither header"),
            (
                headers(&[(SESSION_HEADER, "abc")]),
                400,
                SESSION_HEADER,
                "not a UUID",
            ),
            (
                headers(&[(USER_HEADER, "")]),
                400,
                USER_HEADER,
                "an empty claim header",
            ),
            (
                headers(&[(USER_HEADER, "42"), (SESSION_HEADER, SESSION)]),
                400,
                USER_HEADER,
                "a bad user id is not skipped",
            ),
        ];
        for (headers, status, field, why) in cases {
            let problem = Problem::from(CartOwner::from_headers(&headers).unwrap_err());
            assert_eq!(problem.status, status, "{why}");
            assert_eq!(problem.field.as_deref(), Some(field), "{why}");
        }
    }

    #[test]
    fn merging_needs_both_owners() {
        let both =
            MergeOwners::from_headers(&headers(&[(USER_HEADER, USER), (SESSION_HEADER, SESSION)]));
        let both = both.unwrap();
        assert_eq!(both.user.to_string(), format!("u:{USER}"));
        assert_eq!(both.session.to_string(), format!("s:{SESSION}"));
        let no_user = MergeOwners::from_headers(&headers(&[(SESSION_HEADER, SESSION)]));
        assert_eq!(no_user, Err(HeaderError::Missing(USER_HEADER)));
        let no_session = MergeOwners::from_headers(&headers(&[(USER_HEADER, USER)]));
        assert_eq!(no_session, Err(HeaderError::Missing(SESSION_HEADER)));
    }

    #[test]
    fn logs_show_only_a_prefix_of_a_session_id() {
        let owner = CartOwner::Session(Uuid::parse_str(SESSION).unwrap());
        assert_eq!(owner.for_logs(), "s:0b9e7d2a…");
    }
}
