//! The quote: a price from the destination and the number of items alone (a quote
//! request carries no prices). Base rate 4.99 USD within the US, 14.99 USD elsewhere,
//! plus 1.50 USD for each item beyond the first.

use serde::Deserialize;
use wire::{Money, address::PostalAddress};

pub const DOMESTIC_COUNTRY: &str = "US";
pub const DOMESTIC_BASE_MINOR: i64 = 499;
pub const INTERNATIONAL_BASE_MINOR: i64 = 1499;
pub const PER_EXTRA_ITEM_MINOR: i64 = 150;

/// At most this many lines in one request, so one request stays small.
const MAX_LINES: usize = 100;
const MAX_QUANTITY: u32 = 99;
const MAX_PRODUCT_ID_CHARS: usize = 64;

/// The cost of shipping `units` items (at least one) to `country`.
pub fn quote(country: &str, units: u32) -> Money {
    let base = if country == DOMESTIC_COUNTRY {
        DOMESTIC_BASE_MINOR
    } else {
        INTERNATIONAL_BASE_MINOR
    };
    let extra = i64::from(units.saturating_sub(1));
    Money::usd(base + PER_EXTRA_ITEM_MINOR * extra)
}

/// `POST /quotes`'s body: `wire::QuoteRequest`'s shape, each part parsed valid.
#[derive(Debug, Deserialize)]
pub struct QuoteRequest {
    pub address: PostalAddress,
    pub items: Items,
}

impl QuoteRequest {
    pub fn cost(&self) -> Money {
        quote(self.address.country.as_str(), self.items.units())
    }
}

/// 1..=100 lines.
#[derive(Debug, Deserialize)]
#[serde(try_from = "Vec<Line>")]
pub struct Items(Vec<Line>);

impl Items {
    /// Items in all lines together; at most 100 × 99, so no overflow.
    pub fn units(&self) -> u32 {
        self.0.iter().map(|line| line.quantity.0).sum()
    }
}

impl TryFrom<Vec<Line>> for Items {
    type Error = String;

    fn try_from(lines: Vec<Line>) -> Result<Self, String> {
        if lines.is_empty() {
            return Err("must list at least one item".into());
        }
        if lines.len() > MAX_LINES {
            return Err(format!("must list at most {MAX_LINES} items"));
        }
        Ok(Items(lines))
    }
}

#[derive(Debug, Deserialize)]
pub struct Line {
    #[expect(dead_code, reason = "validated, but the price does not depend on it")]
    pub product_id: ProductId,
    pub quantity: Quantity,
}

/// A catalog slug: 1..=64 of `a-z`, `0-9` and `-`. Checked, not kept.
#[derive(Debug, Deserialize)]
#[serde(try_from = "String")]
pub struct ProductId;

impl TryFrom<String> for ProductId {
    type Error = String;

    fn try_from(id: String) -> Result<Self, String> {
        let slug = !id.is_empty()
            && id.len() <= MAX_PRODUCT_ID_CHARS
            && id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if slug {
            Ok(ProductId)
        } else {
            Err(format!(
                "must be a product id: 1 to {MAX_PRODUCT_ID_CHARS} of a-z, 0-9 and -"
            ))
        }
    }
}

/// 1..=99 of one product.
#[derive(Debug, Deserialize)]
#[serde(try_from = "u32")]
pub struct Quantity(u32);

impl TryFrom<u32> for Quantity {
    type Error = String;

    fn try_from(quantity: u32) -> Result<Self, String> {
        if (1..=MAX_QUANTITY).contains(&quantity) {
            Ok(Quantity(quantity))
        } else {
            Err(format!("must be between 1 and {MAX_QUANTITY}"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_price_is_the_destinations_base_plus_150_per_extra_item() {
        let cases = [
            ("US", 1, 499, "one item at home"),
            ("US", 3, 799, "two extra items"),
            ("DE", 1, 1499, "one item abroad"),
            ("DE", 2, 1649, "one extra item abroad"),
            ("CA", 99, 1499 + 98 * 150, "a full line abroad"),
        ];
        for (country, units, minor, why) in cases {
            assert_eq!(quote(country, units), Money::usd(minor), "{why}");
        }
    }
}
