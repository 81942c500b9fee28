//! Payloads of the gateway's API that `wire` does not carry (DESIGN.md "Payload shapes"):
//! read leniently, since services may add fields and some are filled in later.

use serde::{Deserialize, Serialize};
use uuid::Uuid;
use wire::{Address, Money};

/// `register` and `login` answer with the gateway-signed JWT and its lifetime.
#[derive(Debug, Clone, Deserialize)]
pub struct TokenAnswer {
    pub access_token: String,
    pub expires_in: i64,
}

/// The signed-in account (`GET /me`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Me {
    pub id: Uuid,
    pub email: String,
    pub name: String,
    #[serde(default)]
    pub address: Option<Address>,
}

/// `POST /checkout`: what the visitor typed, passed on for checkout to judge.
#[derive(Debug, Clone, Serialize)]
pub struct Checkout {
    pub email: String,
    pub address: Address,
    pub card: CardInput,
}

#[derive(Debug, Clone, Serialize)]
pub struct CardInput {
    pub number: String,
    pub cvv: String,
    /// A number when it reads as one; else the text as typed, so checkout names the
    /// field in its problem.
    pub exp_month: serde_json::Value,
    pub exp_year: serde_json::Value,
}

pub const PLACED: &str = "placed";
pub const PAID: &str = "paid";
pub const PAYMENT_FAILED: &str = "payment_failed";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Order {
    pub id: Uuid,
    /// `placed`, `paid` or `payment_failed`.
    pub status: String,
    pub items: Vec<OrderLine>,
    pub shipping_cost: Money,
    pub total: Money,
    #[serde(default)]
    pub card: Option<CardBrief>,
    #[serde(default)]
    pub transaction_id: Option<String>,
    #[serde(default)]
    pub tracking_id: Option<String>,
    /// Why the payment failed; the contract does not name this field yet, so the
    /// likely names are all read.
    #[serde(
        default,
        alias = "reason",
        alias = "payment_failure_reason",
        alias = "failure"
    )]
    pub failure_reason: Option<String>,
    #[serde(default)]
    pub email_sent: Option<bool>,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub updated_at: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OrderLine {
    pub product_id: String,
    pub name: String,
    pub quantity: u32,
    pub unit_price: Money,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CardBrief {
    pub brand: String,
    pub last4: String,
}

/// `GET /me/orders`: `{"items": [order]}` like every other list, or a bare array.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum OrderList {
    Items { items: Vec<Order> },
    Orders { orders: Vec<Order> },
    Bare(Vec<Order>),
}

impl OrderList {
    pub fn into_orders(self) -> Vec<Order> {
        match self {
            OrderList::Items { items }
            | OrderList::Orders { orders: items }
            | OrderList::Bare(items) => items,
        }
    }
}
