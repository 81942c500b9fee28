//! `POST /orders`, `GET /orders/{id}`, `GET /orders?user=`.

mod place;
mod read;

use std::sync::Arc;

use axum::{Router, routing::get};
use sqlx::PgPool;
use tokio::sync::Notify;

use crate::upstream::Upstream;

#[derive(Clone)]
pub struct AppState {
    pub pool: PgPool,
    pub upstream: Arc<Upstream>,
    /// Wakes the outbox relay after a commit, so an order is published at once rather
    /// than at the relay's next poll.
    pub relay_wake: Arc<Notify>,
}

pub fn routes(state: AppState) -> Router {
    Router::new()
        .route("/orders", get(read::list).post(place::place))
        .route("/orders/{id}", get(read::show))
        .with_state(state)
}
