//! Where a mail goes: an SMTP relay when `SMTP_URL` is set, otherwise the development
//! outbox (logged, and kept for `GET /emails`).

use std::time::Duration;

use lettre::{
    AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
    message::{Mailbox, MultiPart},
};
use uuid::Uuid;

use crate::{
    outbox::{DevOutbox, SentEmail},
    render::Rendered,
};

/// How long one SMTP conversation may take.
const SMTP_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Clone)]
pub enum Mailer {
    Smtp {
        transport: AsyncSmtpTransport<Tokio1Executor>,
        from: Mailbox,
    },
    Dev(DevOutbox),
}

/// Why a mail was not sent.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// The relay refused it for good (a 5xx answer, an unusable address).
    #[error("refused: {0}")]
    Permanent(String),
    /// It may pass: the relay is away, busy or slow.
    #[error("not sent for now: {0}")]
    Transient(String),
}

impl Mailer {
    /// SMTP to `smtp_url` when given, else the development outbox.
    pub fn new(smtp_url: Option<&str>, from: &str) -> anyhow::Result<Self> {
        match smtp_url.map(str::trim).filter(|url| !url.is_empty()) {
            Some(url) => Self::smtp(url, from),
            None => Ok(Self::dev()),
        }
    }

    /// Plain SMTP to a local relay, `smtp://host[:port]` (no TLS, no credentials: see the
    /// README).
    pub fn smtp(url: &str, from: &str) -> anyhow::Result<Self> {
        let from: Mailbox = from
            .parse()
            .map_err(|err| anyhow::anyhow!("SMTP_FROM {from:?}: {err}"))?;
        let (host, port) = relay(url)?;
        let transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
            .port(port)
            .timeout(Some(SMTP_TIMEOUT))
            .build();
        Ok(Self::Smtp { transport, from })
    }

    pub fn dev() -> Self {
        Self::Dev(DevOutbox::default())
    }

    pub fn dev_outbox(&self) -> Option<&DevOutbox> {
        match self {
            Self::Dev(outbox) => Some(outbox),
            Self::Smtp { .. } => None,
        }
    }

    pub async fn send(
        &self,
        order_id: Uuid,
        to: &Mailbox,
        mail: &Rendered,
    ) -> Result<(), SendError> {
        match self {
            Self::Smtp { transport, from } => {
                let message = message(order_id, from, to, mail)?;
                transport.send(message).await.map(drop).map_err(|err| {
                    if err.is_permanent() {
                        SendError::Permanent(err.to_string())
                    } else {
                        SendError::Transient(err.to_string())
                    }
                })
            }
            Self::Dev(outbox) => {
                tracing::info!(order.id = %order_id, email.to = %to, email.subject = mail.subject, "no SMTP_URL: mail kept in the development outbox");
                outbox.keep(SentEmail::new(order_id, to, mail));
                Ok(())
            }
        }
    }
}

/// Host and port of `smtp://host[:port]` (port 25 by default).
fn relay(url: &str) -> anyhow::Result<(String, u16)> {
    let refuse =
        |why: &str| anyhow::anyhow!("SMTP_URL {url:?}: {why}; expected smtp://host[:port]");
    let rest = url
        .strip_prefix("smtp://")
        .ok_or_else(|| refuse("only plain smtp:// relays are supported"))?;
    let authority = rest.strip_suffix('/').unwrap_or(rest);
    if authority.contains(['/', '@', '?']) {
        return Err(refuse(
            "credentials, paths and parameters are not supported",
        ));
    }
    // An IPv6 literal is bracketed; the port, if any, follows the last colon outside it.
    let (host, port) = match authority.strip_prefix('[') {
        Some(bracketed) => {
            let (host, after) = bracketed
                .split_once(']')
                .ok_or_else(|| refuse("unclosed ["))?;
            (host, after.strip_prefix(':'))
        }
        None => match authority.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        },
    };
    let port = match port {
        Some(port) => port
            .parse()
            .map_err(|_| refuse("the port is not a number"))?,
        None => 25,
    };
    if host.is_empty() {
        return Err(refuse("no host"));
    }
    Ok((host.to_owned(), port))
}

/// A multipart/alternative mail (text first, HTML preferred by clients that can). Its
/// Message-ID is derived from the order, so a mail sent twice (see the README) can be
/// recognised as one by the receiving side.
fn message(
    order_id: Uuid,
    from: &Mailbox,
    to: &Mailbox,
    mail: &Rendered,
) -> Result<Message, SendError> {
    Message::builder()
        .from(from.clone())
        .to(to.clone())
        .subject(&mail.subject)
        .message_id(Some(format!(
            "<order-{order_id}.confirmation@{}>",
            from.email.domain()
        )))
        .multipart(MultiPart::alternative_plain_html(
            mail.text.clone(),
            mail.html.clone(),
        ))
        .map_err(|err| SendError::Permanent(err.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_relay_url_names_host_and_port() {
        let cases = [
            ("smtp://127.0.0.1:2525", ("127.0.0.1", 2525)),
            ("smtp://mail.internal", ("mail.internal", 25)),
            ("smtp://localhost:1025/", ("localhost", 1025)),
            ("smtp://[::1]:2525", ("::1", 2525)),
            ("smtp://[::1]", ("::1", 25)),
        ];
        for (url, (host, port)) in cases {
            assert_eq!(relay(url).unwrap(), (host.to_owned(), port), "{url}");
        }
        for bad in [
            "smtps://mail:465",
            "mail:25",
            "smtp://user:secret@mail:25",
            "smtp://:25",
            "smtp://mail:port",
        ] {
            assert!(relay(bad).is_err(), "{bad}");
        }
    }
}
