//! Extractors that turn a bad request into a problem naming the field at fault,
//! instead of axum's plain-text rejections.

use axum::{
    body::Bytes,
    extract::{FromRequest, FromRequestParts, Request},
    http::{StatusCode, header, request::Parts},
};
use serde::de::DeserializeOwned;

use crate::Problem;

/// A JSON body deserialised into `T`; domain types inside `T` validate themselves
/// (`#[serde(try_from = ..)]`), so a bad value comes back with its path.
#[derive(Debug, Clone, Copy, Default)]
pub struct JsonBody<T>(pub T);

impl<S, T> FromRequest<S> for JsonBody<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = Problem;

    async fn from_request(req: Request, state: &S) -> Result<Self, Problem> {
        if !is_json(req.headers().get(header::CONTENT_TYPE)) {
            return Err(Problem::unsupported_media_type());
        }
        let limit = req.extensions().get::<BodyLimit>().map(|l| l.0);
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                Problem::payload_too_large(limit.unwrap_or_default())
            } else {
                Problem::malformed_body(rejection.body_text())
            }
        })?;
        parse_json(&bytes).map(JsonBody)
    }
}

/// The body limit in force, put on each request by [`crate::http::skeleton`] so the
/// 413 problem can say what it is.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit(pub usize);

fn is_json(content_type: Option<&header::HeaderValue>) -> bool {
    let Some(value) = content_type.and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let essence = value
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// Deserialises JSON, naming the field at fault in the problem.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Problem> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(&mut deserializer).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        match inner.classify() {
            serde_json::error::Category::Data => data_problem(&path, &inner.to_string()),
            _ => Problem::malformed_body(inner.to_string()),
        }
    })
}

/// Turns a serde data error into a field problem. A missing field is reported at its
/// parent's path by serde, so the name is taken from the message.
fn data_problem(path: &str, message: &str) -> Problem {
    let message = strip_position(message);
    if let Some(name) = message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.split('`').next())
    {
        let field = if path == "." {
            name.to_owned()
        } else {
            format!("{path}.{name}")
        };
        return Problem::invalid_field(field, "is required");
    }
    let field = if path == "." {
        "body".to_owned()
    } else {
        path.to_owned()
    };
    Problem::invalid_field(field, message)
}

/// serde_json appends " at line 1 column 17"; the field path says it better.
fn strip_position(message: &str) -> &str {
    message
        .rsplit_once(" at line ")
        .map_or(message, |(head, _)| head)
}

/// Query parameters deserialised into `T`, with the parameter at fault named.
#[derive(Debug, Clone, Copy, Default)]
pub struct QueryParams<T>(pub T);

impl<S, T> FromRequestParts<S> for QueryParams<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Problem> {
        let query = parts.uri.query().unwrap_or_default();
        let deserializer =
            serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(deserializer)
            .map(QueryParams)
            .map_err(|err| {
                let path = err.path().to_string();
                data_problem(&path, &err.into_inner().to_string())
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Line {
        product_id: String,
        quantity: u8,
    }

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Order {
        lines: Vec<Line>,
    }

    #[test]
    fn each_bad_body_names_its_field() {
        let cases = [
            (r#"{"product_id": "a"}"#, "quantity", "a missing field"),
            (
                r#"{"product_id": "a", "quantity": "two"}"#,
                "quantity",
                "a wrong type",
            ),
            (
                r#"{"product_id": "a", "quantity": 300}"#,
                "quantity",
                "out of range for u8",
            ),
            (
                r#"{"product_id": 7, "quantity": 1}"#,
                "product_id",
                "a number for a string",
            ),
        ];
        for (body, field, why) in cases {
            let problem = parse_json::<Line>(body.as_bytes()).unwrap_err();
            assert_eq!(problem.status, 422, "{why}");
            assert_eq!(problem.field.as_deref(), Some(field), "{why}");
        }
    }

    #[test]
    fn nested_fields_are_named_by_path() {
        let problem = parse_json::<Order>(br#"{"lines": [{"product_id": "a", "quantity": -1}]}"#)
            .unwrap_err();
        assert_eq!(problem.field.as_deref(), Some("lines[0].quantity"));
        let problem = parse_json::<Order>(br#"{"lines": [{"quantity": 1}]}"#).unwrap_err();
        assert_eq!(problem.field.as_deref(), Some("lines[0].product_id"));
    }

    #[test]
    fn broken_json_is_a_400() {
        let problem = parse_json::<Line>(br#"{"product_id": "#).unwrap_err();
        assert_eq!(problem.status, 400);
        assert!(problem.kind.ends_with("malformed-body"));
    }

    #[test]
    fn json_content_types_are_recognised() {
        let value = |s: &'static str| header::HeaderValue::from_static(s);
        assert!(is_json(Some(&value("application/json"))));
        assert!(is_json(Some(&value("application/json; charset=utf-8"))));
        assert!(is_json(Some(&value("application/merge-patch+json"))));
        assert!(!is_json(Some(&value("text/plain"))));
        assert!(!is_json(None));
    }
}
