//! The operator's own binary as a process of the tests.

use std::{
    fs::File,
    io::{Read, Write},
    net::{TcpListener, TcpStream},
    path::Path,
    process::{Child, Command},
};

use crate::harness::cluster_dir;

/// The operator's binary, stopped when dropped.
pub struct OperatorProcess {
    pub child: Child,
    port: u16,
}

impl OperatorProcess {
    /// Starts `operator run` with `kubeconfig` and `env`, logging to `logs/<log>`.
    pub fn start(kubeconfig: &Path, env: &[(&str, &str)], log: &str) -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port");
        let log = File::create(cluster_dir().join("logs").join(log)).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_operator"))
            .arg("run")
            .env("KUBECONFIG", kubeconfig)
            .env("PORT", port.to_string())
            .env("LOG_FORMAT", "json")
            .env("RUST_LOG", "info")
            .envs(env.iter().copied())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("the operator's binary");
        Self { child, port }
    }

    /// The body of a 200 answer of its HTTP server.
    pub fn get(&self, path: &str) -> Option<String> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).ok()?;
        write!(stream, "GET {path} HTTP/1.0\r\nHost: localhost\r\n\r\n").ok()?;
        let mut response = String::new();
        stream.read_to_string(&mut response).ok()?;
        response.starts_with("HTTP/1.0 200").then(|| {
            response
                .split("\r\n\r\n")
                .nth(1)
                .unwrap_or_default()
                .to_owned()
        })
    }

    /// Reconciles started, from its own metrics.
    pub fn reconciles(&self) -> u64 {
        self.metric_sum("microshop_operator_reconciles_total")
    }

    /// Reconciles failed, of every kind.
    pub fn failed_reconciles(&self) -> u64 {
        self.metric_sum("microshop_operator_reconcile_errors_total")
    }

    fn metric_sum(&self, name: &str) -> u64 {
        let metrics = self.get("/metrics").unwrap_or_default();
        metrics
            .lines()
            .filter(|l| {
                l.strip_prefix(name)
                    .is_some_and(|r| r.starts_with([' ', '{']))
            })
            .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
            .sum()
    }
}

impl Drop for OperatorProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
