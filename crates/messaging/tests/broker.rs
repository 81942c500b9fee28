//! The messaging crate against a real RabbitMQ, each test in a vhost of its own.

use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicU32, Ordering},
    },
    time::Duration,
};

use lapin::options::BasicGetOptions;
use messaging::{
    Broker, Handler, Incoming, ORDER_EVENTS_EXCHANGE, ORDERS_EXCHANGE, Outcome, Outgoing,
    PublishError, Publisher, QueueSpec, consume, dead_letter_queue,
};
use test_support::{RabbitVhost, wait_until};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;
use wire::events::{Event, PaymentSucceeded};

fn order(id: &str) -> Outgoing<'_> {
    Outgoing {
        exchange: ORDERS_EXCHANGE,
        routing_key: "",
        message_id: id,
        kind: "order.placed",
        body: br#"{"order_id":"x"}"#,
    }
}

async fn publisher(vhost: &RabbitVhost) -> (lapin::Connection, Publisher) {
    let connection = Broker::new(&vhost.url, "test").connect().await.unwrap();
    let publisher = Publisher::open(&connection).await.unwrap();
    (connection, publisher)
}

#[tokio::test]
async fn an_order_is_confirmed_and_lands_persistent_in_every_order_queue() {
    let vhost = RabbitVhost::create();
    let (connection, publisher) = publisher(&vhost).await;
    publisher.publish_raw(order("order-1")).await.unwrap();

    let channel = connection.create_channel().await.unwrap();
    for queue in [QueueSpec::PAYMENT, QueueSpec::SHIPPING, QueueSpec::EMAIL] {
        let message = channel
            .basic_get(queue.name.into(), BasicGetOptions { no_ack: true })
            .await
            .unwrap()
            .expect(queue.name);
        let properties = &message.delivery.properties;
        assert_eq!(
            properties.message_id().as_ref().unwrap().as_str(),
            "order-1"
        );
        assert_eq!(properties.kind().as_ref().unwrap().as_str(), "order.placed");
        assert_eq!(*properties.delivery_mode(), Some(2), "persistent");
    }
    assert_eq!(
        vhost.queue_depth(QueueSpec::CHECKOUT_EVENTS.name),
        Some(0),
        "orders do not reach the events queue"
    );
}

#[tokio::test]
async fn a_connection_asks_for_small_frames_unless_its_url_says_otherwise() {
    let vhost = RabbitVhost::create();
    let small = Broker::new(&vhost.url, "test").connect().await.unwrap();
    assert_eq!(small.configuration().frame_max(), messaging::FRAME_MAX);
    let url = format!("{}?frame_max=65536", vhost.url);
    let asked = Broker::new(&url, "test").connect().await.unwrap();
    assert_eq!(asked.configuration().frame_max(), 65536);

    // A body larger than a frame goes out in several and arrives whole.
    let (connection, publisher) = publisher(&vhost).await;
    let body = vec![b'x'; 3 * messaging::FRAME_MAX as usize];
    let big = Outgoing {
        body: &body,
        ..order("big")
    };
    publisher.publish_raw(big).await.unwrap();
    let channel = connection.create_channel().await.unwrap();
    let message = channel
        .basic_get(
            QueueSpec::PAYMENT.name.into(),
            BasicGetOptions { no_ack: true },
        )
        .await
        .unwrap()
        .expect("the big message");
    assert_eq!(message.delivery.data, body);
}

#[tokio::test]
async fn an_event_goes_out_with_the_name_routing_key_and_message_id_it_declares() {
    let vhost = RabbitVhost::create();
    let (connection, publisher) = publisher(&vhost).await;
    let order_id = Uuid::new_v4();
    let paid = PaymentSucceeded {
        order_id,
        transaction_id: "txn_1".into(),
    };
    publisher.publish(&paid).await.unwrap();

    let channel = connection.create_channel().await.unwrap();
    let queue = QueueSpec::CHECKOUT_EVENTS.name;
    let message = channel
        .basic_get(queue.into(), BasicGetOptions { no_ack: true })
        .await
        .unwrap()
        .expect("the event reached checkout's queue");
    let properties = &message.delivery.properties;
    let text = |value: &Option<lapin::types::ShortString>| value.as_ref().unwrap().to_string();
    assert_eq!(message.delivery.exchange.as_str(), ORDER_EVENTS_EXCHANGE);
    assert_eq!(message.delivery.routing_key.as_str(), "payment.succeeded");
    assert_eq!(text(properties.kind()), "payment.succeeded");
    assert_eq!(
        text(properties.message_id()),
        format!("{order_id}:payment.succeeded")
    );
    let incoming = Incoming {
        message_id: text(properties.message_id()),
        kind: text(properties.kind()),
        routing_key: message.delivery.routing_key.to_string(),
        redelivered: false,
        delivery_count: 0,
        body: message.delivery.data.clone(),
    };
    assert_eq!(incoming.event::<PaymentSucceeded>().unwrap(), paid);
    assert_eq!(paid.message_id(), incoming.message_id);
}

#[tokio::test]
async fn a_message_no_queue_takes_is_not_reported_sent() {
    let vhost = RabbitVhost::create();
    let (_connection, publisher) = publisher(&vhost).await;
    let stray = Outgoing {
        exchange: ORDER_EVENTS_EXCHANGE,
        routing_key: "nobody.listens",
        message_id: "m",
        kind: "x",
        body: b"{}",
    };
    assert!(matches!(
        publisher.publish_raw(stray).await,
        Err(PublishError::Unroutable(_))
    ));
}

/// Counts deliveries and answers the same outcome every time.
struct Always {
    outcome: Outcome,
    calls: AtomicU32,
}

impl Handler for Always {
    async fn handle(&self, _: Incoming, _: &Publisher) -> Outcome {
        self.calls.fetch_add(1, Ordering::SeqCst);
        self.outcome
    }
}

async fn run_until_dead_lettered(outcome: Outcome) -> u32 {
    let vhost = RabbitVhost::create();
    let (_connection, publisher) = publisher(&vhost).await;
    publisher.publish_raw(order("poison")).await.unwrap();
    let handler = Arc::new(Always {
        outcome,
        calls: AtomicU32::new(0),
    });
    let shutdown = CancellationToken::new();
    let broker = Broker::new(&vhost.url, "test-consumer");
    let task = tokio::spawn(consume(
        broker,
        QueueSpec::PAYMENT,
        10,
        handler.clone(),
        shutdown.clone(),
    ));
    let dlq = dead_letter_queue(QueueSpec::PAYMENT.name);
    wait_until(
        "the message is dead-lettered",
        Duration::from_secs(30),
        || async { vhost.queue_depth(&dlq) == Some(1) },
    )
    .await;
    assert_eq!(vhost.queue_depth(QueueSpec::PAYMENT.name), Some(0));
    shutdown.cancel();
    task.await.unwrap();
    handler.calls.load(Ordering::SeqCst)
}

#[tokio::test]
async fn a_message_that_keeps_failing_ends_in_the_dead_letter_queue_after_the_limit() {
    let calls = run_until_dead_lettered(Outcome::RetryAfter(Duration::from_millis(100))).await;
    let limit = QueueSpec::PAYMENT.delivery_limit as u32;
    assert!(
        (limit..=limit + 1).contains(&calls),
        "delivered {calls} times for a limit of {limit}"
    );
}

/// Pauses the message `slow` for a minute and acks every other.
struct PausesOne {
    slow: &'static str,
    slow_deliveries: AtomicU32,
    acked: Mutex<Vec<String>>,
}

impl Handler for PausesOne {
    async fn handle(&self, message: Incoming, _: &Publisher) -> Outcome {
        if message.message_id == self.slow {
            self.slow_deliveries.fetch_add(1, Ordering::SeqCst);
            return Outcome::RetryAfter(Duration::from_secs(60));
        }
        self.acked.lock().unwrap().push(message.message_id);
        Outcome::Ack
    }
}

#[tokio::test]
async fn a_paused_retry_holds_up_no_other_message_and_is_handed_back_on_shutdown() {
    let vhost = RabbitVhost::create();
    let (_connection, publisher) = publisher(&vhost).await;
    publisher.publish_raw(order("slow")).await.unwrap();
    for id in ["next-1", "next-2", "next-3"] {
        publisher.publish_raw(order(id)).await.unwrap();
    }
    let handler = Arc::new(PausesOne {
        slow: "slow",
        slow_deliveries: AtomicU32::new(0),
        acked: Mutex::default(),
    });
    let shutdown = CancellationToken::new();
    let task = tokio::spawn(consume(
        Broker::new(&vhost.url, "test-consumer"),
        QueueSpec::PAYMENT,
        10,
        handler.clone(),
        shutdown.clone(),
    ));
    wait_until(
        "the messages behind the paused one are acked",
        Duration::from_secs(10),
        || async { handler.acked.lock().unwrap().len() == 3 },
    )
    .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(
        handler.slow_deliveries.load(Ordering::SeqCst),
        1,
        "the paused message is held, not handed back at once"
    );
    let stopping = std::time::Instant::now();
    shutdown.cancel();
    task.await.unwrap();
    assert!(
        stopping.elapsed() < Duration::from_secs(10),
        "shutdown waited out the pause"
    );

    // The next consumer gets it: it was handed back, not lost.
    let recorder = Arc::new(Recorder::default());
    let shutdown = CancellationToken::new();
    let task = tokio::spawn(consume(
        Broker::new(&vhost.url, "test-consumer-2"),
        QueueSpec::PAYMENT,
        10,
        recorder.clone(),
        shutdown.clone(),
    ));
    wait_until(
        "the paused message is delivered again",
        Duration::from_secs(10),
        || async { recorder.seen.lock().unwrap().as_slice() == ["slow"] },
    )
    .await;
    shutdown.cancel();
    task.await.unwrap();
}

#[tokio::test]
async fn a_message_that_can_never_succeed_is_dead_lettered_at_once() {
    assert_eq!(run_until_dead_lettered(Outcome::DeadLetter).await, 1);
}

/// Remembers the ids it saw.
#[derive(Default)]
struct Recorder {
    seen: Mutex<Vec<String>>,
}

impl Handler for Recorder {
    async fn handle(&self, message: Incoming, _: &Publisher) -> Outcome {
        self.seen.lock().unwrap().push(message.message_id);
        Outcome::Ack
    }
}

#[tokio::test]
async fn a_consumer_comes_back_by_itself_after_the_broker_drops_its_connection() {
    let vhost = RabbitVhost::create();
    let handler = Arc::new(Recorder::default());
    let shutdown = CancellationToken::new();
    let broker = Broker::new(&vhost.url, "test-consumer");
    let task = tokio::spawn(consume(
        broker.clone(),
        QueueSpec::EMAIL,
        10,
        handler.clone(),
        shutdown.clone(),
    ));
    wait_until(
        "the consumer is connected",
        Duration::from_secs(10),
        || async { broker.is_connected() },
    )
    .await;

    let (_connection, publisher) = publisher(&vhost).await;
    publisher.publish_raw(order("before")).await.unwrap();
    wait_until(
        "the first message is handled",
        Duration::from_secs(10),
        || async { handler.seen.lock().unwrap().len() == 1 },
    )
    .await;

    let closed = std::process::Command::new("rabbitmqctl")
        .args(["-q", "close_all_connections", "-p", &vhost.name, "test"])
        .status()
        .unwrap();
    assert!(closed.success());

    let (_connection, publisher) = publisher_retrying(&vhost).await;
    publisher.publish_raw(order("after")).await.unwrap();
    wait_until(
        "the consumer reconnected and handled the second message",
        Duration::from_secs(30),
        || async { handler.seen.lock().unwrap().iter().any(|id| id == "after") },
    )
    .await;
    shutdown.cancel();
    task.await.unwrap();
}

async fn publisher_retrying(vhost: &RabbitVhost) -> (lapin::Connection, Publisher) {
    for _ in 0..50 {
        if let Ok(connection) = Broker::new(&vhost.url, "test").connect().await
            && let Ok(publisher) = Publisher::open(&connection).await
        {
            return (connection, publisher);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("could not reconnect a publisher");
}

/// Holds each of the first `together` deliveries until all of them have arrived, then
/// acks every delivery; counts the most it had in hand at once.
struct Gathers {
    together: u32,
    arrived: AtomicU32,
    in_hand: AtomicU32,
    most_in_hand: AtomicU32,
    all_here: tokio::sync::Notify,
    acked: AtomicU32,
}

impl Handler for Gathers {
    async fn handle(&self, _: Incoming, _: &Publisher) -> Outcome {
        let all_here = self.all_here.notified();
        let in_hand = self.in_hand.fetch_add(1, Ordering::SeqCst) + 1;
        self.most_in_hand.fetch_max(in_hand, Ordering::SeqCst);
        let arrived = self.arrived.fetch_add(1, Ordering::SeqCst) + 1;
        if arrived == self.together {
            self.all_here.notify_waiters();
        } else if arrived < self.together {
            all_here.await;
        }
        self.in_hand.fetch_sub(1, Ordering::SeqCst);
        self.acked.fetch_add(1, Ordering::SeqCst);
        Outcome::Ack
    }
}

#[tokio::test]
async fn deliveries_are_handled_at_once_up_to_the_prefetch_count() {
    const PREFETCH: u16 = 4;
    let vhost = RabbitVhost::create();
    let (_connection, publisher) = publisher(&vhost).await;
    for n in 0..2 * PREFETCH {
        publisher
            .publish_raw(order(&format!("order-{n}")))
            .await
            .unwrap();
    }
    let handler = Arc::new(Gathers {
        together: u32::from(PREFETCH),
        arrived: AtomicU32::new(0),
        in_hand: AtomicU32::new(0),
        most_in_hand: AtomicU32::new(0),
        all_here: tokio::sync::Notify::new(),
        acked: AtomicU32::new(0),
    });
    let shutdown = CancellationToken::new();
    let task = tokio::spawn(consume(
        Broker::new(&vhost.url, "test-consumer"),
        QueueSpec::PAYMENT,
        PREFETCH,
        handler.clone(),
        shutdown.clone(),
    ));
    // One at a time, the first delivery would wait for the others forever.
    wait_until(
        "the first four, held until all four are in hand, and the rest are acked",
        Duration::from_secs(10),
        || async { handler.acked.load(Ordering::SeqCst) == u32::from(2 * PREFETCH) },
    )
    .await;
    assert_eq!(
        handler.most_in_hand.load(Ordering::SeqCst),
        u32::from(PREFETCH),
        "never more in hand than the prefetch lets in"
    );
    wait_until("the queue is empty", Duration::from_secs(10), || async {
        vhost.queue_depth(QueueSpec::PAYMENT.name) == Some(0)
    })
    .await;
    shutdown.cancel();
    task.await.unwrap();
}
