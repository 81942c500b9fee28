//! catalog against a real PostgreSQL: each test gets its own migrated, seeded database.

use std::{collections::BTreeSet, time::Duration};

use reqwest::StatusCode;
use serde_json::{Value, json};
use serving::{ServeConfig, postgres::Database};
use sqlx::{
    PgPool,
    postgres::{PgConnectOptions, PgPoolOptions},
};
use test_support::{OutageProxy, TestService, problem, wait_until};

/// The service as its binary runs it, on the database `pool` reaches.
async fn catalog(pool: PgPool) -> TestService {
    TestService::start::<catalog::Catalog>(catalog::Config {
        serve: ServeConfig::for_tests(),
        database: Database::of(&pool),
        answers_mib: 4,
    })
    .await
}

async fn json_of(response: reqwest::Response) -> Value {
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

#[sqlx::test(migrator = "catalog::MIGRATOR")]
async fn a_product_is_served_whole(pool: PgPool) {
    let app = catalog(pool).await;
    let product = json_of(app.get("/products/cast-iron-skillet").await).await;
    assert_eq!(product["id"], "cast-iron-skillet");
    assert_eq!(product["picture"], "/static/products/cast-iron-skillet.svg");
    assert_eq!(product["price"]["currency"], "USD");
    assert!(product["price"]["amount_minor"].as_i64().unwrap() > 0);
    assert!(!product["name"].as_str().unwrap().is_empty());
    assert!(product["description"].as_str().unwrap().len() > 40);
    assert!(
        product["categories"]
            .as_array()
            .unwrap()
            .contains(&json!("kitchen"))
    );
}

#[sqlx::test(migrator = "catalog::MIGRATOR")]
async fn an_unknown_or_malformed_id_is_a_404_problem_naming_id(pool: PgPool) {
    let app = catalog(pool).await;
    for id in ["no-such-product", "UPPER", "semi;colon", &"x".repeat(65)] {
        let (status, body) = problem(app.get(&format!("/products/{id}")).await).await;
        assert_eq!(status, 404, "{id}");
        assert_eq!(body["field"], "id", "{id}");
    }
}

#[sqlx::test(migrator = "catalog::MIGRATOR")]
async fn the_seed_catalog_has_enough_products_categories_and_pictures(pool: PgPool) {
    let app = catalog(pool).await;
    let page = json_of(app.get("/products?per_page=100").await).await;
    let items = page["items"].as_array().unwrap();
    assert!(items.len() >= 24, "{} products", items.len());
    assert_eq!(page["total"], items.len());
    let pictures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("pictures");
    for product in items {
        let file = product["picture"]
            .as_str()
            .unwrap()
            .trim_start_matches("/static/products/");
        assert!(pictures.join(file).is_file(), "picture {file} exists");
    }
    let categories = json_of(app.get("/categories").await).await;
    let categories = categories["items"].as_array().unwrap();
    assert!(categories.len() >= 6);
    let listed: i64 = items
        .iter()
        .map(|p| p["categories"].as_array().unwrap().len() as i64)
        .sum();
    let counted: i64 = categories
        .iter()
        .map(|c| c["count"].as_i64().unwrap())
        .sum();
    assert_eq!(
        listed, counted,
        "category counts add up to the products' categories"
    );
}

#[sqlx::test(migrator = "catalog::MIGRATOR")]
async fn pages_split_the_list_without_overlap_and_report_the_total(pool: PgPool) {
    let app = catalog(pool).await;
    let all = json_of(app.get("/products?per_page=100").await).await;
    let total = all["total"].as_i64().unwrap();
    let mut seen = BTreeSet::new();
    for page in 1..=(total + 4) / 5 {
        let body = json_of(app.get(&format!("/products?page={page}&per_page=5")).await).await;
        assert_eq!(body["total"], total);
        assert_eq!(body["page"], page);
        assert_eq!(body["per_page"], 5);
        for item in body["items"].as_array().unwrap() {
            assert!(
                seen.insert(item["id"].as_str().unwrap().to_owned()),
                "no product on two pages"
            );
        }
    }
    assert_eq!(seen.len() as i64, total);
    let beyond = json_of(app.get("/products?page=999&per_page=5").await).await;
    assert_eq!(beyond["items"], json!([]));
    assert_eq!(
        beyond["total"], total,
        "the total is reported past the last page too"
    );
}

#[sqlx::test(migrator = "catalog::MIGRATOR")]
async fn search_ranks_name_matches_above_description_matches(pool: PgPool) {
    let app = catalog(pool).await;
    let body = json_of(app.get("/products?q=ceramic&per_page=100").await).await;
    let items = body["items"].as_array().unwrap();
    assert!(items.len() >= 3);
    assert_eq!(body["total"], items.len());
    for item in items {
        let text = format!("{} {}", item["name"], item["description"]).to_lowercase();
        assert!(text.contains("ceramic"), "{text}");
    }
    let in_name = |item: &Value| {
        item["name"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("ceramic")
    };
    let first_without = items
        .iter()
        .position(|i| !in_name(i))
        .unwrap_or(items.len());
    assert!(first_without > 0, "a product named ceramic comes first");
    assert!(
        items[first_without..].iter().all(|i| !in_name(i)),
        "name matches rank first"
    );
}

#[sqlx::test(migrator = "catalog::MIGRATOR")]
async fn search_finds_stemmed_words_and_half_typed_names(pool: PgPool) {
    let app = catalog(pool).await;
    let boots = json_of(app.get("/products?q=boot").await).await;
    assert!(
        boots["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["id"] == "leather-chelsea-boots")
    );
    let partial = json_of(app.get("/products?q=skill").await).await;
    assert_eq!(partial["items"][0]["id"], "cast-iron-skillet");
}

#[sqlx::test(migrator = "catalog::MIGRATOR")]
async fn search_combines_with_a_category_filter(pool: PgPool) {
    let app = catalog(pool).await;
    let body = json_of(app.get("/products?q=leather&category=footwear").await).await;
    let items = body["items"].as_array().unwrap();
    assert!(!items.is_empty());
    for item in items {
        assert!(
            item["categories"]
                .as_array()
                .unwrap()
                .contains(&json!("footwear"))
        );
    }
    let kitchen = json_of(app.get("/products?category=kitchen&per_page=100").await).await;
    let categories = json_of(app.get("/categories").await).await;
    let count = categories["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "kitchen")
        .unwrap()["count"]
        .clone();
    assert_eq!(kitchen["total"], count);
    let none = json_of(app.get("/products?category=no-such-category").await).await;
    assert_eq!(none["total"], 0);
}

#[sqlx::test(migrator = "catalog::MIGRATOR")]
async fn hostile_search_text_is_answered_not_a_500(pool: PgPool) {
    let app = catalog(pool).await;
    for q in [
        "!!",
        "a & | b",
        "'; drop table products; --",
        "\"unclosed",
        "100%_\\",
        "(((",
        ":*",
    ] {
        let response = app
            .request(reqwest::Method::GET, "/products")
            .query(&[("q", q)])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "q={q}");
    }
    let still_there = json_of(app.get("/products/cast-iron-skillet").await).await;
    assert_eq!(still_there["id"], "cast-iron-skillet");
}

#[sqlx::test(migrator = "catalog::MIGRATOR")]
async fn bad_query_parameters_are_422_problems_naming_the_parameter(pool: PgPool) {
    let app = catalog(pool).await;
    let long_query = format!("/products?q={}", "a".repeat(201));
    let cases = [
        ("/products?page=0", "page", "pages start at 1"),
        ("/products?page=abc", "page", "not a number"),
        ("/products?page=-1", "page", "negative"),
        ("/products?page=10001", "page", "beyond the bound"),
        ("/products?per_page=0", "per_page", "an empty page"),
        (
            "/products?per_page=101",
            "per_page",
            "more than the maximum",
        ),
        ("/products?per_page=1.5", "per_page", "not an integer"),
        (long_query.as_str(), "q", "search text too long"),
        // PostgreSQL cannot hold a NUL: it answered 500 before.
        ("/products?q=%00", "q", "a NUL in the search text"),
        ("/products?q=bowl%0A", "q", "a newline in the search text"),
        (
            "/products?category=%00",
            "category",
            "a NUL in the category",
        ),
        (
            "/products?category=kitchen%1B",
            "category",
            "an escape in the category",
        ),
    ];
    for (path, field, why) in cases {
        let (status, body) = problem(app.get(path).await).await;
        assert_eq!(status, 422, "{why}");
        assert_eq!(body["field"], field, "{why}");
        assert!(
            body["type"].as_str().unwrap().ends_with("/invalid-field"),
            "{why}"
        );
    }
}

#[sqlx::test(migrator = "catalog::MIGRATOR")]
async fn unknown_routes_and_methods_are_problems(pool: PgPool) {
    let app = catalog(pool).await;
    let (status, _) = problem(app.get("/nothing-here").await).await;
    assert_eq!(status, 404);
    let (status, _) = problem(
        app.send_json(reqwest::Method::POST, "/products", &json!({}))
            .await,
    )
    .await;
    assert_eq!(status, 405);
}

#[sqlx::test(migrator = "catalog::MIGRATOR")]
async fn health_and_readiness_answer_while_the_database_does(pool: PgPool) {
    let app = catalog(pool).await;
    assert_eq!(app.get("/healthz").await.status(), StatusCode::OK);
    let ready = json_of(app.get("/readyz").await).await;
    assert_eq!(ready["checks"]["postgres"], "ok");
}

#[sqlx::test(migrator = "catalog::MIGRATOR")]
async fn a_database_outage_is_a_503_and_heals_without_a_restart(
    _: PgPoolOptions,
    options: PgConnectOptions,
) {
    let proxy = OutageProxy::start(
        format!("{}:{}", options.get_host(), options.get_port())
            .parse()
            .unwrap(),
    )
    .await;
    let pool = serving::postgres::pool_options()
        .connect_with(options.clone().host("127.0.0.1").port(proxy.addr.port()))
        .await
        .unwrap();
    let app = catalog(pool).await;
    assert_eq!(
        app.get("/products/cast-iron-skillet").await.status(),
        StatusCode::OK
    );

    proxy.cut();
    let (status, body) = problem(app.get("/readyz").await).await;
    assert_eq!(status, 503);
    assert_eq!(body["dependency"], "postgres");
    // One not asked before: a kept answer would be served, but none is kept for it.
    let (status, body) = problem(app.get("/products/walnut-cutting-board").await).await;
    assert_eq!(status, 503);
    assert!(
        body["type"]
            .as_str()
            .unwrap()
            .ends_with("/dependency-unavailable")
    );

    proxy.restore().await;
    wait_until(
        "catalog is ready again",
        Duration::from_secs(20),
        || async { app.get("/readyz").await.status() == StatusCode::OK },
    )
    .await;
    let product = json_of(app.get("/products/cast-iron-skillet").await).await;
    assert_eq!(product["id"], "cast-iron-skillet");
}

/// Runs a statement of the test's own on catalog's database.
async fn execute(pool: &PgPool, sql: &'static str) {
    sqlx::query(sql).execute(pool).await.unwrap();
}

const RAISE_SKILLET_PRICE: &str =
    "UPDATE products SET price_minor = price_minor + 100 WHERE id = 'cast-iron-skillet'";

async fn price_of(app: &TestService, id: &str) -> i64 {
    let product = json_of(app.get(&format!("/products/{id}")).await).await;
    product["price"]["amount_minor"].as_i64().unwrap()
}

/// Waits until catalog follows the changes of its products (it reads the database on
/// every request until then).
async fn following_changes(app: &TestService, pool: &PgPool) {
    wait_until(
        "catalog listens for changes",
        Duration::from_secs(10),
        || async {
            let listening: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM pg_stat_activity
             WHERE datname = current_database() AND query LIKE 'LISTEN%'",
            )
            .fetch_one(pool)
            .await
            .unwrap();
            listening == 1
        },
    )
    .await;
    // The answers are trusted once the listener is up; ask once so one is kept.
    app.get("/products/cast-iron-skillet").await;
}

#[sqlx::test(migrator = "catalog::MIGRATOR")]
async fn a_change_to_products_is_served_at_once_not_the_answer_kept_before(pool: PgPool) {
    let app = catalog(pool.clone()).await;
    following_changes(&app, &pool).await;
    let before = price_of(&app, "cast-iron-skillet").await;
    let listed = json_of(app.get("/products?q=skillet").await).await;
    assert_eq!(listed["total"], 1);

    execute(&pool, RAISE_SKILLET_PRICE).await;
    wait_until(
        "the new price is served",
        Duration::from_secs(2),
        || async { price_of(&app, "cast-iron-skillet").await == before + 100 },
    )
    .await;

    execute(
        &pool,
        "INSERT INTO products (id, name, description, picture, price_minor)
         VALUES ('second-skillet', 'Second skillet', 'another', '/static/none.svg', 100)",
    )
    .await;
    wait_until(
        "the new product is found",
        Duration::from_secs(2),
        || async { json_of(app.get("/products?q=skillet").await).await["total"] == 2 },
    )
    .await;

    execute(&pool, "DELETE FROM products WHERE id = 'second-skillet'").await;
    wait_until(
        "the deleted product is gone",
        Duration::from_secs(2),
        || async { app.get("/products/second-skillet").await.status() == StatusCode::NOT_FOUND },
    )
    .await;
}

#[sqlx::test(migrator = "catalog::MIGRATOR")]
async fn answers_kept_while_the_listener_was_lost_are_not_served(pool: PgPool) {
    let app = catalog(pool.clone()).await;
    following_changes(&app, &pool).await;
    let before = price_of(&app, "cast-iron-skillet").await;

    // A change nobody announces, then the listening connection is cut: whatever was
    // announced meanwhile is missed, so nothing kept may be served any more.
    execute(
        &pool,
        "ALTER TABLE products DISABLE TRIGGER products_changed",
    )
    .await;
    execute(&pool, RAISE_SKILLET_PRICE).await;
    assert_eq!(
        price_of(&app, "cast-iron-skillet").await,
        before,
        "unannounced, the kept answer is still served (bounded by its 60 s)"
    );
    execute(
        &pool,
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE datname = current_database() AND pid <> pg_backend_pid()",
    )
    .await;
    wait_until(
        "the new price is served",
        Duration::from_secs(10),
        || async { price_of(&app, "cast-iron-skillet").await == before + 100 },
    )
    .await;
}
