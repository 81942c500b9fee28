//! Every page template rendered from a fixture context: key content present, every
//! visible input labelled, every picture with alt text, user text escaped.

use minijinja::{Value, value::Serde};
use serde_json::{Value as Json, json};

use super::{TEMPLATES, render};

fn chrome() -> Json {
    json!({"signed_in": false, "cart_count": 3, "csrf_token": "tok123", "q": ""})
}

fn product(id: &str, name: &str, minor: i64) -> Json {
    json!({
        "id": id, "name": name, "description": format!("All about the {name}."),
        "picture": format!("/static/products/{id}.svg"),
        "price": {"currency": "USD", "amount_minor": minor}, "categories": ["kitchen"]
    })
}

fn usd(minor: i64) -> Json {
    json!({"currency": "USD", "amount_minor": minor})
}

fn field_problem(field: &str, detail: &str) -> Json {
    json!({"title": "A field is invalid", "status": 422, "detail": detail, "field": field})
}

fn order(status: &str) -> Json {
    json!({
        "id": "6f1c2a9e-8d4b-4c1e-9f3a-2b7d5e6c8a10", "short_id": "6F1C2A9E",
        "lines": [{"product_id": "cast-iron-skillet", "name": "Cast Iron Skillet", "quantity": 2,
                   "unit_price": usd(3900), "line_total": usd(7800),
                   "picture": "/static/products/cast-iron-skillet.svg"}],
        "subtotal": usd(7800), "shipping_cost": usd(599), "total": usd(8399),
        "card": {"brand": "visa", "last4": "4242"}, "placed_on": "2025-01-31",
        "status": status, "label": "Paid", "transaction_id": "txn_abc", "tracking_id": "TRK123",
        "failure_reason": null, "settled": status != "placed"
    })
}

fn render_fixture(name: &str, context: Json) -> String {
    render(name, Value::from(Serde(context)))
        .unwrap_or_else(|err| panic!("{name} does not render: {err:#}"))
}

/// Every visible input, by id, has a `<label for>`; every `<img>` has an `alt`.
fn assert_accessible(name: &str, html: &str) {
    assert!(html.contains(r#"<html lang="en">"#), "{name}: lang");
    assert!(html.contains(r##"href="#main""##), "{name}: skip link");
    for tag in html
        .split("<input")
        .skip(1)
        .map(|rest| &rest[..rest.find('>').unwrap()])
    {
        if tag.contains(r#"type="hidden""#) {
            continue;
        }
        let id = attribute(tag, "id").unwrap_or_else(|| panic!("{name}: input without id: {tag}"));
        assert!(
            html.contains(&format!(r#"<label for="{id}""#)),
            "{name}: no label for {id}"
        );
    }
    for tag in html
        .split("<img")
        .skip(1)
        .map(|rest| &rest[..rest.find('>').unwrap()])
    {
        assert!(
            attribute(tag, "alt").is_some(),
            "{name}: image without alt: {tag}"
        );
    }
    assert!(
        !html.contains("<script>alert"),
        "{name}: unescaped user text"
    );
}

fn attribute(tag: &str, name: &str) -> Option<String> {
    let start = tag.find(&format!(" {name}=\""))? + name.len() + 3;
    Some(tag[start..start + tag[start..].find('"')?].to_owned())
}

#[test]
fn every_template_has_a_fixture_test() {
    let tested = [
        "base.html",
        "macros.html",
        "home.html",
        "product.html",
        "cart.html",
        "checkout.html",
        "order.html",
        "login.html",
        "register.html",
        "account.html",
        "account_orders.html",
        "error.html",
        "not_found.html",
    ];
    for (name, _) in TEMPLATES {
        assert!(tested.contains(&name), "{name} has no fixture test");
    }
}

#[test]
fn home_shows_the_product_grid_categories_and_pages() {
    let html = render_fixture(
        "home.html",
        json!({
            "chrome": chrome(), "total": 14, "page": 1, "pages": 2, "q": null, "category": null,
            "prev_url": null, "next_url": "/?page=2",
            "products": [product("cast-iron-skillet", "Cast Iron Skillet", 3900),
                         product("brass-desk-lamp", "Brass Desk Lamp", 12900)],
            "categories": [{"name": "kitchen", "count": 8}, {"name": "home", "count": 6}],
        }),
    );
    assert_accessible("home", &html);
    assert!(html.contains(r#"alt="Cast Iron Skillet""#));
    assert!(html.contains(r#"src="/static/products/cast-iron-skillet.svg""#));
    assert!(
        html.contains("$39.00") && html.contains("$129.00"),
        "prices"
    );
    assert!(
        html.contains(r#"href="/?category=kitchen""#),
        "category links"
    );
    assert!(html.contains(r#"href="/?page=2" rel="next""#), "pagination");
    assert!(html.contains("Page 1 of 2"));
    assert!(
        html.contains(r#"<span class="cart-count" data-cart-count="3">3</span>"#),
        "cart count"
    );
    assert!(
        html.contains(r#"<label for="search-q""#),
        "search box labelled"
    );
    assert!(html.contains("<h1"), "a page heading");
}

#[test]
fn home_says_when_nothing_matches_and_escapes_the_search() {
    let mut chrome = chrome();
    chrome["q"] = json!("<script>alert(1)</script>");
    let html = render_fixture(
        "home.html",
        json!({
            "chrome": chrome, "total": 0, "page": 1, "pages": 0, "q": "<script>alert(1)</script>",
            "category": null, "prev_url": null, "next_url": null, "products": [], "categories": [],
        }),
    );
    assert_accessible("home (empty)", &html);
    assert!(html.contains("Nothing matches"));
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "escaped"
    );
}

#[test]
fn product_page_has_a_labelled_quantity_and_the_csrf_token() {
    let html = render_fixture(
        "product.html",
        json!({"chrome": chrome(), "product": product("walnut-cutting-board", "Walnut Cutting Board", 8900),
               "error": null, "form": {"quantity": "1"}}),
    );
    assert_accessible("product", &html);
    assert!(html.contains("<h1>Walnut Cutting Board</h1>"));
    assert!(html.contains("$89.00"));
    assert!(html.contains(r#"alt="Walnut Cutting Board""#));
    assert!(html.contains(r#"action="/cart/add""#));
    assert!(html.contains(r#"name="csrf_token" value="tok123""#));
    assert!(html.contains(r#"<label for="f-quantity">Quantity"#));
    assert!(
        html.contains(
            r#"<button type="submit" class="button button--primary">Add to cart</button>"#
        )
    );
}

#[test]
fn a_refused_field_is_highlighted_with_the_problems_detail() {
    let html = render_fixture(
        "product.html",
        json!({"chrome": chrome(), "product": product("walnut-cutting-board", "Walnut Cutting Board", 8900),
               "error": field_problem("quantity", "a line holds at most 99"), "form": {"quantity": "120"}}),
    );
    assert!(html.contains(r#"role="alert""#));
    assert!(html.contains(r#"aria-invalid="true""#));
    assert!(html.contains(r#"aria-describedby="f-quantity-error""#));
    assert!(
        html.contains(
            r#"<p class="field-error" id="f-quantity-error">a line holds at most 99</p>"#
        )
    );
    assert!(html.contains(r#"value="120""#), "the entered value is kept");
}

#[test]
fn cart_lists_lines_with_totals_and_forms() {
    let html = render_fixture(
        "cart.html",
        json!({
            "chrome": chrome(), "subtotal": usd(11700), "error": null, "error_line": null,
            "lines": [
                {"product_id": "cast-iron-skillet", "quantity": 3,
                 "product": product("cast-iron-skillet", "Cast Iron Skillet", 3900), "line_total": usd(11700)},
                {"product_id": "gone-product", "quantity": 1, "product": null, "line_total": null},
            ],
        }),
    );
    assert_accessible("cart", &html);
    assert!(html.contains("Cast Iron Skillet") && html.contains("$39.00 each"));
    assert!(html.contains("$117.00"), "line total and subtotal");
    assert!(
        html.contains(r#"action="/cart/items/cast-iron-skillet""#),
        "change quantity"
    );
    assert!(
        html.contains(r#"action="/cart/items/cast-iron-skillet/remove""#),
        "remove"
    );
    assert!(
        html.contains(r#"action="/cart/items/gone-product/remove""#),
        "a withdrawn line can go"
    );
    assert!(html.contains("No longer available"));
    assert!(html.contains(r#"action="/cart/empty""#));
    assert!(html.contains(r#"href="/checkout""#));
}

#[test]
fn an_empty_cart_says_so() {
    let html = render_fixture(
        "cart.html",
        json!({"chrome": chrome(), "subtotal": usd(0), "error": null, "error_line": null, "lines": []}),
    );
    assert!(html.contains("Your cart is empty."));
}

#[test]
fn checkout_keeps_entered_values_but_never_the_card() {
    let html = render_fixture(
        "checkout.html",
        json!({
            "chrome": chrome(), "subtotal": usd(3900), "quote": usd(599), "estimated_total": usd(4499),
            "lines": [{"product_id": "cast-iron-skillet", "quantity": 1,
                       "product": product("cast-iron-skillet", "Cast Iron Skillet", 3900), "line_total": usd(3900)}],
            "form": {"email": "ada@example.com", "address.name": "Ada Lovelace", "address.street": "1 Main St",
                     "address.city": "London", "address.postal_code": "N1 9GU", "address.country": "GB",
                     "card.exp_month": "12", "card.exp_year": "2030",
                     "idempotency_key": "0d9e5a7c-54b6-4f39-8b0c-7f3a2c1d9e8f"},
            "error": field_problem("card.number", "the card number fails the Luhn check"),
        }),
    );
    assert_accessible("checkout", &html);
    for label in [
        "E-mail",
        "Full name",
        "Street and number",
        "City",
        "Postal code",
        "Country code",
        "Card number",
        "Expiry month",
        "Expiry year",
        "Security code",
    ] {
        assert!(html.contains(&format!(">{label}")), "label {label}");
    }
    assert!(html.contains(r#"value="ada@example.com""#), "e-mail kept");
    assert!(html.contains(r#"value="N1 9GU""#), "address kept");
    assert!(
        html.contains(r#"name="idempotency_key" value="0d9e5a7c-54b6-4f39-8b0c-7f3a2c1d9e8f""#)
    );
    let card = html.split(r#"id="f-card-number""#).nth(1).unwrap();
    let card_tag = &card[..card.find('>').unwrap()];
    assert!(
        !card_tag.contains("value="),
        "card number never echoed: {card_tag}"
    );
    assert!(
        card_tag.contains(r#"aria-invalid="true""#),
        "card number highlighted"
    );
    assert!(html.contains("the card number fails the Luhn check"));
    assert!(
        html.contains(r#"formaction="/checkout/quote""#),
        "quote button"
    );
    assert!(
        html.contains("$5.99") && html.contains("$44.99"),
        "quote and estimated total"
    );
}

#[test]
fn a_problem_naming_a_parent_field_marks_each_input_under_it() {
    let html = render_fixture(
        "checkout.html",
        json!({
            "chrome": chrome(), "subtotal": usd(3900), "quote": null, "estimated_total": null,
            "lines": [{"product_id": "x", "quantity": 1, "product": product("x", "X", 3900), "line_total": usd(3900)}],
            "form": {"idempotency_key": "k"},
            "error": field_problem("card", "the card has expired"),
        }),
    );
    for id in [
        "f-card-number",
        "f-card-exp_month",
        "f-card-exp_year",
        "f-card-cvv",
    ] {
        let tag = html.split(&format!(r#"id="{id}""#)).nth(1).unwrap();
        assert!(
            tag[..tag.find('>').unwrap()].contains(r#"aria-invalid="true""#),
            "{id}"
        );
    }
    let email = html.split(r#"id="f-email""#).nth(1).unwrap();
    assert!(
        !email[..email.find('>').unwrap()].contains("aria-invalid"),
        "others untouched"
    );
}

#[test]
fn order_page_shows_status_lines_and_card_and_polls() {
    let html = render_fixture(
        "order.html",
        json!({"chrome": chrome(), "order": order("paid")}),
    );
    assert_accessible("order", &html);
    assert!(html.contains("Order 6F1C2A9E"));
    assert!(html.contains(r#"aria-live="polite""#));
    assert!(html.contains("Visa ending in 4242"));
    assert!(html.contains("txn_abc") && html.contains("TRK123"));
    assert!(html.contains("$78.00") && html.contains("$5.99") && html.contains("$83.99"));
    assert!(html.contains(r#"alt="Cast Iron Skillet""#));
    assert!(html.contains(r#"data-settled="true""#));
    assert!(
        !html.contains("http-equiv=\"refresh\""),
        "nothing left to wait for"
    );

    let placed = render_fixture(
        "order.html",
        json!({"chrome": chrome(), "order": order("placed")}),
    );
    assert!(placed.contains(r#"<noscript><meta http-equiv="refresh" content="3"></noscript>"#));
    assert!(placed.contains(r#"data-settled="false""#));
    assert!(
        placed.contains("/status\""),
        "the script polls the status endpoint"
    );
}

#[test]
fn sign_in_and_register_forms_are_labelled() {
    let form = json!({"name": "", "email": "ada@example.com", "next": "/checkout"});
    for (name, fields) in [
        ("login.html", vec!["f-email", "f-password"]),
        ("register.html", vec!["f-name", "f-email", "f-password"]),
    ] {
        let html = render_fixture(
            name,
            json!({"chrome": chrome(), "form": form, "error": field_problem("email", "is already registered")}),
        );
        assert_accessible(name, &html);
        for id in fields {
            assert!(
                html.contains(&format!(r#"<label for="{id}""#)),
                "{name}: {id}"
            );
        }
        assert!(
            html.contains(r#"name="next" value="/checkout""#),
            "{name}: next kept"
        );
        assert!(
            html.contains("is already registered"),
            "{name}: problem shown"
        );
        assert!(
            html.contains(r#"value="ada@example.com""#),
            "{name}: e-mail kept"
        );
    }
}

#[test]
fn account_pages_show_the_profile_and_the_orders() {
    let mut signed_in = chrome();
    signed_in["signed_in"] = json!(true);
    let html = render_fixture(
        "account.html",
        json!({"chrome": signed_in, "saved": true, "error": null,
               "form": {"name": "Ada", "email": "ada@example.com", "address.name": "", "address.street": "",
                        "address.city": "", "address.postal_code": "", "address.country": ""}}),
    );
    assert_accessible("account", &html);
    assert!(html.contains("Your changes are saved."));
    assert!(
        html.contains(r#"action="/logout""#),
        "sign out button in the header"
    );
    assert!(html.contains(r#"value="Ada""#));

    let html = render_fixture(
        "account_orders.html",
        json!({"chrome": signed_in, "orders": [order("paid")]}),
    );
    assert_accessible("account orders", &html);
    assert!(html.contains(r#"href="/orders/6f1c2a9e-8d4b-4c1e-9f3a-2b7d5e6c8a10""#));
    assert!(html.contains("$83.99") && html.contains("2025-01-31"));
    let none = render_fixture(
        "account_orders.html",
        json!({"chrome": signed_in, "orders": []}),
    );
    assert!(none.contains("You have not ordered anything yet."));
}

#[test]
fn error_pages_render_without_a_visitor() {
    let html = render_fixture(
        "error.html",
        json!({"status": 503, "title": "The shop is taking a short break", "detail": "Try again."}),
    );
    assert_accessible("error", &html);
    assert!(html.contains("Error 503") && html.contains("The shop is taking a short break"));
    let html = render_fixture("not_found.html", json!({"chrome": chrome()}));
    assert!(html.contains("Page not found"));
    let html = render_fixture("base.html", json!({"chrome": chrome()}));
    assert!(html.contains(r#"href="/static/style.css?v="#));
    let html = render_fixture("macros.html", json!({}));
    assert!(html.trim().is_empty(), "macros only");
}
