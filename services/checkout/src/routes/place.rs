//! `POST /orders`: price the cart, take the order with its outbox row in one
//! transaction, empty the cart, answer 201. With an `Idempotency-Key`, a repeat answers
//! the first order instead of taking a second.

use axum::{
    Json,
    extract::{FromRequestParts, State},
    http::{HeaderMap, StatusCode, header, request::Parts},
    response::{IntoResponse, Response},
};
use serving::{JsonBody, Problem, owner::Owner};
use uuid::Uuid;
use wire::{Money, QuoteRequest, events::OrderLine, order::OrderStatus};

use super::AppState;
use crate::{
    card::{self, Card},
    order::{self, Order},
    request::{CheckoutRequest, fingerprint},
    store::{self, IdempotencyKey, InsertError, TraceContext},
};

const KEY_HEADER: &str = "Idempotency-Key";

pub async fn place(
    State(state): State<AppState>,
    owner: Owner,
    KeyHeader(key): KeyHeader,
    JsonBody(request): JsonBody<CheckoutRequest>,
) -> Result<Response, Problem> {
    let card = Card::check(request.card, card::today())
        .map_err(|refused| Problem::invalid_field(refused.field, refused.detail))?;
    let card = card.summary();
    let owner_id = owner.to_string();
    let request_hash = fingerprint(&request.email, &request.address, &card);
    let key = key.as_deref().map(|key| IdempotencyKey {
        owner: &owner_id,
        key,
        request_hash: &request_hash,
    });
    if let Some(first) = replay(&state, key.as_ref()).await? {
        return Ok(first);
    }

    let cart = state.upstream.cart(owner).await?;
    if cart.items.is_empty() {
        // A twin request with the same key may have taken the order and emptied the
        // cart since we looked: its order is the answer, not "empty cart".
        if let Some(first) = replay(&state, key.as_ref()).await? {
            return Ok(first);
        }
        return Err(Problem::invalid_field("cart", "the cart is empty"));
    }
    let lines = state.upstream.price(&cart.items).await?;
    let address = wire::Address::from(&request.address);
    let shipping_cost = state
        .upstream
        .quote(&QuoteRequest {
            address: address.clone(),
            items: cart.items,
        })
        .await?;
    let total = total(&lines, shipping_cost)?;
    let now = order::now();
    let order = Order {
        id: Uuid::new_v4(),
        owner: owner_id.clone(),
        user_id: owner.user_id(),
        email: request.email.as_str().to_owned(),
        address,
        status: OrderStatus::Placed,
        lines,
        shipping_cost,
        total,
        card,
        transaction_id: None,
        payment_failure_reason: None,
        tracking_id: None,
        shipment_cancelled: false,
        email_sent: false,
        created_at: now,
        updated_at: now,
    };

    match store::insert(&state.pool, &order, key.as_ref(), &current_trace()).await {
        Ok(()) => {}
        Err(InsertError::KeyTaken) => {
            // Lost the race to a twin: it committed, so its order is there to answer.
            return replay(&state, key.as_ref())
                .await?
                .ok_or_else(|| Problem::internal(&"idempotency key taken but not found"));
        }
        Err(InsertError::Database(err)) => return Err(err.into()),
    }
    state.relay_wake.notify_one();
    tracing::info!(
        order.id = %order.id,
        order.total_minor = order.total.amount_minor,
        order.lines = order.lines.len(),
        "order placed"
    );
    if let Err(why) = state.upstream.empty_cart(owner).await {
        // The order exists and will be paid for; a full cart is the lesser harm.
        tracing::warn!(order.id = %order.id, error = %why, "order placed but the cart was not emptied");
    }
    Ok(created(&order))
}

/// The order a key was first used for, if it was; a 422 if it was for another request.
async fn replay(
    state: &AppState,
    key: Option<&IdempotencyKey<'_>>,
) -> Result<Option<Response>, Problem> {
    let Some(key) = key else { return Ok(None) };
    let Some(first) = store::key_use(&state.pool, key.owner, key.key).await? else {
        return Ok(None);
    };
    if first.request_hash != key.request_hash {
        return Err(Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "idempotency-key-reused",
            "The idempotency key was used for another request",
        )
        .with_field(KEY_HEADER)
        .with_detail("send a new Idempotency-Key for a different order"));
    }
    let order = store::find(&state.pool, first.order_id)
        .await?
        .ok_or_else(|| Problem::internal(&"idempotency key without its order"))?;
    Ok(Some(created(&order)))
}

/// The same answer for the first request and every repeat: 201 with the order as it is
/// now (a repeat after payment shows it paid).
fn created(order: &Order) -> Response {
    let location = format!("/orders/{}", order.id);
    (
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(order.view()),
    )
        .into_response()
}

/// Σ unit price × quantity + shipping, in one currency, checked for overflow.
fn total(lines: &[OrderLine], shipping: Money) -> Result<Money, Problem> {
    let mut amount = shipping.amount_minor;
    for line in lines {
        if line.unit_price.currency != shipping.currency {
            return Err(Problem::internal(
                &"catalog and shipping price in different currencies",
            ));
        }
        amount = line
            .unit_price
            .amount_minor
            .checked_mul(i64::from(line.quantity))
            .and_then(|subtotal| amount.checked_add(subtotal))
            .ok_or_else(|| Problem::internal(&"order total overflows"))?;
    }
    Ok(Money {
        currency: shipping.currency,
        amount_minor: amount,
    })
}

/// The current span's W3C context, kept with the outbox row for the relay.
fn current_trace() -> TraceContext {
    let mut headers = HeaderMap::new();
    serving::telemetry::inject_context(&mut headers);
    let text = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    TraceContext {
        traceparent: text("traceparent"),
        tracestate: text("tracestate").filter(|s| !s.is_empty()),
    }
}

/// The optional `Idempotency-Key`: 1 to 255 visible ASCII characters.
pub struct KeyHeader(Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for KeyHeader {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Problem> {
        let Some(value) = parts.headers.get(KEY_HEADER) else {
            return Ok(Self(None));
        };
        let bytes = value.as_bytes();
        if (1..=255).contains(&bytes.len()) && bytes.iter().all(|b| b.is_ascii_graphic()) {
            Ok(Self(Some(String::from_utf8_lossy(bytes).into_owned())))
        } else {
            Err(Problem::invalid_header(
                KEY_HEADER,
                "must be 1 to 255 visible ASCII characters",
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(price: i64, quantity: u32) -> OrderLine {
        OrderLine {
            product_id: "p".into(),
            name: "P".into(),
            quantity,
            unit_price: Money::usd(price),
        }
    }

    #[test]
    fn the_total_is_lines_times_quantities_plus_shipping() {
        let total = total(&[line(1999, 2), line(500, 1)], Money::usd(700)).unwrap();
        assert_eq!(total, Money::usd(1999 * 2 + 500 + 700));
        assert!(super::total(&[line(i64::MAX, 2)], Money::usd(0)).is_err());
    }
}
