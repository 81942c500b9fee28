//! Whatever a caller sends, a bad request is a 4xx problem naming the field, never a 500.

use reqwest::Method;
use sqlx::PgPool;
use test_support::problem;

use crate::helpers::Identity;

/// Who a row's request is sent as.
#[derive(Clone, Copy)]
enum Caller {
    Anonymous,
    /// The registered account's id in `X-User-Id`.
    Account,
    Header(&'static str),
}

struct Case {
    why: &'static str,
    method: Method,
    path: &'static str,
    caller: Caller,
    content_type: Option<&'static str>,
    body: String,
    status: u16,
    field: Option<&'static str>,
}

fn case(
    why: &'static str,
    method: Method,
    path: &'static str,
    body: &str,
    status: u16,
    field: Option<&'static str>,
) -> Case {
    let caller = if path.starts_with("/me") {
        Caller::Account
    } else {
        Caller::Anonymous
    };
    Case {
        why,
        method,
        path,
        caller,
        content_type: Some("application/json"),
        body: body.to_owned(),
        status,
        field,
    }
}

fn cases() -> Vec<Case> {
    use Method as M;
    let register =
        |why, body: &str, status, field| case(why, M::POST, "/auth/register", body, status, field);
    let oversize = format!(
        r#"{{"email": "a@x.io", "password": "correct horse battery", "name": "{}"}}"#,
        "x".repeat(70 * 1024)
    );
    vec![
        register(
            "JSON cut off midway is malformed",
            r#"{"email": "a@x.io", "#,
            400,
            None,
        ),
        register(
            "an e-mail must be a string",
            r#"{"email": 5, "password": "correct horse battery", "name": "Ada"}"#,
            422,
            Some("email"),
        ),
        register(
            "a password must be a string",
            r#"{"email": "a@x.io", "password": 123456789012345, "name": "Ada"}"#,
            422,
            Some("password"),
        ),
        register(
            "a missing password is named",
            r#"{"email": "a@x.io", "name": "Ada"}"#,
            422,
            Some("password"),
        ),
        register(
            "11 characters is below the 12 minimum",
            r#"{"email": "a@x.io", "password": "short pass!", "name": "Ada"}"#,
            422,
            Some("password"),
        ),
        register(
            "an e-mail needs an @ and a domain",
            r#"{"email": "ada.example.org", "password": "correct horse battery", "name": "Ada"}"#,
            422,
            Some("email"),
        ),
        register(
            "a name of spaces is empty once trimmed",
            r#"{"email": "a@x.io", "password": "correct horse battery", "name": "   "}"#,
            422,
            Some("name"),
        ),
        register("a body must be an object", "[]", 422, Some("body")),
        register("a body past the 64 KiB limit", &oversize, 413, None),
        Case {
            content_type: None,
            ..register(
                "a body without Content-Type is not taken for JSON",
                "{}",
                415,
                None,
            )
        },
        case(
            "login checks the e-mail's shape too",
            M::POST,
            "/auth/login",
            r#"{"email": "nobody", "password": "correct horse battery"}"#,
            422,
            Some("email"),
        ),
        Case {
            caller: Caller::Anonymous,
            ..case(
                "GET /me without X-User-Id",
                M::GET,
                "/me",
                "",
                401,
                Some("X-User-Id"),
            )
        },
        Case {
            caller: Caller::Header("not-a-uuid"),
            ..case(
                "X-User-Id that is not a uuid",
                M::GET,
                "/me",
                "",
                401,
                Some("X-User-Id"),
            )
        },
        Case {
            caller: Caller::Header(""),
            ..case(
                "an empty X-User-Id (what the gateway sends for a missing claim)",
                M::GET,
                "/me",
                "",
                401,
                Some("X-User-Id"),
            )
        },
        Case {
            caller: Caller::Anonymous,
            ..case(
                "PATCH /me without X-User-Id",
                M::PATCH,
                "/me",
                r#"{"name": "Ada"}"#,
                401,
                Some("X-User-Id"),
            )
        },
        Case {
            caller: Caller::Anonymous,
            ..case(
                "DELETE /me without X-User-Id",
                M::DELETE,
                "/me",
                "",
                401,
                Some("X-User-Id"),
            )
        },
        case(
            "a country must be an ISO 3166 code",
            M::PATCH,
            "/me",
            &address_with(r#""country": "UK""#),
            422,
            Some("address.country"),
        ),
        case(
            "an address needs every field",
            M::PATCH,
            "/me",
            r#"{"address": {"name": "Ada", "street": "1 Way", "postal_code": "1", "country": "DE"}}"#,
            422,
            Some("address.city"),
        ),
        case(
            "an address field may not be empty",
            M::PATCH,
            "/me",
            &address_with(r#""street": "  ""#),
            422,
            Some("address.street"),
        ),
        case(
            "a new e-mail is checked like a first one",
            M::PATCH,
            "/me",
            r#"{"email": "ada@localhost"}"#,
            422,
            Some("email"),
        ),
        case(
            "a name over 100 characters",
            M::PATCH,
            "/me",
            &format!(r#"{{"name": "{}"}}"#, "x".repeat(101)),
            422,
            Some("name"),
        ),
        case(
            "a new password follows the same rules",
            M::PUT,
            "/me/password",
            r#"{"current_password": "correct horse battery", "new_password": "short"}"#,
            422,
            Some("new_password"),
        ),
        case(
            "the current password must be sent",
            M::PUT,
            "/me/password",
            r#"{"new_password": "correct horse battery"}"#,
            422,
            Some("current_password"),
        ),
    ]
}

/// A whole, valid address with one member replaced.
fn address_with(member: &str) -> String {
    let key = member.split(':').next().unwrap();
    let mut members: Vec<String> = [
        r#""name": "Ada""#,
        r#""street": "1 Way""#,
        r#""city": "Berlin""#,
        r#""postal_code": "10115""#,
        r#""country": "DE""#,
    ]
    .iter()
    .filter(|m| !m.starts_with(key))
    .map(|m| (*m).to_owned())
    .collect();
    members.push(member.to_owned());
    format!(r#"{{"address": {{{}}}}}"#, members.join(", "))
}

#[sqlx::test(migrator = "identity::MIGRATOR")]
async fn every_bad_request_is_a_4xx_problem_naming_the_field(pool: PgPool) {
    let app = Identity::spawn(pool).await;
    let account = app.account("ada@example.org").await;
    for case in cases() {
        let mut request = app.server.request(case.method.clone(), case.path);
        request = match case.caller {
            Caller::Anonymous => request,
            Caller::Account => request.header("X-User-Id", &account),
            Caller::Header(value) => request.header("X-User-Id", value),
        };
        if let Some(content_type) = case.content_type {
            request = request.header("content-type", content_type);
        }
        if !case.body.is_empty() {
            request = request.body(case.body.clone());
        }
        let (status, body) = problem(request.send().await.unwrap()).await;
        assert_eq!(status, case.status, "{}: {body}", case.why);
        assert_eq!(body["field"].as_str(), case.field, "{}: {body}", case.why);
    }
}

#[sqlx::test(migrator = "identity::MIGRATOR")]
async fn an_unknown_field_in_patch_me_is_refused_rather_than_ignored(pool: PgPool) {
    let app = Identity::spawn(pool).await;
    let account = app.account("ada@example.org").await;
    let typo = serde_json::json!({"adress": {"city": "Berlin"}});
    let (status, body) = problem(
        app.as_user(&account, Method::PATCH, "/me", Some(typo))
            .await,
    )
    .await;
    assert_eq!(status, 422);
    assert!(
        body["detail"].as_str().unwrap().contains("adress"),
        "{body}"
    );
}
