//! The exchanges and queues of the order flow, declared the same way by everyone.
//! Declaring is idempotent, so each process declares all of it at every connect and the
//! flow works whichever starts first: an order published before a consumer ever ran
//! waits in that consumer's queue.

use lapin::{
    Channel, ExchangeKind,
    options::{ExchangeDeclareOptions, QueueBindOptions, QueueDeclareOptions},
    types::{AMQPValue, FieldTable},
};

/// The exchanges events are published to; each event names its own (`wire::events::Event`).
pub use wire::events::{ORDER_EVENTS_EXCHANGE, ORDERS_EXCHANGE};
/// Direct exchange of messages that could not be processed; routing key = source queue.
pub const DEAD_LETTER_EXCHANGE: &str = "orders.dlx";

/// A consumer's queue: durable, quorum, bound to an exchange, dead-lettering after
/// `delivery_limit` failed deliveries.
#[derive(Debug, Clone, Copy)]
pub struct QueueSpec {
    pub name: &'static str,
    pub exchange: &'static str,
    pub bindings: &'static [&'static str],
    pub delivery_limit: i64,
}

impl QueueSpec {
    pub const PAYMENT: QueueSpec = QueueSpec {
        name: "payment.order-placed",
        exchange: ORDERS_EXCHANGE,
        bindings: &[""],
        delivery_limit: 5,
    };
    pub const SHIPPING: QueueSpec = QueueSpec {
        name: "shipping.order-placed",
        exchange: ORDERS_EXCHANGE,
        bindings: &[""],
        delivery_limit: 5,
    };
    pub const EMAIL: QueueSpec = QueueSpec {
        name: "email.order-placed",
        exchange: ORDERS_EXCHANGE,
        bindings: &[""],
        delivery_limit: 5,
    };
    /// shipping also hears of failed payments, to cancel the shipment.
    pub const SHIPPING_PAYMENT_FAILED: QueueSpec = QueueSpec {
        name: "shipping.payment-failed",
        exchange: ORDER_EVENTS_EXCHANGE,
        bindings: &["payment.failed"],
        delivery_limit: 5,
    };
    pub const CHECKOUT_EVENTS: QueueSpec = QueueSpec {
        name: "checkout.order-events",
        exchange: ORDER_EVENTS_EXCHANGE,
        bindings: &["payment.*", "shipment.*", "email.*"],
        delivery_limit: 5,
    };
}

/// Every queue of the flow.
pub const QUEUES: [QueueSpec; 5] = [
    QueueSpec::PAYMENT,
    QueueSpec::SHIPPING,
    QueueSpec::EMAIL,
    QueueSpec::SHIPPING_PAYMENT_FAILED,
    QueueSpec::CHECKOUT_EVENTS,
];

/// Name of the queue that keeps what `queue` dead-lettered.
pub fn dead_letter_queue(queue: &str) -> String {
    format!("{queue}.dlq")
}

pub async fn declare_topology(channel: &Channel) -> Result<(), lapin::Error> {
    let durable = ExchangeDeclareOptions {
        durable: true,
        ..Default::default()
    };
    for (name, kind) in [
        (ORDERS_EXCHANGE, ExchangeKind::Fanout),
        (ORDER_EVENTS_EXCHANGE, ExchangeKind::Topic),
        (DEAD_LETTER_EXCHANGE, ExchangeKind::Direct),
    ] {
        channel
            .exchange_declare(name.into(), kind, durable, FieldTable::default())
            .await?;
    }
    for spec in QUEUES {
        declare_queue(channel, &spec).await?;
    }
    Ok(())
}

async fn declare_queue(channel: &Channel, spec: &QueueSpec) -> Result<(), lapin::Error> {
    let durable = QueueDeclareOptions {
        durable: true,
        ..Default::default()
    };
    let mut arguments = FieldTable::default();
    arguments.insert(
        "x-queue-type".into(),
        AMQPValue::LongString("quorum".into()),
    );
    // Quorum queues before RabbitMQ 4 have no default limit: a poison message would loop.
    arguments.insert(
        "x-delivery-limit".into(),
        AMQPValue::LongLongInt(spec.delivery_limit),
    );
    arguments.insert(
        "x-dead-letter-exchange".into(),
        AMQPValue::LongString(DEAD_LETTER_EXCHANGE.into()),
    );
    arguments.insert(
        "x-dead-letter-routing-key".into(),
        AMQPValue::LongString(spec.name.into()),
    );
    channel
        .queue_declare(spec.name.into(), durable, arguments)
        .await?;
    for binding in spec.bindings {
        channel
            .queue_bind(
                spec.name.into(),
                spec.exchange.into(),
                (*binding).into(),
                QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await?;
    }

    let dlq = dead_letter_queue(spec.name);
    let mut arguments = FieldTable::default();
    arguments.insert(
        "x-queue-type".into(),
        AMQPValue::LongString("quorum".into()),
    );
    channel
        .queue_declare(dlq.as_str().into(), durable, arguments)
        .await?;
    channel
        .queue_bind(
            dlq.as_str().into(),
            DEAD_LETTER_EXCHANGE.into(),
            spec.name.into(),
            QueueBindOptions::default(),
            FieldTable::default(),
        )
        .await
}
