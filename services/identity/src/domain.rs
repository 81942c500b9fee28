//! The values an account is made of. Each can only be built valid (`#[serde(try_from)]`),
//! so a handler cannot forget a check and a bad field comes back named.

use std::fmt;

use serde::{Deserialize, Serialize};
use wire::text::bounded_text;

/// A password as the user typed it. Length is the only rule (NIST SP 800-63B, OWASP):
/// at least 12 characters, at most 128 so hashing stays bounded. No `Display`, no
/// `Serialize`, and a `Debug` that hides it, so it cannot end up in a log or a body.
#[derive(Clone, Deserialize)]
#[serde(try_from = "String")]
pub struct Password(String);

pub const MIN_PASSWORD_CHARS: usize = 12;
pub const MAX_PASSWORD_CHARS: usize = 128;

impl TryFrom<String> for Password {
    type Error = String;

    fn try_from(value: String) -> Result<Self, String> {
        // Not trimmed: spaces are legitimate password characters.
        let chars = value.chars().count();
        if chars < MIN_PASSWORD_CHARS {
            return Err(format!("must be at least {MIN_PASSWORD_CHARS} characters"));
        }
        if chars > MAX_PASSWORD_CHARS {
            return Err(format!("must be at most {MAX_PASSWORD_CHARS} characters"));
        }
        Ok(Password(value))
    }
}

impl Password {
    /// The secret itself, for hashing only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

/// The name an account shows: trimmed, 1 to 100 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String")]
pub struct DisplayName(String);

impl TryFrom<String> for DisplayName {
    type Error = String;

    fn try_from(value: String) -> Result<Self, String> {
        bounded_text(&value, 100).map(DisplayName)
    }
}

impl DisplayName {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_12_to_128_characters_counted_as_characters() {
        assert!(Password::try_from("x".repeat(11)).is_err());
        assert!(Password::try_from("x".repeat(12)).is_ok());
        assert!(Password::try_from("x".repeat(128)).is_ok());
        assert!(Password::try_from("x".repeat(129)).is_err());
        // 12 characters of 2 bytes each: counted as 12, not 24.
        assert!(Password::try_from("é".repeat(12)).is_ok());
        assert!(Password::try_from("é".repeat(11)).is_err());
    }

    #[test]
    fn passwords_keep_their_spaces() {
        let password = Password::try_from("  correct horse  ".to_owned()).unwrap();
        assert_eq!(password.expose(), "  correct horse  ");
    }

    #[test]
    fn a_password_never_shows_in_debug_output() {
        let password = Password::try_from("hunter2hunter2".to_owned()).unwrap();
        let printed = format!("{password:?}");
        assert!(!printed.contains("hunter2"), "{printed}");
    }

    #[test]
    fn display_names_are_trimmed_and_bounded() {
        assert_eq!(
            DisplayName::try_from("  Ada ".to_owned()).unwrap().as_str(),
            "Ada"
        );
        assert!(DisplayName::try_from("x".repeat(100)).is_ok());
        let cases = [
            (String::new(), "empty"),
            ("   ".to_owned(), "only spaces"),
            ("x".repeat(101), "over 100 characters"),
            ("Ada\nLovelace".to_owned(), "a control character"),
        ];
        for (input, why) in cases {
            assert!(
                DisplayName::try_from(input.clone()).is_err(),
                "{why}: {input:?}"
            );
        }
    }
}
