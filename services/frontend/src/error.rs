//! Everything that can go wrong while serving a page, each turned into a friendly page:
//! the gateway's own words for a refusal, a 503 when it does not answer, a 403 for a
//! form without a valid CSRF token. Never a stack trace.

use axum::{
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use minijinja::context;

use crate::{
    gateway::{ApiProblem, GatewayError},
    session::SignedOut,
    views,
};

#[derive(Debug, thiserror::Error)]
pub enum PageError {
    #[error(transparent)]
    Gateway(#[from] GatewayError),
    #[error("no valid CSRF token")]
    Forbidden,
    #[error("bad form: {0}")]
    BadForm(String),
    #[error("no such page")]
    NotFound,
    #[error("internal: {0}")]
    Internal(String),
}

/// What the error page shows.
struct Shown {
    status: StatusCode,
    title: String,
    detail: String,
}

impl PageError {
    fn shown(&self) -> Shown {
        let shown = |status, title: &str, detail: &str| Shown {
            status,
            title: title.to_owned(),
            detail: detail.to_owned(),
        };
        match self {
            PageError::Gateway(GatewayError::Unavailable(_)) => shown(
                StatusCode::SERVICE_UNAVAILABLE,
                "The shop is taking a short break",
                "We cannot reach our shop right now. Nothing you did caused this; please try again in a moment.",
            ),
            PageError::Gateway(GatewayError::Refused(problem)) => refused(problem),
            PageError::Forbidden => shown(
                StatusCode::FORBIDDEN,
                "That form has expired",
                "For your security we could not accept that form. Go back, reload the page and try again.",
            ),
            PageError::BadForm(detail) => shown(
                StatusCode::BAD_REQUEST,
                "That form did not make sense",
                detail,
            ),
            PageError::NotFound => shown(
                StatusCode::NOT_FOUND,
                "Page not found",
                "We looked everywhere, but there is no page at this address.",
            ),
            PageError::Internal(_) => shown(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong on our side",
                "Sorry about that. Please try again; if it keeps happening, come back a little later.",
            ),
        }
    }
}

fn refused(problem: &ApiProblem) -> Shown {
    let status = StatusCode::from_u16(problem.status).unwrap_or(StatusCode::BAD_REQUEST);
    let detail = problem.detail.clone().unwrap_or_else(|| match status {
        StatusCode::NOT_FOUND => "We could not find what you were looking for.".to_owned(),
        StatusCode::TOO_MANY_REQUESTS => {
            "Too many tries in a short time; wait a moment and try again.".to_owned()
        }
        _ => "The shop could not do that.".to_owned(),
    });
    let title = if status == StatusCode::NOT_FOUND {
        "Not found".to_owned()
    } else {
        problem.title.clone()
    };
    Shown {
        status,
        title,
        detail,
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        if matches!(&self, PageError::Gateway(GatewayError::Refused(p)) if p.status == 401) {
            // The session layer adds where to go and removes the expired token.
            let mut response =
                (StatusCode::SEE_OTHER, [(header::LOCATION, "/login")]).into_response();
            response.extensions_mut().insert(SignedOut);
            return response;
        }
        match &self {
            PageError::Internal(cause) => tracing::error!(error = %cause, "page failed"),
            PageError::Gateway(GatewayError::Unavailable(cause)) => {
                tracing::warn!(error = %cause, "gateway unavailable")
            }
            _ => {}
        }
        let shown = self.shown();
        let body = views::html(
            "error.html",
            context! { status => shown.status.as_u16(), title => shown.title.clone(), detail => shown.detail },
        );
        let mut response = match body {
            Ok(html) => (shown.status, html).into_response(),
            Err(_) => (shown.status, shown.title).into_response(),
        };
        if shown.status == StatusCode::SERVICE_UNAVAILABLE {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("2"));
        }
        response
    }
}
