//! Who is visiting: the `microshop_session` cookie (a UUID v4 made on the first visit,
//! the guest cart's owner and the CSRF token's subject) and, once signed in, the
//! `microshop_token` cookie holding the gateway's JWT. The token cookie is deliberately
//! not named `access_token`: KrakenD's validator reads a cookie of that name.

use axum::{
    extract::{FromRequestParts, Request, State},
    http::{HeaderValue, Method, header, request::Parts},
    middleware::Next,
    response::{IntoResponse, Response},
};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use uuid::Uuid;

use crate::error::PageError;

pub const SESSION_COOKIE: &str = "microshop_session";
pub const TOKEN_COOKIE: &str = "microshop_token";

/// The visitor of the current request, put in its extensions by [`ensure_session`].
#[derive(Debug, Clone)]
pub struct Visitor {
    pub session: Uuid,
    /// The gateway's JWT, when signed in.
    pub token: Option<String>,
}

impl Visitor {
    pub fn signed_in(&self) -> bool {
        self.token.is_some()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Visitor {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, PageError> {
        parts
            .extensions
            .get::<Visitor>()
            .cloned()
            .ok_or_else(|| PageError::Internal("the session layer is not installed".into()))
    }
}

/// How the shop's cookies are made.
#[derive(Debug, Clone, Copy)]
pub struct CookiePolicy {
    /// `Secure` on every cookie: set when the shop is served over TLS.
    pub secure: bool,
}

impl CookiePolicy {
    pub fn session(self, session: Uuid) -> Cookie<'static> {
        self.base(SESSION_COOKIE, session.to_string())
    }

    /// The JWT, kept only as long as the token is valid.
    pub fn token(self, token: String, expires_in_secs: i64) -> Cookie<'static> {
        let mut cookie = self.base(TOKEN_COOKIE, token);
        cookie.set_max_age(time_duration(expires_in_secs));
        cookie
    }

    /// A cookie that makes the browser forget the token.
    pub fn token_removal(self) -> Cookie<'static> {
        let mut cookie = self.base(TOKEN_COOKIE, String::new());
        cookie.make_removal();
        cookie
    }

    fn base(self, name: &'static str, value: String) -> Cookie<'static> {
        Cookie::build((name, value))
            .http_only(true)
            .same_site(SameSite::Lax)
            .path("/")
            .secure(self.secure)
            .build()
    }
}

fn time_duration(seconds: i64) -> time::Duration {
    time::Duration::seconds(seconds.max(0))
}

/// Puts the [`Visitor`] on every page request, making the session on a first visit.
/// It also finishes [`PageError::SignedOut`] answers: the expired token cookie is
/// removed and a GET comes back to the page it was after once signed in again.
pub async fn ensure_session(
    State(policy): State<CookiePolicy>,
    jar: CookieJar,
    mut request: Request,
    next: Next,
) -> Response {
    let existing = jar
        .get(SESSION_COOKIE)
        .and_then(|c| Uuid::parse_str(c.value()).ok())
        .filter(|id| id.get_version_num() == 4);
    let session = existing.unwrap_or_else(Uuid::new_v4);
    let token = jar
        .get(TOKEN_COOKIE)
        .map(|c| c.value().to_owned())
        .filter(|t| !t.is_empty());
    request.extensions_mut().insert(Visitor { session, token });
    let came_for = (request.method() == Method::GET)
        .then(|| request.uri().path_and_query().map(|p| p.to_string()))
        .flatten();

    let mut response = next.run(request).await;
    if response.extensions().get::<SignedOut>().is_some() {
        let location = match came_for {
            Some(path) => format!(
                "/login?{}",
                serde_urlencoded::to_string([("next", path)]).unwrap_or_default()
            ),
            None => "/login".to_owned(),
        };
        if let Ok(value) = HeaderValue::from_str(&location) {
            response.headers_mut().insert(header::LOCATION, value);
        }
        let removal = policy.token_removal().to_string();
        if let Ok(value) = HeaderValue::from_str(&removal) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    if existing.is_none() {
        return (jar.add(policy.session(session)), response).into_response();
    }
    response
}

/// Marks an answer to a request the gateway refused with 401 for a signed-in visitor.
#[derive(Debug, Clone, Copy)]
pub struct SignedOut;

/// Only local paths, so `?next=` cannot send a visitor to another site.
pub fn local_path(next: Option<&str>) -> String {
    match next {
        Some(path) if path.starts_with('/') && !path.starts_with("//") && !path.contains('\\') => {
            path.to_owned()
        }
        _ => "/".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_session_cookie_is_http_only_lax_and_site_wide() {
        let id = Uuid::new_v4();
        let text = CookiePolicy { secure: false }.session(id).to_string();
        assert!(
            text.starts_with(&format!("microshop_session={id}")),
            "{text}"
        );
        assert!(text.contains("HttpOnly"), "{text}");
        assert!(text.contains("SameSite=Lax"), "{text}");
        assert!(text.contains("Path=/"), "{text}");
        assert!(!text.contains("Secure"), "{text}");
        assert!(
            !text.contains("Max-Age"),
            "a browser-session cookie: {text}"
        );
    }

    #[test]
    fn cookies_are_secure_when_served_over_tls() {
        let policy = CookiePolicy { secure: true };
        assert!(
            policy
                .session(Uuid::new_v4())
                .to_string()
                .contains("Secure")
        );
        assert!(
            policy
                .token("jwt".into(), 60)
                .to_string()
                .contains("Secure")
        );
    }

    #[test]
    fn the_token_cookie_lives_as_long_as_the_token() {
        let text = CookiePolicy { secure: false }
            .token("header.payload.sig".into(), 3600)
            .to_string();
        assert!(
            text.starts_with("microshop_token=header.payload.sig"),
            "{text}"
        );
        assert!(text.contains("Max-Age=3600"), "{text}");
        assert!(
            text.contains("HttpOnly") && text.contains("SameSite=Lax"),
            "{text}"
        );
    }

    #[test]
    fn removing_the_token_expires_it_now() {
        let text = CookiePolicy { secure: false }.token_removal().to_string();
        assert!(text.starts_with("microshop_token=;"), "{text}");
        assert!(text.contains("Max-Age=0"), "{text}");
        assert!(text.contains("Path=/"), "{text}");
    }

    #[test]
    fn next_only_leads_to_local_pages() {
        let cases = [
            (Some("/cart"), "/cart", "a local page"),
            (Some("/products/x?y=1"), "/products/x?y=1", "with a query"),
            (Some("//evil.example"), "/", "protocol-relative"),
            (Some("https://evil.example"), "/", "absolute"),
            (Some("/\\evil.example"), "/", "backslash trick"),
            (None, "/", "none given"),
        ];
        for (next, expected, why) in cases {
            assert_eq!(local_path(next), expected, "{why}");
        }
    }
}
