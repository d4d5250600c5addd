//! A fleet of agents renewing through an auth outage: how evenly they call
//! the cluster, and how soon all are fresh again.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use joinery_testkit::Devstack;

use crate::report::Report;
use crate::{admin, create_bot, token};

/// Attempts counted per bin, and the summary a reader compares.
struct Rate {
    peak: f64,
    mean: f64,
}

impl Rate {
    /// Peak and mean of `counts` per bin.
    fn of(counts: &[u64]) -> Rate {
        let peak = counts.iter().copied().max().unwrap_or(0) as f64;
        let mean = counts.iter().sum::<u64>() as f64 / counts.len().max(1) as f64;
        Rate { peak, mean }
    }

    fn ratio(&self) -> f64 {
        if self.mean == 0.0 { 0.0 } else { self.peak / self.mean }
    }
}

/// Sums `per_second` into bins of `width` seconds (a last partial bin is dropped).
fn rebin(per_second: &[u64], width: usize) -> Vec<u64> {
    per_second.chunks_exact(width.max(1)).map(|c| c.iter().sum()).collect()
}

/// The same figure for an ideal fleet: every agent attempts exactly once
/// per period at its slot, with phases hashed like the agent's. What
/// random phases alone give; the measured ratio is compared to it.
fn ideal_ratio(n: usize, period: Duration, seconds: usize, width: usize) -> f64 {
    use joinery_agent::schedule::{Phase, until_slot};
    let start = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000_000);
    let mut counts = vec![0u64; seconds];
    for i in 0..n {
        let phase = Phase::of(&format!("ideal-{i}"));
        let mut t = until_slot(start, period, phase, Duration::ZERO);
        while (t.as_secs() as usize) < seconds {
            counts[t.as_secs() as usize] += 1;
            t += period;
        }
    }
    Rate::of(&rebin(&counts, width)).ratio()
}

/// A fleet of `N` agents (the agent's own renewal loop, one connection
/// each, in this process) renewing against the devstack through an auth
/// outage shorter than their credentials' lifetime, and the recovery.
/// Durations are scaled down (certificates of 3 minutes) so the run takes
/// minutes; the schedule is the same at any scale, but what does not scale
/// must stay small beside its margins: the last try comes a tenth of a
/// period before the expiry (5.8 s here, 1m56s for 1h certificates), of
/// which whole-second expiries take up to 2 s and a loaded 2-core machine
/// running a thousand agents and the devstack delays attempts by up to
/// seconds (with 90 s certificates, 2.9 s, agents' files expired for a
/// moment before their last try landed). About 17 attempts per second:
/// light enough that the devstack's own latency does not shape the figures.
///
/// Attempts are counted from one and a half periods after the last agent
/// joined (every agent is on its slot by then) to the end of the recovery:
/// two quiet periods, the outage, and at least two and a half periods
/// after it. The start-up is left out: its joins come as fast as `N`
/// agents are started in one process, which says nothing about a fleet of
/// VMs booting at different times.
pub(crate) async fn bench_fleet(report: &mut Report) {
    use joinery_agent::diag::Status;
    use joinery_agent::renew::Agent;
    use joinery_tbot_config::{BotConfig, Source};

    let n: usize = std::env::var("JOINERY_FLEET_N").ok().and_then(|v| v.parse().ok()).unwrap_or(1000);
    const TTL: Duration = Duration::from_secs(180);
    // renewal_interval; the period is a little shorter (three tries fit a lifetime).
    const PERIOD: Duration = Duration::from_secs(60);
    const OUTAGE: Duration = Duration::from_secs(90);
    const BIN: usize = 12; // seconds: a fifth of the period
    // JOINERY_BENCH_VERBOSE keeps the devstack's log in /tmp/joinery-fleet-stack.log.
    let verbose = std::env::var_os("JOINERY_BENCH_VERBOSE").is_some();
    if verbose {
        // The agents' own logs, for finding out why one of them failed.
        if let Ok(file) = std::fs::File::create("/tmp/joinery-fleet-agents.log") {
            let _ = tracing_subscriber::fmt()
                .with_writer(std::sync::Mutex::new(file))
                .with_ansi(false)
                // joinery_bench: the `agent{i}` span naming the agent on each line.
                .with_env_filter("joinery_agent=debug,joinery_bench=info")
                .try_init();
        }
    }
    let stack = if verbose {
        let _ = std::fs::remove_dir_all("/tmp/joinery-fleet-stack");
        Devstack::start_in(Path::new("/tmp/joinery-fleet-stack"), &[])
    } else {
        Devstack::start()
    };
    let admin = admin(&stack).await;
    create_bot(&admin, "fleet").await;
    for i in 0..n {
        admin.upsert_token(token(&format!("fleet-{i}"), "fleet")).await.expect("token");
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let mut statuses = Vec::new();
    let mut stops = Vec::new();
    let mut tasks = Vec::new();
    for i in 0..n {
        let yaml = format!(
            "version: v2\nauth_server: {}\nonboarding:\n  join_method: token\n  token: fleet-{i}\n  ca_pins: [\"{}\"]\nstorage:\n  type: memory\ncredential_ttl: {}s\nrenewal_interval: {}s\noutputs:\n  - type: identity\n    destination: {{type: directory, path: {}}}\n",
            stack.addr(),
            stack.pin(),
            TTL.as_secs(),
            PERIOD.as_secs(),
            dir.path().join(format!("out-{i}")).display()
        );
        let src = Source::new("fleet.yaml", &yaml);
        let cfg = BotConfig::parse(&src).and_then(|c| c.validate(&src)).expect("fleet config");
        let status = Arc::new(Status::default());
        let (stop, events) = tokio::sync::mpsc::channel(1);
        let agent = Agent::new(cfg, status.clone());
        let run = agent.run(events, Box::new(|| unreachable!("no reloads in the bench")), None);
        tasks.push(tokio::spawn(tracing::Instrument::instrument(run, tracing::info_span!("agent", i))));
        statuses.push(status);
        stops.push(stop);
    }
    let total = |s: &[Arc<Status>]| s.iter().map(|s| s.attempts()).sum::<u64>();
    let deadline = Instant::now() + Duration::from_secs(300);
    while !statuses.iter().all(|s| s.ready()) {
        assert!(Instant::now() < deadline, "the fleet did not join within 5 minutes");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // One and a half periods: every agent has moved from its first join onto its slot.
    tokio::time::sleep(PERIOD * 3 / 2).await;

    // Count attempts per second from here: two quiet periods, the outage, the recovery.
    let mut per_second = Vec::new();
    let mut last = total(&statuses);
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.tick().await;
    let mut sample = async |per_second: &mut Vec<u64>, last: &mut u64| {
        tick.tick().await;
        let now = total(&statuses);
        per_second.push(now - *last);
        *last = now;
    };
    for _ in 0..2 * PERIOD.as_secs() {
        sample(&mut per_second, &mut last).await;
    }
    // The outage: every renewal refused as Unavailable, as a down auth service answers behind a proxy.
    stack.inject_teleport_fault("GenerateUserCerts", "unavailable", u32::MAX);
    // Agents whose credentials lapsed at any moment from here on.
    let mut lapsed = vec![false; n];
    let note_lapsed = |lapsed: &mut [bool]| {
        let now = SystemTime::now();
        for (l, s) in lapsed.iter_mut().zip(&statuses) {
            *l |= s.expires().is_none_or(|e| e <= now);
        }
    };
    for _ in 0..OUTAGE.as_secs() {
        sample(&mut per_second, &mut last).await;
        note_lapsed(&mut lapsed);
    }
    end_outage(&stack).await;
    let recovered = Instant::now();
    // Fresh again: every agent's last attempt succeeded and its credentials
    // are valid (what `/readyz` answers on each VM).
    let mut all_fresh = None;
    while all_fresh.is_none() || per_second.len() < (4 * PERIOD + OUTAGE).as_secs() as usize {
        sample(&mut per_second, &mut last).await;
        note_lapsed(&mut lapsed);
        if all_fresh.is_none() && statuses.iter().all(|s| s.ready()) {
            all_fresh = Some(recovered.elapsed());
        }
        if recovered.elapsed() > TTL * 3 {
            break;
        }
    }
    let stale = statuses.iter().filter(|s| !s.ready()).count();
    let lapsed = lapsed.iter().filter(|l| **l).count();
    let gave_up = tasks.iter().filter(|t| t.is_finished()).count();
    // Failures by reason over the fleet, from each agent's metrics.
    let mut reasons = std::collections::BTreeMap::<String, f64>::new();
    for s in &statuses {
        for line in s.metrics().lines().filter(|l| l.starts_with("joinery_agent_renewal_failures_total{")) {
            if let Some((label, n)) = line.rsplit_once(' ') {
                *reasons.entry(label.to_string()).or_default() += n.parse::<f64>().unwrap_or(0.0);
            }
        }
    }
    if verbose {
        eprintln!("fleet attempts per second: {per_second:?}");
        eprintln!("fleet failures: {reasons:?}");
    }
    for stop in stops {
        let _ = stop.send(joinery_agent::signals::Event::Stop).await;
    }
    for t in tasks {
        let _ = t.await;
    }
    let seconds = per_second.len();
    let binned = Rate::of(&rebin(&per_second, BIN));
    let fine = Rate::of(&per_second);
    let period = joinery_agent::schedule::renewal_period(PERIOD, TTL, TTL);
    let setup = format!(
        "{n} agents, {}s certificates renewed every {:.1}s, {}s outage",
        TTL.as_secs(),
        period.as_secs_f64(),
        OUTAGE.as_secs()
    );
    report.add(
        "fleet",
        format!("attempts peak/mean per {BIN}s bin ({setup}; steady state, outage, recovery)"),
        binned.ratio(),
        "x",
        Some(format!("ideal slots with the same phases {:.2}; target 1.2", ideal_ratio(n, period, seconds, BIN))),
    );
    report.add(
        "fleet",
        "attempts peak/mean per 1s bin",
        fine.ratio(),
        "x",
        Some(format!("ideal slots with the same phases {:.2}", ideal_ratio(n, period, seconds, 1))),
    );
    match all_fresh {
        Some(t) => report.add(
            "fleet",
            "time until all are fresh (ready) again after the outage",
            t.as_secs_f64(),
            "s",
            Some(format!("renewal period {:.1} s", period.as_secs_f64())),
        ),
        None => report.add(
            "fleet",
            format!("agents still not fresh (ready) {} s after the outage", (TTL * 3).as_secs()),
            stale as f64,
            "agents",
            Some("0".into()),
        ),
    }
    report.add(
        "fleet",
        "agents whose credentials lapsed during the outage or recovery",
        lapsed as f64,
        "agents",
        Some("0".into()),
    );
    report.add("fleet", "agents that gave up", gave_up as f64, "agents", Some("0".into()));
}

/// Ends the outage: removes the faults file, and again if it comes back.
/// The devstack writes the file back after taking a fault from it, so a
/// call in flight while it is removed would restore the outage.
async fn end_outage(stack: &Devstack) {
    let file = stack.dir.join("teleport-faults.json");
    loop {
        let _ = std::fs::remove_file(&file);
        tokio::time::sleep(Duration::from_millis(100)).await;
        if !file.exists() {
            return;
        }
    }
}
