//! Prices as people read them (`$1,234.56`), with integer maths only: minor units never
//! pass through a float.

use wire::{Currency, Money};

/// Formats an amount for display: symbol, thousands separators, two decimals.
pub fn format_money(money: Money) -> String {
    let symbol = match money.currency {
        Currency::USD => "$",
    };
    format_minor(symbol, money.amount_minor)
}

fn format_minor(symbol: &str, amount_minor: i64) -> String {
    let sign = if amount_minor < 0 { "-" } else { "" };
    // unsigned_abs: i64::MIN has no positive i64 counterpart.
    let magnitude = amount_minor.unsigned_abs();
    let whole = group_thousands(magnitude / 100);
    let cents = magnitude % 100;
    format!("{sign}{symbol}{whole}.{cents:02}")
}

fn group_thousands(value: u64) -> String {
    let digits = value.to_string();
    let mut grouped = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    grouped
}

/// `amount × quantity`, saturating rather than wrapping on absurd inputs.
pub fn times(money: Money, quantity: u32) -> Money {
    Money {
        currency: money.currency,
        amount_minor: money.amount_minor.saturating_mul(i64::from(quantity)),
    }
}

/// The sum of amounts in one currency (USD is the only one the shop prices in).
pub fn sum(amounts: impl IntoIterator<Item = Money>) -> Money {
    let total = amounts
        .into_iter()
        .fold(0i64, |acc, m| acc.saturating_add(m.amount_minor));
    Money::usd(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_formatted_with_cents_and_thousands() {
        let cases = [
            (0, "$0.00", "zero"),
            (5, "$0.05", "cents only, padded"),
            (99, "$0.99", "just under a dollar"),
            (100, "$1.00", "a whole dollar"),
            (1299, "$12.99", "a typical price"),
            (100_000, "$1,000.00", "first thousands separator"),
            (123_456_789, "$1,234,567.89", "several separators"),
            (-1050, "-$10.50", "a refund or discount"),
            (
                i64::MIN,
                "-$92,233,720,368,547,758.08",
                "the extreme does not overflow",
            ),
        ];
        for (minor, expected, why) in cases {
            assert_eq!(format_money(Money::usd(minor)), expected, "{why}");
        }
    }

    #[test]
    fn line_totals_and_sums_stay_integral() {
        assert_eq!(times(Money::usd(1299), 3), Money::usd(3897));
        assert_eq!(
            sum([Money::usd(1), Money::usd(2), Money::usd(3)]),
            Money::usd(6)
        );
        assert_eq!(times(Money::usd(i64::MAX), 2), Money::usd(i64::MAX));
    }
}
