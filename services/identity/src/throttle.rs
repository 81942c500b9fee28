//! An in-process limit on guessing: login and registration per lowercase e-mail,
//! password changes per account. The gateway's signer endpoint silently ignores its
//! rate limiter (PITFALLS.md), so the limit has to live here. It is per replica, and the
//! peer is always the gateway, so the e-mail (not an address) is what gets keyed.

use std::{num::NonZeroU32, time::Duration};

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter, clock::Clock};
use serving::Problem;

/// Attempts allowed per key and minute; they refill one by one (GCRA), so a locked-out
/// user waits seconds, not the whole minute.
pub const ATTEMPTS_PER_MINUTE: NonZeroU32 = NonZeroU32::new(10).unwrap();

/// Above this many tracked keys, keys whose quota has fully refilled are dropped, so a
/// stream of made-up e-mails cannot grow memory without bound.
const MAX_TRACKED_KEYS: usize = 10_000;

pub struct Throttle {
    limiter: DefaultKeyedRateLimiter<String>,
}

/// An attempt over the limit, and how long until the next one is allowed.
#[derive(Debug)]
pub struct Throttled {
    purpose: &'static str,
    retry_after: Duration,
}

impl Throttle {
    pub fn new() -> Self {
        Self {
            limiter: RateLimiter::keyed(Quota::per_minute(ATTEMPTS_PER_MINUTE)),
        }
    }

    /// Counts one attempt at `purpose` for `key`.
    pub fn check(&self, purpose: &'static str, key: &str) -> Result<(), Throttled> {
        if self.limiter.len() > MAX_TRACKED_KEYS {
            self.limiter.retain_recent();
        }
        self.limiter
            .check_key(&format!("{purpose}:{key}"))
            .map_err(|not_until| Throttled {
                purpose,
                retry_after: not_until.wait_time_from(self.limiter.clock().now()),
            })
    }
}

impl From<Throttled> for Problem {
    fn from(throttled: Throttled) -> Self {
        // Whole seconds, rounded up, so a client that waits this long is let through.
        let secs = throttled.retry_after.as_secs() + 1;
        let purpose = throttled.purpose;
        Problem::too_many_requests(format!(
            "too many {purpose} attempts; try again in {secs} s"
        ))
        .with_extension("retry_after_secs", secs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_eleventh_attempt_in_a_minute_is_refused() {
        let throttle = Throttle::new();
        for attempt in 1..=10 {
            assert!(
                throttle.check("login", "ada@example.org").is_ok(),
                "attempt {attempt}"
            );
        }
        let problem = Problem::from(throttle.check("login", "ada@example.org").unwrap_err());
        assert_eq!(problem.status, 429);
        assert!(problem.extensions["retry_after_secs"].as_u64().unwrap() >= 1);
    }

    #[test]
    fn keys_and_purposes_are_counted_apart() {
        let throttle = Throttle::new();
        for _ in 0..10 {
            throttle.check("login", "ada@example.org").unwrap();
        }
        assert!(throttle.check("login", "grace@example.org").is_ok());
        assert!(throttle.check("register", "ada@example.org").is_ok());
    }
}
