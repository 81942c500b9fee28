//! A request refused on its headers still has its body read, so the connection stays
//! open for the next request: a gateway keeps its pooled connection instead of writing
//! into one the service has closed (a broken pipe, which it answers with 500).

use axum::{Router, http::HeaderMap, routing::post};
use serving::{JsonBody, Problem, Readiness, ServeConfig, http::skeleton};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
};

async fn guarded(JsonBody(_): JsonBody<serde_json::Value>) -> &'static str {
    "ok"
}

/// Refuses a request without `X-Allowed` before anything looks at the body.
async fn refuse_on_header(headers: HeaderMap) -> Result<(), Problem> {
    if headers.contains_key("x-allowed") {
        Ok(())
    } else {
        Err(Problem::invalid_header("X-Allowed", "is required"))
    }
}

async fn serve() -> std::net::SocketAddr {
    let routes = Router::new().route(
        "/guarded",
        post(guarded).route_layer(axum::middleware::from_fn(
            |req: axum::extract::Request, next: axum::middleware::Next| async move {
                match refuse_on_header(req.headers().clone()).await {
                    Ok(()) => next.run(req).await,
                    Err(problem) => axum::response::IntoResponse::into_response(problem),
                }
            },
        )),
    );
    let config = ServeConfig {
        body_limit_bytes: 256 * 1024,
        ..ServeConfig::for_tests()
    };
    let app = skeleton(routes, Readiness::default(), &config);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

fn request(body: &str, allowed: bool) -> Vec<u8> {
    let allowed = if allowed { "X-Allowed: yes\r\n" } else { "" };
    format!(
        "POST /guarded HTTP/1.1\r\nHost: shop\r\nContent-Type: application/json\r\n\
         {allowed}Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// Reads one response with a `Content-Length` body; its status line.
async fn read_response(stream: &mut TcpStream) -> String {
    let mut seen = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let text = String::from_utf8_lossy(&seen).into_owned();
        if let Some(end) = text.find("\r\n\r\n") {
            let length: usize = text[..end]
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length: ")
                        .map(|v| v.trim().parse().unwrap())
                })
                .unwrap_or(0);
            if seen.len() >= end + 4 + length {
                return text.lines().next().unwrap().to_owned();
            }
        }
        let read = stream.read(&mut chunk).await.unwrap();
        assert!(read > 0, "the connection closed after {text:?}");
        seen.extend_from_slice(&chunk[..read]);
    }
}

#[tokio::test]
async fn a_request_refused_on_its_headers_leaves_the_connection_usable() {
    let addr = serve().await;
    let mut stream = TcpStream::connect(addr).await.unwrap();
    // A body large enough not to sit unread in one segment.
    let body = format!("{{\"text\": \"{}\"}}", "a".repeat(200 * 1024));
    stream.write_all(&request(&body, false)).await.unwrap();
    assert!(read_response(&mut stream).await.contains(" 400 "));
    // The same connection carries the next request.
    stream.write_all(&request("{}", true)).await.unwrap();
    assert!(read_response(&mut stream).await.contains(" 200 "));
}
