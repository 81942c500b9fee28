//! An order's page and `GET /orders/{id}/status`, the JSON its inline script polls
//! until payment is settled, so the page updates without a reload.

use axum::{
    Json, Router,
    extract::{Path, State},
    response::{IntoResponse, Response},
    routing::get,
};
use minijinja::context;
use serde::Serialize;
use serving::Problem;
use uuid::Uuid;
use wire::{
    Money,
    order::{CardBrief, Order, OrderStatus},
};

use crate::{
    AppState, Visitor,
    error::PageError,
    gateway::GatewayError,
    money,
    views::{self, value},
};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/orders/{id}", get(show))
        .route("/orders/{id}/status", get(status))
}

/// The order as its page shows it.
#[derive(Debug, Serialize)]
pub struct OrderView {
    id: Uuid,
    short_id: String,
    lines: Vec<LineView>,
    subtotal: Money,
    shipping_cost: Money,
    total: Money,
    card: CardBrief,
    /// The day it was placed, `YYYY-MM-DD`.
    placed_on: String,
    #[serde(flatten)]
    progress: Progress,
}

#[derive(Debug, Serialize)]
struct LineView {
    product_id: String,
    name: String,
    quantity: u32,
    unit_price: Money,
    line_total: Money,
    picture: String,
}

/// Where payment and shipping stand: what the status endpoint answers.
#[derive(Debug, Serialize)]
pub struct Progress {
    status: OrderStatus,
    label: &'static str,
    transaction_id: Option<String>,
    tracking_id: Option<String>,
    failure_reason: Option<String>,
    /// Nothing more will change: payment failed, or it was paid and shipped.
    settled: bool,
}

impl Progress {
    fn of(order: &Order) -> Self {
        let (label, settled) = match order.status {
            OrderStatus::Placed => ("Processing payment", false),
            OrderStatus::Paid => ("Paid", order.tracking_id.is_some()),
            OrderStatus::PaymentFailed => ("Payment failed", true),
        };
        Self {
            status: order.status,
            label,
            transaction_id: order.transaction_id.clone(),
            tracking_id: order.tracking_id.clone(),
            failure_reason: order.payment_failure_reason.clone(),
            settled,
        }
    }
}

impl From<Order> for OrderView {
    fn from(order: Order) -> Self {
        let progress = Progress::of(&order);
        let lines: Vec<LineView> = order
            .items
            .into_iter()
            .map(|line| LineView {
                picture: format!("/static/products/{}.svg", line.product_id),
                line_total: money::times(line.unit_price, line.quantity),
                product_id: line.product_id,
                name: line.name,
                quantity: line.quantity,
                unit_price: line.unit_price,
            })
            .collect();
        Self {
            id: order.id,
            short_id: order.id.simple().to_string()[..8].to_uppercase(),
            subtotal: money::sum(lines.iter().map(|l| l.line_total)),
            lines,
            shipping_cost: order.shipping_cost,
            total: order.total,
            card: order.card,
            placed_on: order.created_at.date().to_string(),
            progress,
        }
    }
}

async fn show(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let id = Uuid::parse_str(&id).map_err(|_| PageError::NotFound)?;
    let (order, chrome) = tokio::join!(state.gateway.order(&visitor, id), state.chrome(&visitor));
    let order = OrderView::from(order?);
    views::page("order.html", &chrome?, context! { order => value(&order) })
}

async fn status(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(id): Path<String>,
) -> Response {
    let Ok(id) = Uuid::parse_str(&id) else {
        return Problem::not_found("order", &id).into_response();
    };
    match state.gateway.order(&visitor, id).await {
        Ok(order) => Json(Progress::of(&order)).into_response(),
        Err(GatewayError::Unavailable(_)) => Problem::unavailable("gateway").into_response(),
        Err(GatewayError::Refused(problem)) => {
            let status = axum::http::StatusCode::from_u16(problem.status)
                .unwrap_or(axum::http::StatusCode::BAD_REQUEST);
            let mut answer = Problem::new(status, "refused", &problem.title);
            answer.detail = problem.detail;
            answer.into_response()
        }
    }
}
