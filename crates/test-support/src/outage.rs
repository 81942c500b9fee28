//! A TCP relay in front of a real server. `cut()` does what a crashed server does to its
//! clients: open connections drop and new ones are refused; `restore()` brings it back
//! on the same address. Tests of one service can then lose their database without
//! stopping the server every other test shares.

use std::{net::SocketAddr, sync::Mutex};

use tokio::{
    net::{TcpListener, TcpStream},
    task::JoinSet,
};

pub struct OutageProxy {
    pub addr: SocketAddr,
    upstream: SocketAddr,
    relay: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl OutageProxy {
    pub async fn start(upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let addr = listener.local_addr().expect("proxy address");
        let relay = tokio::spawn(relay(listener, upstream));
        Self {
            addr,
            upstream,
            relay: Mutex::new(Some(relay)),
        }
    }

    /// Drops every open connection and stops listening: clients see resets, then refusals.
    pub fn cut(&self) {
        if let Some(relay) = self.relay.lock().unwrap().take() {
            relay.abort();
        }
    }

    /// Listens again on the same address.
    pub async fn restore(&self) {
        let listener = TcpListener::bind(self.addr)
            .await
            .expect("rebind proxy address");
        let relay = tokio::spawn(relay(listener, self.upstream));
        *self.relay.lock().unwrap() = Some(relay);
    }
}

impl Drop for OutageProxy {
    fn drop(&mut self) {
        self.cut();
    }
}

/// Accepts and relays; aborting this task drops the listener and, through the JoinSet,
/// every connection it relays.
async fn relay(listener: TcpListener, upstream: SocketAddr) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((mut client, _)) = accepted else { continue };
                connections.spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}
