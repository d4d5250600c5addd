//! When the agent acts: the next renewal after a success, the next try
//! after a failure, and when a daemon gives up. Pure functions of the
//! configuration and of the certificates actually issued, so the rules are
//! unit-tested here and documented in `docs/agent.md`.
//!
//! * **Renewal** follows the certificates the server issued, not only the
//!   configuration: the next renewal is at the earlier of `renewal_interval`
//!   and a third of the issued lifetime (tbot's defaults, 1h renewed every
//!   20m, are exactly a third), minus up to 10% jitter so a fleet started
//!   together spreads out. A server that caps the lifetime (Teleport's bot
//!   maximum is commonly 12h) therefore never leaves expired files behind.
//! * **Failures** are retried with capped exponential backoff and full
//!   jitter in `[d/2, d]`: 1s, 2s, 4s … up to 2 minutes (never longer than
//!   the renewal interval), so agents failing together after an outage do
//!   not retry in waves.
//! * **Giving up** is a rule about time, not about counting failures: a
//!   daemon exits only once its credentials have been expired for the
//!   `--give-up-after` duration while every attempt failed (never, by
//!   default). Failures while the credentials are still valid never count:
//!   retrying costs nothing, and an exit would only make systemd restart the
//!   agent into the same outage.

use std::time::{Duration, SystemTime};

/// First backoff delay after a failure.
const BACKOFF_BASE: Duration = Duration::from_secs(1);
/// Longest backoff delay (also never longer than the renewal interval).
const BACKOFF_CAP: Duration = Duration::from_secs(120);
/// Share of the issued lifetime after which certificates are renewed at the latest.
const RENEW_AFTER_SHARE: u32 = 3;
/// How much shorter than asked a lifetime may be before it counts as capped
/// (servers round, and backdate `not_before` by a minute).
const LIFETIME_SLACK: Duration = Duration::from_secs(60);

/// What one successful attempt issued: the earliest expiry among the bot
/// identity and every output, and that certificate's lifetime when issued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Issued {
    /// When the first of the new certificates expires.
    pub expires: SystemTime,
    /// Its lifetime from the moment it was issued.
    pub lifetime: Duration,
}

impl Issued {
    /// The earlier-expiring of two issues.
    pub fn earliest(self, other: Issued) -> Issued {
        if other.expires < self.expires { other } else { self }
    }

    /// An issue expiring at `expires`, seen `now`.
    pub fn expiring(expires: SystemTime, now: SystemTime) -> Issued {
        Issued { expires, lifetime: expires.duration_since(now).unwrap_or(Duration::ZERO) }
    }
}

/// The wait before the next renewal after a success: the earlier of
/// `interval` and a third of the issued `lifetime`, minus up to 10% jitter.
pub fn next_renewal(interval: Duration, lifetime: Duration) -> Duration {
    let due = interval.min(lifetime / RENEW_AFTER_SHARE);
    due.mul_f64(1.0 - 0.1 * rand::random::<f64>())
}

/// Whether the server issued noticeably less than `asked`.
pub fn shortened(asked: Duration, lifetime: Duration) -> bool {
    lifetime + LIFETIME_SLACK < asked
}

/// Capped exponential backoff with jitter (in `[d/2, d]`) after `failures` failures.
pub fn backoff(failures: u32, interval: Duration) -> Duration {
    let cap = BACKOFF_CAP.min(interval).max(BACKOFF_BASE);
    let exp = BACKOFF_BASE.saturating_mul(1u32 << failures.saturating_sub(1).min(16));
    let d = exp.min(cap);
    d / 2 + (d / 2).mul_f64(rand::random::<f64>())
}

/// Whether a daemon whose credentials have been expired for `expired_for`
/// (`None`: they are valid) gives up, under `--give-up-after`.
pub fn gives_up(expired_for: Option<Duration>, give_up_after: Option<Duration>) -> bool {
    matches!((expired_for, give_up_after), (Some(expired), Some(limit)) if expired >= limit)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: Duration = Duration::from_secs(60);
    const HOUR: Duration = Duration::from_secs(3600);

    #[test]
    fn renewal_follows_the_issued_lifetime() {
        // Defaults: 1h certificates, renewed every 20m (minus jitter).
        let d = next_renewal(20 * MIN, HOUR);
        assert!(d <= 20 * MIN && d >= 18 * MIN, "{d:?}");
        // Asked 24h, renewing every 13h, but the server capped at 12h: renew within 4h.
        let d = next_renewal(13 * HOUR, 12 * HOUR);
        assert!(d <= 4 * HOUR && d >= 3 * HOUR, "{d:?}");
        assert!(shortened(24 * HOUR, 12 * HOUR));
        assert!(!shortened(HOUR, HOUR - Duration::from_secs(5)));
        // Already expired: renew at once.
        assert_eq!(next_renewal(20 * MIN, Duration::ZERO), Duration::ZERO);
    }

    #[test]
    fn the_earliest_expiry_wins() {
        let now = SystemTime::UNIX_EPOCH + 1000 * HOUR;
        let bot = Issued::expiring(now + HOUR, now);
        let output = Issued::expiring(now + 30 * MIN, now);
        assert_eq!(bot.earliest(output), output);
        assert_eq!(output.earliest(bot).lifetime, 30 * MIN);
    }

    #[test]
    fn backoff_is_capped_and_jittered() {
        for f in 1..30 {
            let d = backoff(f, Duration::from_secs(2));
            assert!(d <= Duration::from_secs(2), "{d:?}");
            assert!(d >= Duration::from_millis(500), "{d:?}");
        }
        assert!(backoff(1, HOUR) <= Duration::from_secs(1));
        assert!(backoff(20, HOUR) >= MIN);
    }

    #[test]
    fn only_time_after_expiry_gives_up() {
        assert!(!gives_up(None, Some(MIN)), "valid credentials never give up");
        assert!(!gives_up(Some(HOUR), None), "no limit: never");
        assert!(!gives_up(Some(59 * Duration::from_secs(1)), Some(MIN)));
        assert!(gives_up(Some(MIN), Some(MIN)));
    }
}
