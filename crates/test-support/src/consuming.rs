//! A consuming service (payment, shipping, email) running in the test process, in a vhost
//! of its own, with the test's `OrderBus` playing the services around it.

use std::ops::Deref;

use axum::Router;
use messaging::{Background, Broker};
use serving::CancellationToken;

use crate::{OrderBus, TestServer};

pub struct ConsumingService {
    /// The test's side of the broker: `place(..)`, `publish(..)`, `events`, `vhost`.
    pub bus: OrderBus,
    pub server: TestServer,
    shutdown: CancellationToken,
    background: Background,
}

/// `app.place(..)`, `app.events`, `app.vhost`: the bus is the test's side of the broker.
impl Deref for ConsumingService {
    type Target = OrderBus;

    fn deref(&self) -> &OrderBus {
        &self.bus
    }
}

impl ConsumingService {
    /// Opens a bus whose tap takes the `order-events` matching `events`, then starts what
    /// `start` builds on a broker of the bus's vhost named `name`.
    pub async fn start(
        name: &str,
        events: &str,
        start: impl FnOnce(Broker, CancellationToken) -> (Router, Background),
    ) -> Self {
        let bus = OrderBus::open(events).await;
        let shutdown = CancellationToken::new();
        let (router, background) = start(Broker::new(&bus.vhost.url, name), shutdown.clone());
        Self {
            bus,
            server: TestServer::spawn(router).await,
            shutdown,
            background,
        }
    }

    /// Stops the consumers and checks nothing was left behind: for each `(queue, dead)`,
    /// no message waiting or unacked in the queue, exactly `dead` messages dead-lettered.
    pub async fn stop(self, queues: &[(&str, u64)]) {
        self.shutdown.cancel();
        self.background.stopped().await;
        self.bus.assert_left_behind(queues).await;
    }
}
