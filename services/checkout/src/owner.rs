//! Who is checking out, from the headers the gateway sets: `X-User-Id` for a signed-in
//! shopper, else `X-Session-Id`. The same rules as cart's, since the owner is also whose
//! cart is read and emptied.

use std::fmt;

use axum::{
    extract::FromRequestParts,
    http::{HeaderMap, HeaderName, StatusCode, request::Parts},
};
use serving::Problem;
use uuid::Uuid;

pub const USER_HEADER: &str = "X-User-Id";
pub const SESSION_HEADER: &str = "X-Session-Id";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    User(Uuid),
    Session(Uuid),
}

impl Owner {
    /// A present `X-User-Id` wins; a present but malformed one is refused rather than
    /// skipped (the gateway sends a missing claim as an empty header).
    pub fn from_headers(headers: &HeaderMap) -> Result<Self, Problem> {
        if let Some(user) = uuid_header(headers, USER_HEADER)? {
            return Ok(Self::User(user));
        }
        uuid_header(headers, SESSION_HEADER)?
            .map(Self::Session)
            .ok_or_else(|| Problem::missing_header(SESSION_HEADER))
    }

    pub fn user_id(self) -> Option<Uuid> {
        match self {
            Self::User(id) => Some(id),
            Self::Session(_) => None,
        }
    }

    /// The header that names this owner to cart.
    pub fn header(self) -> (HeaderName, String) {
        match self {
            Self::User(id) => (HeaderName::from_static("x-user-id"), id.to_string()),
            Self::Session(id) => (HeaderName::from_static("x-session-id"), id.to_string()),
        }
    }
}

impl fmt::Display for Owner {
    /// `u:{uuid}` or `s:{uuid}`, hyphenated lower case whatever the header's spelling.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::User(id) => write!(f, "u:{}", id.hyphenated()),
            Self::Session(id) => write!(f, "s:{}", id.hyphenated()),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Owner {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Problem> {
        Self::from_headers(&parts.headers)
    }
}

/// The signed-in user, when the gateway said so; for reads, where a session is not needed.
pub struct MaybeUser(pub Option<Uuid>);

impl<S: Send + Sync> FromRequestParts<S> for MaybeUser {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Problem> {
        uuid_header(&parts.headers, USER_HEADER).map(MaybeUser)
    }
}

/// The header's UUID; `None` when absent, a 400 naming it when malformed.
fn uuid_header(headers: &HeaderMap, name: &'static str) -> Result<Option<Uuid>, Problem> {
    let Some(value) = headers.get(name) else {
        return Ok(None);
    };
    value
        .to_str()
        .ok()
        .and_then(|text| Uuid::parse_str(text.trim()).ok())
        .map(Some)
        .ok_or_else(|| invalid_header(name, format!("the {name} header must be a UUID")))
}

pub fn invalid_header(name: &str, detail: impl Into<String>) -> Problem {
    Problem::new(
        StatusCode::BAD_REQUEST,
        "invalid-header",
        "A header is invalid",
    )
    .with_field(name)
    .with_detail(detail)
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
    fn the_user_wins_over_the_session_and_spellings_do_not_matter() {
        let both = headers(&[(USER_HEADER, USER), (SESSION_HEADER, SESSION)]);
        assert_eq!(
            Owner::from_headers(&both).unwrap().to_string(),
            format!("u:{USER}")
        );
        let upper = headers(&[(SESSION_HEADER, &SESSION.to_uppercase())]);
        assert_eq!(
            Owner::from_headers(&upper).unwrap().to_string(),
            format!("s:{SESSION}")
        );
    }

    #[test]
    fn missing_or_malformed_owner_headers_are_400s_naming_the_header() {
        let cases = [
            (headers(&[]), SESSION_HEADER, "neither header"),
            (
                headers(&[(SESSION_HEADER, "abc")]),
                SESSION_HEADER,
                "not a UUID",
            ),
            (
                headers(&[(USER_HEADER, ""), (SESSION_HEADER, SESSION)]),
                USER_HEADER,
                "an empty claim is not skipped",
            ),
        ];
        for (headers, field, why) in cases {
            let problem = Owner::from_headers(&headers).unwrap_err();
            assert_eq!(problem.status, 400, "{why}");
            assert_eq!(problem.field.as_deref(), Some(field), "{why}");
        }
    }
}
