//! Shutdown in the order a service needs it: in-flight requests are answered first, and
//! only then are the background tasks (consumers, a relay) told to stop and awaited.

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{Router, routing::get};
use serving::{Background, Started, serve_started};
use tokio::{net::TcpListener, sync::Notify};

type Log = Arc<Mutex<Vec<&'static str>>>;

fn note(log: &Log, what: &'static str) {
    log.lock().unwrap().push(what);
}

#[tokio::test]
async fn background_tasks_stop_only_after_in_flight_requests_are_answered_and_are_awaited() {
    let log = Log::default();
    let in_flight = Arc::new(Notify::new());
    let router = {
        let (log, in_flight) = (log.clone(), in_flight.clone());
        Router::new().route(
            "/slow",
            get(move || async move {
                in_flight.notify_one();
                tokio::time::sleep(Duration::from_millis(300)).await;
                note(&log, "request answered");
                "done"
            }),
        )
    };
    let mut background = Background::default();
    let task_log = log.clone();
    background.spawn(move |stop| async move {
        stop.cancelled().await;
        note(&task_log, "background told to stop");
        // The delivery in hand takes a moment to finish.
        tokio::time::sleep(Duration::from_millis(100)).await;
        note(&task_log, "background finished");
    });
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/slow", listener.local_addr().unwrap());
    let (signal, signalled) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(serve_started(
        listener,
        Started { router, background },
        async move {
            let _ = signalled.await;
        },
        Duration::from_secs(5),
    ));

    let request = tokio::spawn(reqwest::get(url));
    in_flight.notified().await;
    signal.send(()).unwrap();
    let response = request.await.unwrap().expect("the draining server answers");
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), "done");
    server.await.unwrap().expect("serving ends cleanly");

    assert_eq!(
        *log.lock().unwrap(),
        [
            "request answered",
            "background told to stop",
            "background finished"
        ],
        "drain, then stop, then wait: all before serving returns"
    );
}
