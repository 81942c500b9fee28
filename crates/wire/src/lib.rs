//! Payload shapes that cross service boundaries (see DESIGN.md "Payload shapes").
//! Services may add fields; they never rename these.

pub mod address;
pub mod email;
pub mod events;
pub mod order;
pub mod text;

use serde::{Deserialize, Serialize};

/// An amount of money: an integer count of minor units and an ISO 4217 code. Never a float.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Money {
    pub currency: Currency,
    pub amount_minor: i64,
}

impl Money {
    pub fn usd(amount_minor: i64) -> Self {
        Self {
            currency: Currency::USD,
            amount_minor,
        }
    }
}

/// The currencies the shop prices in. Only USD today; a closed set keeps totals honest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Currency {
    USD,
}

impl Currency {
    pub fn code(self) -> &'static str {
        match self {
            Currency::USD => "USD",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        match code {
            "USD" => Some(Currency::USD),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Product {
    pub id: String,
    pub name: String,
    pub description: String,
    /// Path of the product's picture, served by the frontend.
    pub picture: String,
    pub price: Money,
    pub categories: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductList {
    pub items: Vec<Product>,
    pub total: i64,
    pub page: u32,
    pub per_page: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Category {
    pub name: String,
    pub count: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CategoryList {
    pub items: Vec<Category>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CartLine {
    pub product_id: String,
    pub quantity: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cart {
    pub items: Vec<CartLine>,
    /// RFC 3339 time of the last write; absent for a cart never written.
    pub updated_at: Option<String>,
}

/// A postal address as events and quote requests carry it; `address::PostalAddress` is
/// the same shape, validated, for reading one from a client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Address {
    pub name: String,
    pub street: String,
    pub city: String,
    pub postal_code: String,
    /// ISO 3166-1 alpha-2, upper case.
    pub country: String,
}

/// What is kept of a card: never the number or the CVV.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CardSummary {
    pub brand: String,
    pub last4: String,
    pub exp_month: u8,
    pub exp_year: u16,
}

/// A line to price or ship: `{"product_id", "quantity"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuoteRequest {
    pub address: Address,
    pub items: Vec<CartLine>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quote {
    pub cost: Money,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_serialises_as_the_design_says() {
        let json = serde_json::to_value(Money::usd(1999)).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"currency": "USD", "amount_minor": 1999})
        );
    }

    #[test]
    fn unknown_currency_is_refused() {
        let err = serde_json::from_str::<Money>(r#"{"currency":"XXX","amount_minor":1}"#);
        assert!(err.is_err());
        assert_eq!(Currency::from_code("USD"), Some(Currency::USD));
        assert_eq!(Currency::from_code("EUR"), None);
    }
}
