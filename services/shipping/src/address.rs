//! A destination as a quote request carries it (`wire::Address`'s shape), parsed into
//! values that can only be valid: every field bounded, non-empty text, the country an
//! ISO 3166-1 alpha-2 code. A bad field comes back named (`address.country`).

use serde::Deserialize;

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Destination {
    pub name: Text<100>,
    pub street: Text<200>,
    pub city: Text<100>,
    pub postal_code: Text<20>,
    pub country: Country,
}

/// Trimmed text of 1..=`MAX` characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
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

/// An ISO 3166-1 alpha-2 country code, accepted in either case and kept upper-case.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct Country(String);

impl Country {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

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

/// The 249 officially assigned codes, sorted. A closed list rather than "two letters",
/// so a typo ("UK", "XX") is caught here instead of at the carrier. (The same list as
/// identity's; see the README on moving it to `wire`.)
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

    #[test]
    fn countries_are_upper_cased_and_checked_against_iso_3166() {
        assert_eq!(Country::try_from("de".to_owned()).unwrap().as_str(), "DE");
        for (code, why) in [
            ("UK", "not the ISO code for Britain"),
            ("XX", "unassigned"),
            ("DEU", "alpha-3"),
            ("", "empty"),
        ] {
            assert!(Country::try_from(code.to_owned()).is_err(), "{why}");
        }
    }

    #[test]
    fn the_country_list_is_sorted_and_unique() {
        assert!(ISO_3166_ALPHA_2.windows(2).all(|pair| pair[0] < pair[1]));
    }

    #[test]
    fn text_is_trimmed_non_empty_and_bounded() {
        assert_eq!(Text::<5>::try_from(" abc ".to_owned()).unwrap().0, "abc");
        assert!(Text::<5>::try_from("   ".to_owned()).is_err());
        assert!(Text::<5>::try_from("abcdef".to_owned()).is_err());
        assert!(Text::<5>::try_from("a\u{7}b".to_owned()).is_err());
    }
}
