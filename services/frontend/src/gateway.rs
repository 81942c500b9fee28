//! The one way this frontend reaches the shop: the gateway's public API (`/api/v1`),
//! through [`TracedClient`] so each page's trace continues into the services. Guests are
//! named by `X-Session-Id`; signed-in visitors by `Authorization: Bearer` on `/me/...`.

use std::time::Duration;

use reqwest::{Method, StatusCode, Url};
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use serde_json::json;
use serving::client::{TracedClient, TracedRequest};
use uuid::Uuid;
use wire::{
    Cart, CategoryList, Product, ProductList, Quote, QuoteRequest,
    order::{Order, OrderList},
};

use crate::{
    models::{Checkout, Me, TokenAnswer},
    session::Visitor,
};

/// A problem the gateway answered (RFC 9457), or one made up for an answer without one.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ApiProblem {
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub status: u16,
    #[serde(default)]
    pub detail: Option<String>,
    /// The request field at fault, as a JSON path (`address.city`).
    #[serde(default)]
    pub field: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    /// No answer, a timeout, a 5xx or an answer that makes no sense: the shop is down.
    #[error("the gateway is unavailable: {0}")]
    Unavailable(Outage),
    /// A 4xx: the request was refused, for the reason given.
    #[error("the gateway refused the request: {} {}", .0.status, .0.title)]
    Refused(ApiProblem),
}

impl GatewayError {
    pub fn status(&self) -> Option<u16> {
        match self {
            GatewayError::Refused(problem) => Some(problem.status),
            GatewayError::Unavailable(_) => None,
        }
    }
}

/// How the gateway failed to answer.
#[derive(Debug, thiserror::Error)]
pub enum Outage {
    #[error("no answer in time")]
    Timeout,
    #[error("cannot connect")]
    CannotConnect,
    #[error(transparent)]
    Transport(reqwest::Error),
    #[error("answered {0}")]
    ServerError(StatusCode),
    #[error("unreadable {status} answer: {source}")]
    Unreadable {
        status: StatusCode,
        #[source]
        source: serde_json::Error,
    },
}

impl From<reqwest::Error> for Outage {
    fn from(err: reqwest::Error) -> Self {
        if err.is_timeout() {
            Outage::Timeout
        } else if err.is_connect() {
            Outage::CannotConnect
        } else {
            Outage::Transport(err)
        }
    }
}

pub type Answer<T> = Result<T, GatewayError>;

#[derive(Debug, Clone)]
pub struct Gateway {
    client: TracedClient,
    base: Url,
}

/// Query of the product list.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ProductQuery {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub q: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    pub page: u32,
    pub per_page: u32,
}

impl Gateway {
    /// `timeout` should be below the frontend's own request timeout, so a slow gateway
    /// gets the friendly page rather than the skeleton's bare 503.
    pub fn new(base: &str, timeout: Duration) -> anyhow::Result<Self> {
        let mut base = Url::parse(base)?;
        if base.cannot_be_a_base() {
            anyhow::bail!("GATEWAY_URL must be an http(s) URL, got {base}");
        }
        base.path_segments_mut()
            .map_err(|_| anyhow::anyhow!("GATEWAY_URL cannot take a path"))?
            .pop_if_empty()
            .extend(["api", "v1"]);
        Ok(Self {
            client: TracedClient::new(timeout)?,
            base,
        })
    }

    /// `/api/v1/<segments>`, each segment percent-encoded so an id cannot change the path.
    fn url(&self, segments: &[&str]) -> Url {
        let mut url = self.base.clone();
        url.path_segments_mut()
            .expect("checked in new")
            .extend(segments);
        url
    }

    fn request(&self, method: Method, segments: &[&str]) -> TracedRequest {
        self.client.request(method, self.url(segments))
    }

    /// A request about the visitor's own things: `/me/<rest>` with the bearer token when
    /// signed in, else `/<rest>` with the session header.
    fn owned(&self, method: Method, visitor: &Visitor, rest: &[&str]) -> TracedRequest {
        match &visitor.token {
            Some(token) => {
                let segments: Vec<&str> =
                    std::iter::once("me").chain(rest.iter().copied()).collect();
                self.request(method, &segments).bearer_auth(token)
            }
            None => self
                .request(method, rest)
                .header("X-Session-Id", visitor.session.to_string()),
        }
    }

    pub async fn products(&self, query: &ProductQuery) -> Answer<ProductList> {
        fetch(self.request(Method::GET, &["products"]).query(query)).await
    }

    pub async fn product(&self, id: &str) -> Answer<Product> {
        fetch(self.request(Method::GET, &["products", id])).await
    }

    pub async fn categories(&self) -> Answer<CategoryList> {
        fetch(self.request(Method::GET, &["categories"])).await
    }

    pub async fn cart(&self, visitor: &Visitor) -> Answer<Cart> {
        fetch(self.owned(Method::GET, visitor, &["cart"])).await
    }

    pub async fn add_to_cart(
        &self,
        visitor: &Visitor,
        product_id: &str,
        quantity: i64,
    ) -> Answer<Cart> {
        let body = json!({"product_id": product_id, "quantity": quantity});
        fetch(
            self.owned(Method::POST, visitor, &["cart", "items"])
                .json(&body),
        )
        .await
    }

    /// Sets a line's quantity; 0 removes it.
    pub async fn set_quantity(
        &self,
        visitor: &Visitor,
        product_id: &str,
        quantity: i64,
    ) -> Answer<Cart> {
        let body = json!({"quantity": quantity});
        fetch(
            self.owned(Method::PUT, visitor, &["cart", "items", product_id])
                .json(&body),
        )
        .await
    }

    pub async fn remove_line(&self, visitor: &Visitor, product_id: &str) -> Answer<Cart> {
        fetch(self.owned(Method::DELETE, visitor, &["cart", "items", product_id])).await
    }

    pub async fn empty_cart(&self, visitor: &Visitor) -> Answer<Cart> {
        fetch(self.owned(Method::DELETE, visitor, &["cart"])).await
    }

    /// Moves the guest cart of `session` into the account of `token`.
    pub async fn merge_cart(&self, session: Uuid, token: &str) -> Answer<Cart> {
        let request = self
            .request(Method::POST, &["me", "cart", "merge"])
            .bearer_auth(token)
            .header("X-Session-Id", session.to_string());
        fetch(request).await
    }

    pub async fn quote(&self, request: &QuoteRequest) -> Answer<Quote> {
        fetch(
            self.request(Method::POST, &["shipping", "quote"])
                .json(request),
        )
        .await
    }

    /// Places the order; the same `idempotency_key` twice makes one order.
    pub async fn checkout(
        &self,
        visitor: &Visitor,
        checkout: &Checkout,
        idempotency_key: Uuid,
    ) -> Answer<Order> {
        let request = self
            .owned(Method::POST, visitor, &["checkout"])
            .header("Idempotency-Key", idempotency_key.to_string())
            .json(checkout);
        fetch(request).await
    }

    /// An order by id: a guest's through the public route (the id is the capability), a
    /// signed-in visitor's through `/me/orders/{id}`, where checkout shows only the
    /// account's own orders.
    pub async fn order(&self, visitor: &Visitor, id: Uuid) -> Answer<Order> {
        let id = id.to_string();
        let request = match &visitor.token {
            Some(token) => self
                .request(Method::GET, &["me", "orders", &id])
                .bearer_auth(token),
            None => self.request(Method::GET, &["orders", &id]),
        };
        fetch(request).await
    }

    pub async fn my_orders(&self, token: &str) -> Answer<Vec<Order>> {
        let list: OrderList = fetch(
            self.request(Method::GET, &["me", "orders"])
                .bearer_auth(token),
        )
        .await?;
        Ok(list.items)
    }

    pub async fn register(&self, email: &str, password: &str, name: &str) -> Answer<TokenAnswer> {
        let body = json!({"email": email, "password": password, "name": name});
        fetch(
            self.request(Method::POST, &["auth", "register"])
                .json(&body),
        )
        .await
    }

    pub async fn login(&self, email: &str, password: &str) -> Answer<TokenAnswer> {
        let body = json!({"email": email, "password": password});
        fetch(self.request(Method::POST, &["auth", "login"]).json(&body)).await
    }

    pub async fn me(&self, token: &str) -> Answer<Me> {
        fetch(self.request(Method::GET, &["me"]).bearer_auth(token)).await
    }

    pub async fn update_me(&self, token: &str, changes: &serde_json::Value) -> Answer<Me> {
        fetch(
            self.request(Method::PATCH, &["me"])
                .bearer_auth(token)
                .json(changes),
        )
        .await
    }
}

/// Sends a request and reads a JSON answer, turning anything else into a [`GatewayError`].
async fn fetch<T: DeserializeOwned>(request: TracedRequest) -> Answer<T> {
    let response = request
        .header(reqwest::header::ACCEPT, "application/json")
        .send()
        .await
        .map_err(|err| GatewayError::Unavailable(err.into()))?;
    let status = response.status();
    let bytes = response
        .bytes()
        .await
        .map_err(|err| GatewayError::Unavailable(err.into()))?;
    if status.is_success() {
        return serde_json::from_slice(&bytes)
            .map_err(|source| GatewayError::Unavailable(Outage::Unreadable { status, source }));
    }
    if status.is_server_error() {
        return Err(GatewayError::Unavailable(Outage::ServerError(status)));
    }
    Err(GatewayError::Refused(problem_of(status, &bytes)))
}

/// The problem in a 4xx body. KrakenD answers some refusals with an empty body (its
/// validator's 401, its signer's 400 for any refused sign-in), so a title is made from the
/// status then.
fn problem_of(status: StatusCode, body: &[u8]) -> ApiProblem {
    let mut problem: ApiProblem = serde_json::from_slice(body).unwrap_or_default();
    problem.status = status.as_u16();
    if problem.title.trim().is_empty() {
        problem.title = status
            .canonical_reason()
            .unwrap_or("The request was refused")
            .to_owned();
    }
    problem
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_stay_under_the_api_prefix() {
        let gateway = Gateway::new("http://gw:8000/", Duration::from_secs(1)).unwrap();
        assert_eq!(
            gateway.url(&["products", "a-b"]).as_str(),
            "http://gw:8000/api/v1/products/a-b"
        );
        assert_eq!(
            gateway.url(&["products", "../me"]).as_str(),
            "http://gw:8000/api/v1/products/..%2Fme",
            "an id cannot climb out of its path"
        );
    }

    #[test]
    fn a_problem_without_a_body_gets_a_title_from_its_status() {
        let problem = problem_of(StatusCode::BAD_REQUEST, b"");
        assert_eq!(
            (problem.status, problem.title.as_str()),
            (400, "Bad Request")
        );
        let problem = problem_of(
            StatusCode::UNPROCESSABLE_ENTITY,
            br#"{"type":"x","title":"A field is invalid","status":422,"detail":"must be 1..=99","field":"quantity"}"#,
        );
        assert_eq!(problem.field.as_deref(), Some("quantity"));
        assert_eq!(problem.detail.as_deref(), Some("must be 1..=99"));
    }
}
