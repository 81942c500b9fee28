//! `GET|DELETE /cart`, `POST /cart/items`, `PUT|DELETE /cart/items/{product_id}`,
//! `POST /cart/merge`. Every write answers the whole cart.

use std::sync::Arc;

use axum::{
    Json, Router,
    extract::{FromRequestParts, Path, State},
    http::request::Parts,
    routing::{get, post, put},
};
use serde::Deserialize;
use serving::{JsonBody, Problem};
use wire::Cart;

use crate::{
    line::{ProductId, Quantity, SetQuantity},
    owner::{CartOwner, MergeOwners},
    products::KnownProducts,
    store::CartStore,
};

#[derive(Clone)]
pub struct AppState {
    pub store: CartStore,
    pub products: Arc<KnownProducts>,
}

pub fn routes(state: AppState) -> Router {
    Router::new()
        .route("/cart", get(show).delete(empty))
        .route("/cart/items", post(add_line))
        .route(
            "/cart/items/{product_id}",
            put(set_line).delete(remove_line),
        )
        .route("/cart/merge", post(merge))
        .with_state(state)
}

#[derive(Debug, Deserialize)]
struct NewLine {
    product_id: ProductId,
    quantity: Quantity,
}

#[derive(Debug, Deserialize)]
struct LineUpdate {
    quantity: SetQuantity,
}

/// The `{product_id}` of the path, refused like a body field when malformed.
struct LineId(ProductId);

impl<S: Send + Sync> FromRequestParts<S> for LineId {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Problem> {
        let Path(id) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|rejection| Problem::invalid_field("product_id", rejection.body_text()))?;
        ProductId::try_from(id)
            .map(LineId)
            .map_err(|why| Problem::invalid_field("product_id", why))
    }
}

async fn show(State(state): State<AppState>, owner: CartOwner) -> Result<Json<Cart>, Problem> {
    Ok(Json(state.store.read(&owner).await?))
}

async fn add_line(
    State(state): State<AppState>,
    owner: CartOwner,
    JsonBody(line): JsonBody<NewLine>,
) -> Result<Json<Cart>, Problem> {
    state.products.ensure_exists(&line.product_id).await?;
    Ok(Json(
        state
            .store
            .add(&owner, &line.product_id, line.quantity)
            .await?,
    ))
}

async fn set_line(
    State(state): State<AppState>,
    owner: CartOwner,
    LineId(product): LineId,
    JsonBody(update): JsonBody<LineUpdate>,
) -> Result<Json<Cart>, Problem> {
    // Taking a line out needs no catalog: a product catalog withdrew must stay removable.
    if update.quantity != SetQuantity::Remove {
        state.products.ensure_exists(&product).await?;
    }
    Ok(Json(
        state.store.set(&owner, &product, update.quantity).await?,
    ))
}

async fn remove_line(
    State(state): State<AppState>,
    owner: CartOwner,
    LineId(product): LineId,
) -> Result<Json<Cart>, Problem> {
    Ok(Json(
        state
            .store
            .set(&owner, &product, SetQuantity::Remove)
            .await?,
    ))
}

async fn empty(State(state): State<AppState>, owner: CartOwner) -> Result<Json<Cart>, Problem> {
    Ok(Json(state.store.empty(&owner).await?))
}

async fn merge(State(state): State<AppState>, owners: MergeOwners) -> Result<Json<Cart>, Problem> {
    Ok(Json(state.store.merge(&owners).await?))
}
