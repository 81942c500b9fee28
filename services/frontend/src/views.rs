//! The page templates (`templates/*.html`, embedded at compile time, HTML autoescaped)
//! and what every page shares: the header's sign-in state, cart count and CSRF token.

use std::sync::LazyLock;

use axum::response::{Html, IntoResponse, Response};
use minijinja::{
    AutoEscape, Environment, Output, State, UndefinedBehavior, Value, context, value::Serde,
};
use serde::Serialize;
use wire::{Currency, Money};

use crate::{assets, error::PageError, money::format_money};

/// Every template, by name. Each name ends in `.html`, which turns autoescaping on.
pub const TEMPLATES: [(&str, &str); 13] = [
    ("base.html", include_str!("../templates/base.html")),
    ("macros.html", include_str!("../templates/macros.html")),
    ("home.html", include_str!("../templates/home.html")),
    ("product.html", include_str!("../templates/product.html")),
    ("cart.html", include_str!("../templates/cart.html")),
    ("checkout.html", include_str!("../templates/checkout.html")),
    ("order.html", include_str!("../templates/order.html")),
    ("login.html", include_str!("../templates/login.html")),
    ("register.html", include_str!("../templates/register.html")),
    ("account.html", include_str!("../templates/account.html")),
    (
        "account_orders.html",
        include_str!("../templates/account_orders.html"),
    ),
    ("error.html", include_str!("../templates/error.html")),
    (
        "not_found.html",
        include_str!("../templates/not_found.html"),
    ),
];

static ENVIRONMENT: LazyLock<Environment<'static>> = LazyLock::new(|| {
    let mut env = Environment::new();
    // Printing a missing value is a bug the template tests catch; `if x` stays allowed.
    env.set_undefined_behavior(UndefinedBehavior::SemiStrict);
    for (name, source) in TEMPLATES {
        env.add_template(name, source)
            .unwrap_or_else(|err| panic!("template {name} does not parse: {err:#}"));
    }
    env.set_formatter(html_formatter);
    env.add_filter("money", money_filter);
    env.add_global("style_version", assets::style_version());
    env
});

/// minijinja's HTML escaping also turns `/` into `&#x2f;`, which is valid but makes every
/// URL in the page hard to read; the five characters HTML needs are escaped here.
fn html_formatter(
    out: &mut Output,
    state: &mut State,
    value: &Value,
) -> Result<(), minijinja::Error> {
    if matches!(state.auto_escape(), AutoEscape::Html)
        && !value.is_safe()
        && let Some(text) = value.as_str()
    {
        return Ok(out.write_str(&escape_html(text))?);
    }
    minijinja::escape_formatter(out, state, value)
}

fn escape_html(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#x27;"),
            c => escaped.push(c),
        }
    }
    escaped
}

/// `{{ product.price | money }}`: a `{"currency", "amount_minor"}` map as `$12.99`.
fn money_filter(value: Value) -> Result<String, minijinja::Error> {
    let invalid = || {
        minijinja::Error::new(
            minijinja::ErrorKind::InvalidOperation,
            "money expects {currency, amount_minor}",
        )
    };
    let amount = value.get_attr("amount_minor").map_err(|_| invalid())?;
    let amount_minor = i64::try_from(amount).map_err(|_| invalid())?;
    let code = value.get_attr("currency").map_err(|_| invalid())?;
    let currency = code
        .as_str()
        .and_then(Currency::from_code)
        .ok_or_else(invalid)?;
    Ok(format_money(Money {
        currency,
        amount_minor,
    }))
}

/// What the layout needs on every page.
#[derive(Debug, Clone, Serialize)]
pub struct Chrome {
    pub signed_in: bool,
    /// Items in the cart; `None` when the cart could not be read.
    pub cart_count: Option<u32>,
    pub csrf_token: String,
    /// The search box's text.
    pub q: String,
}

/// Renders a template with its context as is; tests render fixtures through this.
pub fn render(name: &str, context: Value) -> Result<String, minijinja::Error> {
    ENVIRONMENT.get_template(name)?.render(context)
}

/// A page: the template with the layout's `chrome` added to its context.
pub fn page(name: &str, chrome: &Chrome, context: Value) -> Result<Response, PageError> {
    let context = context! { chrome => Value::from(Serde(chrome)), ..context };
    html(name, context).map(IntoResponse::into_response)
}

pub fn html(name: &str, context: Value) -> Result<Html<String>, PageError> {
    render(name, context)
        .map(Html)
        .map_err(|err| PageError::Internal(format!("rendering {name}: {err:#}")))
}

/// Any serialisable value as a template value.
pub fn value<T: Serialize>(value: &T) -> Value {
    Value::from(Serde(value))
}

#[cfg(test)]
#[path = "views_tests.rs"]
mod tests;
