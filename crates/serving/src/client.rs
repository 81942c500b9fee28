//! An HTTP client for calls between services that carries the trace context along.

use std::time::Duration;

use reqwest::{Method, RequestBuilder};

use crate::telemetry::inject_context;

#[derive(Debug, Clone)]
pub struct TracedClient {
    inner: reqwest::Client,
}

impl TracedClient {
    pub fn new(timeout: Duration) -> anyhow::Result<Self> {
        let inner = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(Duration::from_secs(2))
            .build()?;
        Ok(Self { inner })
    }

    /// A request with `traceparent` set from the current span.
    pub fn request(&self, method: Method, url: impl reqwest::IntoUrl) -> RequestBuilder {
        let mut headers = http::HeaderMap::new();
        inject_context(&mut headers);
        self.inner.request(method, url).headers(headers)
    }

    pub fn get(&self, url: impl reqwest::IntoUrl) -> RequestBuilder {
        self.request(Method::GET, url)
    }

    pub fn post(&self, url: impl reqwest::IntoUrl) -> RequestBuilder {
        self.request(Method::POST, url)
    }
}
