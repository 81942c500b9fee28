//! The services checkout asks while taking an order: cart (what is bought), catalog
//! (at what price: never the client's), shipping (for how much). Each call carries the
//! trace context; how a call failed is an [`UpstreamError`], made a problem in one place:
//! a service that does not answer becomes a 503 naming it.

use std::fmt;

use axum::http::StatusCode;
use futures::future::try_join_all;
use reqwest::{Method, Response, Url};
use serde::de::DeserializeOwned;
use serving::{Problem, client::TracedClient};
use wire::{Cart, CartLine, Money, Product, Quote, QuoteRequest, events::OrderLine};

use serving::owner::Owner;

use crate::Config;

/// The services checkout calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Peer {
    Cart,
    Catalog,
    Shipping,
}

impl Peer {
    /// The name a problem's `dependency` and the logs' `peer.service` carry.
    pub fn as_str(self) -> &'static str {
        match self {
            Peer::Cart => "cart",
            Peer::Catalog => "catalog",
            Peer::Shipping => "shipping",
        }
    }
}

impl fmt::Display for Peer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a call to another service failed.
#[derive(Debug, thiserror::Error)]
pub enum UpstreamError {
    /// No answer: refused, reset or timed out.
    #[error("{peer} did not answer: {source}")]
    Unreachable {
        peer: Peer,
        #[source]
        source: reqwest::Error,
    },
    #[error("{peer} answered {status}")]
    Refused { peer: Peer, status: StatusCode },
    #[error("{peer}'s answer is unreadable: {source}")]
    Unreadable {
        peer: Peer,
        #[source]
        source: reqwest::Error,
    },
    /// Catalog no longer sells a product of the cart: the shopper's to remove.
    #[error("catalog no longer sells {product_id:?}")]
    NoLongerSold { line: usize, product_id: String },
    /// Shipping refuses what it cannot deliver to; that is about the address.
    #[error("shipping cannot deliver to this address")]
    Undeliverable,
}

/// The one place an upstream failure becomes an answer: the caller's own mistakes are
/// 422s naming the field, every other failure a 503 naming the service (logged here).
impl From<UpstreamError> for Problem {
    fn from(err: UpstreamError) -> Self {
        match err {
            UpstreamError::NoLongerSold { line, product_id } => Problem::invalid_field(
                format!("cart.items[{line}].product_id"),
                format!("catalog no longer sells {product_id:?}; remove it from the cart"),
            ),
            UpstreamError::Undeliverable => Problem::invalid_field("address", err.to_string()),
            UpstreamError::Unreachable { peer, ref source } => {
                tracing::warn!(error = %source, peer.service = peer.as_str(), "call failed");
                Problem::unavailable(peer.as_str())
            }
            UpstreamError::Refused { peer, status } => {
                tracing::warn!(
                    status = status.as_u16(),
                    peer.service = peer.as_str(),
                    "answered an error"
                );
                Problem::unavailable(peer.as_str())
            }
            UpstreamError::Unreadable { peer, ref source } => {
                tracing::warn!(error = %source, peer.service = peer.as_str(), "unreadable answer");
                Problem::unavailable(peer.as_str())
            }
        }
    }
}

pub struct Upstream {
    client: TracedClient,
    cart: Url,
    catalog: Url,
    shipping: Url,
}

impl Upstream {
    pub fn new(config: &Config, timeout: std::time::Duration) -> anyhow::Result<Self> {
        Ok(Self {
            client: TracedClient::new(timeout)?,
            cart: base(&config.cart_url)?,
            catalog: base(&config.catalog_url)?,
            shipping: base(&config.shipping_url)?,
        })
    }

    pub async fn cart(&self, owner: Owner) -> Result<Cart, UpstreamError> {
        let (name, value) = owner.header();
        let response = self
            .client
            .get(join(&self.cart, &["cart"]))
            .header(name, value)
            .send()
            .await;
        json_answer(Peer::Cart, response).await
    }

    /// Empties the cart once the order is taken. Failing here is not failing the
    /// order, so the caller only logs the error.
    pub async fn empty_cart(&self, owner: Owner) -> Result<(), UpstreamError> {
        let (name, value) = owner.header();
        let response = self
            .client
            .request(Method::DELETE, join(&self.cart, &["cart"]))
            .header(name, value)
            .send()
            .await
            .map_err(|source| UpstreamError::Unreachable {
                peer: Peer::Cart,
                source,
            })?;
        match response.status() {
            status if status.is_success() => Ok(()),
            status => Err(UpstreamError::Refused {
                peer: Peer::Cart,
                status,
            }),
        }
    }

    /// Every line priced by catalog, asked at once. A product catalog no longer has is
    /// the shopper's to remove: a 422 naming the line.
    pub async fn price(&self, lines: &[CartLine]) -> Result<Vec<OrderLine>, UpstreamError> {
        let lookups = lines.iter().enumerate().map(|(i, line)| async move {
            let url = join(&self.catalog, &["products", &line.product_id]);
            let response = self.client.get(url).send().await;
            if let Ok(answer) = &response
                && answer.status() == StatusCode::NOT_FOUND
            {
                return Err(UpstreamError::NoLongerSold {
                    line: i,
                    product_id: line.product_id.clone(),
                });
            }
            let product: Product = json_answer(Peer::Catalog, response).await?;
            Ok(OrderLine {
                product_id: product.id,
                name: product.name,
                quantity: line.quantity,
                unit_price: product.price,
            })
        });
        try_join_all(lookups).await
    }

    pub async fn quote(&self, request: &QuoteRequest) -> Result<Money, UpstreamError> {
        let response = self
            .client
            .post(join(&self.shipping, &["quotes"]))
            .json(request)
            .send()
            .await;
        if let Ok(answer) = &response
            && answer.status() == StatusCode::UNPROCESSABLE_ENTITY
        {
            return Err(UpstreamError::Undeliverable);
        }
        let quote: Quote = json_answer(Peer::Shipping, response).await?;
        Ok(quote.cost)
    }
}

fn base(url: &str) -> anyhow::Result<Url> {
    let url = Url::parse(url)?;
    anyhow::ensure!(!url.cannot_be_a_base(), "{url} cannot be a base URL");
    Ok(url)
}

/// `base` with `segments` appended, each percent-encoded (a product id from Redis is
/// not trusted to be a clean path segment).
fn join(base: &Url, segments: &[&str]) -> Url {
    let mut url = base.clone();
    if let Ok(mut path) = url.path_segments_mut() {
        path.pop_if_empty().extend(segments);
    }
    url
}

/// A 200 answer's JSON; anything else means `peer` cannot help right now.
async fn json_answer<T: DeserializeOwned>(
    peer: Peer,
    response: Result<Response, reqwest::Error>,
) -> Result<T, UpstreamError> {
    let response = response.map_err(|source| UpstreamError::Unreachable { peer, source })?;
    let status = response.status();
    if !status.is_success() {
        return Err(UpstreamError::Refused { peer, status });
    }
    response
        .json()
        .await
        .map_err(|source| UpstreamError::Unreadable { peer, source })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_joined_and_encoded() {
        let base = base("http://catalog:8080/").unwrap();
        assert_eq!(
            join(&base, &["products", "a/b c"]).as_str(),
            "http://catalog:8080/products/a%2Fb%20c"
        );
        let prefixed = super::base("http://gateway/api").unwrap();
        assert_eq!(
            join(&prefixed, &["cart"]).as_str(),
            "http://gateway/api/cart"
        );
    }
}
