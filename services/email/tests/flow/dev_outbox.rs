//! Without SMTP: the mail is rendered, kept at `GET /emails`, and reported sent.

use std::time::Duration;

use serde_json::{Value, json};
use sqlx::PgPool;
use test_support::wait_until;

use crate::helpers::{EmailService, PATIENCE, order, subject_of};

async fn outbox(app: &EmailService) -> Vec<Value> {
    let response = app.server.get("/emails").await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    body["items"].as_array().unwrap().clone()
}

#[sqlx::test(migrator = "email::MIGRATOR")]
async fn an_order_confirmation_is_rendered_into_the_dev_outbox_and_reported_sent(pool: PgPool) {
    let app = EmailService::start(pool, None).await;
    let order = order();
    app.place(&order).await;

    let event = app.next_event().await;
    assert_eq!(event.kind, "email.sent");
    assert_eq!(event.routing_key, "email.sent");
    assert_eq!(event.message_id, format!("{}:email.sent", order.order_id));
    assert_eq!(event.body, json!({"order_id": order.order_id}));

    let mails = outbox(&app).await;
    assert_eq!(mails.len(), 1);
    let mail = &mails[0];
    assert_eq!(mail["order_id"], order.order_id.to_string());
    assert_eq!(mail["to"], "ada@example.org");
    assert_eq!(mail["subject"], subject_of(&order));
    assert!(mail["sent_at"].as_str().unwrap().ends_with('Z'));
    for part in ["text", "html"] {
        let body = mail[part].as_str().unwrap();
        let order_id = order.order_id.to_string();
        for expected in [
            order_id.as_str(),
            "Stoneware Mug Pair",
            "Soy Wax Candle",
            "$48.00",
            "$12.99",
            "$16.49",
            "$77.48",
            "send tracking details when it ships",
        ] {
            assert!(
                body.contains(expected),
                "{part} lacks {expected:?}:\n{body}"
            );
        }
    }
    assert!(
        mail["html"]
            .as_str()
            .unwrap()
            .starts_with("<!doctype html>")
    );
    assert_eq!(
        app.ledger().await,
        vec![("ada@example.org".to_owned(), subject_of(&order))]
    );
    app.stop(0).await;
}

#[sqlx::test(migrator = "email::MIGRATOR")]
async fn the_same_order_twice_sends_one_mail_and_reports_it_sent_twice(pool: PgPool) {
    let app = EmailService::start(pool, None).await;
    let order = order();
    app.place(&order).await;
    let first = app.next_event().await;
    app.place(&order).await;
    let second = app.next_event().await;

    assert_eq!(first.kind, "email.sent");
    assert_eq!(
        (&second.kind, &second.message_id, &second.body),
        (&first.kind, &first.message_id, &first.body)
    );
    assert_eq!(outbox(&app).await.len(), 1, "one mail");
    assert_eq!(app.ledger().await.len(), 1, "one ledger row");
    app.events.assert_quiet(Duration::from_millis(500)).await;
    app.stop(0).await;
}

#[sqlx::test(migrator = "email::MIGRATOR")]
async fn orders_that_can_never_be_mailed_are_dead_lettered(pool: PgPool) {
    let app = EmailService::start(pool, None).await;
    let mut no_address = order();
    no_address.email = "not an address".into();
    let poison: [(&str, Vec<u8>); 2] = [
        ("p-1", b"[]".to_vec()),
        ("p-2", serde_json::to_vec(&no_address).unwrap()),
    ];
    for (id, body) in &poison {
        app.publish_raw(id, body).await;
    }
    let dlq = messaging::dead_letter_queue(messaging::QueueSpec::EMAIL.name);
    wait_until("both are dead-lettered", PATIENCE, || async {
        app.vhost.queue_depth(&dlq) == Some(2)
    })
    .await;
    assert!(outbox(&app).await.is_empty());
    assert!(app.ledger().await.is_empty());
    app.events.assert_quiet(Duration::from_millis(300)).await;
    app.stop(2).await;
}
