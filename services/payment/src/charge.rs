//! The mock processor's rules: what a card's last four digits decide (DESIGN.md's test
//! cards), and the transaction id, derived from the order id so a retry cannot mint a
//! second one.

use sha2::{Digest, Sha256};
use uuid::Uuid;

/// What the mock processor answers for a card: the outcome of a charge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Approved,
    Declined(DeclineReason),
}

impl Decision {
    /// The ledger's `outcome` column: `succeeded` or `failed`.
    pub fn outcome(self) -> &'static str {
        match self {
            Decision::Approved => "succeeded",
            Decision::Declined(_) => "failed",
        }
    }

    pub fn reason(self) -> Option<DeclineReason> {
        match self {
            Decision::Approved => None,
            Decision::Declined(reason) => Some(reason),
        }
    }

    /// Read back from the ledger's `outcome` and `reason`; `None` for a pair it cannot hold.
    pub fn from_ledger(outcome: &str, reason: Option<&str>) -> Option<Self> {
        match (outcome, reason) {
            ("succeeded", None) => Some(Decision::Approved),
            ("failed", Some(reason)) => DeclineReason::parse(reason).map(Decision::Declined),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeclineReason {
    /// `4000 0000 0000 0002`.
    CardDeclined,
    /// `4000 0000 0000 9995`.
    InsufficientFunds,
}

impl DeclineReason {
    /// The `reason` of `payment.failed` and of the ledger row.
    pub fn as_str(self) -> &'static str {
        match self {
            DeclineReason::CardDeclined => "card_declined",
            DeclineReason::InsufficientFunds => "insufficient_funds",
        }
    }

    pub fn parse(reason: &str) -> Option<Self> {
        [
            DeclineReason::CardDeclined,
            DeclineReason::InsufficientFunds,
        ]
        .into_iter()
        .find(|known| known.as_str() == reason)
    }
}

/// Decides by the last four digits, the only part of a card number payment ever sees.
pub fn decide(last4: &str) -> Decision {
    match last4 {
        "0002" => Decision::Declined(DeclineReason::CardDeclined),
        "9995" => Decision::Declined(DeclineReason::InsufficientFunds),
        _ => Decision::Approved,
    }
}

/// `txn_` and the first 24 hex digits of the SHA-256 of the order id's hyphenated
/// lower-case form: the same order always gets the same id.
pub fn transaction_id(order_id: Uuid) -> String {
    let digest = Sha256::digest(order_id.hyphenated().to_string().as_bytes());
    let hex: String = digest[..12].iter().map(|b| format!("{b:02x}")).collect();
    format!("txn_{hex}")
}

/// Four ASCII digits, as checkout keeps of a card.
pub fn is_last4(value: &str) -> bool {
    value.len() == 4 && value.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_test_cards_decide_as_the_design_says() {
        let cases = [
            ("4242", Decision::Approved, "4242 4242 4242 4242 approves"),
            (
                "0002",
                Decision::Declined(DeclineReason::CardDeclined),
                "4000 0000 0000 0002 declines",
            ),
            (
                "9995",
                Decision::Declined(DeclineReason::InsufficientFunds),
                "4000 0000 0000 9995 has no funds",
            ),
            ("1881", Decision::Approved, "any other card approves"),
        ];
        for (last4, expected, why) in cases {
            assert_eq!(decide(last4), expected, "{why}");
        }
    }

    #[test]
    fn every_decision_reads_back_from_the_ledger_as_it_was_written() {
        for decision in [
            Decision::Approved,
            Decision::Declined(DeclineReason::CardDeclined),
            Decision::Declined(DeclineReason::InsufficientFunds),
        ] {
            let reason = decision.reason().map(DeclineReason::as_str);
            assert_eq!(
                Decision::from_ledger(decision.outcome(), reason),
                Some(decision)
            );
        }
        for (outcome, reason) in [
            ("succeeded", Some("card_declined")),
            ("failed", None),
            ("failed", Some("stolen")),
            ("pending", None),
        ] {
            assert_eq!(
                Decision::from_ledger(outcome, reason),
                None,
                "{outcome} {reason:?}"
            );
        }
    }

    #[test]
    fn a_transaction_id_is_derived_from_the_order_id_alone() {
        let order = Uuid::parse_str("7d3c1c9e-5f0a-4f55-9a0e-2b1d6b0f9a11").unwrap();
        let id = transaction_id(order);
        assert_eq!(id, transaction_id(order), "deterministic");
        assert_eq!(id.len(), 4 + 24);
        assert!(id.starts_with("txn_"));
        assert!(
            id[4..]
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        );
        assert_ne!(
            id,
            transaction_id(Uuid::new_v4()),
            "another order, another id"
        );
    }

    #[test]
    fn last_four_means_four_digits() {
        assert!(is_last4("0002"));
        for bad in ["", "123", "12345", "12a4", "４２４２"] {
            assert!(!is_last4(bad), "{bad:?}");
        }
    }
}
