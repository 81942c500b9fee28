//! Registration, login, the stored hash, timing equalisation and the login rate limit.

use std::time::{Duration, Instant};

use identity::TokenConfig;
use serde_json::Value;
use sqlx::PgPool;
use test_support::problem;
use uuid::Uuid;

use crate::helpers::{Identity, PASSWORD};

#[sqlx::test(migrator = "identity::MIGRATOR")]
async fn register_answers_201_with_every_claim_the_gateway_signs(pool: PgPool) {
    let token = TokenConfig {
        issuer: "shop-test".into(),
        audience: "shop-web".into(),
        ttl_secs: 900,
    };
    let app = Identity::spawn_with(pool, token).await;
    let response = app
        .register(" Ada@Example.org ", PASSWORD, " Ada Lovelace ")
        .await;
    assert_eq!(response.status(), 201);
    let body: Value = response.json().await.unwrap();
    let claims = body["access_token"]
        .as_object()
        .expect("claims are an unsigned JSON object");
    let mut names: Vec<_> = claims.keys().map(String::as_str).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        ["aud", "email", "exp", "iat", "iss", "name", "roles", "sub"]
    );
    assert!(
        Uuid::parse_str(claims["sub"].as_str().unwrap()).is_ok(),
        "sub is a uuid"
    );
    assert_eq!(claims["email"], "Ada@Example.org", "trimmed, case kept");
    assert_eq!(claims["name"], "Ada Lovelace", "trimmed");
    assert_eq!(claims["roles"], serde_json::json!(["customer"]));
    assert_eq!(claims["iss"], "shop-test");
    assert_eq!(claims["aud"], "shop-web");
    let iat = claims["iat"].as_u64().unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(iat.abs_diff(now) <= 5, "iat is now");
    assert_eq!(
        claims["exp"].as_u64().unwrap() - iat,
        900,
        "exp is iat + TOKEN_TTL_SECS"
    );
    assert_eq!(body["expires_in"], 900);
}

#[sqlx::test(migrator = "identity::MIGRATOR")]
async fn login_answers_the_same_subject_as_register(pool: PgPool) {
    let app = Identity::spawn(pool).await;
    let id = app.account("ada@example.org").await;
    let response = app.login("ada@example.org", PASSWORD).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["access_token"]["sub"], id.as_str());
    assert_eq!(body["access_token"]["email"], "ada@example.org");
    assert_eq!(body["access_token"]["name"], "Ada Lovelace");
    assert_eq!(
        body["access_token"]["roles"],
        serde_json::json!(["customer"])
    );
    assert_eq!(body["expires_in"], 3600, "the default TOKEN_TTL_SECS");
}

#[sqlx::test(migrator = "identity::MIGRATOR")]
async fn login_ignores_the_case_of_the_email(pool: PgPool) {
    let app = Identity::spawn(pool).await;
    let id = app.account("ada@example.org").await;
    let response = app.login("ADA@EXAMPLE.ORG", PASSWORD).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["access_token"]["sub"], id.as_str());
    assert_eq!(
        body["access_token"]["email"], "ada@example.org",
        "claims carry the e-mail as stored"
    );
}

#[sqlx::test(migrator = "identity::MIGRATOR")]
async fn an_email_registered_twice_in_another_case_is_a_409_naming_email(pool: PgPool) {
    let app = Identity::spawn(pool).await;
    app.account("a@x.io").await;
    let (status, body) = problem(app.register("A@x.io", PASSWORD, "Someone Else").await).await;
    assert_eq!(status, 409);
    assert_eq!(body["field"], "email");
    assert!(body["type"].as_str().unwrap().ends_with("/email-taken"));
}

#[sqlx::test(migrator = "identity::MIGRATOR")]
async fn the_password_is_stored_as_an_argon2id_phc_string_with_owasp_parameters(pool: PgPool) {
    let app = Identity::spawn(pool.clone()).await;
    let id = app.account("ada@example.org").await;
    let stored: String = sqlx::query_scalar("SELECT password_hash FROM users WHERE id = $1")
        .bind(Uuid::parse_str(&id).unwrap())
        .fetch_one(&pool)
        .await
        .unwrap();
    assert!(
        stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{stored}"
    );
    assert!(!stored.contains(PASSWORD));
}

#[sqlx::test(migrator = "identity::MIGRATOR")]
async fn unknown_email_and_wrong_password_get_the_identical_answer(pool: PgPool) {
    let app = Identity::spawn(pool).await;
    app.account("ada@example.org").await;
    let (wrong_status, wrong_body) =
        problem(app.login("ada@example.org", "not the right password").await).await;
    let (unknown_status, unknown_body) = problem(
        app.login("nobody@example.org", "not the right password")
            .await,
    )
    .await;
    assert_eq!(wrong_status, 401);
    assert_eq!((unknown_status, &unknown_body), (wrong_status, &wrong_body));
    assert!(
        wrong_body["type"]
            .as_str()
            .unwrap()
            .ends_with("/invalid-credentials")
    );
}

/// Not an absolute time (machines differ), only that an unknown e-mail is not
/// conspicuously faster, which is what it would be without the dummy hash (a database
/// lookup alone is a fraction of one argon2 verification).
#[sqlx::test(migrator = "identity::MIGRATOR")]
async fn an_unknown_email_takes_as_long_as_a_wrong_password(pool: PgPool) {
    let app = Identity::spawn(pool).await;
    app.account("ada@example.org").await;
    let mut wrong = Vec::new();
    let mut unknown = Vec::new();
    // Interleaved, so load from anything else on the machine hits both alike.
    for _ in 0..5 {
        let started = Instant::now();
        assert_eq!(
            app.login("ada@example.org", "not the right password")
                .await
                .status(),
            401
        );
        wrong.push(started.elapsed());
        let started = Instant::now();
        assert_eq!(
            app.login("nobody@example.org", "not the right password")
                .await
                .status(),
            401
        );
        unknown.push(started.elapsed());
    }
    let (wrong, unknown) = (median(wrong), median(unknown));
    assert!(
        unknown.as_secs_f64() >= 0.5 * wrong.as_secs_f64(),
        "unknown e-mail took {unknown:?}, wrong password {wrong:?}"
    );
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort_unstable();
    samples[samples.len() / 2]
}

#[sqlx::test(migrator = "identity::MIGRATOR")]
async fn the_eleventh_login_for_one_email_within_a_minute_is_a_429(pool: PgPool) {
    let app = Identity::spawn(pool).await;
    app.account("ada@example.org").await;
    for attempt in 1..=10 {
        // Case varies: the limit is on the e-mail, not on how it is typed.
        let email = if attempt % 2 == 0 {
            "ada@example.org"
        } else {
            "ADA@example.org"
        };
        let status = app.login(email, "not the right password").await.status();
        assert_eq!(status, 401, "attempt {attempt}");
    }
    let (status, body) = problem(app.login("ada@example.org", PASSWORD).await).await;
    assert_eq!(status, 429, "even with the right password");
    assert!(body["retry_after_secs"].as_u64().unwrap() >= 1);
    let other = app
        .login("grace@example.org", "not the right password")
        .await;
    assert_eq!(other.status(), 401, "other e-mails are not limited");
}
