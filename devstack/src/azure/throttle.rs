//! Token buckets, the algorithm ARM documents for its throttling ("the token bucket
//! represents the maximum number of requests that you can send; the refill rate determines
//! how quickly tokens become available"), shared by the ARM and IMDS emulators.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::realism::Throttle;

/// Buckets by key (e.g. subscription, principal and operation type).
#[derive(Default)]
pub struct Buckets(Mutex<HashMap<String, (f64, Instant)>>);

/// A request over the limit: how long until a token is available.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Throttled {
    /// Time until the next token, rounded up to whole seconds (at least 1), as `Retry-After`.
    pub retry_after_secs: u64,
}

impl Buckets {
    /// Takes one token from `key`'s bucket; returns the tokens left (`None` when unlimited).
    pub fn take(&self, key: &str, throttle: Throttle) -> Result<Option<u32>, Throttled> {
        let Some((burst, rate)) = throttle.0 else { return Ok(None) };
        let now = Instant::now();
        let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let (tokens, last) = map.entry(key.to_string()).or_insert((f64::from(burst), now));
        *tokens = (*tokens + now.duration_since(*last).as_secs_f64() * rate).min(f64::from(burst));
        *last = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            // Truncation: a fraction of a token is not a request.
            Ok(Some(*tokens as u32))
        } else {
            let wait = Duration::from_secs_f64((1.0 - *tokens) / rate);
            Err(Throttled { retry_after_secs: wait.as_secs_f64().ceil().max(1.0) as u64 })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_then_refill_per_key() {
        let b = Buckets::default();
        let t = Throttle::limit(2, 1.0);
        assert_eq!(b.take("a", t), Ok(Some(1)));
        assert_eq!(b.take("a", t), Ok(Some(0)));
        assert_eq!(b.take("a", t), Err(Throttled { retry_after_secs: 1 }));
        assert_eq!(b.take("b", t), Ok(Some(1)), "keys are independent");
        assert_eq!(b.take("a", Throttle::OFF), Ok(None));
        let slow = Throttle::limit(1, 0.1);
        assert_eq!(b.take("c", slow), Ok(Some(0)));
        assert_eq!(b.take("c", slow), Err(Throttled { retry_after_secs: 10 }));
    }
}
