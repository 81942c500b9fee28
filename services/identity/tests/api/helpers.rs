//! A running identity and a small client for its routes.

use identity::TokenConfig;
use reqwest::{Method, Response};
use serde_json::{Value, json};
use serving::{ServeConfig, postgres::Database};
use sqlx::PgPool;
use test_support::TestService;

pub const PASSWORD: &str = "correct horse battery staple";

pub struct Identity {
    pub server: TestService,
}

impl Identity {
    pub async fn spawn(pool: PgPool) -> Self {
        Self::spawn_with(pool, TokenConfig::default()).await
    }

    pub async fn spawn_with(pool: PgPool, token: TokenConfig) -> Self {
        let config = identity::Config {
            serve: ServeConfig::for_tests(),
            database: Database::of(&pool),
            token,
        };
        Self {
            server: TestService::start::<identity::Identity>(config).await,
        }
    }

    pub async fn register(&self, email: &str, password: &str, name: &str) -> Response {
        let body = json!({"email": email, "password": password, "name": name});
        self.server
            .send_json(Method::POST, "/auth/register", &body)
            .await
    }

    /// Registers and answers the new account's id, failing the test if that does not work.
    pub async fn account(&self, email: &str) -> String {
        let response = self.register(email, PASSWORD, "Ada Lovelace").await;
        assert_eq!(response.status(), 201, "registering {email}");
        let body: Value = response.json().await.unwrap();
        body["access_token"]["sub"].as_str().unwrap().to_owned()
    }

    pub async fn login(&self, email: &str, password: &str) -> Response {
        let body = json!({"email": email, "password": password});
        self.server
            .send_json(Method::POST, "/auth/login", &body)
            .await
    }

    /// A request as the gateway sends it for the account `user`.
    pub async fn as_user(
        &self,
        user: &str,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Response {
        let mut request = self.server.request(method, path).header("X-User-Id", user);
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.send().await.unwrap()
    }

    pub async fn me(&self, user: &str) -> Response {
        self.as_user(user, Method::GET, "/me", None).await
    }
}
