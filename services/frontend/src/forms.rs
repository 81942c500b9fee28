//! Form posts: a `Form` extractor whose rejection is a friendly page, and the split of
//! gateway answers into problems a form shows next to its fields and errors that get a
//! page of their own.

use axum::{
    extract::{FromRequest, Request},
    response::{IntoResponse, Response},
};
use serde::de::DeserializeOwned;

use crate::{
    error::PageError,
    gateway::{ApiProblem, GatewayError},
};

/// A url-encoded form body (its CSRF token already checked by the middleware).
pub struct PageForm<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for PageForm<T> {
    type Rejection = Response;

    async fn from_request(request: Request, state: &S) -> Result<Self, Response> {
        axum::Form::<T>::from_request(request, state)
            .await
            .map(|axum::Form(form)| PageForm(form))
            .map_err(|rejection| PageError::BadForm(rejection.body_text()).into_response())
    }
}

/// A refusal the form can show (bad input, a taken e-mail, too many tries), or the
/// error that needs its own page (the gateway down, a signed-in session expired).
pub fn form_problem(err: GatewayError, signed_in_route: bool) -> Result<ApiProblem, PageError> {
    match err {
        GatewayError::Refused(problem) if !(signed_in_route && problem.status == 401) => {
            Ok(problem)
        }
        other => Err(other.into()),
    }
}

/// A problem made here, for a form value the gateway never saw.
pub fn local_problem(field: &str, detail: &str) -> ApiProblem {
    ApiProblem {
        title: "Please check this field".to_owned(),
        status: 422,
        detail: Some(detail.to_owned()),
        field: Some(field.to_owned()),
    }
}

/// A whole number as typed, or a problem naming the field.
pub fn parse_quantity(text: &str, field: &str) -> Result<i64, ApiProblem> {
    text.trim()
        .parse::<i64>()
        .map_err(|_| local_problem(field, "Enter a whole number, like 1 or 2."))
}
