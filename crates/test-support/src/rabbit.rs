//! A RabbitMQ virtual host of its own for each test, so tests share one broker without
//! seeing each other's queues. Made with `rabbitmqctl` (the tests run where the broker
//! does); removed when dropped.

use std::process::Command;

pub struct RabbitVhost {
    pub name: String,
    /// `amqp://` URL of this vhost on the broker named by `AMQP_URL`.
    pub url: String,
}

impl RabbitVhost {
    pub fn create() -> Self {
        let name = crate::unique_name("test");
        rabbitmqctl(&["add_vhost", &name]);
        rabbitmqctl(&["set_permissions", "-p", &name, "guest", ".*", ".*", ".*"]);
        let base = std::env::var("AMQP_URL")
            .unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".into());
        let server = base
            .rsplit_once('/')
            .map_or(base.as_str(), |(server, _)| server);
        let url = format!("{server}/{name}");
        Self { name, url }
    }

    /// Messages waiting in `queue` (ready and unacknowledged).
    pub fn queue_depth(&self, queue: &str) -> Option<u64> {
        let out = rabbitmqctl(&[
            "list_queues",
            "-p",
            &self.name,
            "--no-table-headers",
            "name",
            "messages",
        ]);
        out.lines().find_map(|line| {
            let mut fields = line.split_whitespace();
            (fields.next()? == queue).then(|| fields.next()?.parse().ok())?
        })
    }
}

impl Drop for RabbitVhost {
    fn drop(&mut self) {
        let _ = Command::new("rabbitmqctl")
            .args(["-q", "delete_vhost", &self.name])
            .output();
    }
}

fn rabbitmqctl(args: &[&str]) -> String {
    let output = Command::new("rabbitmqctl")
        .arg("-q")
        .args(args)
        .output()
        .expect("run rabbitmqctl");
    assert!(
        output.status.success(),
        "rabbitmqctl {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}
