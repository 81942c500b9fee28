//! A consuming service (payment, shipping, email) running in the test process, in a vhost
//! of its own, with the test's `OrderBus` playing the services around it.

use std::ops::Deref;

use serving::{Background, Service};

use crate::{OrderBus, TestServer, TestService};

pub struct ConsumingService {
    /// The test's side of the broker: `place(..)`, `publish(..)`, `events`, `vhost`.
    pub bus: OrderBus,
    pub server: TestServer,
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
    /// Opens a bus whose tap takes the `order-events` matching `events`, then builds and
    /// starts `S` from the config `config` writes for the bus's vhost (its `AMQP_URL`).
    pub async fn start<S: Service>(events: &str, config: impl FnOnce(&str) -> S::Config) -> Self {
        let bus = OrderBus::open(events).await;
        let TestService { server, background } =
            TestService::start::<S>(config(&bus.vhost.url)).await;
        Self {
            bus,
            server,
            background,
        }
    }

    /// Stops the consumers and checks nothing was left behind: for each `(queue, dead)`,
    /// no message waiting or unacked in the queue, exactly `dead` messages dead-lettered.
    pub async fn stop(self, queues: &[(&str, u64)]) {
        self.background.stop().await;
        self.bus.assert_left_behind(queues).await;
    }
}
