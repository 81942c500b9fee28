//! No full card number and no CVV is kept or sent anywhere: not in any table, not in
//! the published message, not in the logs.

use messaging::{QueueSpec, lapin::types::FieldTable};
use sqlx::PgPool;

use crate::{
    harness::{CARD, CVV, Shop, Shopper},
    logs::captured_logs,
};

/// What is never to be found: the number, and the CVV where it could sit (a JSON
/// string, or just after a "cvv" key or field); the bare three digits may occur in
/// any UUID or timestamp.
fn leaks(text: &str) -> Vec<&'static str> {
    let lower = text.to_lowercase();
    let mut found = Vec::new();
    if text.contains(CARD) {
        found.push("card number");
    }
    if text.contains(&format!("\"{CVV}\"")) {
        found.push("cvv as a JSON string");
    }
    let after_key = lower.match_indices("cvv").any(|(at, _)| {
        let window: String = lower[at..].chars().take(16).collect();
        window.contains(CVV)
    });
    if after_key {
        found.push("cvv value after its name");
    }
    found
}

/// Stored and published data has no field called cvv at all.
fn has_cvv_field(text: &str) -> bool {
    text.to_lowercase().contains("cvv")
}

#[sqlx::test(migrator = "checkout::MIGRATOR")]
async fn no_card_number_or_cvv_is_stored_published_or_logged(pool: PgPool) {
    let shop = Shop::open(pool.clone()).await;
    let order = shop.placed_order(Shopper::signed_in()).await;
    assert!(leaks(&order.to_string()).is_empty(), "{order}");

    let message = shop.next_message(QueueSpec::PAYMENT.name).await;
    let body = String::from_utf8_lossy(&message.delivery.data).into_owned();
    assert!(
        body.contains("4242"),
        "the message does carry the last four: {body}"
    );
    assert_eq!(leaks(&body), Vec::<&str>::new(), "message body: {body}");
    assert!(!has_cvv_field(&body), "message body: {body}");
    let headers = message
        .delivery
        .properties
        .headers()
        .clone()
        .unwrap_or_else(FieldTable::default);
    let headers = format!("{headers:?}");
    assert_eq!(
        leaks(&headers),
        Vec::<&str>::new(),
        "message headers: {headers}"
    );

    shop.assert_settled().await;
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public'",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert!(tables.len() >= 4, "{tables:?}");
    for table in tables {
        let sql = format!(r#"SELECT t::text FROM "{table}" t"#);
        let rows: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .fetch_all(&pool)
            .await
            .unwrap();
        for row in rows {
            assert_eq!(leaks(&row), Vec::<&str>::new(), "{table}: {row}");
            assert!(!has_cvv_field(&row), "{table}: {row}");
        }
    }
    // Every test's logs so far, all made with the same card: a wider net, not a narrower.
    let logs = captured_logs().text();
    assert!(
        logs.contains(order["id"].as_str().unwrap()),
        "logs were captured"
    );
    let leaking: Vec<&str> = logs
        .lines()
        .filter(|line| !leaks(line).is_empty())
        .collect();
    assert!(leaking.is_empty(), "logged: {leaking:#?}");
    shop.stop().await;
}
