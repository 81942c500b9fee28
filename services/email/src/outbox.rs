//! The development outbox: without an SMTP relay, the last mails are kept in memory and
//! shown at `GET /emails`, newest first, so a developer can read what a customer would.

use std::{
    collections::VecDeque,
    sync::{Arc, Mutex},
};

use axum::{Json, Router, extract::State, routing::get};
use lettre::message::Mailbox;
use serde::Serialize;
use serde_json::{Value, json};
use time::{OffsetDateTime, format_description::well_known::Rfc3339};
use uuid::Uuid;

use crate::render::Rendered;

/// How many mails are kept.
const KEPT: usize = 50;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SentEmail {
    pub order_id: String,
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    pub sent_at: String,
}

impl SentEmail {
    pub fn new(order_id: Uuid, to: &Mailbox, mail: &Rendered) -> Self {
        Self {
            order_id: order_id.to_string(),
            to: to.to_string(),
            subject: mail.subject.clone(),
            text: mail.text.clone(),
            html: mail.html.clone(),
            sent_at: OffsetDateTime::now_utc()
                .format(&Rfc3339)
                .unwrap_or_default(),
        }
    }
}

#[derive(Clone, Default)]
pub struct DevOutbox(Arc<Mutex<VecDeque<SentEmail>>>);

impl DevOutbox {
    pub fn keep(&self, mail: SentEmail) {
        let mut kept = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        kept.push_front(mail);
        kept.truncate(KEPT);
    }

    pub fn newest_first(&self) -> Vec<SentEmail> {
        let kept = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        kept.iter().cloned().collect()
    }
}

pub fn routes(outbox: DevOutbox) -> Router {
    Router::new()
        .route("/emails", get(list_emails))
        .with_state(outbox)
}

async fn list_emails(State(outbox): State<DevOutbox>) -> Json<Value> {
    Json(json!({"items": outbox.newest_first()}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_outbox_keeps_the_newest_fifty() {
        let outbox = DevOutbox::default();
        let to: Mailbox = "ada@example.org".parse().unwrap();
        for i in 0..60 {
            let mail = Rendered {
                subject: format!("mail {i}"),
                text: String::new(),
                html: String::new(),
            };
            outbox.keep(SentEmail::new(Uuid::new_v4(), &to, &mail));
        }
        let kept = outbox.newest_first();
        assert_eq!(kept.len(), KEPT);
        assert_eq!(kept[0].subject, "mail 59");
        assert_eq!(kept[KEPT - 1].subject, "mail 10");
    }
}
