//! With SMTP: a real SMTP server (aiosmtpd, installed by e2e/local/stores.sh) receives the
//! confirmation into a Maildir.

use std::{
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::Duration,
};

use sqlx::PgPool;
use test_support::{unique_name, wait_until};

use crate::helpers::{EmailService, PATIENCE, order, subject_of};

/// `python3 -m aiosmtpd` on a free port, storing what it receives in a Maildir; killed
/// and its Maildir removed when dropped.
struct SmtpServer {
    child: Child,
    port: u16,
    maildir: PathBuf,
}

impl SmtpServer {
    async fn start() -> Self {
        Self::start_on(free_port()).await
    }

    async fn start_on(port: u16) -> Self {
        let maildir = std::env::temp_dir().join(unique_name("maildir"));
        let child = Command::new("python3")
            .args(["-m", "aiosmtpd", "-n", "-l"])
            .arg(format!("127.0.0.1:{port}"))
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(&maildir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start aiosmtpd (e2e/local/stores.sh installs it)");
        let server = Self {
            child,
            port,
            maildir,
        };
        wait_until("aiosmtpd listens", Duration::from_secs(20), || async {
            tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
        })
        .await;
        server
    }

    /// The raw mails delivered so far.
    fn mails(&self) -> Vec<String> {
        let Ok(entries) = std::fs::read_dir(self.maildir.join("new")) else {
            return Vec::new();
        };
        entries
            .map(|entry| std::fs::read_to_string(entry.unwrap().path()).unwrap())
            .collect()
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port()
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.maildir);
    }
}

#[sqlx::test(migrator = "email::MIGRATOR")]
async fn with_smtp_one_confirmation_arrives_with_text_and_html_parts(pool: PgPool) {
    let smtp = SmtpServer::start().await;
    let url = format!("smtp://127.0.0.1:{}", smtp.port);
    let app = EmailService::start(pool, Some(&url)).await;
    let order = order();
    app.place(&order).await;
    assert_eq!(app.next_event().await.kind, "email.sent");
    app.place(&order).await;
    assert_eq!(
        app.next_event().await.kind,
        "email.sent",
        "a duplicate is reported again"
    );

    let mails = smtp.mails();
    assert_eq!(mails.len(), 1, "exactly one mail: {mails:#?}");
    let mail = &mails[0];
    let header = |name: &str| {
        mail.lines()
            .find_map(|line| line.strip_prefix(&format!("{name}: ")))
            .unwrap_or_else(|| panic!("no {name} header in:\n{mail}"))
            .to_owned()
    };
    assert_eq!(header("To"), "ada@example.org");
    assert_eq!(header("From"), "microshop <orders@microshop.dev>");
    assert_eq!(header("Subject"), subject_of(&order));
    assert_eq!(
        header("Message-ID"),
        format!("<order-{}.confirmation@microshop.dev>", order.order_id)
    );
    assert!(header("Content-Type").starts_with("multipart/alternative"));
    for part in ["text/plain", "text/html"] {
        assert!(
            mail.contains(&format!("Content-Type: {part}; charset=utf-8")),
            "no {part} part in:\n{mail}"
        );
    }
    assert_eq!(
        app.server.get("/emails").await.status(),
        404,
        "no development outbox when mail goes out over SMTP"
    );
    assert_eq!(app.ledger().await.len(), 1);
    app.stop(0).await;
}

#[sqlx::test(migrator = "email::MIGRATOR")]
async fn a_confirmation_is_retried_until_the_smtp_relay_answers(pool: PgPool) {
    let port = free_port();
    let url = format!("smtp://127.0.0.1:{port}");
    let app = EmailService::start_with_pause(pool, Some(&url), Duration::from_secs(1)).await;
    let order = order();
    app.place(&order).await;
    // Refused while nobody listens: handed back, not dead-lettered, nothing recorded.
    app.events.assert_quiet(Duration::from_millis(1500)).await;
    assert!(app.ledger().await.is_empty());

    let smtp = SmtpServer::start_on(port).await;
    let event = app.events.next(PATIENCE).await;
    assert_eq!(event.kind, "email.sent");
    assert_eq!(smtp.mails().len(), 1);
    assert_eq!(app.ledger().await.len(), 1);
    app.stop(0).await;
}
