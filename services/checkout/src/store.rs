//! Queries on `orders`, `order_lines`, `outbox` and `idempotency_keys`.

use std::time::Duration;

use sqlx::{FromRow, PgPool, Postgres, Transaction, types::Json};
use time::OffsetDateTime;
use tracing::Instrument;
use uuid::Uuid;
use wire::{
    CardSummary, Currency, Money,
    events::{Event, OrderLine, OrderPlaced},
    order::OrderStatus,
};

use crate::order::Order;

/// The first request that used an `Idempotency-Key`.
pub struct KeyUse {
    pub request_hash: Vec<u8>,
    pub order_id: Uuid,
}

pub struct IdempotencyKey<'a> {
    pub owner: &'a str,
    pub key: &'a str,
    pub request_hash: &'a [u8],
}

/// The trace context of the request that took the order, kept with its outbox row.
#[derive(Debug, Default)]
pub struct TraceContext {
    pub traceparent: Option<String>,
    pub tracestate: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum InsertError {
    /// Another request with the same owner and key committed first.
    #[error("the idempotency key is taken")]
    KeyTaken,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// Takes the order: the order, its lines, its `order.placed` outbox row and the
/// idempotency key, all or nothing.
pub async fn insert(
    pool: &PgPool,
    order: &Order,
    key: Option<&IdempotencyKey<'_>>,
    trace: &TraceContext,
) -> Result<(), InsertError> {
    // One span for the whole transaction: the order, its lines, its outbox row and key.
    insert_all(pool, order, key, trace)
        .instrument(serving::db_span!("postgresql", "INSERT", "orders"))
        .await
}

async fn insert_all(
    pool: &PgPool,
    order: &Order,
    key: Option<&IdempotencyKey<'_>>,
    trace: &TraceContext,
) -> Result<(), InsertError> {
    let mut tx = pool.begin().await?;
    insert_order(&mut tx, order).await?;
    sqlx::query(
        "INSERT INTO outbox (order_id, kind, body, traceparent, tracestate)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(order.id)
    .bind(OrderPlaced::NAME)
    .bind(Json(order.placed_event()))
    .bind(&trace.traceparent)
    .bind(&trace.tracestate)
    .execute(&mut *tx)
    .await?;
    if let Some(key) = key {
        // A concurrent twin's insert waits here for our commit, then fails: one order.
        let inserted = sqlx::query(
            "INSERT INTO idempotency_keys (owner, key, request_hash, order_id)
             VALUES ($1, $2, $3, $4)",
        )
        .bind(key.owner)
        .bind(key.key)
        .bind(key.request_hash)
        .bind(order.id)
        .execute(&mut *tx)
        .await;
        match inserted {
            Err(err) if is_unique_violation(&err) => return Err(InsertError::KeyTaken),
            other => other?,
        };
    }
    tx.commit().await?;
    Ok(())
}

async fn insert_order(tx: &mut Transaction<'_, Postgres>, order: &Order) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO orders (id, owner, user_id, email, address, status, currency,
            shipping_cost_minor, total_minor, card_brand, card_last4, card_exp_month,
            card_exp_year, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14)",
    )
    .bind(order.id)
    .bind(&order.owner)
    .bind(order.user_id)
    .bind(&order.email)
    .bind(Json(&order.address))
    .bind(order.status.as_str())
    .bind(order.total.currency.code())
    .bind(order.shipping_cost.amount_minor)
    .bind(order.total.amount_minor)
    .bind(&order.card.brand)
    .bind(&order.card.last4)
    .bind(i16::from(order.card.exp_month))
    .bind(order.card.exp_year as i16)
    .bind(order.created_at)
    .execute(&mut **tx)
    .await?;
    // One statement for all lines, whatever their number.
    sqlx::query(
        "INSERT INTO order_lines (order_id, line_no, product_id, name, quantity, unit_price_minor)
         SELECT $1, * FROM UNNEST($2::int[], $3::text[], $4::text[], $5::int[], $6::bigint[])",
    )
    .bind(order.id)
    .bind((0..order.lines.len() as i32).collect::<Vec<_>>())
    .bind(
        order
            .lines
            .iter()
            .map(|l| l.product_id.clone())
            .collect::<Vec<_>>(),
    )
    .bind(
        order
            .lines
            .iter()
            .map(|l| l.name.clone())
            .collect::<Vec<_>>(),
    )
    .bind(
        order
            .lines
            .iter()
            .map(|l| l.quantity as i32)
            .collect::<Vec<_>>(),
    )
    .bind(
        order
            .lines
            .iter()
            .map(|l| l.unit_price.amount_minor)
            .collect::<Vec<_>>(),
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Deletes idempotency keys taken more than `lifetime` ago; answers how many.
pub async fn forget_keys_older_than(pool: &PgPool, lifetime: Duration) -> sqlx::Result<u64> {
    let done = sqlx::query(
        "DELETE FROM idempotency_keys WHERE created_at < now() - make_interval(secs => $1)",
    )
    .bind(lifetime.as_secs_f64())
    .execute(pool)
    .instrument(serving::db_span!(
        "postgresql",
        "DELETE",
        "idempotency_keys"
    ))
    .await?;
    Ok(done.rows_affected())
}

pub async fn key_use(pool: &PgPool, owner: &str, key: &str) -> sqlx::Result<Option<KeyUse>> {
    let row: Option<(Vec<u8>, Uuid)> = sqlx::query_as(
        "SELECT request_hash, order_id FROM idempotency_keys WHERE owner = $1 AND key = $2",
    )
    .bind(owner)
    .bind(key)
    .fetch_optional(pool)
    .instrument(serving::db_span!(
        "postgresql",
        "SELECT",
        "idempotency_keys"
    ))
    .await?;
    Ok(row.map(|(request_hash, order_id)| KeyUse {
        request_hash,
        order_id,
    }))
}

#[derive(FromRow)]
struct OrderRow {
    id: Uuid,
    owner: String,
    user_id: Option<Uuid>,
    email: String,
    address: Json<wire::Address>,
    status: String,
    currency: String,
    shipping_cost_minor: i64,
    total_minor: i64,
    card_brand: String,
    card_last4: String,
    card_exp_month: i16,
    card_exp_year: i16,
    transaction_id: Option<String>,
    payment_failure_reason: Option<String>,
    tracking_id: Option<String>,
    shipment_cancelled: bool,
    email_sent: bool,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
}

#[derive(FromRow)]
struct LineRow {
    order_id: Uuid,
    product_id: String,
    name: String,
    quantity: i32,
    unit_price_minor: i64,
}

/// A macro, not a const, so `concat!` builds each query as one static string.
macro_rules! order_columns {
    () => {
        "id, owner, user_id, email, address, status, currency, shipping_cost_minor,
         total_minor, card_brand, card_last4, card_exp_month, card_exp_year, transaction_id,
         payment_failure_reason, tracking_id, shipment_cancelled, email_sent, created_at,
         updated_at"
    };
}

pub async fn find(pool: &PgPool, id: Uuid) -> sqlx::Result<Option<Order>> {
    let row: Option<OrderRow> = sqlx::query_as(concat!(
        "SELECT ",
        order_columns!(),
        " FROM orders WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(pool)
    .instrument(serving::db_span!("postgresql", "SELECT", "orders"))
    .await?;
    let Some(row) = row else { return Ok(None) };
    let mut orders = with_lines(pool, vec![row]).await?;
    Ok(orders.pop())
}

/// A user's orders, newest first.
pub async fn list_for_user(pool: &PgPool, user: Uuid, limit: i64) -> sqlx::Result<Vec<Order>> {
    let rows: Vec<OrderRow> = sqlx::query_as(concat!(
        "SELECT ",
        order_columns!(),
        " FROM orders WHERE user_id = $1 ORDER BY created_at DESC, id LIMIT $2"
    ))
    .bind(user)
    .bind(limit)
    .fetch_all(pool)
    .instrument(serving::db_span!("postgresql", "SELECT", "orders"))
    .await?;
    with_lines(pool, rows).await
}

async fn with_lines(pool: &PgPool, rows: Vec<OrderRow>) -> sqlx::Result<Vec<Order>> {
    let ids: Vec<Uuid> = rows.iter().map(|row| row.id).collect();
    let lines: Vec<LineRow> = sqlx::query_as(
        "SELECT order_id, product_id, name, quantity, unit_price_minor FROM order_lines
         WHERE order_id = ANY($1) ORDER BY order_id, line_no",
    )
    .bind(&ids)
    .fetch_all(pool)
    .instrument(serving::db_span!("postgresql", "SELECT", "order_lines"))
    .await?;
    rows.into_iter()
        .map(|row| {
            let id = row.id;
            assemble(row, lines.iter().filter(move |line| line.order_id == id))
        })
        .collect()
}

fn assemble<'a>(row: OrderRow, lines: impl Iterator<Item = &'a LineRow>) -> sqlx::Result<Order> {
    let id = row.id;
    let corrupt = |what: &str| sqlx::Error::Decode(format!("orders.{what} of {id}").into());
    let currency = Currency::from_code(row.currency.trim()).ok_or_else(|| corrupt("currency"))?;
    let status: OrderStatus = row.status.parse().map_err(|_| corrupt("status"))?;
    let money = |amount_minor| Money {
        currency,
        amount_minor,
    };
    let lines = lines
        .map(|line| OrderLine {
            product_id: line.product_id.clone(),
            name: line.name.clone(),
            quantity: line.quantity.max(0) as u32,
            unit_price: money(line.unit_price_minor),
        })
        .collect();
    Ok(Order {
        id: row.id,
        owner: row.owner,
        user_id: row.user_id,
        email: row.email,
        address: row.address.0,
        status,
        lines,
        shipping_cost: money(row.shipping_cost_minor),
        total: money(row.total_minor),
        card: CardSummary {
            brand: row.card_brand,
            last4: row.card_last4,
            exp_month: row.card_exp_month as u8,
            exp_year: row.card_exp_year as u16,
        },
        transaction_id: row.transaction_id,
        payment_failure_reason: row.payment_failure_reason,
        tracking_id: row.tracking_id,
        shipment_cancelled: row.shipment_cancelled,
        email_sent: row.email_sent,
        created_at: row.created_at,
        updated_at: row.updated_at,
    })
}

/// What an outcome event does to an order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    Paid { transaction_id: String },
    PaymentFailed { reason: String },
    ShipmentCreated { tracking_id: String },
    ShipmentCancelled,
    EmailSent,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    Changed,
    /// A duplicate, or an outcome the order has moved past (paid, then failed): no-op.
    Unchanged,
    UnknownOrder,
}

/// Applies `change` once: each UPDATE only matches an order it still changes, so a
/// duplicate event matches nothing.
pub async fn apply(pool: &PgPool, id: Uuid, change: &Change) -> sqlx::Result<Applied> {
    let (sql, text) = match change {
        Change::Paid { transaction_id } => (
            "UPDATE orders SET status = 'paid', transaction_id = $2, updated_at = now()
             WHERE id = $1 AND status = 'placed'",
            Some(transaction_id),
        ),
        Change::PaymentFailed { reason } => (
            "UPDATE orders SET status = 'payment_failed', payment_failure_reason = $2,
                updated_at = now()
             WHERE id = $1 AND status = 'placed'",
            Some(reason),
        ),
        Change::ShipmentCreated { tracking_id } => (
            "UPDATE orders SET tracking_id = $2, updated_at = now()
             WHERE id = $1 AND tracking_id IS NULL",
            Some(tracking_id),
        ),
        Change::ShipmentCancelled => (
            "UPDATE orders SET shipment_cancelled = true, updated_at = now()
             WHERE id = $1 AND NOT shipment_cancelled",
            None,
        ),
        Change::EmailSent => (
            "UPDATE orders SET email_sent = true, updated_at = now()
             WHERE id = $1 AND NOT email_sent",
            None,
        ),
    };
    let mut query = sqlx::query(sql).bind(id);
    if let Some(text) = text {
        query = query.bind(text);
    }
    let changed = query
        .execute(pool)
        .instrument(serving::db_span!("postgresql", "UPDATE", "orders"))
        .await?
        .rows_affected()
        > 0;
    if changed {
        return Ok(Applied::Changed);
    }
    let exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM orders WHERE id = $1)")
        .bind(id)
        .fetch_one(pool)
        .instrument(serving::db_span!("postgresql", "SELECT", "orders"))
        .await?;
    Ok(if exists {
        Applied::Unchanged
    } else {
        Applied::UnknownOrder
    })
}

fn is_unique_violation(err: &sqlx::Error) -> bool {
    err.as_database_error()
        .is_some_and(|db| db.is_unique_violation())
}
