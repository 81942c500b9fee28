//! A postal address that can only be built valid: every field bounded, non-empty text,
//! the country an ISO 3166-1 alpha-2 code. A bad field comes back named by serde's path
//! (`address.country`). Checkout's shipping address, an account's saved one, a quote's
//! destination.

use serde::{Deserialize, Serialize};

use crate::{Address, text::Text};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostalAddress {
    pub name: Text<100>,
    pub street: Text<200>,
    pub city: Text<100>,
    pub postal_code: Text<20>,
    pub country: CountryCode,
}

impl From<&PostalAddress> for Address {
    fn from(address: &PostalAddress) -> Self {
        Address {
            name: address.name.as_str().to_owned(),
            street: address.street.as_str().to_owned(),
            city: address.city.as_str().to_owned(),
            postal_code: address.postal_code.as_str().to_owned(),
            country: address.country.as_str().to_owned(),
        }
    }
}

/// An ISO 3166-1 alpha-2 country code, accepted in either case and kept upper-case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String")]
pub struct CountryCode(String);

impl CountryCode {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for CountryCode {
    type Error = String;

    fn try_from(value: String) -> Result<Self, String> {
        let code = value.trim().to_ascii_uppercase();
        if ISO_3166_ALPHA_2.binary_search(&code.as_str()).is_ok() {
            Ok(CountryCode(code))
        } else {
            Err("must be an ISO 3166-1 alpha-2 country code such as \"DE\" or \"US\"".into())
        }
    }
}

/// The 249 officially assigned codes, sorted. A closed list rather than "two letters",
/// so a typo ("UK", "XX") is caught here instead of at the carrier.
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

    fn address(country: &str) -> serde_json::Value {
        json!({
            "name": " Ada Lovelace ",
            "street": "12 St James's Square",
            "city": "London",
            "postal_code": "SW1Y 4JH",
            "country": country,
        })
    }

    #[test]
    fn a_valid_address_is_trimmed_and_its_country_upper_cased() {
        let parsed: PostalAddress = serde_json::from_value(address("gb")).unwrap();
        assert_eq!(parsed.country.as_str(), "GB");
        assert_eq!(
            serde_json::to_value(&parsed).unwrap()["name"],
            "Ada Lovelace"
        );
        let plain = Address::from(&parsed);
        assert_eq!(
            (plain.name.as_str(), plain.country.as_str()),
            ("Ada Lovelace", "GB")
        );
    }

    #[test]
    fn countries_outside_iso_3166_are_refused() {
        for (code, why) in [
            ("UK", "not the ISO code for Britain"),
            ("XX", "unassigned"),
            ("DEU", "alpha-3"),
            ("", "empty"),
        ] {
            assert!(CountryCode::try_from(code.to_owned()).is_err(), "{why}");
        }
    }

    #[test]
    fn the_country_list_is_sorted_and_unique() {
        assert!(ISO_3166_ALPHA_2.windows(2).all(|pair| pair[0] < pair[1]));
        assert!(
            ISO_3166_ALPHA_2
                .iter()
                .all(|code| code.len() == 2 && code.bytes().all(|b| b.is_ascii_uppercase()))
        );
    }

    #[test]
    fn every_field_is_required_and_bounded() {
        let mut missing = address("DE");
        missing.as_object_mut().unwrap().remove("city");
        assert!(serde_json::from_value::<PostalAddress>(missing).is_err());
        let mut long = address("DE");
        long["postal_code"] = json!("1".repeat(21));
        assert!(serde_json::from_value::<PostalAddress>(long).is_err());
        let mut blank = address("DE");
        blank["street"] = json!("  ");
        assert!(serde_json::from_value::<PostalAddress>(blank).is_err());
    }
}
