//! Carts in Redis. Every write is one Lua script that checks, writes, stamps
//! `_updated_at`, restarts the TTL and answers the whole cart, so a write is atomic and
//! one round trip.

use std::{collections::HashMap, sync::LazyLock};

use axum::http::StatusCode;
use redis::{RedisError, Script, aio::ConnectionManager};
use serving::Problem;
use time::{OffsetDateTime, format_description::well_known::Rfc3339};
use tracing::Instrument;
use wire::{Cart, CartLine};

use crate::{
    line::{MAX_QUANTITY, ProductId, Quantity, SetQuantity},
    owner::{CartOwner, MergeOwners},
};

/// The most distinct products one cart holds, so no cart grows without bound.
pub const MAX_LINES: usize = 50;

const UPDATED_AT: &str = "_updated_at";

macro_rules! script {
    ($file:literal) => {
        LazyLock::new(|| {
            Script::new(concat!(
                include_str!("scripts/prelude.lua"),
                include_str!($file)
            ))
        })
    };
}

static ADD: LazyLock<Script> = script!("scripts/add.lua");
static SET: LazyLock<Script> = script!("scripts/set.lua");
static MERGE: LazyLock<Script> = script!("scripts/merge.lua");

#[derive(Debug, thiserror::Error)]
pub enum CartError {
    #[error("the line already holds {current}")]
    OverQuantity { current: u32 },
    #[error("the cart already holds {MAX_LINES} products")]
    Full,
    #[error("unexpected cart data in redis: {0}")]
    Corrupt(String),
    #[error(transparent)]
    Redis(#[from] RedisError),
}

impl From<CartError> for Problem {
    fn from(err: CartError) -> Self {
        match err {
            CartError::OverQuantity { current } => Problem::invalid_field(
                "quantity",
                format!("the cart holds {current} already; a line holds at most {MAX_QUANTITY}"),
            ),
            CartError::Full => Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "cart-full",
                "The cart is full",
            )
            .with_detail(format!(
                "a cart holds at most {MAX_LINES} different products"
            )),
            CartError::Redis(err) => err.into(),
            CartError::Corrupt(_) => Problem::internal(&err),
        }
    }
}

#[derive(Clone)]
pub struct CartStore {
    connection: ConnectionManager,
    prefix: String,
    ttl_secs: u64,
}

impl CartStore {
    pub fn new(connection: ConnectionManager, prefix: &str, ttl_secs: u64) -> Self {
        Self {
            connection,
            prefix: prefix.to_owned(),
            ttl_secs,
        }
    }

    fn key(&self, owner: &CartOwner) -> String {
        format!("{}cart:{owner}", self.prefix)
    }

    #[tracing::instrument(name = "cart.read", skip_all, fields(cart.owner = %owner.for_logs()))]
    pub async fn read(&self, owner: &CartOwner) -> Result<Cart, CartError> {
        let fields: HashMap<String, String> = redis::cmd("HGETALL")
            .arg(self.key(owner))
            .query_async(&mut self.connection.clone())
            .instrument(serving::db_span!("redis", "HGETALL", "cart"))
            .await?;
        cart_from_fields(fields)
    }

    #[tracing::instrument(name = "cart.add", skip_all, fields(cart.owner = %owner.for_logs()))]
    pub async fn add(
        &self,
        owner: &CartOwner,
        product: &ProductId,
        quantity: Quantity,
    ) -> Result<Cart, CartError> {
        let reply = ADD
            .key(self.key(owner))
            .arg(product.as_str())
            .arg(quantity.get())
            .arg(MAX_QUANTITY)
            .arg(MAX_LINES)
            .arg(now())
            .arg(self.ttl_secs)
            .invoke_async(&mut self.connection.clone())
            .instrument(serving::db_span!("redis", "EVALSHA", "cart"))
            .await?;
        outcome(reply)
    }

    #[tracing::instrument(name = "cart.set", skip_all, fields(cart.owner = %owner.for_logs()))]
    pub async fn set(
        &self,
        owner: &CartOwner,
        product: &ProductId,
        quantity: SetQuantity,
    ) -> Result<Cart, CartError> {
        let reply = SET
            .key(self.key(owner))
            .arg(product.as_str())
            .arg(quantity.get())
            .arg(MAX_LINES)
            .arg(now())
            .arg(self.ttl_secs)
            .invoke_async(&mut self.connection.clone())
            .instrument(serving::db_span!("redis", "EVALSHA", "cart"))
            .await?;
        outcome(reply)
    }

    #[tracing::instrument(name = "cart.empty", skip_all, fields(cart.owner = %owner.for_logs()))]
    pub async fn empty(&self, owner: &CartOwner) -> Result<Cart, CartError> {
        redis::cmd("DEL")
            .arg(self.key(owner))
            .exec_async(&mut self.connection.clone())
            .instrument(serving::db_span!("redis", "DEL", "cart"))
            .await?;
        Ok(Cart {
            items: Vec::new(),
            updated_at: None,
        })
    }

    /// Adds the session's lines into the user's cart (quantities summed, capped) and
    /// deletes the session cart; answers the user's cart.
    #[tracing::instrument(name = "cart.merge", skip_all, fields(cart.owner = %owners.user.for_logs()))]
    pub async fn merge(&self, owners: &MergeOwners) -> Result<Cart, CartError> {
        let reply = MERGE
            .key(self.key(&owners.user))
            .key(self.key(&owners.session))
            .arg(MAX_QUANTITY)
            .arg(MAX_LINES)
            .arg(now())
            .arg(self.ttl_secs)
            .invoke_async(&mut self.connection.clone())
            .instrument(serving::db_span!("redis", "EVALSHA", "cart"))
            .await?;
        outcome(reply)
    }
}

/// The write's time, RFC 3339 to the millisecond.
fn now() -> String {
    let now = OffsetDateTime::now_utc();
    let now = now.replace_millisecond(now.millisecond()).unwrap_or(now);
    now.format(&Rfc3339).unwrap_or_default()
}

/// Reads a script's reply: `ok` and the cart's fields, or why the write was refused.
fn outcome(reply: Vec<String>) -> Result<Cart, CartError> {
    match reply.split_first() {
        Some((status, fields)) if status == "ok" => cart_from_fields(
            fields
                .chunks_exact(2)
                .map(|pair| (pair[0].clone(), pair[1].clone())),
        ),
        Some((status, [current])) if status == "quantity" => Err(CartError::OverQuantity {
            current: current
                .parse()
                .map_err(|_| CartError::Corrupt(current.clone()))?,
        }),
        Some((status, [])) if status == "lines" => Err(CartError::Full),
        _ => Err(CartError::Corrupt(format!("script answered {reply:?}"))),
    }
}

/// A cart from its hash: lines sorted by product id, the timestamp apart.
fn cart_from_fields(fields: impl IntoIterator<Item = (String, String)>) -> Result<Cart, CartError> {
    let mut cart = Cart {
        items: Vec::new(),
        updated_at: None,
    };
    for (field, value) in fields {
        if field == UPDATED_AT {
            cart.updated_at = Some(value);
        } else {
            let quantity = value
                .parse()
                .map_err(|_| CartError::Corrupt(format!("{field} = {value:?}")))?;
            cart.items.push(CartLine {
                product_id: field,
                quantity,
            });
        }
    }
    cart.items.sort_by(|a, b| a.product_id.cmp(&b.product_id));
    Ok(cart)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn a_cart_is_read_sorted_with_its_timestamp_apart() {
        let cart = outcome(reply(&[
            "ok",
            "b",
            "2",
            UPDATED_AT,
            "2026-01-01T00:00:00Z",
            "a",
            "1",
        ]));
        let cart = cart.unwrap();
        let ids: Vec<_> = cart
            .items
            .iter()
            .map(|l| (l.product_id.as_str(), l.quantity))
            .collect();
        assert_eq!(ids, [("a", 1), ("b", 2)]);
        assert_eq!(cart.updated_at.as_deref(), Some("2026-01-01T00:00:00Z"));
    }

    #[test]
    fn a_missing_cart_is_empty_and_never_written() {
        let cart = outcome(reply(&["ok"])).unwrap();
        assert!(cart.items.is_empty());
        assert_eq!(cart.updated_at, None);
    }

    #[test]
    fn refusals_are_read_from_the_reply() {
        assert!(matches!(
            outcome(reply(&["quantity", "98"])),
            Err(CartError::OverQuantity { current: 98 })
        ));
        assert!(matches!(outcome(reply(&["lines"])), Err(CartError::Full)));
        assert!(matches!(
            outcome(reply(&["what"])),
            Err(CartError::Corrupt(_))
        ));
        assert!(matches!(
            outcome(reply(&["ok", "a", "x"])),
            Err(CartError::Corrupt(_))
        ));
    }

    #[test]
    fn timestamps_are_rfc3339_to_the_millisecond() {
        let stamp = now();
        let parsed = OffsetDateTime::parse(&stamp, &Rfc3339).unwrap();
        assert_eq!(parsed.nanosecond() % 1_000_000, 0, "{stamp}");
    }
}
