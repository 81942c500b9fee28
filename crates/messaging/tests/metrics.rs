//! The consumer's and publisher's metrics, read from the process's registry as `/metrics`
//! serves it. Alone in its test binary, so the counts are this test's only.

use std::{sync::Arc, time::Duration};

use messaging::{
    Broker, Handler, Incoming, ORDERS_EXCHANGE, Outcome, Outgoing, Publisher, QueueSpec, consume,
    dead_letter_queue,
};
use serving::metrics::sample;
use test_support::{RabbitVhost, wait_until};
use tokio_util::sync::CancellationToken;

/// Takes its time, and dead-letters the message called `bad`.
struct Slow;

impl Handler for Slow {
    async fn handle(&self, message: Incoming, _: &Publisher) -> Outcome {
        tokio::time::sleep(Duration::from_millis(300)).await;
        if message.message_id == "bad" {
            Outcome::DeadLetter
        } else {
            Outcome::Ack
        }
    }
}

const QUEUE: &str = QueueSpec::PAYMENT.name;

fn processed(outcome: &str) -> Option<f64> {
    sample(
        "messaging_process_duration_seconds_count",
        &format!("messaging_destination_name=\"{QUEUE}\",outcome=\"{outcome}\""),
    )
}

fn ready() -> Option<f64> {
    sample(
        "messaging_queue_messages_ready",
        &format!("messaging_destination_name=\"{QUEUE}\""),
    )
}

#[tokio::test]
async fn consumers_report_what_they_handled_by_outcome_and_how_many_messages_wait() {
    let vhost = RabbitVhost::create();
    let connection = Broker::new(&vhost.url, "test").connect().await.unwrap();
    let publisher = Publisher::open(&connection).await.unwrap();
    for id in ["a", "b", "c", "d", "e", "bad"] {
        publisher
            .publish_raw(Outgoing {
                exchange: ORDERS_EXCHANGE,
                routing_key: "",
                message_id: id,
                kind: "order.placed",
                body: b"{}",
            })
            .await
            .unwrap();
    }
    assert_eq!(
        sample(
            "messaging_published_messages_total",
            &format!("messaging_destination_name=\"{ORDERS_EXCHANGE}\",result=\"confirmed\""),
        ),
        Some(6.0)
    );

    let shutdown = CancellationToken::new();
    let task = tokio::spawn(consume(
        Broker::new(&vhost.url, "payment"),
        QueueSpec::PAYMENT,
        1,
        Arc::new(Slow),
        shutdown.clone(),
    ));
    // The first look at the queue comes as the consumer starts, with most still waiting.
    wait_until("the lag is seen", Duration::from_secs(10), || async {
        ready().is_some_and(|waiting| waiting >= 3.0)
    })
    .await;
    wait_until(
        "every message is handled",
        Duration::from_secs(30),
        || async { processed("ack") == Some(5.0) && processed("dead_letter") == Some(1.0) },
    )
    .await;
    wait_until(
        "the lag is back to zero",
        Duration::from_secs(10),
        || async { ready() == Some(0.0) },
    )
    .await;
    wait_until(
        "the bad one is dead-lettered",
        Duration::from_secs(10),
        || async { vhost.queue_depth(&dead_letter_queue(QUEUE)) == Some(1) },
    )
    .await;
    assert_eq!(processed("retry"), None);
    shutdown.cancel();
    task.await.unwrap();
}
