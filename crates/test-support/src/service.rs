//! A service built and started exactly as its binary does it ([`serving::Service`]), served
//! on a free port, with its background tasks stopped as on SIGTERM.

use std::ops::Deref;

use serving::{Background, Service, Started};

use crate::TestServer;

pub struct TestService {
    pub server: TestServer,
    pub(crate) background: Background,
}

/// `app.get(..)`, `app.url(..)`: the server is what tests talk to.
impl Deref for TestService {
    type Target = TestServer;

    fn deref(&self) -> &TestServer {
        &self.server
    }
}

impl TestService {
    /// Builds `S` from `config`, starts it and serves its router.
    pub async fn start<S: Service>(config: S::Config) -> Self {
        let service = S::build(config)
            .await
            .unwrap_or_else(|err| panic!("{} builds: {err:#}", S::NAME));
        let Started { router, background } = service.start();
        Self {
            server: TestServer::spawn(router).await,
            background,
        }
    }

    /// Stops the background tasks and waits until they have finished what they had in hand.
    pub async fn stop(self) {
        self.background.stop().await;
    }
}
