//! Test harness: the frontend's router driven with `oneshot`, as a browser with a
//! session cookie would, and a STAND-IN gateway (a small axum app on a free port, not
//! KrakenD) answering canned JSON in the DESIGN.md shapes and recording what it was sent.

pub mod stand_in;

use axum::{
    Router,
    body::{Body, to_bytes},
    http::{HeaderMap, Request, StatusCode, header},
};
use frontend::CsrfKey;
use serving::{ServeConfig, Service};
use tower::ServiceExt;
use uuid::Uuid;

pub const SECRET: &str = "test-csrf-secret";

/// The frontend, built as its binary builds it, talking to the gateway at `gateway_url`.
pub async fn frontend(gateway_url: &str) -> Router {
    let config = frontend::Config {
        serve: ServeConfig::for_tests(),
        gateway_url: gateway_url.into(),
        cookie_secure: false,
        csrf_secret: Some(SECRET.into()),
    };
    let service = frontend::Frontend::build(config)
        .await
        .expect("the frontend builds");
    service.start().router
}

/// An address where nothing listens: connections are refused at once.
pub async fn dead_gateway_url() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{addr}")
}

pub struct Page {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Page {
    pub fn set_cookies(&self) -> Vec<String> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect()
    }

    pub fn location(&self) -> &str {
        self.headers
            .get(header::LOCATION)
            .map_or("", |v| v.to_str().unwrap())
    }

    pub fn content_type(&self) -> &str {
        self.headers
            .get(header::CONTENT_TYPE)
            .map_or("", |v| v.to_str().unwrap())
    }

    /// The value of a hidden or text input, by name.
    pub fn input_value(&self, name: &str) -> Option<String> {
        let tag = self.body.split(&format!(r#"name="{name}""#)).nth(1)?;
        let tag = &tag[..tag.find('>')?];
        let start = tag.find(r#"value=""#)? + 7;
        Some(tag[start..start + tag[start..].find('"')?].to_owned())
    }
}

/// A visitor: a session (and maybe a token) sent as cookies.
pub struct Browser {
    pub app: Router,
    pub session: Uuid,
    pub token: Option<String>,
}

impl Browser {
    pub fn new(app: Router) -> Self {
        Self {
            app,
            session: Uuid::new_v4(),
            token: None,
        }
    }

    pub fn signed_in(app: Router, token: &str) -> Self {
        Self {
            token: Some(token.to_owned()),
            ..Self::new(app)
        }
    }

    pub fn csrf_token(&self) -> String {
        CsrfKey::from_secret(SECRET).token(self.session)
    }

    fn cookies(&self) -> String {
        let mut cookies = format!("microshop_session={}", self.session);
        if let Some(token) = &self.token {
            cookies.push_str(&format!("; microshop_token={token}"));
        }
        cookies
    }

    pub async fn get(&self, path: &str) -> Page {
        let request = Request::get(path)
            .header(header::COOKIE, self.cookies())
            .body(Body::empty())
            .unwrap();
        send(&self.app, request).await
    }

    /// Posts a form with this session's valid CSRF token added.
    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        let token = self.csrf_token();
        let mut all = fields.to_vec();
        all.push(("csrf_token", &token));
        self.post_raw(path, &serde_urlencoded::to_string(&all).unwrap())
            .await
    }

    pub async fn post_raw(&self, path: &str, body: &str) -> Page {
        let request = Request::post(path)
            .header(header::COOKIE, self.cookies())
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body.to_owned()))
            .unwrap();
        send(&self.app, request).await
    }
}

pub async fn send(app: &Router, request: Request<Body>) -> Page {
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = to_bytes(response.into_body(), 10 * 1024 * 1024)
        .await
        .unwrap();
    Page {
        status,
        headers,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    }
}
