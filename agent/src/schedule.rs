//! When the agent acts: the next renewal after a success, the next try
//! after a failure, and when a daemon gives up. Pure functions of the
//! configuration and of the certificates actually issued, so the rules are
//! unit-tested here and documented in `docs/agent.md`.
//!
//! * **Renewal** follows the certificates the server issued, not only the
//!   configuration: the renewal period is the earlier of `renewal_interval`
//!   and the period that fits three tries into the lifetime with a tenth of
//!   a period to spare before the expiry (lifetime × 10/31: tbot's default
//!   1h certificates are renewed every 19m21s rather than 20m). A server
//!   that caps the lifetime (Teleport's bot maximum is commonly 12h)
//!   therefore never leaves expired files behind.
//! * **The period is the same at every renewal.** The lifetime it is
//!   computed from is the one asked for (`credential_ttl`), or the capped
//!   lifetime rounded to whole minutes, never the remaining time measured
//!   after an attempt (which is a little shorter each time, by the attempt's
//!   latency and the certificate's whole-second expiry). Slots are counted
//!   in whole periods from the Unix epoch, so a period a microsecond off
//!   would put the next slot anywhere: a fleet would renew at random times.
//! * **Slots, not timers.** Each agent renews at its own fixed offset within
//!   the period (its [`Phase`], derived from its bot instance), so a fleet's
//!   renewals are spread evenly over the period and stay spread: agents that
//!   an outage lined up (they all recover in the same seconds) go back to
//!   their own slots at the next renewal, instead of renewing together
//!   forever after, which a timer restarted at each success would do.
//! * **Failures while the credentials are valid** retry at the next slot:
//!   an outage never makes the fleet call more often than it renews, and the
//!   calls stay spread, so the cluster coming back meets the usual load, not
//!   a wave. With the period above, the third slot after a success is
//!   itself the last try, a tenth of a period before the expiry: no agent
//!   ever tries off its slot, and every agent rides out an outage shorter
//!   than two periods (0.65 of the lifetime) without a single extra call.
//!   No schedule does much better: credentials are up to a period old when
//!   an outage starts, so some expire after the lifetime less a period (2.1
//!   periods) whatever the agent tries. Only when the
//!   slots do not fit the lifetime (a shorter `renewal_interval`, a capped
//!   lifetime that is not whole minutes) is there a last try off the slot,
//!   a tenth of a period before the expiry.
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
/// Tries (at consecutive slots) that fit into one lifetime.
const TRIES_PER_LIFETIME: u32 = 3;
/// The last of them comes at least this share of a period before the expiry
/// (1m56s before tbot's default 1h certificates expire): room for one attempt.
const LAST_TRY_SHARE: u32 = 10;
/// A slot still counts as coming before the expiry with this share of a
/// period to spare (a quarter of the designed margin: expiries fall on whole
/// seconds, a second or two short of the lifetime asked), but not a slot
/// that coincides with the expiry (a lifetime a multiple of the period).
const SLOT_SPARE_SHARE: u32 = 4 * LAST_TRY_SHARE;
/// A last try off the slot comes at least this share of a period after the
/// failure it follows, so a failed last slot is not tried again at once.
const RETRY_GAP_SHARE: u32 = 4;
/// How much shorter than asked a lifetime may be before it counts as capped
/// (servers round, and backdate `not_before` by a minute).
const LIFETIME_SLACK: Duration = Duration::from_secs(60);
const MINUTE: Duration = Duration::from_secs(60);

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

/// The renewal period: the earlier of `interval` and the period that fits
/// three tries into the lifetime with a tenth of a period to spare (lifetime
/// × 10/31). The lifetime is the one `asked` for unless the server `issued`
/// noticeably less; then the issued one rounded (see [`nominal_lifetime`]):
/// the same period at every renewal, whatever the attempt's latency.
pub fn renewal_period(interval: Duration, asked: Duration, issued: Duration) -> Duration {
    let lifetime = nominal_lifetime(asked, issued);
    interval.min(lifetime * LAST_TRY_SHARE / (TRIES_PER_LIFETIME * LAST_TRY_SHARE + 1))
}

/// The lifetime a schedule is built on: `asked` (`credential_ttl`) unless
/// the server `issued` noticeably less ([`shortened`]), then the issued
/// lifetime rounded to whole minutes (whole seconds below two minutes), as
/// servers cap lifetimes at round values. Never the measured remainder as
/// it is: it is shorter by a different fraction of a second every time.
pub fn nominal_lifetime(asked: Duration, issued: Duration) -> Duration {
    if !shortened(asked, issued) {
        return asked;
    }
    let unit = if issued >= 2 * MINUTE { MINUTE } else { Duration::from_secs(1) };
    let units = (issued.as_secs_f64() / unit.as_secs_f64()).round() as u32;
    unit * units.max(1)
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
/// half a period away, while it comes before the expiry with a fortieth of
/// a period to spare (with [`renewal_period`]'s period, the third slot after
/// a success is a tenth of a period before the expiry, so it always does).
/// When the slots do not fit (a shorter `renewal_interval`, a rounded capped
/// lifetime), a last try off the slot a tenth of a period before the expiry,
/// if that is at least a quarter period away. `None` when there is no such
/// moment: the caller backs off as if expired.
pub fn next_retry(now: SystemTime, period: Duration, phase: Phase, expires: SystemTime) -> Option<Duration> {
    let left = expires.duration_since(now).unwrap_or(Duration::ZERO);
    let slot = next_renewal(now, period, phase);
    if slot + period / SLOT_SPARE_SHARE <= left {
        return Some(slot);
    }
    left.checked_sub(period / LAST_TRY_SHARE).filter(|d| *d >= period / RETRY_GAP_SHARE)
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
        // Defaults: 1h certificates, renewed every 20m asked; three tries
        // with a tenth of a period to spare fit 19m21s.
        let default = renewal_period(20 * MIN, HOUR, HOUR - Duration::from_millis(300));
        assert_eq!(default, HOUR * 10 / 31);
        assert_eq!(default.as_secs(), 19 * 60 + 21);
        // A shorter interval is kept.
        assert_eq!(renewal_period(10 * MIN, HOUR, HOUR), 10 * MIN);
        // Asked 24h, renewing every 13h, but the server capped at 12h.
        assert_eq!(renewal_period(13 * HOUR, 24 * HOUR, 12 * HOUR - Duration::from_secs(1)), 12 * HOUR * 10 / 31);
        assert!(shortened(24 * HOUR, 12 * HOUR));
        assert!(!shortened(HOUR, HOUR - Duration::from_secs(5)));
        let now = SystemTime::UNIX_EPOCH + 1000 * HOUR + Duration::from_secs(17);
        for phase in [Phase(0.0), Phase(0.3), Phase(0.99)] {
            let d = next_renewal(now, default, phase);
            assert!(d >= default / 2 && d < default * 3 / 2, "{d:?}");
        }
    }

    #[test]
    fn the_period_is_the_same_at_every_renewal() {
        // The remaining lifetime measured after an attempt is a little
        // shorter each time (latency, whole-second expiries): the period
        // must not follow it, or the slot moves at every renewal.
        let asked = Duration::from_secs(90);
        let periods: Vec<Duration> = [0, 1, 250, 999, 1400]
            .into_iter()
            .map(|ms| renewal_period(Duration::from_secs(30), asked, asked - Duration::from_millis(ms)))
            .collect();
        assert!(periods.iter().all(|p| *p == periods[0]), "{periods:?}");
        let capped: Vec<Duration> = [0, 300, 1700]
            .into_iter()
            .map(|ms| renewal_period(13 * HOUR, 24 * HOUR, 12 * HOUR - Duration::from_millis(ms)))
            .collect();
        assert!(capped.iter().all(|p| *p == capped[0]), "{capped:?}");
        assert_eq!(nominal_lifetime(Duration::from_secs(90), Duration::from_millis(29_600)), Duration::from_secs(30));
        // So a renewal lands where the one before did, in whole periods.
        let phase = Phase(0.4);
        let now = SystemTime::UNIX_EPOCH + 1000 * HOUR;
        let offsets: Vec<u128> = periods
            .iter()
            .map(|p| {
                let at = now + until_slot(now, *p, phase, Duration::ZERO);
                at.duration_since(SystemTime::UNIX_EPOCH).unwrap().as_nanos() % periods[0].as_nanos()
            })
            .collect();
        assert!(offsets.iter().all(|o| *o == offsets[0]), "{offsets:?}");
    }

    /// One agent through an outage from `start` for `outage`, with the
    /// certificates a server issues (expiry on a whole second, and a second
    /// earlier for outputs capped to the bot's whole seconds left): the
    /// times of its attempts, and whether its credentials lapsed.
    fn through_outage(phase: Phase, asked: Duration, outage: Duration) -> (Vec<SystemTime>, Duration, bool) {
        let interval = asked / 3;
        let start = SystemTime::UNIX_EPOCH + 1000 * HOUR;
        let whole_second = |t: SystemTime| {
            SystemTime::UNIX_EPOCH
                + Duration::from_secs(t.duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs() - 1)
        };
        // The first join, at any time; then the slots.
        let mut period = interval;
        let mut t = start;
        let mut expires = whole_second(t + asked);
        let mut attempts = Vec::new();
        while t < start + 3 * outage + 4 * asked {
            if t >= expires {
                return (attempts, period, true);
            }
            attempts.push(t);
            let failed = t >= start + asked && t < start + asked + outage;
            let wait = if failed {
                match next_retry(t, period, phase, expires) {
                    Some(wait) => wait,
                    None => return (attempts, period, true),
                }
            } else {
                expires = whole_second(t + asked);
                period = renewal_period(interval, asked, expires.duration_since(t).unwrap());
                next_renewal(t, period, phase)
            };
            t += wait;
        }
        (attempts, period, false)
    }

    #[test]
    fn an_outage_shorter_than_two_periods_is_ridden_out_on_the_slots() {
        // Credentials are up to a period old when an outage starts, so no
        // schedule rides out more than the lifetime less a period (2.1
        // periods); the slots alone ride out two.
        for asked in [Duration::from_secs(90), HOUR] {
            for i in 0..200 {
                let phase = Phase::of(&format!("agent-{i}"));
                let period = renewal_period(asked / 3, asked, asked);
                for outage in [period / 2, period * 3 / 2, period * 19 / 10, period * 2 - Duration::from_secs(1)] {
                    let (attempts, used, lapsed) = through_outage(phase, asked, outage);
                    assert_eq!(used, period);
                    assert!(!lapsed, "{asked:?} {outage:?} {i}: the credentials lapsed");
                    // Every attempt at the agent's slot: no try off the slot
                    // that would add to the load of the agents renewing then.
                    let first = attempts[1];
                    for at in &attempts[1..] {
                        let since = at.duration_since(first).unwrap().as_nanos();
                        let off = since % period.as_nanos();
                        assert!(off < 1000 || period.as_nanos() - off < 1000, "{asked:?} {outage:?} {i}: {since} ns");
                    }
                }
            }
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
        // The next slot, 20m away, comes before an expiry in 22m: it is the retry.
        assert_eq!(next_retry(now, period, phase, now + 22 * MIN), Some(20 * MIN));
        // The credentials expire in 20m20s: a last try a tenth of a period before.
        assert_eq!(
            next_retry(now, period, phase, now + 20 * MIN + 20 * Duration::from_secs(1)),
            Some(18 * MIN + 20 * Duration::from_secs(1))
        );
        // Less than a quarter period before that moment: nothing left to wait for.
        assert_eq!(next_retry(now, period, phase, now + 6 * MIN), None);
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
