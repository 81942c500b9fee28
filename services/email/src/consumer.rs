//! `order.placed` in, a confirmation mail and `email.sent` out. Sequence: if the ledger
//! has the order, re-publish `email.sent` and ack (the first publication may have been
//! lost); otherwise render, send, record in the ledger, publish with a confirm, ack.
//!
//! At least once, not exactly once: a crash (or a database failure) between the send and
//! the ledger insert leaves the message unacked, and its redelivery sends the mail again.
//! Recording before sending would turn that into "at most once": a lost confirmation,
//! which is worse for a customer than a second one.

use std::time::Duration;

use lettre::message::Mailbox;
use messaging::{Handler, Incoming, Outcome, Publisher};
use sqlx::PgPool;
use uuid::Uuid;
use wire::events::{EmailSent, OrderPlaced};

use crate::{
    mailer::{Mailer, SendError},
    render, store,
};

pub struct OrderPlacedHandler {
    pool: PgPool,
    mailer: Mailer,
    retry_pause: Duration,
}

/// An order this service can write to.
struct Confirmation {
    order: OrderPlaced,
    order_id: Uuid,
    to: Mailbox,
}

impl OrderPlacedHandler {
    pub fn new(pool: PgPool, mailer: Mailer, retry_pause: Duration) -> Self {
        Self {
            pool,
            mailer,
            retry_pause,
        }
    }

    /// A dependency failed in a way that may pass: the message is handed back after a
    /// pause, while the consumer goes on.
    fn retry_later(&self, message: &Incoming) -> Outcome {
        Outcome::retry_later(self.retry_pause, message)
    }

    fn database_failed(&self, message: &Incoming, err: &sqlx::Error) -> Outcome {
        serving::postgres::log_retried(err, "writing the email ledger");
        self.retry_later(message)
    }
}

impl Handler for OrderPlacedHandler {
    async fn handle(&self, message: Incoming, publisher: &Publisher) -> Outcome {
        let Confirmation {
            order,
            order_id,
            to,
        } = match confirmation(&message) {
            Ok(confirmation) => confirmation,
            Err(why) => {
                tracing::warn!(error = why, "unusable order.placed; dead-lettering it");
                return Outcome::DeadLetter;
            }
        };
        match store::is_sent(&self.pool, order_id).await {
            Ok(true) => {
                tracing::info!(order.id = %order_id, "confirmation sent before; re-publishing email.sent");
                return publish_sent(publisher, order_id).await;
            }
            Ok(false) => {}
            Err(err) => return self.database_failed(&message, &err),
        }
        let mail = match render::confirmation(&order) {
            Ok(mail) => mail,
            Err(err) => {
                tracing::error!(error = %err, order.id = %order_id, "the confirmation cannot be rendered; dead-lettering it");
                return Outcome::DeadLetter;
            }
        };
        match self.mailer.send(order_id, &to, &mail).await {
            Ok(()) => {}
            Err(SendError::Permanent(why)) => {
                tracing::warn!(error = why, order.id = %order_id, "the relay refused the confirmation; dead-lettering it");
                return Outcome::DeadLetter;
            }
            Err(SendError::Transient(why)) => {
                tracing::warn!(error = why, order.id = %order_id, "the confirmation could not be sent; the order will be retried");
                return self.retry_later(&message);
            }
        }
        let recipient = to.email.to_string();
        if let Err(err) = store::record_sent(&self.pool, order_id, &recipient, &mail.subject).await
        {
            // The mail is out; its redelivery will send it again (at least once).
            return self.database_failed(&message, &err);
        }
        tracing::info!(order.id = %order_id, "confirmation sent");
        publish_sent(publisher, order_id).await
    }
}

/// The order and its recipient, or why the message can never become a mail.
fn confirmation(message: &Incoming) -> Result<Confirmation, String> {
    let order: OrderPlaced = message.event().map_err(|err| err.to_string())?;
    let order_id = order.order_id;
    let address = order
        .email
        .trim()
        .parse()
        .map_err(|err| format!("email is not an address: {err}"))?;
    Ok(Confirmation {
        order,
        order_id,
        to: Mailbox::new(None, address),
    })
}

async fn publish_sent(publisher: &Publisher, order_id: Uuid) -> Outcome {
    match publisher.publish(&EmailSent { order_id }).await {
        Ok(()) => Outcome::Ack,
        Err(err) => {
            tracing::warn!(error = %err, order.id = %order_id, "publishing email.sent failed; the order will be retried");
            // At once: the link is what failed, and the consumer's reconnection paces it.
            Outcome::RetryAfter(Duration::ZERO)
        }
    }
}
