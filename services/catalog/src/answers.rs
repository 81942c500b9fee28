//! Answers kept in memory: the JSON of a product, a page of a listing or the categories,
//! as catalog last read it from PostgreSQL. The catalog changes rarely and is read on
//! every page, so most requests need no database.
//!
//! Kept answers are trusted only while [`follow_changes`] listens on `products_changed`,
//! the channel every change to `products` is announced on (migration 0003): each
//! announcement drops them all, and so does losing the listening connection, after
//! which requests go to the database until it listens again. A change that bypasses the
//! trigger is still seen within [`KEPT_FOR`].

use std::{
    future::Future,
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::Duration,
};

use bytes::Bytes;
use moka::future::Cache;
use serving::{CancellationToken, Problem};
use sqlx::{PgPool, postgres::PgListener};

/// The channel migration 0003 announces changes on.
pub const CHANNEL: &str = "products_changed";
/// The longest an answer is kept, however quiet the channel.
pub const KEPT_FOR: Duration = Duration::from_secs(60);
/// How often the listening connection is checked: a connection cut without a close
/// (a network partition) is noticed within this and [`PING_TIMEOUT`].
const PING_EVERY: Duration = Duration::from_secs(5);
const PING_TIMEOUT: Duration = Duration::from_secs(2);
/// How long to wait before listening again after the connection was lost.
const RELISTEN_PAUSE: Duration = Duration::from_millis(500);

/// What a request asked, as the key of its answer.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Question {
    Product(String),
    Listing {
        text: Option<String>,
        category: Option<String>,
        limit: i64,
        offset: i64,
    },
    Categories,
}

impl Question {
    fn size(&self) -> usize {
        match self {
            Question::Product(id) => id.len(),
            Question::Listing { text, category, .. } => {
                text.as_ref().map_or(0, String::len) + category.as_ref().map_or(0, String::len)
            }
            Question::Categories => 0,
        }
    }
}

/// The kept answers. `None` is a product that does not exist.
pub struct Answers {
    // Keyed by generation too: an answer read before a change and stored after it lands
    // under the old generation, where no request looks any more.
    kept: Cache<(u64, Question), Option<Bytes>>,
    generation: AtomicU64,
    trusted: AtomicBool,
}

impl Answers {
    /// Keeps at most `capacity_bytes` of answers (JSON and keys).
    pub fn new(capacity_bytes: u64) -> Arc<Self> {
        Arc::new(Self {
            kept: Cache::builder()
                .max_capacity(capacity_bytes)
                .weigher(|(_, question): &(u64, Question), answer: &Option<Bytes>| {
                    let size = 64 + question.size() + answer.as_ref().map_or(0, Bytes::len);
                    u32::try_from(size).unwrap_or(u32::MAX)
                })
                .time_to_live(KEPT_FOR)
                .build(),
            generation: AtomicU64::new(0),
            trusted: AtomicBool::new(false),
        })
    }

    /// The kept answer to `question`, or `load`'s, kept for the next request when the
    /// answers are trusted.
    pub async fn answer<F, Fut>(
        &self,
        question: Question,
        load: F,
    ) -> Result<Option<Bytes>, Problem>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Option<Bytes>, Problem>>,
    {
        if !self.trusted.load(Ordering::Acquire) {
            return load().await;
        }
        let key = (self.generation.load(Ordering::Acquire), question);
        if let Some(kept) = self.kept.get(&key).await {
            return Ok(kept);
        }
        let loaded = load().await?;
        self.kept.insert(key, loaded.clone()).await;
        Ok(loaded)
    }

    /// Drops every kept answer: something changed.
    fn forget(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.kept.invalidate_all();
    }

    /// Trusts kept answers from now on (a listener is up), or stops trusting them.
    fn trust(&self, trusted: bool) {
        self.forget();
        self.trusted.store(trusted, Ordering::Release);
    }

    #[cfg(test)]
    async fn kept_count(&self) -> u64 {
        self.kept.run_pending_tasks().await;
        self.kept.entry_count()
    }
}

/// Listens on [`CHANNEL`] until `stop`, forgetting the answers on each announcement and
/// whenever the listening connection is lost (announcements may have been missed).
pub async fn follow_changes(pool: PgPool, answers: Arc<Answers>, stop: CancellationToken) {
    loop {
        match listen(&pool).await {
            Ok(mut listener) => {
                answers.trust(true);
                tracing::debug!(channel = CHANNEL, "following catalog changes");
                let lost = tokio::select! {
                    lost = follow(&mut listener, &answers) => lost,
                    _ = stop.cancelled() => None,
                };
                answers.trust(false);
                match lost {
                    Some(err) => {
                        tracing::warn!(error = %err, "stopped following catalog changes; reading the database until listening again")
                    }
                    None if stop.is_cancelled() => return,
                    None => {}
                }
            }
            Err(err) => {
                tracing::warn!(error = %err, "cannot listen for catalog changes; reading the database")
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(RELISTEN_PAUSE) => {}
            _ = stop.cancelled() => return,
        }
    }
}

async fn listen(pool: &PgPool) -> Result<PgListener, sqlx::Error> {
    let mut listener = PgListener::connect_with(pool).await?;
    // A lost connection must end this session, so the answers stop being trusted.
    listener.eager_reconnect(false);
    listener.listen(CHANNEL).await?;
    Ok(listener)
}

/// Forgets the answers on each announcement; returns why it stopped.
async fn follow(listener: &mut PgListener, answers: &Answers) -> Option<String> {
    let mut ping = tokio::time::interval(PING_EVERY);
    ping.reset();
    loop {
        tokio::select! {
            received = listener.try_recv() => match received {
                Ok(Some(_)) => answers.forget(),
                Ok(None) => return Some("the connection was lost".into()),
                Err(err) => return Some(err.to_string()),
            },
            _ = ping.tick() => {
                let alive = tokio::time::timeout(PING_TIMEOUT, sqlx::query("SELECT 1").execute(&mut *listener));
                match alive.await {
                    Ok(Ok(_)) => {}
                    Ok(Err(err)) => return Some(err.to_string()),
                    Err(_) => return Some(format!("no answer to a ping within {PING_TIMEOUT:?}")),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(text: &'static str) -> Option<Bytes> {
        Some(Bytes::from_static(text.as_bytes()))
    }

    #[tokio::test]
    async fn answers_are_kept_only_while_trusted_and_forgotten_on_a_change() {
        let answers = Answers::new(1 << 20);
        let question = || Question::Product("lamp".into());
        let loads = std::sync::atomic::AtomicU32::new(0);
        let load = || async {
            loads.fetch_add(1, Ordering::SeqCst);
            Ok(json("{}"))
        };

        answers.answer(question(), load).await.unwrap();
        answers.answer(question(), load).await.unwrap();
        assert_eq!(
            loads.load(Ordering::SeqCst),
            2,
            "untrusted: each request loads"
        );

        answers.trust(true);
        answers.answer(question(), load).await.unwrap();
        answers.answer(question(), load).await.unwrap();
        assert_eq!(
            loads.load(Ordering::SeqCst),
            3,
            "trusted: kept after one load"
        );

        answers.forget();
        answers.answer(question(), load).await.unwrap();
        assert_eq!(loads.load(Ordering::SeqCst), 4, "a change: loaded again");

        answers.trust(false);
        answers.answer(question(), load).await.unwrap();
        assert_eq!(loads.load(Ordering::SeqCst), 5, "the listener lost: loaded");
    }

    #[tokio::test]
    async fn an_answer_read_before_a_change_is_not_kept_past_it() {
        let answers = Answers::new(1 << 20);
        answers.trust(true);
        let question = || Question::Categories;
        // The change lands while the old answer is being read.
        let stale = answers
            .answer(question(), || async {
                answers.forget();
                Ok(json("old"))
            })
            .await
            .unwrap();
        assert_eq!(stale, json("old"));
        let fresh = answers
            .answer(question(), || async { Ok(json("new")) })
            .await
            .unwrap();
        assert_eq!(fresh, json("new"));
    }

    #[tokio::test]
    async fn kept_answers_stay_within_their_budget() {
        let answers = Answers::new(64 * 1024);
        answers.trust(true);
        let page = Bytes::from(vec![b'x'; 1024]);
        for n in 0..1_000 {
            let question = Question::Product(format!("product-{n}"));
            let page = page.clone();
            answers
                .answer(question, || async move { Ok(Some(page)) })
                .await
                .unwrap();
        }
        let kept = answers.kept_count().await;
        assert!(kept <= 64, "{kept} answers of 1 KiB kept in 64 KiB");
    }
}
