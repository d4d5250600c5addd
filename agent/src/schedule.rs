//! When the agent acts: the next renewal after a success, the next try
//! after a failure, and when a daemon gives up. Pure functions of the
//! configuration and of the certificates actually issued, so the rules are
//! unit-tested here and documented in `docs/agent.md`.
//!
//! * **Renewal** follows the certificates the server issued, not only the
//!   configuration: the renewal period is the earlier of `renewal_interval`
//!   and a third of the issued lifetime (tbot's defaults, 1h renewed every
//!   20m, are exactly a third). A server that caps the lifetime (Teleport's
//!   bot maximum is commonly 12h) therefore never leaves expired files behind.
//! * **Slots, not timers.** Each agent renews at its own fixed offset within
//!   the period (its [`Phase`], derived from its bot instance), so a fleet's
//!   renewals are spread evenly over the period and stay spread: agents that
//!   an outage lined up (they all recover in the same seconds) go back to
//!   their own slots at the next renewal, instead of renewing together
//!   forever after, which a timer restarted at each success would do.
//! * **Failures while the credentials are valid** retry at the next slot:
//!   an outage never makes the fleet call more often than it renews, and the
//!   calls stay spread, so the cluster coming back meets the usual load, not
//!   a wave. When the next slot would come too close to the expiry, the
//!   last try is a quarter period before it instead (expiries are spread
//!   like the slots), so an outage shorter than the lifetime (less that
//!   quarter period) never lets credentials lapse.
//! * **Failures without valid credentials** (the first join, or after
//!   expiry) retry with capped exponential backoff and full jitter in
//!   `[d/2, d]`: 1s, 2s, 4s … up to 2 minutes (never longer than the
//!   renewal period).
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
/// The last try before an expiry comes this share of the period before it
/// (defaults: 5 minutes before 1h credentials expire): room for one attempt.
const LAST_TRY_SHARE: u32 = 4;
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

/// The renewal period: the earlier of `interval` and a third of the issued `lifetime`.
pub fn renewal_period(interval: Duration, lifetime: Duration) -> Duration {
    interval.min(lifetime / RENEW_AFTER_SHARE)
}

/// An agent's fixed offset within any period, as a fraction in `[0, 1)`:
/// a hash of something stable and different for every agent (its bot
/// instance), so a fleet's offsets are spread evenly without coordination.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Phase(f64);

impl Phase {
    /// The phase of the agent identified by `seed`.
    pub fn of(seed: &str) -> Phase {
        use sha2::Digest;
        let digest = sha2::Sha256::digest(seed.as_bytes());
        let mut first = [0u8; 8];
        first.copy_from_slice(&digest[..8]);
        // 53 bits: exactly representable as an f64 fraction in [0, 1).
        Phase((u64::from_be_bytes(first) >> 11) as f64 / (1u64 << 53) as f64)
    }

    /// A phase drawn at random, for an agent with nothing stable to hash yet.
    pub fn random() -> Phase {
        Phase(rand::random::<f64>())
    }
}

/// The wait from `now` until the agent's next slot in `period` that is at
/// least `min_wait` away; slots are the instants `t` with
/// `t ≡ phase · period (mod period)`, counted from the Unix epoch so that
/// every agent (and every restart of one) agrees on where periods begin.
pub fn until_slot(now: SystemTime, period: Duration, phase: Phase, min_wait: Duration) -> Duration {
    let period_ns = period.as_nanos().max(1);
    let since_epoch = now.duration_since(SystemTime::UNIX_EPOCH).unwrap_or(Duration::ZERO).as_nanos();
    let offset = (phase.0 * period_ns as f64) as u128 % period_ns;
    let into = since_epoch % period_ns;
    let mut wait = (offset + period_ns - into) % period_ns;
    while wait < min_wait.as_nanos() {
        wait += period_ns;
    }
    Duration::from_nanos(u64::try_from(wait).unwrap_or(u64::MAX))
}

/// The wait before the next renewal after a success: the agent's next slot
/// of `period` (the [`renewal_period`]), at least half a period away (so an
/// agent that renewed off its slot, at start or after an outage, moves onto
/// it without renewing twice in a row).
pub fn next_renewal(now: SystemTime, period: Duration, phase: Phase) -> Duration {
    until_slot(now, period, phase, period / 2)
}

/// The wait before the next try after a failure while the credentials are
/// still valid until `expires`: the agent's next slot of `period`, at least
/// half a period away — unless that slot comes too close to the expiry, then
/// a last try a [`LAST_TRY_SHARE`]th of the period before it, so that an
/// outage shorter than the lifetime never lets credentials lapse. `None`
/// when even that moment has passed: the caller backs off as if expired.
pub fn next_retry(now: SystemTime, period: Duration, phase: Phase, expires: SystemTime) -> Option<Duration> {
    let slot = next_renewal(now, period, phase);
    let left = expires.duration_since(now).unwrap_or(Duration::ZERO);
    let last_try = left.checked_sub(period / LAST_TRY_SHARE).filter(|d| !d.is_zero())?;
    Some(slot.min(last_try))
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
        // Defaults: 1h certificates, renewed every 20m.
        assert_eq!(renewal_period(20 * MIN, HOUR), 20 * MIN);
        // Asked 24h, renewing every 13h, but the server capped at 12h: every 4h.
        assert_eq!(renewal_period(13 * HOUR, 12 * HOUR), 4 * HOUR);
        assert!(shortened(24 * HOUR, 12 * HOUR));
        assert!(!shortened(HOUR, HOUR - Duration::from_secs(5)));
        let now = SystemTime::UNIX_EPOCH + 1000 * HOUR + Duration::from_secs(17);
        for phase in [Phase(0.0), Phase(0.3), Phase(0.99)] {
            let d = next_renewal(now, renewal_period(20 * MIN, HOUR), phase);
            assert!(d >= 10 * MIN && d < 30 * MIN, "{d:?}");
        }
    }

    #[test]
    fn slots_keep_each_agent_at_its_offset() {
        let period = 20 * MIN;
        let phase = Phase(0.25);
        let start = SystemTime::UNIX_EPOCH + 1000 * HOUR;
        // Wherever an agent is in the period, it lands at 5 minutes into one.
        for into in [0, 1, 299, 300, 301, 1199] {
            let now = start + Duration::from_secs(into);
            let at = now + until_slot(now, period, phase, Duration::ZERO);
            let offset = at.duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs() % period.as_secs();
            assert_eq!(offset, 300, "from {into}s");
        }
        // At least `min_wait` away: the slot just passed is not taken again.
        let now = start + Duration::from_secs(300);
        assert_eq!(until_slot(now, period, phase, period / 2), period);
        assert_eq!(next_retry(now, period, phase, now + HOUR), Some(period));
    }

    #[test]
    fn the_last_retry_comes_before_the_expiry() {
        let period = 20 * MIN;
        let phase = Phase(0.25);
        let now = SystemTime::UNIX_EPOCH + 1000 * HOUR + Duration::from_secs(300);
        // The next slot is 20m away but the credentials expire in 22m: try at 17m.
        assert_eq!(next_retry(now, period, phase, now + 22 * MIN), Some(17 * MIN));
        // Within the last quarter period: nothing left to wait for.
        assert_eq!(next_retry(now, period, phase, now + 4 * MIN), None);
        assert_eq!(next_retry(now, period, phase, now - MIN), None);
    }

    #[test]
    fn phases_spread_a_fleet_evenly() {
        // 10,000 agents in 10 buckets of the period: each holds about a tenth.
        let mut buckets = [0u32; 10];
        for i in 0..10_000 {
            let Phase(f) = Phase::of(&format!("bot-instance-{i}"));
            assert!((0.0..1.0).contains(&f));
            buckets[(f * 10.0) as usize] += 1;
        }
        assert!(buckets.iter().all(|&n| (900..1100).contains(&n)), "{buckets:?}");
        assert_eq!(Phase::of("same"), Phase::of("same"));
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
