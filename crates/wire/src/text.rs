//! Bounded, trimmed text: the rule every name and address field follows.

use serde::{Deserialize, Serialize};

/// Trimmed text of 1..=`MAX` characters without control characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String")]
pub struct Text<const MAX: usize>(String);

impl<const MAX: usize> TryFrom<String> for Text<MAX> {
    type Error = String;

    fn try_from(value: String) -> Result<Self, String> {
        bounded_text(&value, MAX).map(Text)
    }
}

impl<const MAX: usize> Text<MAX> {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Trims `value` and checks it is 1..=`max` characters without control characters
/// (which have no place in a name or an address and would garble logs and labels).
pub fn bounded_text(value: &str, max: usize) -> Result<String, String> {
    let text = value.trim();
    if text.is_empty() {
        return Err("must not be empty".into());
    }
    if text.chars().count() > max {
        return Err(format!("must be at most {max} characters"));
    }
    if text.chars().any(char::is_control) {
        return Err("must not contain control characters".into());
    }
    Ok(text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_trimmed_non_empty_and_bounded() {
        assert_eq!(
            Text::<5>::try_from(" abc ".to_owned()).unwrap().as_str(),
            "abc"
        );
        assert!(Text::<5>::try_from("   ".to_owned()).is_err());
        assert!(Text::<5>::try_from("abcdef".to_owned()).is_err());
        assert!(Text::<5>::try_from("a\u{7}b".to_owned()).is_err());
    }
}
