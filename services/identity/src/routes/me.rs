//! `GET`, `PATCH`, `DELETE /me` and `PUT /me/password`, for the account in `X-User-Id`.

use axum::{
    Json,
    extract::{FromRequestParts, State},
    http::{StatusCode, request::Parts},
};
use serde::{Deserialize, Deserializer};
use serving::{JsonBody, Problem};
use uuid::Uuid;
use wire::{address::PostalAddress, email::Email};

use super::{AppState, email_taken_or};
use crate::{
    domain::{DisplayName, Password},
    password,
    store::{self, Profile, ProfileChanges},
};

/// The caller's account id, which the gateway sets from the token's `sub`. Backends are
/// reachable only through the gateway, so its absence means a misrouted request.
pub struct UserId(Uuid);

impl<S: Send + Sync> FromRequestParts<S> for UserId {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Problem> {
        parts
            .headers
            .get("x-user-id")
            .and_then(|value| value.to_str().ok())
            .and_then(|value| Uuid::parse_str(value.trim()).ok())
            .map(UserId)
            .ok_or_else(|| {
                Problem::unauthorized("a valid token is required (X-User-Id missing or malformed)")
                    .with_field("X-User-Id")
            })
    }
}

fn account_gone(UserId(id): &UserId) -> Problem {
    Problem::not_found("account", &id.to_string())
}

pub async fn read(State(state): State<AppState>, user: UserId) -> Result<Json<Profile>, Problem> {
    let profile = store::profile(&state.pool, user.0).await?;
    profile.map(Json).ok_or_else(|| account_gone(&user))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Changes {
    name: Option<DisplayName>,
    email: Option<Email>,
    /// Absent leaves the address; `null` removes it.
    #[serde(default, deserialize_with = "present")]
    address: Option<Option<PostalAddress>>,
}

/// Tells a field sent as `null` (`Some(None)`) from one not sent (`None`, by default).
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

pub async fn update(
    State(state): State<AppState>,
    user: UserId,
    JsonBody(body): JsonBody<Changes>,
) -> Result<Json<Profile>, Problem> {
    let changes = ProfileChanges {
        name: body.name.as_ref(),
        email: body.email.as_ref(),
        address: body.address.as_ref().map(Option::as_ref),
    };
    let profile = store::update_profile(&state.pool, user.0, &changes)
        .await
        .map_err(email_taken_or)?;
    profile.map(Json).ok_or_else(|| account_gone(&user))
}

pub async fn delete(State(state): State<AppState>, user: UserId) -> Result<StatusCode, Problem> {
    if store::delete(&state.pool, user.0).await? {
        tracing::info!(user.id = %user.0, "account deleted");
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(account_gone(&user))
    }
}

#[derive(Debug, Deserialize)]
pub struct PasswordChange {
    current_password: Password,
    new_password: Password,
}

pub async fn change_password(
    State(state): State<AppState>,
    user: UserId,
    JsonBody(body): JsonBody<PasswordChange>,
) -> Result<StatusCode, Problem> {
    // A stolen token must not become an unlimited oracle for the current password.
    state.throttle.check("password", &user.0.to_string())?;
    let stored = store::password_hash(&state.pool, user.0)
        .await?
        .ok_or_else(|| account_gone(&user))?;
    if !password::verify(body.current_password, Some(stored)).await? {
        return Err(Problem::new(
            StatusCode::UNAUTHORIZED,
            "invalid-credentials",
            "Invalid credentials",
        )
        .with_detail("the current password is wrong")
        .with_field("current_password"));
    }
    let new_hash = password::hash(body.new_password).await?;
    if store::set_password_hash(&state.pool, user.0, &new_hash).await? {
        tracing::info!(user.id = %user.0, "password changed");
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(account_gone(&user))
    }
}
