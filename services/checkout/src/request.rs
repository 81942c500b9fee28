//! The body of `POST /orders`. Each value can only be built valid (`#[serde(try_from)]`),
//! so a bad one comes back as a 422 naming its field (`address.city`, `card.number`).

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use wire::CardSummary;

use crate::card::CardDetails;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckoutRequest {
    pub email: Email,
    pub address: Address,
    pub card: CardDetails,
}

/// What identifies a request for `Idempotency-Key`: the validated values, with the card
/// as its summary only. Two cards with the same brand, last four and expiry therefore
/// count as the same request; a hash of the full number would be guessable.
pub fn fingerprint(email: &Email, address: &Address, card: &CardSummary) -> Vec<u8> {
    #[derive(Serialize)]
    struct Fingerprint<'a> {
        email: &'a str,
        address: wire::Address,
        card: &'a CardSummary,
    }
    let fingerprint = Fingerprint {
        email: email.as_str(),
        address: address.to_wire(),
        card,
    };
    let json = serde_json::to_vec(&fingerprint).unwrap_or_default();
    Sha256::digest(json).to_vec()
}

/// An e-mail address, trimmed and kept as typed. Loose on purpose: the only real check
/// is a mail that arrives.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct Email(String);

const MAX_EMAIL_CHARS: usize = 254;

impl TryFrom<String> for Email {
    type Error = String;

    fn try_from(value: String) -> Result<Self, String> {
        let email = value.trim();
        let shape = "must be an e-mail address like name@example.com";
        if email.chars().count() > MAX_EMAIL_CHARS {
            return Err(format!("must be at most {MAX_EMAIL_CHARS} characters"));
        }
        if email.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err("must not contain spaces".into());
        }
        let Some((local, domain)) = email.split_once('@') else {
            return Err(shape.into());
        };
        let domain_ok = domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..")
            && !domain.contains('@');
        if local.is_empty() || !domain_ok {
            return Err(shape.into());
        }
        Ok(Email(email.to_owned()))
    }
}

impl Email {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Where the order goes. Every field bounded, non-empty text; the country an
/// ISO 3166-1 alpha-2 code.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Address {
    pub name: Text<100>,
    pub street: Text<200>,
    pub city: Text<100>,
    pub postal_code: Text<20>,
    pub country: Country,
}

impl Address {
    pub fn to_wire(&self) -> wire::Address {
        wire::Address {
            name: self.name.0.clone(),
            street: self.street.0.clone(),
            city: self.city.0.clone(),
            postal_code: self.postal_code.0.clone(),
            country: self.country.0.clone(),
        }
    }
}

/// Trimmed text of 1..=`MAX` characters without control characters.
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "String")]
pub struct Text<const MAX: usize>(String);

impl<const MAX: usize> TryFrom<String> for Text<MAX> {
    type Error = String;

    fn try_from(value: String) -> Result<Self, String> {
        let text = value.trim();
        if text.is_empty() {
            return Err("must not be empty".into());
        }
        if text.chars().count() > MAX {
            return Err(format!("must be at most {MAX} characters"));
        }
        if text.chars().any(char::is_control) {
            return Err("must not contain control characters".into());
        }
        Ok(Text(text.to_owned()))
    }
}

/// An ISO 3166-1 alpha-2 code, accepted in either case, kept upper case.
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "String")]
pub struct Country(String);

impl TryFrom<String> for Country {
    type Error = String;

    fn try_from(value: String) -> Result<Self, String> {
        let code = value.trim().to_ascii_uppercase();
        if ISO_3166_ALPHA_2.binary_search(&code.as_str()).is_ok() {
            Ok(Country(code))
        } else {
            Err("must be an ISO 3166-1 alpha-2 country code such as \"DE\" or \"US\"".into())
        }
    }
}

/// The 249 assigned codes (the same list as identity's; see README on sharing it).
/// A closed list, so a typo ("UK", "XX") is caught here and not at the carrier.
const ISO_3166_ALPHA_2: [&str; 249] = [
    "AD", "AE", "AF", "AG", "AI", "AL", "AM", "AO", "AQ", "AR", "AS", "AT", "AU", "AW", "AX", "AZ",
    "BA", "BB", "BD", "BE", "BF", "BG", "BH", "BI", "BJ", "BL", "BM", "BN", "BO", "BQ", "BR", "BS",
    "BT", "BV", "BW", "BY", "BZ", "CA", "CC", "CD", "CF", "CG", "CH", "CI", "CK", "CL", "CM", "CN",
    "CO", "CR", "CU", "CV", "CW", "CX", "CY", "CZ", "DE", "DJ", "DK", "DM", "DO", "DZ", "EC", "EE",
    "EG", "EH", "ER", "ES", "ET", "FI", "FJ", "FK", "FM", "FO", "FR", "GA", "GB", "GD", "GE", "GF",
    "GG", "GH", "GI", "GL", "GM", "GN", "GP", "GQ", "GR", "GS", "GT", "GU", "GW", "GY", "HK", "HM",
    "HN", "HR", "HT", "HU", "ID", "IE", "IL", "IM", "IN", "IO", "IQ", "IR", "IS", "IT", "JE", "JM",
    "JO", "JP", "KE", "KG", "KH", "KI", "KM", "KN", "KP", "KR", "KW", "KY", "KZ", "LA", "LB", "LC",
    "LI", "LK", "LR", "LS", "LT", "LU", "LV", "LY", "MA", "MC", "MD", "ME", "MF", "MG", "MH", "MK",
    "ML", "MM", "MN", "MO", "MP", "MQ", "MR", "MS", "MT", "MU", "MV", "MW", "MX", "MY", "MZ", "NA",
    "NC", "NE", "NF", "NG", "NI", "NL", "NO", "NP", "NR", "NU", "NZ", "OM", "PA", "PE", "PF", "PG",
    "PH", "PK", "PL", "PM", "PN", "PR", "PS", "PT", "PW", "PY", "QA", "RE", "RO", "RS", "RU", "RW",
    "SA", "SB", "SC", "SD", "SE", "SG", "SH", "SI", "SJ", "SK", "SL", "SM", "SN", "SO", "SR", "SS",
    "ST", "SV", "SX", "SY", "SZ", "TC", "TD", "TF", "TG", "TH", "TJ", "TK", "TL", "TM", "TN", "TO",
    "TR", "TT", "TV", "TW", "TZ", "UA", "UG", "UM", "US", "UY", "UZ", "VA", "VC", "VE", "VG", "VI",
    "VN", "VU", "WF", "WS", "YE", "YT", "ZA", "ZM", "ZW",
];

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_country_list_is_sorted_for_binary_search() {
        assert!(ISO_3166_ALPHA_2.windows(2).all(|pair| pair[0] < pair[1]));
    }

    #[test]
    fn an_address_is_trimmed_and_its_country_upper_cased() {
        let address: Address = serde_json::from_value(json!({
            "name": " Ada Lovelace ", "street": "12 St James's Square", "city": "London",
            "postal_code": "SW1Y 4JH", "country": "gb"
        }))
        .unwrap();
        let wire = address.to_wire();
        assert_eq!(
            (wire.name.as_str(), wire.country.as_str()),
            ("Ada Lovelace", "GB")
        );
    }

    #[test]
    fn bad_values_are_refused() {
        for (code, why) in [("UK", "not ISO"), ("DEU", "alpha-3"), ("", "empty")] {
            assert!(Country::try_from(code.to_owned()).is_err(), "{why}");
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
