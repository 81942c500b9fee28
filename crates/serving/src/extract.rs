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

/// What a control character in any text gets: stores cannot hold a NUL (PostgreSQL
/// refuses it with an error), and no field of the shop means to carry one.
const CONTROL_CHARACTER: &str = "must not contain control characters";

/// Refuses a text holding a control character (NUL, the other C0 and C1 controls, DEL),
/// naming `field`. The shared extractors call it on every string they pass on; a handler
/// calls it for text that comes another way (a path segment).
pub fn check_text(field: &str, text: &str) -> Result<(), Problem> {
    if text.chars().any(char::is_control) {
        return Err(Problem::invalid_field(field, CONTROL_CHARACTER));
    }
    Ok(())
}

/// Deserialises JSON, naming the field at fault in the problem. A string holding a
/// control character is refused first: valid JSON can carry one only escaped, so a body
/// without a backslash is not searched.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Problem> {
    if bytes.contains(&b'\\')
        && let Ok(value) = serde_json::from_slice::<serde_json::Value>(bytes)
        && let Some(field) = control_character_at(&value, "")
    {
        return Err(Problem::invalid_field(field, CONTROL_CHARACTER));
    }
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

/// The path (`address.city`, `items[0].product_id`) of the first string, key or value,
/// holding a control character.
fn control_character_at(value: &serde_json::Value, path: &str) -> Option<String> {
    use serde_json::Value;
    let here = |name: &str| {
        if path.is_empty() {
            name.to_owned()
        } else {
            format!("{path}.{name}")
        }
    };
    match value {
        Value::String(text) => text.chars().any(char::is_control).then(|| {
            if path.is_empty() {
                "body".into()
            } else {
                path.to_owned()
            }
        }),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, item)| control_character_at(item, &format!("{path}[{i}]"))),
        Value::Object(fields) => fields.iter().find_map(|(name, item)| {
            if name.chars().any(char::is_control) {
                Some(here(name))
            } else {
                control_character_at(item, &here(name))
            }
        }),
        _ => None,
    }
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
        for (name, value) in form_urlencoded::parse(query.as_bytes()) {
            check_text(&name, &name)?;
            check_text(&name, &value)?;
        }
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
    fn control_characters_in_any_string_are_refused_by_path() {
        let cases = [
            (r#"{"product_id": "a\u0000b", "quantity": 1}"#, "product_id"),
            (
                r#"{"product_id": "tab\there", "quantity": 1}"#,
                "product_id",
            ),
            (
                r#"{"product_id": "del\u007f", "quantity": 1}"#,
                "product_id",
            ),
            (r#"{"product_id": "c1\u0085", "quantity": 1}"#, "product_id"),
            (
                r#"{"lines": [{"product_id": "a", "quantity": 1}, {"product_id": "\u0000", "quantity": 1}]}"#,
                "lines[1].product_id",
            ),
        ];
        for (body, field) in cases {
            let problem = parse_json::<serde_json::Value>(body.as_bytes()).unwrap_err();
            assert_eq!(problem.status, 422, "{body}");
            assert_eq!(problem.field.as_deref(), Some(field), "{body}");
            assert_eq!(problem.detail.as_deref(), Some(CONTROL_CHARACTER));
        }
        // Escapes that are not control characters pass.
        let fine = parse_json::<Line>(br#"{"product_id": "caf\u00e9 \"x\" \\", "quantity": 1}"#);
        assert_eq!(fine.unwrap().product_id, "caf\u{e9} \"x\" \\");
    }

    #[test]
    fn text_checks_name_their_field() {
        assert!(check_text("q", "ceramic bowl").is_ok());
        let problem = check_text("q", "a\0").unwrap_err();
        assert_eq!((problem.status, problem.field.as_deref()), (422, Some("q")));
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
