//! Whose cart a request is about (`serving::owner`), and the two carts a sign-in merges.

use axum::{
    extract::FromRequestParts,
    http::{HeaderMap, request::Parts},
};
use serving::{
    Problem,
    owner::{HeaderError, Owner, SESSION_HEADER, USER_HEADER, uuid_header},
};

/// The owner of a cart; its `Display` is the owner part of the Redis key.
pub type CartOwner = Owner;

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
}
