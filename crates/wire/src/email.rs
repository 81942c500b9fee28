//! An e-mail address that can only be built valid: trimmed, kept as typed, compared
//! lowercased. Deliberately loose: the only real check is a mail that arrives.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String")]
pub struct Email(String);

/// RFC 5321 caps a forward path at 256 octets including the angle brackets.
const MAX_EMAIL_CHARS: usize = 254;

impl TryFrom<String> for Email {
    type Error = String;

    fn try_from(value: String) -> Result<Self, String> {
        let email = value.trim();
        let shape = "must be an e-mail address like name@example.com";
        if email.is_empty() {
            return Err("must not be empty".into());
        }
        if email.chars().count() > MAX_EMAIL_CHARS {
            return Err(format!("must be at most {MAX_EMAIL_CHARS} characters"));
        }
        if email.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err("must not contain spaces".into());
        }
        let Some((local, domain)) = email.split_once('@') else {
            return Err(shape.into());
        };
        let domain_ok = domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..")
            && !domain.contains('@');
        if local.is_empty() || !domain_ok {
            return Err(shape.into());
        }
        Ok(Email(email.to_owned()))
    }
}

impl Email {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The form two addresses are compared in.
    pub fn canonical(&self) -> String {
        self.0.to_lowercase()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_trimmed_and_kept_as_typed() {
        let email = Email::try_from("  Ada.Lovelace@Example.org ".to_owned()).unwrap();
        assert_eq!(email.as_str(), "Ada.Lovelace@Example.org");
        assert_eq!(email.canonical(), "ada.lovelace@example.org");
    }

    #[test]
    fn malformed_emails_are_refused() {
        let long = format!("{}@example.com", "a".repeat(250));
        let cases = [
            ("", "empty"),
            ("   ", "only spaces"),
            ("ada.example.org", "no @"),
            ("ada@@example.org", "two @"),
            ("ada@exa@mple.org", "an @ in the domain"),
            ("@example.org", "no local part"),
            ("ada@localhost", "no dot in the domain"),
            ("ada@.example.org", "domain starts with a dot"),
            ("ada@example.org.", "domain ends with a dot"),
            ("ada@example..org", "empty domain label"),
            ("ada lovelace@example.org", "a space inside"),
            (long.as_str(), "longer than 254 characters"),
        ];
        for (input, why) in cases {
            assert!(
                Email::try_from(input.to_owned()).is_err(),
                "{why}: {input:?}"
            );
        }
    }

    #[test]
    fn errors_come_back_from_serde_as_messages() {
        let err = serde_json::from_str::<Email>(r#""nope""#).unwrap_err();
        assert!(err.to_string().contains("e-mail address"), "{err}");
    }
}
