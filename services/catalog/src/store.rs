//! Queries on the `products` table.

use sqlx::PgPool;
use tracing::Instrument;
use wire::{Category, Currency, Money, Product};

#[derive(sqlx::FromRow)]
struct ProductRow {
    id: String,
    name: String,
    description: String,
    picture: String,
    price_minor: i64,
    currency: String,
    categories: Vec<String>,
}

impl TryFrom<ProductRow> for Product {
    type Error = sqlx::Error;

    fn try_from(row: ProductRow) -> Result<Self, Self::Error> {
        let currency = Currency::from_code(&row.currency).ok_or_else(|| {
            sqlx::Error::Decode(format!("unknown currency {}", row.currency).into())
        })?;
        Ok(Product {
            id: row.id,
            name: row.name,
            description: row.description,
            picture: row.picture,
            price: Money {
                currency,
                amount_minor: row.price_minor,
            },
            categories: row.categories,
        })
    }
}

// Shared SQL fragments are macros so queries stay `&'static str` literals, which sqlx
// accepts without an audit wrapper.
macro_rules! columns {
    () => {
        "id, name, description, picture, price_minor, currency, categories"
    };
}

pub async fn product(pool: &PgPool, id: &str) -> Result<Option<Product>, sqlx::Error> {
    sqlx::query_as::<_, ProductRow>(concat!(
        "SELECT ",
        columns!(),
        " FROM products WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(pool)
    .instrument(serving::db_span!("postgresql", "SELECT", "products"))
    .await?
    .map(Product::try_from)
    .transpose()
}

/// What to list: an optional search text, an optional category, and a page.
pub struct Listing<'a> {
    pub text: Option<&'a str>,
    pub category: Option<&'a str>,
    pub limit: i64,
    pub offset: i64,
}

// A product matches the text when its search document does (stemmed words, websearch
// syntax, which never raises on user input) or when its name contains the text as typed,
// so a half-typed word still finds something.
macro_rules! search_filter {
    () => {
        "($1::text IS NULL
        OR search @@ websearch_to_tsquery('english', $1)
        OR name ILIKE '%' || replace(replace(replace($1, '\\', '\\\\'), '%', '\\%'), '_', '\\_') || '%')
    AND ($2::text IS NULL OR $2 = ANY(categories))"
    };
}

/// One page of matching products, best matches first, and how many match in all.
pub async fn list(
    pool: &PgPool,
    listing: &Listing<'_>,
) -> Result<(Vec<Product>, i64), sqlx::Error> {
    let total: i64 = sqlx::query_scalar(concat!(
        "SELECT count(*) FROM products WHERE ",
        search_filter!()
    ))
    .bind(listing.text)
    .bind(listing.category)
    .fetch_one(pool)
    .instrument(serving::db_span!("postgresql", "SELECT", "products"))
    .await?;
    let rows = sqlx::query_as::<_, ProductRow>(concat!(
        "SELECT ",
        columns!(),
        " FROM products WHERE ",
        search_filter!(),
        " ORDER BY CASE WHEN $1::text IS NULL THEN 0
                       ELSE ts_rank(search, websearch_to_tsquery('english', $1)) END DESC,
                  name, id
         LIMIT $3 OFFSET $4"
    ))
    .bind(listing.text)
    .bind(listing.category)
    .bind(listing.limit)
    .bind(listing.offset)
    .fetch_all(pool)
    .instrument(serving::db_span!("postgresql", "SELECT", "products"))
    .await?;
    let products = rows
        .into_iter()
        .map(Product::try_from)
        .collect::<Result<_, _>>()?;
    Ok((products, total))
}

pub async fn categories(pool: &PgPool) -> Result<Vec<Category>, sqlx::Error> {
    let rows: Vec<(String, i64)> = sqlx::query_as(
        "SELECT category, count(*) FROM products, unnest(categories) AS category
         GROUP BY category ORDER BY category",
    )
    .fetch_all(pool)
    .instrument(serving::db_span!("postgresql", "SELECT", "products"))
    .await?;
    Ok(rows
        .into_iter()
        .map(|(name, count)| Category { name, count })
        .collect())
}
