//! An HTTP client for calls between services: each call is a client span (OpenTelemetry
//! HTTP semantic conventions) whose context travels in `traceparent`.

use std::time::Duration;

use reqwest::{IntoUrl, Method, RequestBuilder, Response};
use serde::Serialize;
use tracing::Instrument;

use crate::telemetry::inject_span_context;

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

    pub fn request(&self, method: Method, url: impl IntoUrl) -> TracedRequest {
        TracedRequest {
            client: self.inner.clone(),
            builder: self.inner.request(method, url),
        }
    }

    pub fn get(&self, url: impl IntoUrl) -> TracedRequest {
        self.request(Method::GET, url)
    }

    pub fn post(&self, url: impl IntoUrl) -> TracedRequest {
        self.request(Method::POST, url)
    }
}

/// A request being built; [`TracedRequest::send`] sends it inside its client span.
#[derive(Debug)]
#[must_use = "a request does nothing until sent"]
pub struct TracedRequest {
    client: reqwest::Client,
    builder: RequestBuilder,
}

impl TracedRequest {
    pub fn header<K, V>(self, name: K, value: V) -> Self
    where
        http::HeaderName: TryFrom<K>,
        <http::HeaderName as TryFrom<K>>::Error: Into<http::Error>,
        http::HeaderValue: TryFrom<V>,
        <http::HeaderValue as TryFrom<V>>::Error: Into<http::Error>,
    {
        self.map(|b| b.header(name, value))
    }

    pub fn bearer_auth(self, token: &str) -> Self {
        self.map(|b| b.bearer_auth(token))
    }

    pub fn json<T: Serialize + ?Sized>(self, body: &T) -> Self {
        self.map(|b| b.json(body))
    }

    pub fn query<T: Serialize + ?Sized>(self, query: &T) -> Self {
        self.map(|b| b.query(query))
    }

    fn map(self, change: impl FnOnce(RequestBuilder) -> RequestBuilder) -> Self {
        Self {
            client: self.client,
            builder: change(self.builder),
        }
    }

    pub async fn send(self) -> reqwest::Result<Response> {
        let mut request = self.builder.build()?;
        let url = request.url();
        let method = request.method().as_str().to_owned();
        let span = tracing::info_span!(
            "http client",
            otel.name = method.as_str(),
            otel.kind = "client",
            http.request.method = method.as_str(),
            server.address = url.host_str().unwrap_or_default(),
            server.port = url.port_or_known_default().unwrap_or_default(),
            url.full = url.as_str(),
            http.response.status_code = tracing::field::Empty,
            error.r#type = tracing::field::Empty,
            otel.status_code = tracing::field::Empty,
        );
        inject_span_context(&span, request.headers_mut());
        let answer = self.client.execute(request).instrument(span.clone()).await;
        match &answer {
            Ok(response) => {
                let status = response.status();
                span.record("http.response.status_code", status.as_u16());
                if status.is_server_error() {
                    span.record("error.type", status.as_str());
                    span.record("otel.status_code", "ERROR");
                }
            }
            Err(err) => {
                let kind = if err.is_timeout() {
                    "timeout"
                } else if err.is_connect() {
                    "connect"
                } else {
                    "request"
                };
                span.record("error.type", kind);
                span.record("otel.status_code", "ERROR");
            }
        }
        answer
    }
}
