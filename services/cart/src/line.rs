//! What a cart line is made of: a product id and a quantity, each only constructible
//! valid, so handlers and the store never see a bad one.

use std::fmt;

use serde::Deserialize;

/// The most of one product a cart line holds.
pub const MAX_QUANTITY: u32 = 99;

const MAX_ID_LEN: usize = 64;

/// A product id as catalog writes them: 1 to 64 lowercase letters, digits and dashes.
/// Never starting with `_` is what keeps ids apart from the hash's `_updated_at` field.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Deserialize)]
#[serde(try_from = "String")]
pub struct ProductId(String);

impl ProductId {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for ProductId {
    type Error = String;

    fn try_from(id: String) -> Result<Self, String> {
        let well_formed = (1..=MAX_ID_LEN).contains(&id.len())
            && id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if well_formed {
            Ok(Self(id))
        } else {
            Err(format!(
                "must be a product id: 1 to {MAX_ID_LEN} lowercase letters, digits and dashes"
            ))
        }
    }
}

impl fmt::Display for ProductId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// How many of a product to add: 1 to [`MAX_QUANTITY`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "u32")]
pub struct Quantity(u32);

impl Quantity {
    pub fn get(self) -> u32 {
        self.0
    }
}

impl TryFrom<u32> for Quantity {
    type Error = String;

    fn try_from(value: u32) -> Result<Self, String> {
        if (1..=MAX_QUANTITY).contains(&value) {
            Ok(Self(value))
        } else {
            Err(format!("must be between 1 and {MAX_QUANTITY}"))
        }
    }
}

/// What `PUT` asks a line to become: 0 means take the line out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "u32")]
pub enum SetQuantity {
    Remove,
    To(Quantity),
}

impl SetQuantity {
    /// The quantity to store, 0 for none.
    pub fn get(self) -> u32 {
        match self {
            Self::Remove => 0,
            Self::To(quantity) => quantity.get(),
        }
    }
}

impl TryFrom<u32> for SetQuantity {
    type Error = String;

    fn try_from(value: u32) -> Result<Self, String> {
        match value {
            0 => Ok(Self::Remove),
            _ => Quantity::try_from(value)
                .map(Self::To)
                .map_err(|_| format!("must be between 0 and {MAX_QUANTITY}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn product_ids_are_catalog_slugs() {
        assert!(ProductId::try_from("cast-iron-skillet".to_owned()).is_ok());
        assert!(ProductId::try_from("a".repeat(64)).is_ok());
        let refused = [
            ("", "empty"),
            ("_updated_at", "would clash with the timestamp field"),
            ("Cast-Iron", "upper case"),
            ("a b", "a space"),
            ("café", "not ASCII"),
            ("a:b", "a separator Redis keys use"),
        ];
        for (id, why) in refused {
            assert!(ProductId::try_from(id.to_owned()).is_err(), "{why}");
        }
        assert!(ProductId::try_from("a".repeat(65)).is_err(), "too long");
    }

    #[test]
    fn quantities_run_from_1_to_99() {
        assert_eq!(Quantity::try_from(1).map(Quantity::get), Ok(1));
        assert_eq!(Quantity::try_from(99).map(Quantity::get), Ok(99));
        assert!(
            Quantity::try_from(0).is_err(),
            "adding nothing is a mistake"
        );
        assert!(Quantity::try_from(100).is_err(), "over the line cap");
    }

    #[test]
    fn setting_0_means_remove() {
        assert_eq!(SetQuantity::try_from(0), Ok(SetQuantity::Remove));
        assert_eq!(SetQuantity::try_from(7).map(SetQuantity::get), Ok(7));
        assert_eq!(SetQuantity::try_from(99).map(SetQuantity::get), Ok(99));
        assert!(SetQuantity::try_from(100).is_err());
    }

    #[test]
    fn quantities_deserialise_from_json_numbers_only() {
        let parse = |json: &str| serde_json::from_str::<Quantity>(json);
        assert_eq!(parse("3").unwrap().get(), 3);
        assert!(parse("-1").is_err(), "negative");
        assert!(parse("\"two\"").is_err(), "a string");
        assert!(parse("1.5").is_err(), "a fraction");
        assert!(parse("100").is_err(), "over the cap");
    }
}
