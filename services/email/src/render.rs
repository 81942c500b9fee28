//! The confirmation mail, rendered from the templates in `templates/` (embedded at build
//! time). Money is formatted here with integer maths; the HTML part is escaped by the
//! template engine, the text part is not.

use std::sync::LazyLock;

use minijinja::{Environment, UndefinedBehavior, syntax::SyntaxConfig};
use serde::Serialize;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;
use wire::{
    Currency, Money,
    events::{OrderLine, OrderPlaced},
};

/// A mail ready to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("line {0}: the line total overflows")]
    Overflow(usize),
    #[error("template: {0}")]
    Template(#[from] minijinja::Error),
}

static TEMPLATES: LazyLock<Environment<'static>> = LazyLock::new(|| {
    let mut env = Environment::new();
    env.set_syntax(
        SyntaxConfig::builder()
            .trim_blocks(true)
            .lstrip_blocks(true)
            .build()
            .expect("syntax"),
    );
    // A misspelt variable fails the tests instead of rendering as nothing.
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    for (name, source) in [
        (
            "confirmation.txt",
            include_str!("../templates/confirmation.txt"),
        ),
        (
            "confirmation.html",
            include_str!("../templates/confirmation.html"),
        ),
    ] {
        env.add_template(name, source).expect("templates parse");
    }
    env
});

/// What the templates see.
#[derive(Serialize)]
struct View<'a> {
    subject: &'a str,
    order_id: String,
    /// RFC 3339, as the event carries it.
    placed_at: String,
    customer: &'a str,
    lines: Vec<LineView<'a>>,
    subtotal: String,
    shipping: String,
    total: String,
    card: String,
    address: &'a wire::Address,
    /// `order.placed` carries none; the templates say it will follow.
    tracking_id: Option<&'a str>,
}

#[derive(Serialize)]
struct LineView<'a> {
    name: &'a str,
    quantity: u32,
    unit_price: String,
    line_total: String,
}

/// The confirmation of `order`.
pub fn confirmation(order: &OrderPlaced) -> Result<Rendered, RenderError> {
    let order_id = order.order_id;
    let subject = format!("Your microshop order {}", short_id(order_id));
    let mut subtotal: i64 = 0;
    let mut lines = Vec::with_capacity(order.items.len());
    for (i, line) in order.items.iter().enumerate() {
        let total = line_total(line).ok_or(RenderError::Overflow(i))?;
        subtotal = subtotal
            .checked_add(total)
            .ok_or(RenderError::Overflow(i))?;
        lines.push(LineView {
            name: &line.name,
            quantity: line.quantity,
            unit_price: format_money(line.unit_price),
            line_total: format_money(Money {
                currency: line.unit_price.currency,
                amount_minor: total,
            }),
        });
    }
    let view = View {
        subject: &subject,
        order_id: order_id.to_string(),
        placed_at: order.placed_at.format(&Rfc3339).unwrap_or_default(),
        customer: &order.address.name,
        lines,
        subtotal: format_money(Money {
            currency: order.total.currency,
            amount_minor: subtotal,
        }),
        shipping: format_money(order.shipping_cost),
        total: format_money(order.total),
        card: format!("{} ending in {}", order.card.brand, order.card.last4),
        address: &order.address,
        tracking_id: None,
    };
    let render = |name: &str| {
        TEMPLATES
            .get_template(name)?
            .render(minijinja::value::Serde(&view))
    };
    Ok(Rendered {
        text: render("confirmation.txt")?,
        html: render("confirmation.html")?,
        subject,
    })
}

fn line_total(line: &OrderLine) -> Option<i64> {
    line.unit_price
        .amount_minor
        .checked_mul(i64::from(line.quantity))
}

/// The first eight hex digits of the order id: enough to tell a customer's orders apart.
fn short_id(order_id: Uuid) -> String {
    order_id.simple().to_string()[..8].to_owned()
}

/// `$1,234.56`: the currency's symbol, thousands separated, two decimals, from minor
/// units with integer maths only.
pub fn format_money(money: Money) -> String {
    let symbol = match money.currency {
        Currency::USD => "$",
    };
    let sign = if money.amount_minor < 0 { "-" } else { "" };
    let minor = money.amount_minor.unsigned_abs();
    let whole = (minor / 100).to_string();
    let mut grouped = String::with_capacity(whole.len() + whole.len() / 3);
    for (i, digit) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    format!("{sign}{symbol}{grouped}.{:02}", minor % 100)
}

#[cfg(test)]
mod tests {
    use super::*;
    use wire::{Address, CardSummary};

    #[test]
    fn money_is_formatted_from_minor_units() {
        let cases = [
            (0, "$0.00"),
            (5, "$0.05"),
            (1299, "$12.99"),
            (100_000, "$1,000.00"),
            (123_456_789, "$1,234,567.89"),
            (-250, "-$2.50"),
            (i64::MIN, "-$92,233,720,368,547,758.08"),
        ];
        for (minor, shown) in cases {
            assert_eq!(format_money(Money::usd(minor)), shown);
        }
    }

    fn order() -> OrderPlaced {
        OrderPlaced {
            order_id: "7d3c1c9e-5f0a-4f55-9a0e-2b1d6b0f9a11".parse().unwrap(),
            user_id: None,
            email: "ada@example.org".into(),
            address: Address {
                name: "Ada Lovelace".into(),
                street: "12 St James's Square".into(),
                city: "London".into(),
                postal_code: "SW1Y 4JH".into(),
                country: "GB".into(),
            },
            items: vec![
                OrderLine {
                    product_id: "stoneware-mug-pair".into(),
                    name: "Mugs <3 & more".into(),
                    quantity: 2,
                    unit_price: Money::usd(2400),
                },
                OrderLine {
                    product_id: "soy-wax-candle".into(),
                    name: "Soy Wax Candle".into(),
                    quantity: 1,
                    unit_price: Money::usd(1299),
                },
            ],
            shipping_cost: Money::usd(1649),
            total: Money::usd(8748),
            card: CardSummary {
                brand: "visa".into(),
                last4: "4242".into(),
                exp_month: 12,
                exp_year: 2030,
            },
            placed_at: time::OffsetDateTime::parse("2026-01-02T03:04:05Z", &Rfc3339).unwrap(),
        }
    }

    #[test]
    fn the_confirmation_lists_every_line_and_the_totals() {
        let order = order();
        let mail = confirmation(&order).unwrap();
        assert_eq!(mail.subject, "Your microshop order 7d3c1c9e");
        for part in [&mail.text, &mail.html] {
            for expected in [
                "7d3c1c9e-5f0a-4f55-9a0e-2b1d6b0f9a11",
                "Placed 2026-01-02T03:04:05Z",
                "Soy Wax Candle",
                "$24.00",
                "$48.00",
                "$12.99",
                "$60.99",
                "$16.49",
                "$87.48",
                "visa ending in 4242",
                "SW1Y 4JH London",
                "send tracking details when it ships",
            ] {
                assert!(
                    part.contains(expected),
                    "{expected:?} missing from:\n{part}"
                );
            }
        }
        assert!(
            mail.text.contains("Mugs <3 & more × 2 at $24.00 = $48.00"),
            "{}",
            mail.text
        );
        assert!(!mail.text.contains("&amp;"), "the text part is not escaped");
    }

    #[test]
    fn the_html_part_escapes_what_customers_and_catalog_wrote() {
        let mut order = order();
        order.address.name = "<script>alert(1)</script>".into();
        let mail = confirmation(&order).unwrap();
        assert!(mail.html.contains("Mugs &lt;3 &amp; more"), "{}", mail.html);
        assert!(!mail.html.contains("<script>"));
        assert!(mail.html.contains("&lt;script&gt;"));
    }

    #[test]
    fn a_line_total_that_overflows_is_refused() {
        let mut order = order();
        order.items[0].unit_price = Money::usd(i64::MAX / 2 + 1);
        assert!(matches!(
            confirmation(&order),
            Err(RenderError::Overflow(0))
        ));
    }
}
