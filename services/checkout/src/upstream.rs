//! The services checkout asks while taking an order: cart (what is bought), catalog
//! (at what price: never the client's), shipping (for how much). Each call carries the
//! trace context; a service that does not answer becomes a 503 naming it.

use axum::http::StatusCode;
use futures::future::try_join_all;
use reqwest::{Method, Response, Url};
use serde::de::DeserializeOwned;
use serving::{Problem, client::TracedClient};
use wire::{Cart, CartLine, Money, Product, Quote, QuoteRequest, events::OrderLine};

use serving::owner::Owner;

use crate::Config;

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

    pub async fn cart(&self, owner: Owner) -> Result<Cart, Problem> {
        let (name, value) = owner.header();
        let response = self
            .client
            .get(join(&self.cart, &["cart"]))
            .header(name, value)
            .send()
            .await;
        json_answer("cart", response).await
    }

    /// Empties the cart once the order is taken. Failing here is not failing the
    /// order, so the caller only logs the error.
    pub async fn empty_cart(&self, owner: Owner) -> Result<(), String> {
        let (name, value) = owner.header();
        let response = self
            .client
            .request(Method::DELETE, join(&self.cart, &["cart"]))
            .header(name, value)
            .send()
            .await
            .map_err(|err| err.to_string())?;
        match response.status() {
            status if status.is_success() => Ok(()),
            status => Err(format!("cart answered {status}")),
        }
    }

    /// Every line priced by catalog, asked at once. A product catalog no longer has is
    /// the shopper's to remove: a 422 naming the line.
    pub async fn price(&self, lines: &[CartLine]) -> Result<Vec<OrderLine>, Problem> {
        let lookups = lines.iter().enumerate().map(|(i, line)| async move {
            let url = join(&self.catalog, &["products", &line.product_id]);
            let response = self.client.get(url).send().await;
            if let Ok(answer) = &response
                && answer.status() == StatusCode::NOT_FOUND
            {
                return Err(Problem::invalid_field(
                    format!("cart.items[{i}].product_id"),
                    format!(
                        "catalog no longer sells {:?}; remove it from the cart",
                        line.product_id
                    ),
                ));
            }
            let product: Product = json_answer("catalog", response).await?;
            Ok(OrderLine {
                product_id: product.id,
                name: product.name,
                quantity: line.quantity,
                unit_price: product.price,
            })
        });
        try_join_all(lookups).await
    }

    pub async fn quote(&self, request: &QuoteRequest) -> Result<Money, Problem> {
        let response = self
            .client
            .post(join(&self.shipping, &["quotes"]))
            .json(request)
            .send()
            .await;
        if let Ok(answer) = &response
            && answer.status() == StatusCode::UNPROCESSABLE_ENTITY
        {
            // Shipping refuses what it cannot deliver to; that is about the address.
            return Err(Problem::invalid_field(
                "address",
                "shipping cannot deliver to this address",
            ));
        }
        let quote: Quote = json_answer("shipping", response).await?;
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

/// A 200 answer's JSON; anything else means `service` cannot help right now.
async fn json_answer<T: DeserializeOwned>(
    service: &str,
    response: Result<Response, reqwest::Error>,
) -> Result<T, Problem> {
    let response = response.map_err(|err| {
        tracing::warn!(error = %err, peer.service = service, "call failed");
        Problem::unavailable(service)
    })?;
    let status = response.status();
    if !status.is_success() {
        tracing::warn!(
            status = status.as_u16(),
            peer.service = service,
            "answered an error"
        );
        return Err(Problem::unavailable(service));
    }
    response.json().await.map_err(|err| {
        tracing::warn!(error = %err, peer.service = service, "unreadable answer");
        Problem::unavailable(service)
    })
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
