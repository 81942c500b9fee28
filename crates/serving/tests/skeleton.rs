//! The shared skeleton seen from outside: what every service answers before its own code runs.

use std::time::Duration;

use axum::{
    Router,
    body::{Body, to_bytes},
    http::{Request, StatusCode},
    routing::{get, post},
};
use serde::Deserialize;
use serde_json::Value;
use serving::{JsonBody, Problem, Readiness, ServeConfig, http::skeleton};
use tower::ServiceExt;

#[derive(Deserialize)]
struct Echo {
    #[allow(dead_code)]
    text: String,
}

fn app(readiness: Readiness) -> Router {
    app_with_timeout(readiness, 200)
}

fn app_with_timeout(readiness: Readiness, request_timeout_ms: u64) -> Router {
    let routes = Router::new()
        .route("/echo", post(|JsonBody(_): JsonBody<Echo>| async { "ok" }))
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(30)).await;
                "late"
            }),
        )
        .route(
            "/panic",
            get(|| async { if true { panic!("boom") } else { "never" } }),
        )
        .route(
            "/broken",
            get(|| async { Err::<(), _>(Problem::internal(&"disk on fire")) }),
        );
    let config = ServeConfig {
        request_timeout_ms,
        body_limit_bytes: 1024,
        ..ServeConfig::for_tests()
    };
    skeleton(routes, readiness, &config)
}

async fn call(app: Router, request: Request<Body>) -> (StatusCode, String, Value) {
    let response = app.oneshot(request).await.unwrap();
    let status = response.status();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let bytes = to_bytes(response.into_body(), usize::MAX).await.unwrap();
    (
        status,
        content_type,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

fn post_json(body: impl Into<Body>) -> Request<Body> {
    Request::post("/echo")
        .header("content-type", "application/json")
        .body(body.into())
        .unwrap()
}

#[tokio::test]
async fn healthz_answers_and_readyz_reports_each_check() {
    let readiness = Readiness::new()
        .with_check("good", || async { Ok(()) })
        .with_check("bad", || async { Err("connection refused".to_owned()) });
    let (status, _, _) = call(
        app(readiness.clone()),
        Request::get("/healthz").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, content_type, body) = call(
        app(readiness),
        Request::get("/readyz").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(content_type, "application/problem+json");
    assert_eq!(body["checks"]["good"], "ok");
    assert_eq!(body["checks"]["bad"], "connection refused");
    assert_eq!(body["dependency"], "bad");
}

#[tokio::test]
async fn a_check_that_hangs_counts_as_unready() {
    let readiness = Readiness::new().with_check("stuck", std::future::pending);
    // The probe's own limit (2 s) is shorter than the request timeout.
    let (status, _, body) = call(
        app_with_timeout(readiness, 5_000),
        Request::get("/readyz").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        body["checks"]["stuck"]
            .as_str()
            .unwrap()
            .contains("no answer")
    );
}

#[tokio::test]
async fn an_oversized_body_is_a_413_problem() {
    let body = format!(r#"{{"text": "{}"}}"#, "x".repeat(2048));
    let (status, content_type, problem) = call(app(Readiness::new()), post_json(body)).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(content_type, "application/problem+json");
    assert!(problem["detail"].as_str().unwrap().contains("1024"));
}

#[tokio::test]
async fn a_body_that_is_not_json_is_refused_with_a_problem() {
    let (status, _, _) = call(app(Readiness::new()), post_json("{not json")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let plain = Request::post("/echo")
        .header("content-type", "text/plain")
        .body(Body::from("{}"))
        .unwrap();
    let (status, _, _) = call(app(Readiness::new()), plain).await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let (status, _, problem) = call(app(Readiness::new()), post_json(r#"{"text": 5}"#)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["field"], "text");
}

#[tokio::test]
async fn a_slow_handler_is_cut_off_with_a_503_problem() {
    let (status, content_type, problem) = call(
        app(Readiness::new()),
        Request::get("/slow").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(content_type, "application/problem+json");
    assert!(problem["type"].as_str().unwrap().ends_with("/timeout"));
}

#[tokio::test]
async fn a_panic_and_an_internal_error_are_500_problems_without_the_cause() {
    for path in ["/panic", "/broken"] {
        let (status, content_type, problem) = call(
            app(Readiness::new()),
            Request::get(path).body(Body::empty()).unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{path}");
        assert_eq!(content_type, "application/problem+json");
        assert!(
            !problem.to_string().contains("fire") && !problem.to_string().contains("boom"),
            "{path}"
        );
    }
}

#[tokio::test]
async fn unknown_routes_and_methods_are_problems() {
    let (status, content_type, _) = call(
        app(Readiness::new()),
        Request::get("/nope").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(content_type, "application/problem+json");
    let (status, content_type, _) = call(
        app(Readiness::new()),
        Request::delete("/echo").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(content_type, "application/problem+json");
}

#[tokio::test]
async fn shutdown_lets_an_in_flight_request_finish() {
    let routes = Router::new().route(
        "/work",
        get(|| async {
            tokio::time::sleep(Duration::from_millis(500)).await;
            "done"
        }),
    );
    let app = skeleton(routes, Readiness::new(), &ServeConfig::for_tests());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(serving::serve_on(
        listener,
        app,
        async {
            let _ = stopped.await;
        },
        Duration::from_secs(5),
    ));

    let in_flight = tokio::spawn(async move {
        reqwest::get(format!("http://{addr}/work"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    });
    tokio::time::sleep(Duration::from_millis(100)).await; // let the request reach the handler
    stop.send(()).unwrap();
    assert_eq!(
        in_flight.await.unwrap(),
        "done",
        "the request begun before the signal completes"
    );
    server.await.unwrap().unwrap();
    assert!(
        reqwest::get(format!("http://{addr}/work")).await.is_err(),
        "no new connections after shutdown"
    );
}

#[tokio::test]
async fn a_degraded_dependency_is_reported_but_keeps_the_service_ready() {
    let readiness = Readiness::new()
        .with_check("database", || async { Ok(()) })
        .with_degrading_check("broker", || async { Err("connection refused".to_owned()) });
    let (status, _, body) = call(
        app(readiness),
        Request::get("/readyz").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["checks"]["database"], "ok");
    assert_eq!(body["checks"]["broker"], "degraded: connection refused");
}

#[tokio::test]
async fn metrics_count_requests_by_route_template_and_status_including_panics_and_timeouts() {
    let app = app_with_timeout(Readiness::new(), 100);
    let hit = |uri: &'static str| {
        let app = app.clone();
        async move {
            let request = Request::get(uri).body(Body::empty()).unwrap();
            app.oneshot(request).await.unwrap().status()
        }
    };
    assert_eq!(hit("/panic").await, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(hit("/slow").await, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(hit("/no/such/route/42").await, StatusCode::NOT_FOUND);

    let response = app
        .clone()
        .oneshot(Request::get("/metrics").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/openmetrics-text")
    );
    let text = String::from_utf8(
        to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap()
            .to_vec(),
    )
    .unwrap();
    let count = |route: &str, status: u16| {
        serving::metrics::find_sample(
            &text,
            "http_server_request_duration_seconds_count",
            &format!(
                "http_request_method=\"GET\",http_route=\"{route}\",http_response_status_code=\"{status}\""
            ),
        )
    };
    // Other tests of this binary share the process's registry: at least ours is counted.
    assert!(count("/panic", 500).unwrap() >= 1.0, "{text}");
    assert!(count("/slow", 503).unwrap() >= 1.0, "{text}");
    assert!(count("unmatched", 404).unwrap() >= 1.0, "{text}");
    assert!(
        !text.contains("/no/such/route/42"),
        "raw paths must not become labels"
    );
    assert!(text.contains("http_server_request_duration_seconds_bucket{"));
}
