//! Payloads of the gateway's API that `wire` does not carry (DESIGN.md "Payload shapes"):
//! read leniently, since services may add fields and some are filled in later. Orders
//! are `wire::order`'s, the shape checkout answers.

use serde::{Deserialize, Serialize};
use uuid::Uuid;
use wire::Address;

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
