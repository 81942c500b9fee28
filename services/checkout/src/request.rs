//! The body of `POST /orders`. Each value can only be built valid (`#[serde(try_from)]`),
//! so a bad one comes back as a 422 naming its field (`address.city`, `card.number`).

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use wire::{CardSummary, address::PostalAddress, email::Email};

use crate::card::CardDetails;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckoutRequest {
    pub email: Email,
    pub address: PostalAddress,
    pub card: CardDetails,
}

/// What identifies a request for `Idempotency-Key`: the validated values, with the card
/// as its summary only. Two cards with the same brand, last four and expiry therefore
/// count as the same request; a hash of the full number would be guessable.
pub fn fingerprint(email: &Email, address: &PostalAddress, card: &CardSummary) -> Vec<u8> {
    #[derive(Serialize)]
    struct Fingerprint<'a> {
        email: &'a str,
        address: wire::Address,
        card: &'a CardSummary,
    }
    let fingerprint = Fingerprint {
        email: email.as_str(),
        address: wire::Address::from(address),
        card,
    };
    let json = serde_json::to_vec(&fingerprint).unwrap_or_default();
    Sha256::digest(json).to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use wire::{address::CountryCode, text::Text};

    #[test]
    fn an_address_is_trimmed_and_its_country_upper_cased() {
        let address: PostalAddress = serde_json::from_value(json!({
            "name": " Ada Lovelace ", "street": "12 St James's Square", "city": "London",
            "postal_code": "SW1Y 4JH", "country": "gb"
        }))
        .unwrap();
        let wire = wire::Address::from(&address);
        assert_eq!(
            (wire.name.as_str(), wire.country.as_str()),
            ("Ada Lovelace", "GB")
        );
    }

    #[test]
    fn bad_values_are_refused() {
        for (code, why) in [("UK", "not ISO"), ("DEU", "alpha-3"), ("", "empty")] {
            assert!(CountryCode::try_from(code.to_owned()).is_err(), "{why}");
        }
        for (email, why) in [
            ("", "empty"),
            ("ada.example.org", "no @"),
            ("ada@localhost", "no dot in the domain"),
            ("ada lovelace@example.org", "a space"),
        ] {
            assert!(Email::try_from(email.to_owned()).is_err(), "{why}");
        }
        assert!(Text::<20>::try_from("1".repeat(21)).is_err());
        assert!(Text::<20>::try_from("  ".to_owned()).is_err());
    }
}
