//! Benchmark (not a test): sustained checkouts per second through to `paid` (shipped and
//! mailed too), beside RabbitMQ's own ceiling for persistent, confirmed publishes to a
//! quorum queue on the same machine in the same run. Run it in release:
//! `cargo run --release -p order-flow --bin flow-bench -- [orders] [concurrency]`.

use std::time::{Duration, Instant};

use futures::{StreamExt, stream};
use messaging::lapin::{
    BasicProperties,
    options::{BasicPublishOptions, ConfirmSelectOptions, QueueDeclareOptions},
    types::{AMQPValue, FieldTable},
};
use order_flow::{APPROVED, Shop};
use sqlx::{Connection, PgConnection, postgres::PgPoolOptions};

const DATABASE: &str = "microshop_flow_bench";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let orders: usize = args.next().map_or(Ok(300), |a| a.parse())?;
    let at_once: usize = args.next().map_or(Ok(16), |a| a.parse())?;
    let admin_url = std::env::var("DATABASE_URL")?;
    // Spans as every service makes them; exported only with OTEL_EXPORTER_OTLP_ENDPOINT
    // (e2e/bench/tracing.sh compares the two).
    let _telemetry = serving::telemetry::init("order-flow", serving::LogFormat::Json)?;

    let mut admin = PgConnection::connect(&admin_url).await?;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)"
    )))
    .execute(&mut admin)
    .await?;
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {DATABASE}")))
        .execute(&mut admin)
        .await?;
    let bench_url = format!(
        "{}/{DATABASE}",
        admin_url
            .rsplit_once('/')
            .map_or(admin_url.as_str(), |(server, _)| server)
    );
    let database = PgPoolOptions::new()
        .max_connections(16)
        .connect(&bench_url)
        .await?;

    let shop = Shop::open(database.clone()).await;
    let sessions: Vec<_> = stream::iter(0..orders)
        .map(|_| shop.fill_cart("soy-wax-candle", 1))
        .buffer_unordered(at_once)
        .collect()
        .await;

    let started = Instant::now();
    let answers: Vec<_> = stream::iter(sessions)
        .map(|session| shop.checkout(session, APPROVED, None))
        .buffer_unordered(at_once)
        .collect()
        .await;
    let accepted_in = started.elapsed();
    assert!(
        answers.iter().all(|(status, _)| *status == 201),
        "every checkout accepted"
    );
    loop {
        let done: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM orders WHERE status = 'paid' AND tracking_id IS NOT NULL AND email_sent",
        )
        .fetch_one(&database)
        .await?;
        if done as usize == orders {
            break;
        }
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(600),
            "orders did not settle"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let settled_in = started.elapsed();

    let (one_by_one, windowed) = broker_ceiling(&shop.vhost.url).await?;
    shop.close().await;
    database.close().await;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)"
    )))
    .execute(&mut admin)
    .await?;

    let per_sec = |n: usize, d: Duration| n as f64 / d.as_secs_f64();
    let paid_rate = per_sec(orders, settled_in);
    println!(
        "\nmicroshop order flow: {orders} orders, {at_once} at once, {} cores\n",
        std::thread::available_parallelism()?
    );
    println!("| measure | per second |");
    println!("|---|---:|");
    println!(
        "| checkouts accepted (201) | {:.0} |",
        per_sec(orders, accepted_in)
    );
    println!("| checkouts through to paid, shipped and mailed | {paid_rate:.0} |");
    println!(
        "| RabbitMQ ceiling: persistent confirmed publishes, one at a time | {one_by_one:.0} |"
    );
    println!("| RabbitMQ ceiling: persistent confirmed publishes, 64 in flight | {windowed:.0} |");
    // Each order is five confirmed publishes: order.placed and four outcome events.
    println!(
        "\npaid orders/s ÷ one-at-a-time publishes/s = {:.3}; × 5 publishes per order = {:.2}",
        paid_rate / one_by_one,
        paid_rate * 5.0 / one_by_one
    );
    Ok(())
}

/// Publishes/s of persistent messages to a quorum queue with confirms: awaiting each
/// confirm (as the outbox relay does), and with a window of 64 unconfirmed.
async fn broker_ceiling(url: &str) -> anyhow::Result<(f64, f64)> {
    const MESSAGES: usize = 3_000;
    let connection = messaging::Broker::new(url, "bench").connect().await?;
    let channel = connection.create_channel().await?;
    channel
        .confirm_select(ConfirmSelectOptions::default())
        .await?;
    let mut arguments = FieldTable::default();
    arguments.insert(
        "x-queue-type".into(),
        AMQPValue::LongString("quorum".into()),
    );
    channel
        .queue_declare(
            "bench.ceiling".into(),
            QueueDeclareOptions {
                durable: true,
                ..Default::default()
            },
            arguments,
        )
        .await?;
    let body = vec![b'x'; 600]; // about the size of an order.placed message
    let publish = || {
        channel.basic_publish(
            "".into(),
            "bench.ceiling".into(),
            BasicPublishOptions::default(),
            &body,
            BasicProperties::default().with_delivery_mode(2),
        )
    };

    let started = Instant::now();
    for _ in 0..MESSAGES {
        publish().await?.await?;
    }
    let one_by_one = MESSAGES as f64 / started.elapsed().as_secs_f64();

    let started = Instant::now();
    let mut in_flight = Vec::with_capacity(64);
    for _ in 0..MESSAGES {
        in_flight.push(publish().await?);
        if in_flight.len() == 64 {
            for confirm in in_flight.drain(..) {
                confirm.await?;
            }
        }
    }
    for confirm in in_flight {
        confirm.await?;
    }
    let windowed = MESSAGES as f64 / started.elapsed().as_secs_f64();
    Ok((one_by_one, windowed))
}
