//! The routes behind the gateway: `/auth/*` for anyone (rate limited here), `/me*` for
//! the account whose id the gateway took from a validated token and sent as `X-User-Id`.

mod auth;
mod me;

use std::sync::Arc;

use axum::{
    Router,
    http::StatusCode,
    routing::{get, post, put},
};
use serving::Problem;
use sqlx::PgPool;

use crate::{store, throttle::Throttle, token::TokenConfig};

#[derive(Clone)]
pub struct AppState {
    pool: PgPool,
    token: Arc<TokenConfig>,
    throttle: Arc<Throttle>,
}

pub fn routes(pool: PgPool, token: TokenConfig) -> Router {
    let state = AppState {
        pool,
        token: Arc::new(token),
        throttle: Arc::new(Throttle::new()),
    };
    Router::new()
        .route("/auth/register", post(auth::register))
        .route("/auth/login", post(auth::login))
        .route("/me", get(me::read).patch(me::update).delete(me::delete))
        .route("/me/password", put(me::change_password))
        .with_state(state)
}

/// A unique violation on the e-mail index is the caller's doing: 409 naming the field.
fn email_taken_or(err: sqlx::Error) -> Problem {
    if store::is_email_taken(&err) {
        Problem::conflict("email-taken", "an account with this e-mail already exists")
            .with_field("email")
    } else {
        err.into()
    }
}

/// One answer for every failed login, whatever the reason, so it does not tell which
/// e-mails have accounts.
fn invalid_credentials() -> Problem {
    Problem::new(
        StatusCode::UNAUTHORIZED,
        "invalid-credentials",
        "Invalid credentials",
    )
    .with_detail("the e-mail or the password is wrong")
}
