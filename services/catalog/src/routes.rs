//! `GET /products`, `GET /products/{id}`, `GET /categories`.

use std::sync::Arc;

use axum::{
    Router,
    extract::{Path, State},
    http::header,
    response::{IntoResponse, Response},
    routing::get,
};
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use serving::{Problem, QueryParams};
use sqlx::PgPool;
use wire::{CategoryList, ProductList};

use crate::{
    answers::{Answers, Question},
    store::{self, Listing},
};

#[derive(Clone)]
pub struct Catalog {
    pub pool: PgPool,
    pub answers: Arc<Answers>,
}

pub fn routes(catalog: Catalog) -> Router {
    Router::new()
        .route("/products", get(list_products))
        .route("/products/{id}", get(get_product))
        .route("/categories", get(list_categories))
        .with_state(catalog)
}

/// A JSON answer, as read from the database or kept from an earlier request.
struct JsonAnswer(Bytes);

impl IntoResponse for JsonAnswer {
    fn into_response(self) -> Response {
        ([(header::CONTENT_TYPE, "application/json")], self.0).into_response()
    }
}

fn to_json(value: &impl Serialize) -> Result<Bytes, Problem> {
    serde_json::to_vec(value)
        .map(Bytes::from)
        .map_err(|err| Problem::internal(&err))
}

const MAX_PER_PAGE: u32 = 100;
const MAX_PAGE: u32 = 10_000;
const MAX_QUERY_CHARS: usize = 200;

/// A page number, 1 and up.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(try_from = "u32")]
struct Page(u32);

impl TryFrom<u32> for Page {
    type Error = String;
    fn try_from(value: u32) -> Result<Self, String> {
        if (1..=MAX_PAGE).contains(&value) {
            Ok(Page(value))
        } else {
            Err(format!("must be between 1 and {MAX_PAGE}"))
        }
    }
}

/// Products per page, bounded so one request cannot ask for the whole table.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(try_from = "u32")]
struct PerPage(u32);

impl TryFrom<u32> for PerPage {
    type Error = String;
    fn try_from(value: u32) -> Result<Self, String> {
        if (1..=MAX_PER_PAGE).contains(&value) {
            Ok(PerPage(value))
        } else {
            Err(format!("must be between 1 and {MAX_PER_PAGE}"))
        }
    }
}

#[derive(Debug, Deserialize)]
struct ListQuery {
    q: Option<String>,
    category: Option<String>,
    page: Option<Page>,
    per_page: Option<PerPage>,
}

async fn list_products(
    State(catalog): State<Catalog>,
    QueryParams(query): QueryParams<ListQuery>,
) -> Result<JsonAnswer, Problem> {
    let text = query.q.as_deref().map(str::trim).filter(|q| !q.is_empty());
    if text.is_some_and(|q| q.chars().count() > MAX_QUERY_CHARS) {
        return Err(Problem::invalid_field(
            "q",
            format!("must be at most {MAX_QUERY_CHARS} characters"),
        ));
    }
    let category = query
        .category
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty());
    if category.is_some_and(|c| c.len() > 64) {
        return Err(Problem::invalid_field(
            "category",
            "must be at most 64 characters",
        ));
    }
    let page = query.page.map_or(1, |p| p.0);
    let per_page = query.per_page.map_or(12, |p| p.0);
    let listing = Listing {
        text,
        category,
        limit: i64::from(per_page),
        offset: i64::from(page - 1) * i64::from(per_page),
    };
    let question = Question::Listing {
        text: text.map(str::to_owned),
        category: category.map(str::to_owned),
        limit: listing.limit,
        offset: listing.offset,
    };
    let answer = catalog.answers.answer(question, || async {
        let (items, total) = store::list(&catalog.pool, &listing).await?;
        let page = ProductList {
            items,
            total,
            page,
            per_page,
        };
        to_json(&page).map(Some)
    });
    let listed = answer
        .await?
        .ok_or_else(|| Problem::internal(&"a listing kept as missing"))?;
    Ok(JsonAnswer(listed))
}

async fn get_product(
    State(catalog): State<Catalog>,
    Path(id): Path<String>,
) -> Result<JsonAnswer, Problem> {
    let not_found = || Problem::not_found("product", &id).with_field("id");
    // Ids are slugs; anything else cannot exist, so it need not reach the database.
    let well_formed = !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if !well_formed {
        return Err(not_found());
    }
    let answer = catalog
        .answers
        .answer(Question::Product(id.clone()), || async {
            match store::product(&catalog.pool, &id).await? {
                Some(product) => to_json(&product).map(Some),
                None => Ok(None),
            }
        });
    answer.await?.map(JsonAnswer).ok_or_else(not_found)
}

async fn list_categories(State(catalog): State<Catalog>) -> Result<JsonAnswer, Problem> {
    let answer = catalog.answers.answer(Question::Categories, || async {
        let items = store::categories(&catalog.pool).await?;
        to_json(&CategoryList { items }).map(Some)
    });
    let listed = answer
        .await?
        .ok_or_else(|| Problem::internal(&"categories kept as missing"))?;
    Ok(JsonAnswer(listed))
}
