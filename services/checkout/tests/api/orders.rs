//! Taking an order and reading it back.

use messaging::{QueueSpec, lapin::types::AMQPValue};
use opentelemetry::{global, trace::TracerProvider as _};
use opentelemetry_sdk::{propagation::TraceContextPropagator, trace::SdkTracerProvider};
use reqwest::Method;
use serde_json::{Value, json};
use sqlx::PgPool;
use test_support::problem;
use tracing_subscriber::layer::SubscriberExt;
use uuid::Uuid;
use wire::events::OrderPlaced;

use crate::harness::{
    SHIPPING_BASE, SHIPPING_PER_ITEM, Shop, Shopper, checkout_body, created, exp_year,
};

const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";

fn usd(amount_minor: i64) -> Value {
    json!({"currency": "USD", "amount_minor": amount_minor})
}

#[sqlx::test(migrator = "checkout::MIGRATOR")]
async fn an_order_is_priced_by_the_server_and_published_through_the_outbox(pool: PgPool) {
    // Spans with real ids, on this test's thread (sqlx tests run a current-thread runtime).
    global::set_text_map_propagator(TraceContextPropagator::new());
    let provider = SdkTracerProvider::builder().build();
    let subscriber = tracing_subscriber::registry()
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test")));
    let _tracing = tracing::subscriber::set_default(subscriber);

    let shop = Shop::open(pool).await;
    let shopper = Shopper::anonymous();
    shop.add_to_cart(shopper, "cast-iron-skillet", 2).await;
    shop.add_to_cart(shopper, "enamel-tea-kettle", 1).await;

    let mut body = checkout_body();
    // A client's idea of the price is not even read: unknown fields are refused.
    body["items"] = json!([{"product_id": "cast-iron-skillet", "unit_price": 1}]);
    let refused = shop.post_order(shopper, &body, None).send().await.unwrap();
    assert_eq!(problem(refused).await.0, 422);

    let response = shop
        .post_order(shopper, &checkout_body(), None)
        .header("traceparent", format!("00-{TRACE_ID}-00f067aa0ba902b7-01"))
        .send()
        .await
        .unwrap();
    let order = created(response).await;
    let id = order["id"].as_str().unwrap().to_owned();
    let shipping = SHIPPING_BASE + 3 * SHIPPING_PER_ITEM;
    assert_eq!(
        order,
        json!({
            "id": id,
            "status": "placed",
            "items": [
                {"product_id": "cast-iron-skillet", "name": "Cast Iron Skillet", "quantity": 2, "unit_price": usd(3900)},
                {"product_id": "enamel-tea-kettle", "name": "Enamel Tea Kettle", "quantity": 1, "unit_price": usd(5400)},
            ],
            "shipping_cost": usd(shipping),
            "total": usd(2 * 3900 + 5400 + shipping),
            "card": {"brand": "visa", "last4": "4242"},
            "transaction_id": null,
            "payment_failure_reason": null,
            "tracking_id": null,
            "shipment_cancelled": false,
            "email_sent": false,
            "created_at": order["created_at"],
            "updated_at": order["created_at"],
        })
    );
    assert!(
        shop.cart_items(shopper).await.is_empty(),
        "the cart is emptied"
    );
    let outbox = shop.outbox().await;
    assert_eq!(outbox.len(), 1, "one outbox row");
    assert_eq!(outbox[0].0.to_string(), id);

    let message = shop.next_message(QueueSpec::PAYMENT.name).await;
    let properties = &message.delivery.properties;
    assert_eq!(properties.message_id().as_ref().unwrap().as_str(), id);
    assert_eq!(properties.kind().as_ref().unwrap().as_str(), "order.placed");
    let placed: OrderPlaced = serde_json::from_slice(&message.delivery.data).unwrap();
    assert_eq!(placed.order_id.to_string(), id);
    assert_eq!(placed.user_id, None, "an anonymous order");
    assert_eq!(placed.email, "ada@example.org");
    assert_eq!(placed.address.country, "GB");
    assert_eq!(placed.items.len(), 2);
    assert_eq!(placed.total.amount_minor, 2 * 3900 + 5400 + shipping);
    assert_eq!(
        (
            placed.card.last4.as_str(),
            placed.card.exp_month,
            placed.card.exp_year
        ),
        ("4242", 12, exp_year() as u16)
    );
    let wire: Value = serde_json::from_slice(&message.delivery.data).unwrap();
    assert_eq!(
        wire["placed_at"], order["created_at"],
        "one time, spelled alike"
    );
    assert_eq!(wire["order_id"], order["id"]);
    let headers = properties.headers().as_ref().expect("message headers");
    let Some(AMQPValue::LongString(traceparent)) = headers.inner().get("traceparent") else {
        panic!("no traceparent header: {headers:?}");
    };
    let traceparent = traceparent.to_string();
    assert_eq!(
        traceparent.split('-').nth(1),
        Some(TRACE_ID),
        "the message continues the request's trace: {traceparent}"
    );

    shop.assert_settled().await;
    assert_eq!(shop.order(&id).await, order, "GET answers what POST did");
    shop.stop().await;
}

#[sqlx::test(migrator = "checkout::MIGRATOR")]
async fn a_signed_in_user_lists_their_own_orders_newest_first_and_no_one_elses(pool: PgPool) {
    let shop = Shop::open(pool).await;
    let ada = Shopper::signed_in();
    let bob = Shopper::signed_in();
    let first = shop.placed_order(ada).await;
    let second = shop.placed_order(ada).await;
    let bobs = shop.placed_order(bob).await;
    let (Shopper::SignedIn(ada_id), Shopper::SignedIn(bob_id)) = (ada, bob) else {
        unreachable!()
    };

    let list = |caller: Option<Uuid>, user: Uuid| {
        let request = shop
            .checkout
            .request(Method::GET, &format!("/orders?user={user}"));
        match caller {
            Some(caller) => request.header("X-User-Id", caller.to_string()),
            None => request,
        }
        .send()
    };
    let mine: Value = list(Some(ada_id), ada_id)
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ids: Vec<&Value> = mine["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| &o["id"])
        .collect();
    assert_eq!(
        ids,
        [&second["id"], &first["id"]],
        "newest first, only Ada's"
    );

    for (caller, why) in [(Some(bob_id), "another user"), (None, "nobody signed in")] {
        let (status, body) = problem(list(caller, ada_id).await.unwrap()).await;
        assert_eq!(status, 403, "{why}: {body}");
        assert_eq!(body["field"], "user", "{why}");
    }

    let bobs_path = format!("/orders/{}", bobs["id"].as_str().unwrap());
    let as_ada = shop
        .checkout
        .request(Method::GET, &bobs_path)
        .header("X-User-Id", ada_id.to_string());
    let (status, body) = problem(as_ada.send().await.unwrap()).await;
    assert_eq!(
        (status, &body["field"]),
        (404, &json!("id")),
        "Ada cannot read Bob's order"
    );
    assert_eq!(
        shop.order(bobs["id"].as_str().unwrap()).await["id"],
        bobs["id"],
        "the id alone opens it"
    );

    for (path, why) in [
        ("/orders/not-a-uuid".to_owned(), "not a UUID"),
        (format!("/orders/{}", Uuid::new_v4()), "no such order"),
    ] {
        let (status, body) = problem(shop.checkout.get(&path).await).await;
        assert_eq!((status, &body["field"]), (404, &json!("id")), "{why}");
    }
    shop.stop().await;
}
