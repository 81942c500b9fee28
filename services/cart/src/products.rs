//! Whether a product exists, asked of catalog before it goes into a cart. Ids catalog
//! confirmed are remembered for a minute, so a busy cart spares catalog most calls.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

use axum::http::StatusCode;
use serving::{Problem, client::TracedClient};

use crate::line::ProductId;

/// How long a confirmed id is trusted: a product withdrawn from catalog can still be
/// added for this long; checkout prices every line from catalog and refuses it then.
const REMEMBER_FOR: Duration = Duration::from_secs(60);
/// Bounds the memory a flood of distinct ids can take.
const MAX_REMEMBERED: usize = 10_000;
/// A catalog slower than this counts as down; the shopper gets a quick 503.
const CATALOG_TIMEOUT: Duration = Duration::from_secs(3);

pub struct KnownProducts {
    client: TracedClient,
    catalog_url: String,
    confirmed: Mutex<HashMap<ProductId, Instant>>,
}

impl KnownProducts {
    pub fn new(catalog_url: &str) -> anyhow::Result<Self> {
        Ok(Self {
            client: TracedClient::new(CATALOG_TIMEOUT)?,
            catalog_url: catalog_url.trim_end_matches('/').to_owned(),
            confirmed: Mutex::new(HashMap::new()),
        })
    }

    /// `Ok` when catalog has the product; a 422 naming `product_id` when it has not,
    /// a 503 when catalog cannot say.
    pub async fn ensure_exists(&self, id: &ProductId) -> Result<(), Problem> {
        if self.remembers(id) {
            return Ok(());
        }
        // Ids are slugs, so they go into the path as they are.
        let url = format!("{}/products/{id}", self.catalog_url);
        let response = self.client.get(url).send().await.map_err(|err| {
            tracing::warn!(error = %err, "catalog unreachable");
            Problem::unavailable("catalog")
        })?;
        match response.status() {
            StatusCode::OK => {
                self.remember(id);
                Ok(())
            }
            StatusCode::NOT_FOUND => Err(Problem::invalid_field(
                "product_id",
                format!("catalog has no product {id}"),
            )),
            status => {
                tracing::warn!(status = status.as_u16(), "catalog answered an error");
                Err(Problem::unavailable("catalog"))
            }
        }
    }

    fn remembers(&self, id: &ProductId) -> bool {
        let confirmed = self.confirmed.lock().unwrap_or_else(|e| e.into_inner());
        confirmed
            .get(id)
            .is_some_and(|until| Instant::now() < *until)
    }

    fn remember(&self, id: &ProductId) {
        let now = Instant::now();
        let mut confirmed = self.confirmed.lock().unwrap_or_else(|e| e.into_inner());
        if confirmed.len() >= MAX_REMEMBERED {
            confirmed.retain(|_, until| now < *until);
            if confirmed.len() >= MAX_REMEMBERED {
                confirmed.clear();
            }
        }
        confirmed.insert(id.clone(), now + REMEMBER_FOR);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(text: &str) -> ProductId {
        ProductId::try_from(text.to_owned()).unwrap()
    }

    #[test]
    fn confirmed_ids_are_remembered() {
        let products = KnownProducts::new("http://127.0.0.1:1/").unwrap();
        assert_eq!(products.catalog_url, "http://127.0.0.1:1");
        assert!(!products.remembers(&id("cast-iron-skillet")));
        products.remember(&id("cast-iron-skillet"));
        assert!(products.remembers(&id("cast-iron-skillet")));
        assert!(!products.remembers(&id("enamel-tea-kettle")));
    }

    #[test]
    fn memory_stays_bounded() {
        let products = KnownProducts::new("http://127.0.0.1:1").unwrap();
        for n in 0..=MAX_REMEMBERED {
            products.remember(&id(&format!("product-{n}")));
        }
        let remembered = products.confirmed.lock().unwrap().len();
        assert!(remembered <= MAX_REMEMBERED, "{remembered}");
        assert!(
            products.remembers(&id(&format!("product-{MAX_REMEMBERED}"))),
            "the newest is kept"
        );
    }
}
