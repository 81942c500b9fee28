//! Reading orders: one by its id (a capability), or a signed-in user's own.

use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
};
use serde::Deserialize;
use serving::{Problem, QueryParams};
use uuid::Uuid;
use wire::order::{Order, OrderList};

use super::AppState;
use serving::owner::MaybeUser;

use crate::store;

/// Anyone holding an order's id may read it (the id is an unguessable UUID v4); a
/// signed-in user may not read another user's order. Unknown and foreign orders get
/// the same 404, so the answer does not tell which ids exist.
pub async fn show(
    State(state): State<AppState>,
    MaybeUser(user): MaybeUser,
    Path(id): Path<String>,
) -> Result<Json<Order>, Problem> {
    let not_found = || Problem::not_found("order", &id).with_field("id");
    let order_id = Uuid::parse_str(&id).map_err(|_| not_found())?;
    let order = store::find(&state.pool, order_id)
        .await?
        .ok_or_else(not_found)?;
    if let (Some(user), Some(owner)) = (user, order.user_id)
        && user != owner
    {
        return Err(not_found());
    }
    Ok(Json(order.view()))
}

const DEFAULT_LIMIT: u16 = 50;
const MAX_LIMIT: u16 = 100;

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    user: Uuid,
    limit: Option<Limit>,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(try_from = "u16")]
struct Limit(u16);

impl TryFrom<u16> for Limit {
    type Error = String;
    fn try_from(value: u16) -> Result<Self, String> {
        if (1..=MAX_LIMIT).contains(&value) {
            Ok(Limit(value))
        } else {
            Err(format!("must be between 1 and {MAX_LIMIT}"))
        }
    }
}

/// A user's orders, newest first. The gateway sends both `user` (from the route) and
/// `X-User-Id` (from the token); they must agree, so one user cannot list another's.
pub async fn list(
    State(state): State<AppState>,
    MaybeUser(caller): MaybeUser,
    QueryParams(query): QueryParams<ListQuery>,
) -> Result<Json<OrderList>, Problem> {
    if caller != Some(query.user) {
        return Err(
            Problem::new(StatusCode::FORBIDDEN, "forbidden", "Not your orders")
                .with_field("user")
                .with_detail("orders are listed only for the signed-in user (X-User-Id)"),
        );
    }
    let limit = query.limit.map_or(DEFAULT_LIMIT, |l| l.0);
    let orders = store::list_for_user(&state.pool, query.user, i64::from(limit)).await?;
    let items = orders.iter().map(|order| order.view()).collect();
    Ok(Json(OrderList { items }))
}
