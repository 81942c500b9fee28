//! The frontend's router, driven with `oneshot`: sessions, CSRF, static files, and pages
//! made from a STAND-IN gateway's canned answers (the real KrakenD and services are
//! exercised by the end-to-end tests in e2e/).

mod support;

use axum::{
    body::Body,
    http::{Request, StatusCode, header},
};
use support::{
    Browser, dead_gateway_url, frontend, send,
    stand_in::{BAD_CARD, EXPIRED_TOKEN, ORDER_ID, SHIPPED_ORDER_ID, StandInGateway, TOKEN},
};

// ---- without a gateway -------------------------------------------------------------

#[tokio::test]
async fn a_first_visit_gets_an_http_only_lax_session_cookie() {
    let app = frontend(&dead_gateway_url().await).await;
    let page = send(&app, Request::get("/login").body(Body::empty()).unwrap()).await;
    assert_eq!(page.status, StatusCode::OK);
    let cookies = page.set_cookies();
    let session = cookies
        .iter()
        .find(|c| c.starts_with("microshop_session="))
        .expect("a session cookie");
    let id = &session["microshop_session=".len()..session.find(';').unwrap()];
    assert_eq!(
        uuid::Uuid::parse_str(id).unwrap().get_version_num(),
        4,
        "{session}"
    );
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(
            session.contains(attribute),
            "{attribute} missing: {session}"
        );
    }
    assert!(
        !session.contains("Secure"),
        "COOKIE_SECURE is off: {session}"
    );
    assert!(
        page.body
            .contains(r#"<input type="hidden" name="csrf_token""#),
        "forms carry the token"
    );
}

#[tokio::test]
async fn a_returning_visitor_keeps_the_session() {
    let browser = Browser::new(frontend(&dead_gateway_url().await).await);
    let page = browser.get("/login").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.set_cookies().is_empty(), "{:?}", page.set_cookies());
    assert_eq!(page.input_value("csrf_token"), Some(browser.csrf_token()));
}

#[tokio::test]
async fn the_stylesheet_and_pictures_are_served_with_their_types() {
    let app = frontend(&dead_gateway_url().await).await;
    let cases = [
        (
            "/static/style.css",
            StatusCode::OK,
            "text/css; charset=utf-8",
        ),
        ("/static/favicon.svg", StatusCode::OK, "image/svg+xml"),
        (
            "/static/products/cast-iron-skillet.svg",
            StatusCode::OK,
            "image/svg+xml",
        ),
        (
            "/static/products/no-such-product.svg",
            StatusCode::NOT_FOUND,
            "text/plain; charset=utf-8",
        ),
        (
            "/static/products/generate.py",
            StatusCode::NOT_FOUND,
            "text/plain; charset=utf-8",
        ),
    ];
    for (path, status, content_type) in cases {
        let page = send(&app, Request::get(path).body(Body::empty()).unwrap()).await;
        assert_eq!(page.status, status, "{path}");
        assert_eq!(page.content_type(), content_type, "{path}");
        if status == StatusCode::OK {
            let cache = page.headers[header::CACHE_CONTROL].to_str().unwrap();
            assert!(cache.contains("max-age=2592000"), "{path}: {cache}");
            assert!(
                page.set_cookies().is_empty(),
                "{path}: static files set no cookie"
            );
        }
    }
    let picture = send(
        &app,
        Request::get("/static/products/cast-iron-skillet.svg")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert!(picture.body.starts_with("<svg") && picture.body.contains("Cast Iron Skillet"));
}

#[tokio::test]
async fn posts_without_a_valid_csrf_token_are_refused() {
    let browser = Browser::new(frontend(&dead_gateway_url().await).await);
    let other_session = Browser::new(browser.app.clone()).csrf_token();
    let valid = browser.csrf_token();
    let last = if valid.ends_with('0') { '1' } else { '0' };
    let tampered = format!("{}{last}", &valid[..valid.len() - 1]);
    let cases = [
        (String::new(), "no token at all"),
        ("csrf_token=".to_owned(), "an empty token"),
        (format!("csrf_token={tampered}"), "a tampered token"),
        (
            format!("csrf_token={other_session}"),
            "another session's token",
        ),
    ];
    for (body, why) in cases {
        let page = browser.post_raw("/cart/empty", &body).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{why}");
        assert!(
            page.body.contains("That form has expired"),
            "{why}: a friendly page"
        );
    }
    // Without a session cookie no token can match.
    let request = Request::post("/cart/empty")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(format!("csrf_token={valid}")))
        .unwrap();
    assert_eq!(
        send(&browser.app, request).await.status,
        StatusCode::FORBIDDEN,
        "no session"
    );
    // The valid token passes; the dead gateway then makes it a 503.
    let page = browser.post("/cart/empty", &[]).await;
    assert_eq!(page.status, StatusCode::SERVICE_UNAVAILABLE);
}

#[tokio::test]
async fn a_gateway_that_does_not_answer_gets_a_friendly_503() {
    let browser = Browser::new(frontend(&dead_gateway_url().await).await);
    for path in ["/", "/products/cast-iron-skillet", "/cart", "/checkout"] {
        let page = browser.get(path).await;
        assert_eq!(page.status, StatusCode::SERVICE_UNAVAILABLE, "{path}");
        assert!(page.content_type().starts_with("text/html"), "{path}");
        assert!(
            page.body.contains("The shop is taking a short break"),
            "{path}"
        );
        assert!(
            !page.body.contains("error sending request"),
            "{path}: no internals"
        );
        assert_eq!(page.headers[header::RETRY_AFTER], "2", "{path}");
    }
}

#[tokio::test]
async fn unknown_pages_are_a_friendly_404() {
    let browser = Browser::new(frontend(&dead_gateway_url().await).await);
    let page = browser.get("/no/such/page").await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert!(page.body.contains("Page not found"));
    let page = browser.get("/orders/not-a-uuid").await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
}

// ---- with the stand-in gateway -----------------------------------------------------

#[tokio::test]
async fn home_lists_products_with_prices_and_the_cart_count() {
    let gateway = StandInGateway::start().await;
    let browser = Browser::new(frontend(&gateway.url()).await);
    let page = browser.get("/?q=%20pan%20&page=abc").await;
    assert_eq!(page.status, StatusCode::OK);
    for text in [
        "Cast Iron Skillet",
        "$39.00",
        "Brass Desk Lamp",
        "$129.00",
        r#"alt="Cast Iron Skillet""#,
        r#"href="/?category=kitchen""#,
        r#"<span class="cart-count" data-cart-count="3">3</span>"#,
        "Page 1 of 2",
        r#"href="/?q=pan&amp;page=2""#,
        "Results for “pan”",
    ] {
        assert!(page.body.contains(text), "missing {text:?}");
    }
    let list = &gateway.seen_at("GET", "/api/v1/products")[0];
    assert_eq!(list.header("x-session-id"), None, "the catalog is public");
    let cart = &gateway.seen_at("GET", "/api/v1/cart")[0];
    assert_eq!(
        cart.header("x-session-id"),
        Some(browser.session.to_string().as_str())
    );
}

#[tokio::test]
async fn a_product_page_offers_add_to_cart_and_an_unknown_one_says_why() {
    let gateway = StandInGateway::start().await;
    let browser = Browser::new(frontend(&gateway.url()).await);
    let page = browser.get("/products/cast-iron-skillet").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("<h1>Cast Iron Skillet</h1>") && page.body.contains("$39.00"));
    assert!(page.body.contains(r#"<label for="f-quantity">"#));

    let page = browser.get("/products/unicorn-saddle").await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert!(
        page.body
            .contains("no product with id &quot;unicorn-saddle&quot;"),
        "the problem's detail"
    );
}

#[tokio::test]
async fn adding_to_the_cart_goes_to_the_cart_under_the_session() {
    let gateway = StandInGateway::start().await;
    let browser = Browser::new(frontend(&gateway.url()).await);
    let page = browser
        .post(
            "/cart/add",
            &[("product_id", "cast-iron-skillet"), ("quantity", "2")],
        )
        .await;
    assert_eq!(
        (page.status, page.location()),
        (StatusCode::SEE_OTHER, "/cart")
    );
    let add = &gateway.seen_at("POST", "/api/v1/cart/items")[0];
    assert_eq!(
        add.body,
        serde_json::json!({"product_id": "cast-iron-skillet", "quantity": 2})
    );
    assert_eq!(
        add.header("x-session-id"),
        Some(browser.session.to_string().as_str())
    );
    assert_eq!(add.header("authorization"), None);
}

#[tokio::test]
async fn a_refused_add_shows_the_problem_beside_the_quantity() {
    let gateway = StandInGateway::start().await;
    let browser = Browser::new(frontend(&gateway.url()).await);
    let page = browser
        .post(
            "/cart/add",
            &[("product_id", "cast-iron-skillet"), ("quantity", "120")],
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page.body.contains(
            r#"<p class="field-error" id="f-quantity-error">a line holds at most 99</p>"#
        )
    );
    assert!(page.body.contains(r#"aria-invalid="true""#));
    assert_eq!(
        page.input_value("quantity").as_deref(),
        Some("120"),
        "the value is kept"
    );

    let page = browser
        .post(
            "/cart/add",
            &[("product_id", "cast-iron-skillet"), ("quantity", "lots")],
        )
        .await;
    assert_eq!(
        page.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "caught before the gateway"
    );
    assert!(page.body.contains("Enter a whole number"));
}

#[tokio::test]
async fn the_cart_shows_each_line_with_its_total() {
    let gateway = StandInGateway::start().await;
    let browser = Browser::new(frontend(&gateway.url()).await);
    let page = browser.get("/cart").await;
    assert_eq!(page.status, StatusCode::OK);
    for text in [
        "Cast Iron Skillet",
        "$39.00 each",
        "$78.00",
        "Brass Desk Lamp",
        "$129.00 each",
        r#"<dd class="subtotal">$207.00</dd>"#,
        r#"data-cart-count="3""#,
        r#"action="/cart/items/cast-iron-skillet/remove""#,
        r#"alt="Brass Desk Lamp""#,
    ] {
        assert!(page.body.contains(text), "missing {text:?}");
    }
    let page = browser
        .post("/cart/items/brass-desk-lamp", &[("quantity", "3")])
        .await;
    assert_eq!(
        (page.status, page.location()),
        (StatusCode::SEE_OTHER, "/cart")
    );
    let set = &gateway.seen_at("PUT", "/api/v1/cart/items/brass-desk-lamp")[0];
    assert_eq!(set.body, serde_json::json!({"quantity": 3}));
    let page = browser
        .post("/cart/items/brass-desk-lamp/remove", &[])
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(
        gateway
            .seen_at("DELETE", "/api/v1/cart/items/brass-desk-lamp")
            .len(),
        1
    );
}

const ADDRESS: [(&str, &str); 6] = [
    ("email", "ada@example.com"),
    ("address.name", "Ada Lovelace"),
    ("address.street", "12 St James's Square"),
    ("address.city", "London"),
    ("address.postal_code", "SW1Y 4JH"),
    ("address.country", "gb"),
];

#[tokio::test]
async fn checkout_places_one_order_under_the_forms_idempotency_key() {
    let gateway = StandInGateway::start().await;
    let browser = Browser::new(frontend(&gateway.url()).await);
    let form = browser.get("/checkout").await;
    assert_eq!(form.status, StatusCode::OK);
    let key = form
        .input_value("idempotency_key")
        .expect("a key in the form");
    assert!(uuid::Uuid::parse_str(&key).is_ok());

    let mut fields = ADDRESS.to_vec();
    fields.extend([
        ("card.number", "4242 4242 4242 4242"),
        ("card.cvv", "123"),
        ("card.exp_month", "12"),
        ("card.exp_year", "2030"),
        ("idempotency_key", &key),
    ]);
    for _ in 0..2 {
        let page = browser.post("/checkout", &fields).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER);
        assert_eq!(page.location(), format!("/orders/{ORDER_ID}"));
    }
    let placed = gateway.seen_at("POST", "/api/v1/checkout");
    assert_eq!(placed.len(), 2);
    for attempt in &placed {
        assert_eq!(
            attempt.header("idempotency-key"),
            Some(key.as_str()),
            "the double submit shares the key"
        );
        assert_eq!(
            attempt.header("x-session-id"),
            Some(browser.session.to_string().as_str())
        );
    }
    assert_eq!(
        placed[0].body,
        serde_json::json!({
            "email": "ada@example.com",
            "address": {"name": "Ada Lovelace", "street": "12 St James's Square", "city": "London",
                        "postal_code": "SW1Y 4JH", "country": "GB"},
            "card": {"number": "4242424242424242", "cvv": "123", "exp_month": 12, "exp_year": 2030}
        })
    );
}

#[tokio::test]
async fn a_refused_checkout_keeps_the_values_but_never_the_card() {
    let gateway = StandInGateway::start().await;
    let browser = Browser::new(frontend(&gateway.url()).await);
    let mut fields = ADDRESS.to_vec();
    fields.extend([
        ("card.number", BAD_CARD),
        ("card.cvv", "123"),
        ("card.exp_month", "12"),
        ("card.exp_year", "2030"),
        ("idempotency_key", "4b7f7d2e-0a4c-4d8e-9f1a-3c2b1a0f9e8d"),
    ]);
    let page = browser.post("/checkout", &fields).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.body.contains("the card number fails the Luhn check"));
    assert_eq!(
        page.input_value("email").as_deref(),
        Some("ada@example.com")
    );
    assert_eq!(
        page.input_value("address.street").as_deref(),
        Some("12 St James&#x27;s Square")
    );
    assert_eq!(
        page.input_value("card.number"),
        None,
        "the card number is not echoed"
    );
    assert_eq!(page.input_value("card.cvv"), None, "nor the CVV");
    assert!(!page.body.contains(BAD_CARD));
    let number = page.body.split(r#"id="f-card-number""#).nth(1).unwrap();
    assert!(number[..number.find('>').unwrap()].contains(r#"aria-invalid="true""#));
    let fresh = page.input_value("idempotency_key").unwrap();
    assert_ne!(
        fresh, "4b7f7d2e-0a4c-4d8e-9f1a-3c2b1a0f9e8d",
        "a refused attempt made no order"
    );
}

#[tokio::test]
async fn a_shipping_quote_is_shown_with_the_form_kept() {
    let gateway = StandInGateway::start().await;
    let browser = Browser::new(frontend(&gateway.url()).await);
    let mut fields = ADDRESS.to_vec();
    fields.push(("idempotency_key", "4b7f7d2e-0a4c-4d8e-9f1a-3c2b1a0f9e8d"));
    let page = browser.post("/checkout/quote", &fields).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains(r#"<dd class="shipping">$5.99</dd>"#));
    assert!(page.body.contains("$212.99"), "subtotal $207.00 + shipping");
    assert_eq!(page.input_value("address.city").as_deref(), Some("London"));
    assert_eq!(
        page.input_value("idempotency_key").as_deref(),
        Some("4b7f7d2e-0a4c-4d8e-9f1a-3c2b1a0f9e8d"),
        "a quote keeps the attempt"
    );
    let quote = &gateway.seen_at("POST", "/api/v1/shipping/quote")[0];
    assert_eq!(quote.body["address"]["country"], "GB");
    assert_eq!(
        quote.body["items"][0],
        serde_json::json!({"product_id": "cast-iron-skillet", "quantity": 2})
    );
}

#[tokio::test]
async fn an_order_in_a_status_the_shop_does_not_know_is_refused_not_shown_as_another() {
    let gateway = StandInGateway::start().await;
    let browser = Browser::new(frontend(&gateway.url()).await);
    let page = browser.get(&format!("/orders/{SHIPPED_ORDER_ID}")).await;
    assert_eq!(page.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(page.body.contains("The shop is taking a short break"));
    assert!(!page.body.contains("Processing"), "no status is guessed");
    let status = browser
        .get(&format!("/orders/{SHIPPED_ORDER_ID}/status"))
        .await;
    assert_eq!(status.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(status.content_type(), "application/problem+json");
}

#[tokio::test]
async fn the_order_page_and_its_status_endpoint() {
    let gateway = StandInGateway::start().await;
    let browser = Browser::new(frontend(&gateway.url()).await);
    let page = browser.get(&format!("/orders/{ORDER_ID}")).await;
    assert_eq!(page.status, StatusCode::OK);
    for text in [
        "Order 6F1C2A9E",
        "Paid",
        "txn_0001",
        "TRK0001",
        "Visa ending in 4242",
        "$83.99",
        r#"aria-live="polite""#,
    ] {
        assert!(page.body.contains(text), "missing {text:?}");
    }
    let status = browser.get(&format!("/orders/{ORDER_ID}/status")).await;
    assert_eq!(status.content_type(), "application/json");
    let json: serde_json::Value = serde_json::from_str(&status.body).unwrap();
    assert_eq!(json["status"], "paid");
    assert_eq!(json["tracking_id"], "TRK0001");
    assert_eq!(json["settled"], true);

    let missing = browser
        .get("/orders/00000000-0000-4000-8000-000000000000/status")
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.content_type(), "application/problem+json");
}

#[tokio::test]
async fn a_signed_in_visitor_reads_orders_through_the_account_route() {
    let gateway = StandInGateway::start().await;
    let browser = Browser::signed_in(frontend(&gateway.url()).await, TOKEN);
    let page = browser.get(&format!("/orders/{ORDER_ID}")).await;
    assert_eq!(page.status, StatusCode::OK);
    let seen = gateway.seen_at("GET", &format!("/api/v1/me/orders/{ORDER_ID}"));
    assert_eq!(
        seen.len(),
        1,
        "the account's route, where checkout checks the owner"
    );
    assert_eq!(
        seen[0].header("authorization"),
        Some(format!("Bearer {TOKEN}").as_str())
    );
    assert!(
        gateway
            .seen_at("GET", &format!("/api/v1/orders/{ORDER_ID}"))
            .is_empty()
    );
}

#[tokio::test]
async fn signing_in_keeps_the_token_and_moves_the_guest_cart() {
    let gateway = StandInGateway::start().await;
    let browser = Browser::new(frontend(&gateway.url()).await);
    let page = browser
        .post(
            "/login",
            &[
                ("email", "ada@example.com"),
                ("password", "correct horse battery"),
                ("next", "/checkout"),
            ],
        )
        .await;
    assert_eq!(
        (page.status, page.location()),
        (StatusCode::SEE_OTHER, "/checkout")
    );
    let token = page
        .set_cookies()
        .into_iter()
        .find(|c| c.starts_with("microshop_token="))
        .expect("a token cookie");
    assert!(
        token.starts_with(&format!("microshop_token={TOKEN};")),
        "{token}"
    );
    for attribute in ["HttpOnly", "SameSite=Lax", "Max-Age=3600", "Path=/"] {
        assert!(token.contains(attribute), "{attribute}: {token}");
    }
    let merge = &gateway.seen_at("POST", "/api/v1/me/cart/merge")[0];
    assert_eq!(
        merge.header("x-session-id"),
        Some(browser.session.to_string().as_str())
    );
    assert_eq!(
        merge.header("authorization"),
        Some(format!("Bearer {TOKEN}").as_str())
    );
}

#[tokio::test]
async fn a_wrong_password_is_told_on_the_form() {
    let gateway = StandInGateway::start().await;
    let browser = Browser::new(frontend(&gateway.url()).await);
    let page = browser
        .post(
            "/login",
            &[("email", "ada@example.com"), ("password", "wrong")],
        )
        .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(page.body.contains("We could not sign you in"));
    assert!(page.body.contains("Check your e-mail address and password"));
    assert_eq!(
        page.input_value("email").as_deref(),
        Some("ada@example.com")
    );
    assert!(
        page.set_cookies()
            .iter()
            .all(|c| !c.starts_with("microshop_token"))
    );
}

#[tokio::test]
async fn signed_in_visitors_use_the_me_routes_with_their_token() {
    let gateway = StandInGateway::start().await;
    let browser = Browser::signed_in(frontend(&gateway.url()).await, TOKEN);
    let page = browser.get("/checkout").await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(
        page.input_value("email").as_deref(),
        Some("ada@example.com"),
        "prefilled from the account"
    );
    assert!(page.body.contains(r#"action="/logout""#));
    let cart = &gateway.seen_at("GET", "/api/v1/me/cart")[0];
    assert_eq!(
        cart.header("authorization"),
        Some(format!("Bearer {TOKEN}").as_str())
    );
    assert!(
        gateway.seen_at("GET", "/api/v1/cart").is_empty(),
        "not the guest cart"
    );

    let page = browser
        .post(
            "/cart/add",
            &[("product_id", "brass-desk-lamp"), ("quantity", "1")],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(gateway.seen_at("POST", "/api/v1/me/cart/items").len(), 1);

    let page = browser.post("/logout", &[]).await;
    assert_eq!((page.status, page.location()), (StatusCode::SEE_OTHER, "/"));
    assert!(
        page.set_cookies()
            .iter()
            .any(|c| c.starts_with("microshop_token=;") && c.contains("Max-Age=0"))
    );
}

#[tokio::test]
async fn an_expired_sign_in_clears_the_token_and_asks_to_sign_in_again() {
    let gateway = StandInGateway::start().await;
    let browser = Browser::signed_in(frontend(&gateway.url()).await, EXPIRED_TOKEN);
    let page = browser.get("/cart").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.location(), "/login?next=%2Fcart");
    assert!(
        page.set_cookies()
            .iter()
            .any(|c| c.starts_with("microshop_token=;") && c.contains("Max-Age=0")),
        "{:?}",
        page.set_cookies()
    );
}

#[tokio::test]
async fn guests_are_sent_to_sign_in_for_account_pages() {
    let gateway = StandInGateway::start().await;
    let browser = Browser::new(frontend(&gateway.url()).await);
    for (path, next) in [
        ("/account", "%2Faccount"),
        ("/account/orders", "%2Faccount%2Forders"),
    ] {
        let page = browser.get(path).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{path}");
        assert_eq!(page.location(), format!("/login?next={next}"));
    }
}
