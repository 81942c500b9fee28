//! Checkout: the form (e-mail prefilled for an account), a shipping quote on request,
//! and placing the order under an `Idempotency-Key` minted when the form is rendered,
//! so a double submit makes one order. The card number and CVV are never sent back.

use axum::{
    Router,
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use minijinja::context;
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use wire::{Address, Money, Quote, QuoteRequest};

use crate::{
    AppState, Visitor,
    cart::{item_count, priced_lines, subtotal},
    error::PageError,
    forms::{PageForm, form_problem},
    gateway::{ApiProblem, GatewayError},
    models::{CardInput, Checkout},
    money,
    views::{self, value},
};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/checkout", get(show).post(place))
        .route("/checkout/quote", post(quote))
}

/// The form's fields, named by the JSON path of the checkout payload, so a problem's
/// `field` names the input to highlight.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
struct CheckoutForm {
    email: String,
    #[serde(rename = "address.name")]
    name: String,
    #[serde(rename = "address.street")]
    street: String,
    #[serde(rename = "address.city")]
    city: String,
    #[serde(rename = "address.postal_code")]
    postal_code: String,
    #[serde(rename = "address.country")]
    country: String,
    #[serde(rename = "card.number", skip_serializing)]
    card_number: String,
    #[serde(rename = "card.cvv", skip_serializing)]
    cvv: String,
    #[serde(rename = "card.exp_month")]
    exp_month: String,
    #[serde(rename = "card.exp_year")]
    exp_year: String,
    idempotency_key: String,
}

impl CheckoutForm {
    fn address(&self) -> Address {
        Address {
            name: self.name.trim().to_owned(),
            street: self.street.trim().to_owned(),
            city: self.city.trim().to_owned(),
            postal_code: self.postal_code.trim().to_owned(),
            country: self.country.trim().to_ascii_uppercase(),
        }
    }

    fn checkout(&self) -> Checkout {
        Checkout {
            email: self.email.trim().to_owned(),
            address: self.address(),
            card: CardInput {
                number: self
                    .card_number
                    .chars()
                    .filter(|c| !matches!(c, ' ' | '-'))
                    .collect(),
                cvv: self.cvv.trim().to_owned(),
                exp_month: number_or_text(&self.exp_month),
                exp_year: number_or_text(&self.exp_year),
            },
        }
    }
}

fn number_or_text(text: &str) -> serde_json::Value {
    let text = text.trim();
    text.parse::<u16>()
        .map_or_else(|_| serde_json::Value::from(text), serde_json::Value::from)
}

/// What the page shows besides the form.
#[derive(Default)]
struct Extras {
    quote: Option<Money>,
    error: Option<ApiProblem>,
}

async fn show(State(state): State<AppState>, visitor: Visitor) -> Result<Response, PageError> {
    let mut form = CheckoutForm {
        idempotency_key: Uuid::new_v4().to_string(),
        ..CheckoutForm::default()
    };
    if let Some(token) = &visitor.token {
        match state.gateway.me(token).await {
            Ok(me) => {
                form.email = me.email;
                form.name = me.name;
                if let Some(address) = me.address {
                    form.name = address.name;
                    form.street = address.street;
                    form.city = address.city;
                    form.postal_code = address.postal_code;
                    form.country = address.country;
                }
            }
            Err(err) => {
                // An empty form is still a checkout; only an expired sign-in stops it.
                form_problem(err, true)?;
            }
        }
    }
    checkout_page(&state, &visitor, &form, Extras::default()).await
}

async fn quote(
    State(state): State<AppState>,
    visitor: Visitor,
    PageForm(form): PageForm<CheckoutForm>,
) -> Result<Response, PageError> {
    let cart = state.gateway.cart(&visitor).await?;
    let request = QuoteRequest {
        address: form.address(),
        items: cart.items,
    };
    let extras = match state.gateway.quote(&request).await {
        Ok(Quote { cost }) => Extras {
            quote: Some(cost),
            error: None,
        },
        Err(err) => Extras {
            quote: None,
            error: Some(form_problem(err, visitor.signed_in())?),
        },
    };
    checkout_page(&state, &visitor, &form, extras).await
}

async fn place(
    State(state): State<AppState>,
    visitor: Visitor,
    PageForm(mut form): PageForm<CheckoutForm>,
) -> Result<Response, PageError> {
    let key = Uuid::parse_str(&form.idempotency_key).unwrap_or_else(|_| Uuid::new_v4());
    match state
        .gateway
        .checkout(&visitor, &form.checkout(), key)
        .await
    {
        Ok(order) => Ok(Redirect::to(&format!("/orders/{}", order.id)).into_response()),
        // No answer: the order may exist, so the error page leaves the key in the form
        // (the browser's Back keeps it) and a retry cannot make a second order.
        Err(err @ GatewayError::Unavailable(_)) => Err(err.into()),
        Err(err) => {
            let error = form_problem(err, visitor.signed_in())?;
            // Refused: no order was made, and the corrected form is a new attempt.
            form.idempotency_key = Uuid::new_v4().to_string();
            let extras = Extras {
                quote: None,
                error: Some(error),
            };
            checkout_page(&state, &visitor, &form, extras).await
        }
    }
}

async fn checkout_page(
    state: &AppState,
    visitor: &Visitor,
    form: &CheckoutForm,
    extras: Extras,
) -> Result<Response, PageError> {
    let cart = state.gateway.cart(visitor).await?;
    let lines = priced_lines(&state.gateway, &cart).await?;
    let chrome = state.chrome_with(visitor, Some(item_count(&cart)));
    let subtotal = subtotal(&lines);
    let status = extras.error.as_ref().map_or(StatusCode::OK, |e| {
        StatusCode::from_u16(e.status).unwrap_or(StatusCode::UNPROCESSABLE_ENTITY)
    });
    let context = context! {
        lines => value(&lines),
        subtotal => value(&subtotal),
        quote => extras.quote.map(|q| value(&q)),
        estimated_total => extras.quote.map(|q| value(&money::sum([subtotal, q]))),
        form => value(form),
        error => extras.error.as_ref().map(value),
    };
    views::page("checkout.html", &chrome, context).map(|page| (status, page).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_card_number_and_cvv_are_never_rendered_back() {
        let form = CheckoutForm {
            card_number: "4242 4242 4242 4242".into(),
            cvv: "123".into(),
            exp_month: "12".into(),
            ..CheckoutForm::default()
        };
        let json = serde_json::to_string(&form).unwrap();
        assert!(!json.contains("4242"), "{json}");
        assert!(!json.contains("123"), "{json}");
        assert!(json.contains(r#""card.exp_month":"12""#), "{json}");
    }

    #[test]
    fn the_payload_has_the_design_shape() {
        let form: CheckoutForm = serde_urlencoded::from_str(
            "email=a%40b.example&address.name=Ada&address.street=1+Main+St&address.city=Springfield\
             &address.postal_code=12345&address.country=us&card.number=4242+4242+4242+4242\
             &card.cvv=123&card.exp_month=12&card.exp_year=2030&idempotency_key=x",
        )
        .unwrap();
        let json = serde_json::to_value(form.checkout()).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "email": "a@b.example",
                "address": {"name": "Ada", "street": "1 Main St", "city": "Springfield",
                            "postal_code": "12345", "country": "US"},
                "card": {"number": "4242424242424242", "cvv": "123", "exp_month": 12, "exp_year": 2030}
            })
        );
    }

    #[test]
    fn an_expiry_that_is_not_a_number_goes_as_typed() {
        assert_eq!(number_or_text(" 7 "), serde_json::json!(7));
        assert_eq!(number_or_text("July"), serde_json::json!("July"));
    }
}
