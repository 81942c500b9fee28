//! `POST /quotes`: a bad request is refused by the extractor with the field named.

use axum::{Json, Router, routing::post};
use serving::JsonBody;
use wire::Quote;

use crate::quote::QuoteRequest;

pub fn routes() -> Router {
    Router::new().route("/quotes", post(create_quote))
}

async fn create_quote(JsonBody(request): JsonBody<QuoteRequest>) -> Json<Quote> {
    Json(Quote {
        cost: request.cost(),
    })
}
