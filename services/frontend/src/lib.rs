//! frontend: the shop's server-rendered pages. It talks only to the gateway; the visitor
//! is known by a session cookie and, once signed in, a token cookie; every form is a
//! plain POST guarded by a CSRF token, so the shop works without JavaScript.

mod account;
mod assets;
mod cart;
mod checkout;
pub mod csrf;
mod error;
mod forms;
pub mod gateway;
mod models;
pub mod money;
mod orders;
mod pages;
pub mod session;
pub mod views;

use std::time::Duration;

use axum::{
    Router,
    http::{HeaderValue, header},
    middleware::{from_fn_with_state, map_response},
    response::Response,
    routing::get,
};
use serving::{Readiness, ServeConfig, Service, Started};

pub use crate::{
    csrf::CsrfKey,
    gateway::{Gateway, GatewayError},
    session::{CookiePolicy, Visitor},
    views::Chrome,
};

#[derive(Debug, Clone, clap::Parser)]
#[command(about = "microshop frontend: the shop's web pages")]
pub struct Config {
    #[command(flatten)]
    pub serve: ServeConfig,
    /// The API gateway; every page is made from its `/api/v1` answers.
    #[arg(long, env = "GATEWAY_URL", default_value = "http://127.0.0.1:8000")]
    pub gateway_url: String,
    /// Mark cookies `Secure`: set to true when the shop is served over TLS.
    #[arg(long, env = "COOKIE_SECURE", default_value_t = false, action = clap::ArgAction::Set)]
    pub cookie_secure: bool,
    /// Key of the forms' CSRF tokens. Unset: a random key per process, so with several
    /// replicas (or after a restart) a form from another one is refused; set it then.
    #[arg(long, env = "CSRF_SECRET", hide_env_values = true)]
    pub csrf_secret: Option<String>,
}

/// What every handler gets.
#[derive(Debug, Clone)]
pub struct AppState {
    pub gateway: Gateway,
    pub csrf: CsrfKey,
    pub cookies: CookiePolicy,
}

impl AppState {
    /// The layout of a page for this visitor, with the cart count read from the gateway.
    /// A cart that cannot be read hides the count rather than the page; an expired
    /// sign-in sends the visitor to sign in again.
    pub async fn chrome(&self, visitor: &Visitor) -> Result<Chrome, error::PageError> {
        let count = match self.gateway.cart(visitor).await {
            Ok(cart) => Some(cart::item_count(&cart)),
            Err(err) if visitor.signed_in() && err.status() == Some(401) => return Err(err.into()),
            Err(err) => {
                tracing::debug!(error = %err, "cart count unavailable");
                None
            }
        };
        Ok(self.chrome_with(visitor, count))
    }

    pub fn chrome_with(&self, visitor: &Visitor, cart_count: Option<u32>) -> Chrome {
        Chrome {
            signed_in: visitor.signed_in(),
            cart_count,
            csrf_token: self.csrf.token(visitor.session),
            q: String::new(),
        }
    }
}

/// The service: its state read from the config.
pub struct Frontend {
    state: AppState,
    serve: ServeConfig,
}

impl Service for Frontend {
    const NAME: &'static str = "frontend";
    const DEFAULT_PORT: u16 = 8080;
    type Config = Config;

    fn serve_config(config: &Config) -> &ServeConfig {
        &config.serve
    }

    async fn build(config: Config) -> anyhow::Result<Self> {
        let csrf = match config.csrf_secret.as_deref().filter(|s| !s.is_empty()) {
            Some(secret) => CsrfKey::from_secret(secret),
            None => {
                tracing::warn!(
                    "CSRF_SECRET is not set: using a random key, valid only in this process"
                );
                CsrfKey::random()
            }
        };
        // Below the frontend's own timeout, so a slow gateway gets the friendly page.
        let timeout = config
            .serve
            .request_timeout()
            .saturating_sub(Duration::from_secs(1))
            .max(Duration::from_secs(1));
        let state = AppState {
            gateway: Gateway::new(&config.gateway_url, timeout)?,
            csrf,
            cookies: CookiePolicy {
                secure: config.cookie_secure,
            },
        };
        Ok(Self {
            state,
            serve: config.serve,
        })
    }

    fn start(self) -> Started {
        Started::routes_only(router(self.state, &self.serve))
    }
}

fn router(state: AppState, serve: &ServeConfig) -> Router {
    let pages = Router::new()
        .merge(pages::routes())
        .merge(cart::routes())
        .merge(checkout::routes())
        .merge(orders::routes())
        .merge(account::routes())
        .route("/{*path}", get(pages::not_found))
        .with_state(state.clone())
        .layer(from_fn_with_state(
            (state.csrf.clone(), serve.body_limit_bytes),
            csrf::require_token,
        ))
        .layer(from_fn_with_state(state.cookies, session::ensure_session))
        .layer(map_response(personal));
    let routes = Router::new()
        .merge(assets::routes())
        .merge(pages)
        .layer(map_response(hardened));
    // The pages need nothing to be ready: without the gateway they still answer, with
    // a friendly "try again" page, which beats no answer at all.
    serving::http::skeleton(routes, Readiness::new(), serve)
}

/// Pages carry a visitor's cart and CSRF token: never cached by anyone.
async fn personal(mut response: Response) -> Response {
    response
        .headers_mut()
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    response
}

async fn hardened(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    response
}
