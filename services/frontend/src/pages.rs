//! The catalog pages: the product grid with search, categories and pages, and one
//! product with its add-to-cart form.

use axum::{
    Router,
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::get,
};
use minijinja::context;
use serde::Deserialize;
use wire::Product;

use crate::{
    AppState, Visitor,
    error::PageError,
    gateway::{ApiProblem, ProductQuery},
    views::{self, Chrome, value},
};

const PER_PAGE: u32 = 12;
/// The catalog's own bound; a higher page is shown as the last one asked for.
const MAX_PAGE: u32 = 10_000;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/products/{id}", get(product))
}

/// `?q=&category=&page=`, read leniently: a page that is not a number is page 1.
#[derive(Debug, Deserialize)]
struct HomeQuery {
    q: Option<String>,
    category: Option<String>,
    page: Option<String>,
}

fn non_empty(text: Option<String>) -> Option<String> {
    text.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty())
}

async fn home(
    State(state): State<AppState>,
    visitor: Visitor,
    Query(query): Query<HomeQuery>,
) -> Result<Response, PageError> {
    let q = non_empty(query.q);
    let category = non_empty(query.category);
    let page = query
        .page
        .and_then(|p| p.trim().parse::<u32>().ok())
        .map_or(1, |p| p.clamp(1, MAX_PAGE));
    let lookup = ProductQuery {
        q: q.clone(),
        category: category.clone(),
        page,
        per_page: PER_PAGE,
    };
    let (list, categories, chrome) = tokio::join!(
        state.gateway.products(&lookup),
        state.gateway.categories(),
        state.chrome(&visitor)
    );
    let list = list?;
    let mut chrome = chrome?;
    chrome.q = q.clone().unwrap_or_default();
    // The grid without category links beats no grid.
    let categories = categories.map(|c| c.items).unwrap_or_default();
    let per_page = i64::from(list.per_page.max(1));
    let pages = u32::try_from((list.total + per_page - 1) / per_page).unwrap_or(u32::MAX);
    let link = |to: u32| page_link(q.as_deref(), category.as_deref(), to);
    let prev_url = (page > 1).then(|| link(page - 1));
    let next_url = (page < pages).then(|| link(page + 1));
    let context = context! {
        products => value(&list.items),
        total => list.total,
        categories => value(&categories),
        q, category, page, pages, prev_url, next_url,
    };
    views::page("home.html", &chrome, context)
}

/// `/?q=..&category=..&page=..`, keeping the search while paging.
fn page_link(q: Option<&str>, category: Option<&str>, page: u32) -> String {
    let page = page.to_string();
    let pairs: Vec<(&str, &str)> = [
        ("q", q),
        ("category", category),
        ("page", Some(page.as_str())),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.map(|v| (k, v)))
    .collect();
    format!(
        "/?{}",
        serde_urlencoded::to_string(pairs).unwrap_or_default()
    )
}

async fn product(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let (product, chrome) = tokio::join!(state.gateway.product(&id), state.chrome(&visitor));
    product_page(&chrome?, &product?, None, "1")
}

/// A product's page, also shown again when adding it to the cart was refused.
pub fn product_page(
    chrome: &Chrome,
    product: &Product,
    error: Option<&ApiProblem>,
    quantity: &str,
) -> Result<Response, PageError> {
    let status = error.map_or(StatusCode::OK, |e| {
        StatusCode::from_u16(e.status).unwrap_or(StatusCode::UNPROCESSABLE_ENTITY)
    });
    let context = context! {
        product => value(product),
        error => error.map(value),
        form => context! { quantity },
    };
    views::page("product.html", chrome, context).map(|page| (status, page).into_response())
}

pub async fn not_found(
    State(state): State<AppState>,
    visitor: Visitor,
) -> Result<Response, PageError> {
    let chrome = state.chrome(&visitor).await?;
    views::page("not_found.html", &chrome, context! {})
        .map(|page| (StatusCode::NOT_FOUND, page).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_links_keep_the_search_and_encode_it() {
        assert_eq!(page_link(None, None, 2), "/?page=2");
        assert_eq!(
            page_link(Some("mug & pot"), Some("kitchen"), 3),
            "/?q=mug+%26+pot&category=kitchen&page=3"
        );
    }
}
