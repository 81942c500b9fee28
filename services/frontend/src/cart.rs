//! The cart page and its forms: add (from a product page), change a quantity, remove a
//! line, empty the cart. Each POST answers with a redirect, or the page again with the
//! gateway's reason when it was refused.

use axum::{
    Router,
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use futures::future::join_all;
use minijinja::context;
use serde::{Deserialize, Serialize};
use wire::{Cart, Money, Product};

use crate::{
    AppState, Visitor,
    error::PageError,
    forms::{PageForm, form_problem, parse_quantity},
    gateway::{ApiProblem, Gateway, GatewayError},
    money, pages,
    views::{self, value},
};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/cart", get(show))
        .route("/cart/add", post(add))
        .route("/cart/items/{product_id}", post(set_quantity))
        .route("/cart/items/{product_id}/remove", post(remove))
        .route("/cart/empty", post(empty))
}

/// Items in a cart, as the header counts them.
pub fn item_count(cart: &Cart) -> u32 {
    cart.items.iter().map(|line| line.quantity).sum()
}

/// A cart line with what the page shows of its product.
#[derive(Debug, Clone, Serialize)]
pub struct PricedLine {
    pub product_id: String,
    pub quantity: u32,
    /// `None` when the product is no longer in the catalog.
    pub product: Option<Product>,
    pub line_total: Option<Money>,
}

/// Looks up every line's product at once.
pub async fn priced_lines(gateway: &Gateway, cart: &Cart) -> Result<Vec<PricedLine>, PageError> {
    let lookups = cart
        .items
        .iter()
        .map(|line| gateway.product(&line.product_id));
    let products = join_all(lookups).await;
    cart.items
        .iter()
        .zip(products)
        .map(|(line, product)| {
            let product = match product {
                Ok(product) => Some(product),
                Err(GatewayError::Refused(p)) if p.status == 404 => None,
                Err(err) => return Err(err.into()),
            };
            Ok(PricedLine {
                product_id: line.product_id.clone(),
                quantity: line.quantity,
                line_total: product
                    .as_ref()
                    .map(|p| money::times(p.price, line.quantity)),
                product,
            })
        })
        .collect()
}

pub fn subtotal(lines: &[PricedLine]) -> Money {
    money::sum(lines.iter().filter_map(|line| line.line_total))
}

async fn show(State(state): State<AppState>, visitor: Visitor) -> Result<Response, PageError> {
    cart_page(&state, &visitor, None).await
}

/// A problem with one line, shown beside it.
struct LineProblem {
    product_id: String,
    problem: ApiProblem,
}

async fn cart_page(
    state: &AppState,
    visitor: &Visitor,
    refused: Option<LineProblem>,
) -> Result<Response, PageError> {
    let cart = state.gateway.cart(visitor).await?;
    let lines = priced_lines(&state.gateway, &cart).await?;
    let chrome = state.chrome_with(visitor, Some(item_count(&cart)));
    let status = refused.as_ref().map_or(StatusCode::OK, |r| {
        StatusCode::from_u16(r.problem.status).unwrap_or(StatusCode::UNPROCESSABLE_ENTITY)
    });
    let context = context! {
        lines => value(&lines),
        subtotal => value(&subtotal(&lines)),
        error => refused.as_ref().map(|r| value(&r.problem)),
        error_line => refused.as_ref().map(|r| r.product_id.clone()),
    };
    views::page("cart.html", &chrome, context).map(|page| (status, page).into_response())
}

#[derive(Debug, Deserialize)]
struct AddForm {
    product_id: String,
    #[serde(default)]
    quantity: String,
}

async fn add(
    State(state): State<AppState>,
    visitor: Visitor,
    PageForm(form): PageForm<AddForm>,
) -> Result<Response, PageError> {
    let problem = match parse_quantity(&form.quantity, "quantity") {
        Err(problem) => problem,
        Ok(quantity) => match state
            .gateway
            .add_to_cart(&visitor, &form.product_id, quantity)
            .await
        {
            Ok(_) => return Ok(Redirect::to("/cart").into_response()),
            Err(err) => form_problem(err, visitor.signed_in())?,
        },
    };
    let (product, chrome) = tokio::join!(
        state.gateway.product(&form.product_id),
        state.chrome(&visitor)
    );
    pages::product_page(&chrome?, &product?, Some(&problem), &form.quantity)
}

#[derive(Debug, Deserialize)]
struct QuantityForm {
    #[serde(default)]
    quantity: String,
}

async fn set_quantity(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(product_id): Path<String>,
    PageForm(form): PageForm<QuantityForm>,
) -> Result<Response, PageError> {
    let problem = match parse_quantity(&form.quantity, "quantity") {
        Err(problem) => problem,
        Ok(quantity) => match state
            .gateway
            .set_quantity(&visitor, &product_id, quantity)
            .await
        {
            Ok(_) => return Ok(Redirect::to("/cart").into_response()),
            Err(err) => form_problem(err, visitor.signed_in())?,
        },
    };
    cart_page(
        &state,
        &visitor,
        Some(LineProblem {
            product_id,
            problem,
        }),
    )
    .await
}

/// Only the CSRF token travels in these forms.
#[derive(Debug, Deserialize)]
struct EmptyForm {}

async fn remove(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(product_id): Path<String>,
    PageForm(_): PageForm<EmptyForm>,
) -> Result<Response, PageError> {
    state.gateway.remove_line(&visitor, &product_id).await?;
    Ok(Redirect::to("/cart").into_response())
}

async fn empty(
    State(state): State<AppState>,
    visitor: Visitor,
    PageForm(_): PageForm<EmptyForm>,
) -> Result<Response, PageError> {
    state.gateway.empty_cart(&visitor).await?;
    Ok(Redirect::to("/cart").into_response())
}
