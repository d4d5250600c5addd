//! Capped exponential backoff with jitter.
//!
//! Teleport's clients retry `Unavailable` (a restarting Auth server, a
//! proxy losing its tunnel) with decorrelated jitter between a base and a
//! cap; the official provider exposes the three knobs as
//! `retry_base_duration`, `retry_cap_duration` and `retry_max_tries`.
//!
//! Only idempotent calls are retried blindly ([`RetryPolicy::run`]): reads,
//! upserts, updates with a field mask, deletes. A create is not idempotent —
//! when the answer to an attempt that succeeded is lost, its retry fails with
//! `AlreadyExists` — so [`RetryPolicy::run_create`] reports that case as
//! [`Error::MaybeCreated`] for the caller to read the object back and adopt it
//! if it is the one it asked for.

use std::future::Future;
use std::time::Duration;

use crate::Error;

/// How often and how patiently to retry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// First delay.
    pub base: Duration,
    /// Longest delay.
    pub cap: Duration,
    /// Attempts in total, including the first (at least 1).
    pub max_tries: u32,
}

impl Default for RetryPolicy {
    /// The official provider's defaults: 1s, 5s, 10 tries.
    fn default() -> Self {
        RetryPolicy { base: Duration::from_secs(1), cap: Duration::from_secs(5), max_tries: 10 }
    }
}

impl RetryPolicy {
    /// No retries at all.
    pub fn none() -> Self {
        RetryPolicy { base: Duration::ZERO, cap: Duration::ZERO, max_tries: 1 }
    }

    /// The delay before attempt `attempt` (1-based retry count), with full jitter.
    pub fn delay(&self, attempt: u32) -> Duration {
        let exp = self.base.saturating_mul(1u32.checked_shl(attempt.saturating_sub(1).min(20)).unwrap_or(u32::MAX));
        let capped = exp.min(self.cap);
        // Full jitter in [capped/2, capped] keeps clients from stampeding.
        let half = capped / 2;
        half + half.mul_f64(rand::random::<f64>())
    }

    /// Runs `op` until it succeeds, fails with a non-retryable error, or the
    /// tries are used up. Only for idempotent calls.
    pub async fn run<T, F, Fut>(&self, op: F) -> Result<T, Error>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, Error>>,
    {
        self.retry(op).await.0
    }

    /// Runs a create: retried like [`RetryPolicy::run`], but an
    /// `AlreadyExists` answered after a retried attempt becomes
    /// [`Error::MaybeCreated`], because that attempt may have created the object.
    pub async fn run_create<T, F, Fut>(&self, op: F) -> Result<T, Error>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, Error>>,
    {
        match self.retry(op).await {
            (Err(Error::AlreadyExists(m)), true) => Err(Error::MaybeCreated(m)),
            (result, _) => result,
        }
    }

    /// The retry loop: the last result, and whether any attempt was retried.
    async fn retry<T, F, Fut>(&self, mut op: F) -> (Result<T, Error>, bool)
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, Error>>,
    {
        let mut attempt = 0;
        loop {
            attempt += 1;
            match op().await {
                Err(e) if e.is_retryable() && attempt < self.max_tries.max(1) => {
                    tracing::debug!(attempt, error = %e, "Teleport call failed, retrying");
                    tokio::time::sleep(self.delay(attempt)).await;
                }
                other => return (other, attempt > 1),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_and_are_capped() {
        let p = RetryPolicy { base: Duration::from_millis(100), cap: Duration::from_millis(400), max_tries: 5 };
        for attempt in 1..10 {
            let d = p.delay(attempt);
            assert!(d <= Duration::from_millis(400), "{d:?}");
        }
        assert!(p.delay(1) <= Duration::from_millis(100));
        assert!(p.delay(5) >= Duration::from_millis(200));
    }

    #[tokio::test]
    async fn retries_only_retryable_errors() {
        let p = RetryPolicy { base: Duration::from_millis(1), cap: Duration::from_millis(2), max_tries: 3 };
        let mut calls = 0;
        let r: Result<(), Error> = p
            .run(|| {
                calls += 1;
                async { Err(Error::Unavailable("down".into())) }
            })
            .await;
        assert!(r.is_err());
        assert_eq!(calls, 3);
        let mut calls = 0;
        let r: Result<(), Error> = p
            .run(|| {
                calls += 1;
                async { Err(Error::NotFound("x".into())) }
            })
            .await;
        assert!(r.is_err());
        assert_eq!(calls, 1);
    }

    #[tokio::test]
    async fn a_create_that_meets_its_own_lost_success_says_so() {
        let p = RetryPolicy { base: Duration::from_millis(1), cap: Duration::from_millis(2), max_tries: 3 };
        // The first attempt created the object but its answer was lost.
        let mut calls = 0;
        let r: Result<(), Error> = p
            .run_create(|| {
                calls += 1;
                let first = calls == 1;
                async move {
                    if first {
                        Err(Error::Unavailable("reset".into()))
                    } else {
                        Err(Error::AlreadyExists("bot".into()))
                    }
                }
            })
            .await;
        assert!(matches!(r, Err(Error::MaybeCreated(_))), "{r:?}");
        // A plain AlreadyExists on the first attempt is someone else's object.
        let r: Result<(), Error> = p.run_create(|| async { Err(Error::AlreadyExists("bot".into())) }).await;
        assert!(matches!(r, Err(Error::AlreadyExists(_))), "{r:?}");
    }
}
