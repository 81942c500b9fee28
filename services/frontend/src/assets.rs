//! Files the frontend serves itself, all embedded at compile time so the pages need no
//! internet: the stylesheet, the favicon and the product pictures drawn for the catalog.

use std::sync::LazyLock;

use axum::{
    Router,
    extract::Path,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use include_dir::{Dir, include_dir};
use sha2::{Digest, Sha256};

static STYLE: &str = include_str!("../static/style.css");
static FAVICON: &str = include_str!("../static/favicon.svg");
static PICTURES: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/../catalog/pictures");

/// Pages link `style.css?v=<hash>`, so the stylesheet can be cached for long and a new
/// build is still fetched at once.
static STYLE_VERSION: LazyLock<String> =
    LazyLock::new(|| hex::encode(&Sha256::digest(STYLE.as_bytes())[..6]));

const LONG_CACHE: &str = "public, max-age=2592000";

pub fn style_version() -> String {
    STYLE_VERSION.clone()
}

pub fn routes() -> Router {
    Router::new()
        .route(
            "/static/style.css",
            get(|| async { asset("text/css; charset=utf-8", STYLE) }),
        )
        .route(
            "/static/favicon.svg",
            get(|| async { asset("image/svg+xml", FAVICON) }),
        )
        .route("/static/products/{file}", get(picture))
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(LONG_CACHE));
    response
}

/// `/static/products/<id>.svg`, the path every product's `picture` names.
async fn picture(Path(file): Path<String>) -> Response {
    let found = file
        .strip_suffix(".svg")
        .filter(|id| {
            !id.is_empty()
                && id
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        })
        .and_then(|_| PICTURES.get_file(&file))
        .and_then(|f| f.contents_utf8());
    match found {
        Some(svg) => asset("image/svg+xml", svg),
        None => (StatusCode::NOT_FOUND, "no such picture").into_response(),
    }
}
