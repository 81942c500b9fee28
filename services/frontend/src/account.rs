//! Signing in and out, registering, and the account's own pages: the profile form
//! (`PATCH /me`) and the order history. Signing in moves the guest cart into the account.

use axum::{
    Router,
    extract::{Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use axum_extra::extract::cookie::CookieJar;
use minijinja::{Value, context};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::{
    AppState, Visitor,
    error::PageError,
    forms::{PageForm, form_problem},
    gateway::ApiProblem,
    models::TokenAnswer,
    orders::OrderView,
    session::local_path,
    views::{self, value},
};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/login", get(login_form).post(login))
        .route("/register", get(register_form).post(register))
        .route("/logout", post(logout))
        .route("/account", get(account).post(update_account))
        .route("/account/orders", get(orders))
}

#[derive(Debug, Default, Deserialize)]
struct Next {
    next: Option<String>,
    saved: Option<String>,
}

/// The sign-in and registration forms; the password is never rendered back.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(default)]
struct Credentials {
    name: String,
    email: String,
    #[serde(skip_serializing)]
    password: String,
    next: String,
}

async fn login_form(
    State(state): State<AppState>,
    visitor: Visitor,
    Query(query): Query<Next>,
) -> Result<Response, PageError> {
    let form = Credentials {
        next: local_path(query.next.as_deref()),
        ..Credentials::default()
    };
    credentials_page(&state, &visitor, "login.html", &form, None).await
}

async fn register_form(
    State(state): State<AppState>,
    visitor: Visitor,
    Query(query): Query<Next>,
) -> Result<Response, PageError> {
    let form = Credentials {
        next: local_path(query.next.as_deref()),
        ..Credentials::default()
    };
    credentials_page(&state, &visitor, "register.html", &form, None).await
}

async fn login(
    State(state): State<AppState>,
    visitor: Visitor,
    PageForm(form): PageForm<Credentials>,
) -> Result<Response, PageError> {
    match state.gateway.login(form.email.trim(), &form.password).await {
        Ok(token) => Ok(sign_in(&state, &visitor, token, &form.next).await),
        Err(err) => {
            let mut problem = form_problem(err, false)?;
            if problem.detail.is_none() {
                // The gateway's signer turns a refused login into a bare 400.
                problem.title = "We could not sign you in".into();
                problem.detail =
                    Some("Check your e-mail address and password, then try again.".into());
            }
            credentials_page(&state, &visitor, "login.html", &form, Some(problem)).await
        }
    }
}

async fn register(
    State(state): State<AppState>,
    visitor: Visitor,
    PageForm(form): PageForm<Credentials>,
) -> Result<Response, PageError> {
    let answer = state
        .gateway
        .register(form.email.trim(), &form.password, form.name.trim())
        .await;
    match answer {
        Ok(token) => Ok(sign_in(&state, &visitor, token, &form.next).await),
        Err(err) => {
            let mut problem = form_problem(err, false)?;
            if problem.detail.is_none() {
                problem.title = "We could not create your account".into();
                problem.detail = Some(
                    "Check the form: the e-mail may already have an account, and passwords need 12 characters or more."
                        .into(),
                );
            }
            credentials_page(&state, &visitor, "register.html", &form, Some(problem)).await
        }
    }
}

/// Keeps the token in its cookie and moves the guest cart into the account. A merge
/// that fails does not stop the sign-in; the guest cart then stays with the session.
async fn sign_in(state: &AppState, visitor: &Visitor, token: TokenAnswer, next: &str) -> Response {
    if let Err(err) = state
        .gateway
        .merge_cart(visitor.session, &token.access_token)
        .await
    {
        tracing::warn!(error = %err, "could not move the guest cart into the account");
    }
    let jar = CookieJar::new().add(state.cookies.token(token.access_token, token.expires_in));
    (jar, Redirect::to(&local_path(Some(next)))).into_response()
}

async fn credentials_page(
    state: &AppState,
    visitor: &Visitor,
    template: &str,
    form: &Credentials,
    error: Option<ApiProblem>,
) -> Result<Response, PageError> {
    let chrome = state.chrome(visitor).await?;
    let status = error.as_ref().map_or(StatusCode::OK, |e| {
        StatusCode::from_u16(e.status).unwrap_or(StatusCode::UNPROCESSABLE_ENTITY)
    });
    let context = context! { form => value(form), error => error.as_ref().map(value) };
    views::page(template, &chrome, context).map(|page| (status, page).into_response())
}

#[derive(Debug, Deserialize)]
struct Empty {}

async fn logout(State(state): State<AppState>, PageForm(_): PageForm<Empty>) -> Response {
    let jar = CookieJar::new().add(state.cookies.token_removal());
    (jar, Redirect::to("/")).into_response()
}

/// The profile form, fields named by the JSON path of `PATCH /me`.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(default)]
struct Profile {
    name: String,
    email: String,
    #[serde(rename = "address.name")]
    address_name: String,
    #[serde(rename = "address.street")]
    street: String,
    #[serde(rename = "address.city")]
    city: String,
    #[serde(rename = "address.postal_code")]
    postal_code: String,
    #[serde(rename = "address.country")]
    country: String,
}

impl Profile {
    /// The change to send: an address left wholly blank removes the saved one.
    fn changes(&self) -> serde_json::Value {
        let parts = [
            &self.address_name,
            &self.street,
            &self.city,
            &self.postal_code,
            &self.country,
        ];
        let address = if parts.iter().all(|p| p.trim().is_empty()) {
            serde_json::Value::Null
        } else {
            json!({
                "name": self.address_name.trim(),
                "street": self.street.trim(),
                "city": self.city.trim(),
                "postal_code": self.postal_code.trim(),
                "country": self.country.trim(),
            })
        };
        json!({"name": self.name.trim(), "email": self.email.trim(), "address": address})
    }
}

fn sign_in_first(path: &str) -> Response {
    let query = serde_urlencoded::to_string([("next", path)]).unwrap_or_default();
    Redirect::to(&format!("/login?{query}")).into_response()
}

async fn account(
    State(state): State<AppState>,
    visitor: Visitor,
    Query(query): Query<Next>,
) -> Result<Response, PageError> {
    let Some(token) = &visitor.token else {
        return Ok(sign_in_first("/account"));
    };
    let (me, chrome) = tokio::join!(state.gateway.me(token), state.chrome(&visitor));
    let me = me?;
    let address = me.address.unwrap_or_else(|| wire::Address {
        name: String::new(),
        street: String::new(),
        city: String::new(),
        postal_code: String::new(),
        country: String::new(),
    });
    let form = Profile {
        name: me.name,
        email: me.email,
        address_name: address.name,
        street: address.street,
        city: address.city,
        postal_code: address.postal_code,
        country: address.country,
    };
    let context =
        context! { form => value(&form), saved => query.saved.is_some(), error => Value::from(()) };
    views::page("account.html", &chrome?, context)
}

async fn update_account(
    State(state): State<AppState>,
    visitor: Visitor,
    PageForm(form): PageForm<Profile>,
) -> Result<Response, PageError> {
    let Some(token) = &visitor.token else {
        return Ok(sign_in_first("/account"));
    };
    let problem = match state.gateway.update_me(token, &form.changes()).await {
        Ok(_) => return Ok(Redirect::to("/account?saved=1").into_response()),
        Err(err) => form_problem(err, true)?,
    };
    let chrome = state.chrome(&visitor).await?;
    let status = StatusCode::from_u16(problem.status).unwrap_or(StatusCode::UNPROCESSABLE_ENTITY);
    let context = context! { form => value(&form), saved => false, error => value(&problem) };
    views::page("account.html", &chrome, context).map(|page| (status, page).into_response())
}

async fn orders(State(state): State<AppState>, visitor: Visitor) -> Result<Response, PageError> {
    let Some(token) = &visitor.token else {
        return Ok(sign_in_first("/account/orders"));
    };
    let (orders, chrome) = tokio::join!(state.gateway.my_orders(token), state.chrome(&visitor));
    let orders: Vec<OrderView> = orders?.into_iter().map(OrderView::from).collect();
    views::page(
        "account_orders.html",
        &chrome?,
        context! { orders => value(&orders) },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_blank_address_removes_the_saved_one() {
        let profile = Profile {
            name: "Ada".into(),
            email: "ada@example.com".into(),
            ..Profile::default()
        };
        assert_eq!(profile.changes()["address"], serde_json::Value::Null);
        let profile = Profile {
            city: " Paris ".into(),
            ..profile
        };
        assert_eq!(profile.changes()["address"]["city"], "Paris");
        assert_eq!(
            profile.changes()["address"]["street"],
            "",
            "identity names the empty field"
        );
    }

    #[test]
    fn the_password_is_never_rendered_back() {
        let form = Credentials {
            email: "a@b.example".into(),
            password: "correct horse battery".into(),
            ..Credentials::default()
        };
        assert!(!serde_json::to_string(&form).unwrap().contains("horse"));
    }
}
