//! The account as its owner sees it: read, update, password change, deletion.

use reqwest::Method;
use serde_json::{Value, json};
use sqlx::PgPool;
use test_support::problem;

use crate::helpers::{Identity, PASSWORD};

const NEW_PASSWORD: &str = "a much longer passphrase now";

fn address() -> Value {
    json!({
        "name": "Ada Lovelace",
        "street": "12 St James's Square",
        "city": "London",
        "postal_code": "SW1Y 4JH",
        "country": "GB",
    })
}

#[sqlx::test(migrator = "identity::MIGRATOR")]
async fn me_shows_the_account_without_an_address_at_first(pool: PgPool) {
    let app = Identity::spawn(pool).await;
    let id = app.account("Ada@Example.org").await;
    let response = app.me(&id).await;
    assert_eq!(response.status(), 200);
    let me: Value = response.json().await.unwrap();
    assert_eq!(
        me,
        json!({"id": id, "email": "Ada@Example.org", "name": "Ada Lovelace", "address": null})
    );
}

#[sqlx::test(migrator = "identity::MIGRATOR")]
async fn patch_me_changes_name_address_and_email_and_answers_the_result(pool: PgPool) {
    let app = Identity::spawn(pool).await;
    let id = app.account("ada@example.org").await;
    let mut sent = address();
    sent["country"] = json!("gb");
    let changes = json!({"name": "Ada King", "address": sent, "email": "countess@example.org"});
    let response = app.as_user(&id, Method::PATCH, "/me", Some(changes)).await;
    assert_eq!(response.status(), 200);
    let updated: Value = response.json().await.unwrap();
    let expected = json!({"id": id, "email": "countess@example.org", "name": "Ada King", "address": address()});
    assert_eq!(updated, expected, "country is upper-cased");
    let read: Value = app.me(&id).await.json().await.unwrap();
    assert_eq!(read, expected, "the change is stored");

    assert_eq!(
        app.login("countess@example.org", PASSWORD).await.status(),
        200,
        "new e-mail logs in"
    );
    assert_eq!(
        app.login("ada@example.org", PASSWORD).await.status(),
        401,
        "old e-mail is gone"
    );
}

#[sqlx::test(migrator = "identity::MIGRATOR")]
async fn patch_me_leaves_absent_fields_alone_and_null_removes_the_address(pool: PgPool) {
    let app = Identity::spawn(pool).await;
    let id = app.account("ada@example.org").await;
    app.as_user(
        &id,
        Method::PATCH,
        "/me",
        Some(json!({"address": address()})),
    )
    .await;
    let renamed: Value = app
        .as_user(&id, Method::PATCH, "/me", Some(json!({"name": "Ada King"})))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(renamed["address"], address(), "an absent address is kept");
    assert_eq!(renamed["email"], "ada@example.org");
    let cleared: Value = app
        .as_user(&id, Method::PATCH, "/me", Some(json!({"address": null})))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(cleared["address"], Value::Null);
    assert_eq!(cleared["name"], "Ada King");
}

#[sqlx::test(migrator = "identity::MIGRATOR")]
async fn changing_the_email_to_one_taken_in_another_case_is_a_409_naming_email(pool: PgPool) {
    let app = Identity::spawn(pool).await;
    app.account("grace@example.org").await;
    let id = app.account("ada@example.org").await;
    let changes = json!({"email": "GRACE@example.org"});
    let (status, body) = problem(app.as_user(&id, Method::PATCH, "/me", Some(changes)).await).await;
    assert_eq!(status, 409);
    assert_eq!(body["field"], "email");
    let own = json!({"email": "ADA@example.org"});
    let response = app.as_user(&id, Method::PATCH, "/me", Some(own)).await;
    assert_eq!(
        response.status(),
        200,
        "re-casing one's own e-mail is no conflict"
    );
}

#[sqlx::test(migrator = "identity::MIGRATOR")]
async fn a_changed_password_replaces_the_old_one(pool: PgPool) {
    let app = Identity::spawn(pool).await;
    let id = app.account("ada@example.org").await;
    let change = json!({"current_password": PASSWORD, "new_password": NEW_PASSWORD});
    let response = app
        .as_user(&id, Method::PUT, "/me/password", Some(change))
        .await;
    assert_eq!(response.status(), 204);
    assert_eq!(
        app.login("ada@example.org", PASSWORD).await.status(),
        401,
        "old password stops working"
    );
    assert_eq!(
        app.login("ada@example.org", NEW_PASSWORD).await.status(),
        200,
        "new password works"
    );
}

#[sqlx::test(migrator = "identity::MIGRATOR")]
async fn a_wrong_current_password_is_a_401_and_changes_nothing(pool: PgPool) {
    let app = Identity::spawn(pool).await;
    let id = app.account("ada@example.org").await;
    let change =
        json!({"current_password": "not the right password", "new_password": NEW_PASSWORD});
    let (status, body) = problem(
        app.as_user(&id, Method::PUT, "/me/password", Some(change))
            .await,
    )
    .await;
    assert_eq!(status, 401);
    assert_eq!(body["field"], "current_password");
    assert_eq!(app.login("ada@example.org", PASSWORD).await.status(), 200);
}

#[sqlx::test(migrator = "identity::MIGRATOR")]
async fn a_deleted_account_can_neither_log_in_nor_be_read(pool: PgPool) {
    let app = Identity::spawn(pool).await;
    let id = app.account("ada@example.org").await;
    let response = app.as_user(&id, Method::DELETE, "/me", None).await;
    assert_eq!(response.status(), 204);
    let (status, _) = problem(app.login("ada@example.org", PASSWORD).await).await;
    assert_eq!(status, 401);
    let (status, body) = problem(app.me(&id).await).await;
    assert_eq!(status, 404);
    assert!(body["type"].as_str().unwrap().ends_with("/not-found"));
    let (status, _) = problem(app.as_user(&id, Method::DELETE, "/me", None).await).await;
    assert_eq!(status, 404, "deleting twice");
    let change = json!({"current_password": PASSWORD, "new_password": NEW_PASSWORD});
    let (status, _) = problem(
        app.as_user(&id, Method::PUT, "/me/password", Some(change))
            .await,
    )
    .await;
    assert_eq!(status, 404);
    let (status, _) = problem(
        app.as_user(&id, Method::PATCH, "/me", Some(json!({"name": "Ghost"})))
            .await,
    )
    .await;
    assert_eq!(status, 404);
}

#[sqlx::test(migrator = "identity::MIGRATOR")]
async fn the_email_is_free_again_after_deletion(pool: PgPool) {
    let app = Identity::spawn(pool).await;
    let id = app.account("ada@example.org").await;
    app.as_user(&id, Method::DELETE, "/me", None).await;
    let again = app.account("ADA@example.org").await;
    assert_ne!(again, id, "a new account, not the old one back");
}
