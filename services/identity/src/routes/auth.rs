//! `POST /auth/register` and `POST /auth/login`: both answer the claims of a fresh token.

use std::time::SystemTime;

use axum::{Json, extract::State, http::StatusCode};
use serde::Deserialize;
use serving::{JsonBody, Problem};
use uuid::Uuid;
use wire::email::Email;

use super::{AppState, email_taken_or, invalid_credentials};
use crate::{
    domain::{DisplayName, Password},
    password, store,
    token::{self, Subject, TokenResponse},
};

#[derive(Debug, Deserialize)]
pub struct Registration {
    email: Email,
    password: Password,
    name: DisplayName,
}

pub async fn register(
    State(state): State<AppState>,
    JsonBody(body): JsonBody<Registration>,
) -> Result<(StatusCode, Json<TokenResponse>), Problem> {
    state.throttle.check("register", &body.email.canonical())?;
    let password_hash = password::hash(body.password).await?;
    let account = store::NewAccount {
        id: Uuid::new_v4(),
        email: &body.email,
        name: &body.name,
        password_hash: &password_hash,
    };
    store::insert(&state.pool, &account)
        .await
        .map_err(email_taken_or)?;
    tracing::info!(user.id = %account.id, "account registered");
    let subject = Subject {
        id: account.id,
        email: body.email.as_str(),
        name: body.name.as_str(),
    };
    let answer = token::issue(&state.token, &subject, SystemTime::now());
    Ok((StatusCode::CREATED, Json(answer)))
}

#[derive(Debug, Deserialize)]
pub struct Login {
    email: Email,
    password: Password,
}

pub async fn login(
    State(state): State<AppState>,
    JsonBody(body): JsonBody<Login>,
) -> Result<Json<TokenResponse>, Problem> {
    state.throttle.check("login", &body.email.canonical())?;
    let account = store::credentials(&state.pool, &body.email).await?;
    // An unknown e-mail is verified against the dummy hash: same work, same answer.
    let stored = account
        .as_ref()
        .map(|account| account.password_hash.clone());
    let matches = password::verify(body.password, stored).await?;
    let Some(account) = account.filter(|_| matches) else {
        return Err(invalid_credentials());
    };
    let subject = Subject {
        id: account.id,
        email: &account.email,
        name: &account.name,
    };
    Ok(Json(token::issue(
        &state.token,
        &subject,
        SystemTime::now(),
    )))
}
