//! The card a shopper pays with. The number and the CVV live only in memory while the
//! request is handled: they have no `Display`, a `Debug` that hides them, and no way
//! into storage or a message except as [`CardSummary`] (brand, last four, expiry).

use std::fmt;

use serde::{Deserialize, Deserializer, de};
use time::Date;
use wire::CardSummary;

/// A card number: digits (spaces allowed, stripped), 12 to 19 of them, Luhn-valid.
pub struct CardNumber(String);

impl CardNumber {
    pub fn parse(text: &str) -> Result<Self, &'static str> {
        let digits: String = text.chars().filter(|c| *c != ' ').collect();
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err("must be the card number's digits (spaces allowed)");
        }
        if !(12..=19).contains(&digits.len()) {
            return Err("must be 12 to 19 digits");
        }
        if !luhn(&digits) {
            return Err("is not a valid card number (check digit)");
        }
        Ok(Self(digits))
    }

    /// From the leading digits (IIN ranges); anything else is just "card".
    pub fn brand(&self) -> &'static str {
        let prefix = |n: usize| self.0[..n].parse::<u32>().unwrap_or(0);
        match () {
            _ if self.0.starts_with('4') => "visa",
            _ if (51..=55).contains(&prefix(2)) || (2221..=2720).contains(&prefix(4)) => {
                "mastercard"
            }
            _ if matches!(prefix(2), 34 | 37) => "amex",
            _ => "card",
        }
    }

    pub fn last4(&self) -> &str {
        &self.0[self.0.len() - 4..]
    }
}

/// The Luhn check digit test: double every second digit from the right.
fn luhn(digits: &str) -> bool {
    let sum: u32 = digits
        .bytes()
        .rev()
        .map(|b| u32::from(b - b'0'))
        .enumerate()
        .map(|(i, d)| match (i % 2, d * 2) {
            (0, _) => d,
            (_, doubled) if doubled > 9 => doubled - 9,
            (_, doubled) => doubled,
        })
        .sum();
    sum.is_multiple_of(10)
}

impl fmt::Debug for CardNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CardNumber({} ending {})", self.brand(), self.last4())
    }
}

impl<'de> Deserialize<'de> for CardNumber {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = deserializer.deserialize_any(SecretString)?;
        Self::parse(&text).map_err(de::Error::custom)
    }
}

/// Proof that the CVV had the right shape (3 or 4 digits). The value itself is not
/// kept even in memory: the mock charge does not use it, and nothing may store it.
#[derive(Debug)]
pub struct Cvv;

impl<'de> Deserialize<'de> for Cvv {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = deserializer.deserialize_any(SecretString)?;
        if (3..=4).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Self)
        } else {
            Err(de::Error::custom("must be 3 or 4 digits"))
        }
    }
}

/// Accepts a string only, and never repeats what it was given in an error: serde's own
/// "invalid type: integer `4242…`" would echo a card number sent as a JSON number.
struct SecretString;

impl de::Visitor<'_> for SecretString {
    type Value = String;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string of digits")
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<String, E> {
        Ok(value.to_owned())
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<String, E> {
        Err(E::custom("must be a string of digits, not a number"))
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<String, E> {
        Err(E::custom("must be a string of digits, not a number"))
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<String, E> {
        Err(E::custom("must be a string of digits, not a number"))
    }
}

/// A card as the request sends it. [`Card::check`] adds the expiry check, which needs
/// both fields and today's date.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CardDetails {
    pub number: CardNumber,
    #[expect(dead_code, reason = "deserialised only to check its shape")]
    pub cvv: Cvv,
    pub exp_month: ExpMonth,
    pub exp_year: ExpYear,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(try_from = "u8")]
pub struct ExpMonth(u8);

impl TryFrom<u8> for ExpMonth {
    type Error = &'static str;
    fn try_from(month: u8) -> Result<Self, Self::Error> {
        (1..=12)
            .contains(&month)
            .then_some(Self(month))
            .ok_or("must be a month, 1 to 12")
    }
}

/// A four-digit year, at most 20 years ahead of any date we run at (cards are issued
/// for 3 to 5 years; this only refuses nonsense).
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(try_from = "u16")]
pub struct ExpYear(u16);

impl TryFrom<u16> for ExpYear {
    type Error = &'static str;
    fn try_from(year: u16) -> Result<Self, Self::Error> {
        (2000..=2099)
            .contains(&year)
            .then_some(Self(year))
            .ok_or("must be a four-digit year such as 2030")
    }
}

/// A card that passed every check, including expiry.
#[derive(Debug)]
pub struct Card {
    number: CardNumber,
    exp_month: u8,
    exp_year: u16,
}

/// Which field made a card unusable, and why.
#[derive(Debug, PartialEq, Eq)]
pub struct CardRefused {
    pub field: &'static str,
    pub detail: String,
}

impl Card {
    /// A card is good through the last day of its expiry month.
    pub fn check(details: CardDetails, today: Date) -> Result<Self, CardRefused> {
        let (month, year) = (details.exp_month.0, details.exp_year.0);
        let this_year = u16::try_from(today.year()).unwrap_or(0);
        let refused = |field, detail: &str| CardRefused {
            field,
            detail: detail.to_owned(),
        };
        if year < this_year {
            return Err(refused("card.exp_year", "the card has expired"));
        }
        if year == this_year && month < u8::from(today.month()) {
            return Err(refused("card.exp_month", "the card has expired"));
        }
        if year > this_year + 20 {
            return Err(refused("card.exp_year", "is too far in the future"));
        }
        Ok(Self {
            number: details.number,
            exp_month: month,
            exp_year: year,
        })
    }

    /// All that is ever kept or sent of a card.
    pub fn summary(&self) -> CardSummary {
        CardSummary {
            brand: self.number.brand().to_owned(),
            last4: self.number.last4().to_owned(),
            exp_month: self.exp_month,
            exp_year: self.exp_year,
        }
    }
}

/// Today in UTC; a card expiring this month is still good everywhere in the world today.
pub fn today() -> Date {
    time::OffsetDateTime::now_utc().date()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use time::Month;

    #[test]
    fn test_cards_pass_and_get_their_brand() {
        let cases = [
            ("4242424242424242", "visa", "4242"),
            ("4242 4242 4242 4242", "visa", "4242"),
            ("5555555555554444", "mastercard", "4444"),
            ("2221000000000009", "mastercard", "0009"),
            ("378282246310005", "amex", "0005"),
            ("6011111111111117", "card", "1117"),
        ];
        for (number, brand, last4) in cases {
            let card = CardNumber::parse(number).expect(number);
            assert_eq!((card.brand(), card.last4()), (brand, last4), "{number}");
        }
    }

    #[test]
    fn bad_numbers_are_refused() {
        let cases = [
            ("4242424242424241", "wrong check digit"),
            ("4242-4242-4242-4242", "dashes"),
            ("42424242424", "11 digits"),
            ("42424242424242424242", "20 digits"),
            ("", "empty"),
            ("    ", "only spaces"),
            ("４２４２４２４２４２４２４２４２", "full-width digits"),
        ];
        for (number, why) in cases {
            assert!(CardNumber::parse(number).is_err(), "{why}");
        }
    }

    #[test]
    fn debug_output_never_shows_the_number_or_the_cvv() {
        let details: CardDetails = serde_json::from_value(json!({
            "number": "4242424242424242", "cvv": "987", "exp_month": 12, "exp_year": 2099
        }))
        .unwrap();
        let printed = format!("{details:?}");
        assert!(!printed.contains("4242424242424242"), "{printed}");
        assert!(!printed.contains("987"), "{printed}");
        assert!(printed.contains("ending 4242"), "{printed}");
    }

    #[test]
    fn a_number_sent_as_a_json_number_is_not_echoed_in_the_error() {
        let err = serde_json::from_value::<CardNumber>(json!(4242424242424242u64)).unwrap_err();
        assert!(!err.to_string().contains("4242"), "{err}");
        let err = serde_json::from_value::<Cvv>(json!(987)).unwrap_err();
        assert!(!err.to_string().contains("987"), "{err}");
    }

    fn details(month: u8, year: u16) -> CardDetails {
        serde_json::from_value(json!({
            "number": "4242424242424242", "cvv": "123", "exp_month": month, "exp_year": year
        }))
        .unwrap()
    }

    #[test]
    fn a_card_is_good_through_the_end_of_its_expiry_month() {
        let today = Date::from_calendar_date(2026, Month::May, 31).unwrap();
        assert!(Card::check(details(5, 2026), today).is_ok(), "this month");
        let refused = Card::check(details(4, 2026), today).unwrap_err();
        assert_eq!(refused.field, "card.exp_month");
        let refused = Card::check(details(12, 2025), today).unwrap_err();
        assert_eq!(refused.field, "card.exp_year");
        let summary = Card::check(details(1, 2027), today).unwrap().summary();
        assert_eq!(
            (
                summary.brand.as_str(),
                summary.last4.as_str(),
                summary.exp_month,
                summary.exp_year
            ),
            ("visa", "4242", 1, 2027)
        );
    }

    #[test]
    fn expiry_fields_are_checked_on_their_own() {
        let month =
            json!({"number": "4242424242424242", "cvv": "123", "exp_month": 13, "exp_year": 2030});
        assert!(serde_json::from_value::<CardDetails>(month).is_err());
        let year =
            json!({"number": "4242424242424242", "cvv": "123", "exp_month": 1, "exp_year": 30});
        assert!(serde_json::from_value::<CardDetails>(year).is_err());
        let cvv =
            json!({"number": "4242424242424242", "cvv": "12a", "exp_month": 1, "exp_year": 2030});
        assert!(serde_json::from_value::<CardDetails>(cvv).is_err());
    }
}
