//! `joinery-bench`: the benchmark figures the issues ask for, on this machine.
//!
//! Run with `make bench` (release binaries). Each section starts what it
//! needs and prints one line per figure; nothing here is a pass/fail test.
//!
//! * `devstack`: token joins per second served by the devstack (many
//!   concurrent clients, each on its own connection) and `GetToken` round
//!   trips per second through the client.
//! * `provider`: the provider's start-to-handshake latency, and `terraform
//!   plan` over 500 tokens + 500 bots against the same count of
//!   `terraform_data` resources, with the provider's peak RSS.

// This target links every dependency of its package; unused ones are
// caught on the library target.
#![allow(unused_crate_dependencies)]

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use joinery_teleport::proto::teleport::header::v1::Metadata as HeaderMetadata;
use joinery_teleport::proto::teleport::machineid::v1::{Bot, BotSpec};
use joinery_teleport::proto::types::{Metadata, ProvisionTokenSpecV2, ProvisionTokenV2};
use joinery_teleport::tls::{ALPN_PROXY_GRPC, API_DOMAIN, TlsSettings, Trust};
use joinery_teleport::{Client, ClientConfig, Credentials, RetryPolicy, join};
use joinery_testkit::terraform::{Workspace, terraforms};
use joinery_testkit::{Devstack, binary};

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

async fn admin(stack: &Devstack) -> Client {
    let path = stack.info["teleport"]["admin_identity_file"].as_str().unwrap_or_default();
    let creds = Credentials::from_identity_file(Path::new(path)).expect("admin identity");
    Client::connect(ClientConfig {
        addr: stack.info["teleport"]["addr"].as_str().unwrap_or_default().to_string(),
        tls: creds.tls_settings(),
        retry: RetryPolicy::none(),
        dial_timeout: Duration::from_secs(5),
    })
    .await
    .expect("connect")
}

async fn anonymous(stack: &Devstack) -> Client {
    let ca = std::fs::read_to_string(stack.info["teleport"]["ca_file"].as_str().unwrap_or_default()).expect("ca");
    Client::connect(ClientConfig {
        addr: stack.info["teleport"]["addr"].as_str().unwrap_or_default().to_string(),
        tls: TlsSettings {
            trust: Trust::Roots(joinery_teleport::identity::pem_certs_to_der(&ca)),
            client_auth: None,
            server_name: API_DOMAIN.into(),
            alpn: vec![ALPN_PROXY_GRPC.into(), "h2".into()],
        },
        retry: RetryPolicy::none(),
        dial_timeout: Duration::from_secs(5),
    })
    .await
    .expect("connect")
}

fn token(name: &str, bot: &str) -> ProvisionTokenV2 {
    ProvisionTokenV2 {
        version: "v2".into(),
        metadata: Some(Metadata { name: name.into(), ..Default::default() }),
        spec: Some(ProvisionTokenSpecV2 { roles: vec!["Bot".into()], bot_name: bot.into(), ..Default::default() }),
        ..Default::default()
    }
}

async fn bench_devstack() {
    const JOINS: usize = 400;
    const CLIENTS: usize = 16;
    let stack = Devstack::start();
    let admin = admin(&stack).await;
    admin
        .create_bot(Bot {
            metadata: Some(HeaderMetadata { name: "bench".into(), ..Default::default() }),
            spec: Some(BotSpec::default()),
            ..Default::default()
        })
        .await
        .expect("bot");
    let start = Instant::now();
    for i in 0..JOINS {
        admin.upsert_token(token(&format!("bench-{i}"), "bench")).await.expect("token");
    }
    let upserts = JOINS as f64 / start.elapsed().as_secs_f64();
    println!("devstack  token upserts (sequential, persisted)  {upserts:>8.0} /s");

    let queue = Arc::new(std::sync::Mutex::new((0..JOINS).collect::<Vec<_>>()));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..CLIENTS {
        let client = anonymous(&stack).await;
        let queue = queue.clone();
        tasks.push(tokio::spawn(async move {
            loop {
                let next = queue.lock().map(|mut q| q.pop()).ok().flatten();
                let Some(i) = next else { break };
                join::join_with_token(&client, &format!("bench-{i}"), Duration::from_secs(3600)).await.expect("join");
            }
        }));
    }
    for t in tasks {
        t.await.expect("join task");
    }
    let joins = JOINS as f64 / start.elapsed().as_secs_f64();
    println!("devstack  token joins ({CLIENTS} clients, loopback)      {joins:>8.0} /s");

    admin.upsert_token(token("probe", "bench")).await.expect("probe");
    let calls = 2000;
    let start = Instant::now();
    for _ in 0..calls {
        admin.get_token("probe").await.expect("get");
    }
    let seq = calls as f64 / start.elapsed().as_secs_f64();
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let c = admin.clone();
        tasks.push(tokio::spawn(async move {
            for _ in 0..calls / 16 {
                c.get_token("probe").await.expect("get");
            }
        }));
    }
    for t in tasks {
        t.await.expect("get task");
    }
    let par = calls as f64 / start.elapsed().as_secs_f64();
    println!("client    GetToken round trips (1 in flight)      {seq:>8.0} /s");
    println!("client    GetToken round trips (16 in flight)     {par:>8.0} /s");
}

/// Azure joins per second the devstack verifies (PKCS#7, JWT, allow rules,
/// certificate issuance per join), with the devstack pinned to `cpus`.
async fn bench_azure(cpus: &str) {
    const JOINS: usize = 200;
    const CLIENTS: usize = 8;
    let mut stack = Devstack::start();
    let pid = stack.pid();
    let _ = Command::new("taskset").args(["-a", "-p", "-c", cpus]).arg(pid.to_string()).stdout(Stdio::null()).status();
    let admin = admin(&stack).await;
    admin
        .create_bot(Bot {
            metadata: Some(HeaderMetadata { name: "azure-bench".into(), ..Default::default() }),
            spec: Some(BotSpec::default()),
            ..Default::default()
        })
        .await
        .expect("bot");
    let sub = stack.info["azure"]["subscription_id"].as_str().unwrap_or_default().to_string();
    let mut t = token("azure-bench", "azure-bench");
    if let Some(spec) = t.spec.as_mut() {
        spec.join_method = "azure".into();
        spec.azure = Some(joinery_teleport::proto::types::ProvisionTokenSpecV2Azure {
            allow: vec![joinery_teleport::proto::types::provision_token_spec_v2_azure::Rule {
                subscription: sub,
                resource_groups: vec!["group1".into()],
            }],
        });
    }
    admin.upsert_token(t).await.expect("token");
    let vm = stack.info["azure"]["vms"]
        .as_array()
        .and_then(|v| v.iter().find(|v| v["name"] == "vm-1"))
        .cloned()
        .unwrap_or_default();
    let imds_url = vm["imds_endpoint"].as_str().unwrap_or_default().to_string();
    let aia_host = vm["agent_env"]["JOINERY_AZURE_AIA_ALLOW"].as_str().unwrap_or_default().to_string();
    let start = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..CLIENTS {
        let client = anonymous(&stack).await;
        let imds = joinery_azure::imds::ImdsClient::new(imds_url.clone()).expect("imds");
        let aia = joinery_azure::aia::AiaFetcher::new().expect("aia").allow_host(aia_host.clone());
        tasks.push(tokio::spawn(async move {
            for _ in 0..JOINS / CLIENTS {
                joinery_agent::join::azure::join_with_azure(
                    &client,
                    "azure-bench",
                    Duration::from_secs(3600),
                    &imds,
                    None,
                    &aia,
                )
                .await
                .unwrap_or_else(|e| panic!("azure join {c}: {e}"));
            }
        }));
    }
    for t in tasks {
        t.await.expect("azure task");
    }
    let rate = JOINS as f64 / start.elapsed().as_secs_f64();
    println!("devstack  azure joins verified (cpus {cpus}, {CLIENTS} clients) {rate:>8.0} /s");
    stack.stop();
}

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
/// Durations are scaled down (certificates of 90 seconds) so the run takes
/// minutes; the schedule is the same at any scale. About 35 attempts per
/// second: light enough that the devstack's own latency does not shape the
/// figures on a 2-core machine.
async fn bench_fleet() {
    use joinery_agent::diag::Status;
    use joinery_agent::renew::Agent;
    use joinery_tbot_config::{BotConfig, Source};

    let n: usize = std::env::var("JOINERY_FLEET_N").ok().and_then(|v| v.parse().ok()).unwrap_or(1000);
    const TTL: Duration = Duration::from_secs(90);
    const PERIOD: Duration = Duration::from_secs(30);
    const OUTAGE: Duration = Duration::from_secs(45);
    const BIN: usize = 6; // seconds: a fifth of the period
    // JOINERY_BENCH_VERBOSE keeps the devstack's log in /tmp/joinery-fleet-stack.log.
    let verbose = std::env::var_os("JOINERY_BENCH_VERBOSE").is_some();
    if verbose {
        // The agents' own logs, for finding out why one of them failed.
        if let Ok(file) = std::fs::File::create("/tmp/joinery-fleet-agents.log") {
            let _ = tracing_subscriber::fmt()
                .with_writer(std::sync::Mutex::new(file))
                .with_ansi(false)
                .with_env_filter("joinery_agent=debug")
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
    admin
        .create_bot(Bot {
            metadata: Some(HeaderMetadata { name: "fleet".into(), ..Default::default() }),
            spec: Some(BotSpec::default()),
            ..Default::default()
        })
        .await
        .expect("bot");
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
    for _ in 0..OUTAGE.as_secs() {
        sample(&mut per_second, &mut last).await;
    }
    let expired_during = statuses.iter().filter(|s| s.expires().is_none_or(|e| e <= SystemTime::now())).count();
    let fresh_before: Vec<u64> = statuses.iter().map(|s| s.renewals()).collect();
    let _ = std::fs::remove_file(stack.dir.join("teleport-faults.json"));
    let recovered = Instant::now();
    let mut all_fresh = None;
    while all_fresh.is_none() || per_second.len() < (4 * PERIOD + OUTAGE).as_secs() as usize {
        sample(&mut per_second, &mut last).await;
        if all_fresh.is_none() && statuses.iter().zip(&fresh_before).all(|(s, before)| s.renewals() > *before) {
            all_fresh = Some(recovered.elapsed());
        }
        if recovered.elapsed() > TTL * 3 {
            break;
        }
    }
    let stale = statuses.iter().zip(&fresh_before).filter(|(s, before)| s.renewals() <= **before).count();
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
    println!(
        "fleet     {n} agents, {}s certificates renewed every {}s, {}s auth outage",
        TTL.as_secs(),
        PERIOD.as_secs(),
        OUTAGE.as_secs()
    );
    println!(
        "fleet     attempts peak/mean per {BIN}s ({:.0}/{:.0}) {:>13.2}   (ideal slots, same phases: {:.2})",
        binned.peak,
        binned.mean,
        binned.ratio(),
        ideal_ratio(n, PERIOD, seconds, BIN)
    );
    println!(
        "fleet     attempts peak/mean per 1s ({:.0}/{:.0}) {:>14.2}   (ideal slots, same phases: {:.2})",
        fine.peak,
        fine.mean,
        fine.ratio(),
        ideal_ratio(n, PERIOD, seconds, 1)
    );
    match all_fresh {
        Some(t) => println!(
            "fleet     time until all are fresh after the outage {:>8.1} s   (renewal period: {} s)",
            t.as_secs_f64(),
            PERIOD.as_secs()
        ),
        None => println!("fleet     agents still not fresh {}s after the outage  {stale:>8}", (TTL * 3).as_secs()),
    }
    println!(
        "fleet     agents with expired credentials after the outage {expired_during:>4}   agents that gave up: {gave_up}"
    );
}

/// The agent: one-shot Azure join wall time and peak RSS, binary size, and
/// idle CPU / RSS of the daemon between renewals.
fn bench_agent() {
    let stack = Devstack::start();
    let agent = binary("joinery-agent");
    let size = std::fs::metadata(&agent).map(|m| m.len()).unwrap_or(0);
    let sub = stack.info["azure"]["subscription_id"].as_str().unwrap_or_default();
    stack.create("kind: bot\nversion: v1\nmetadata: {name: agent-bench}\nspec: {roles: [access]}\n", false);
    stack.create(
        &format!(
            "kind: token\nversion: v2\nmetadata: {{name: agent-bench}}\nspec:\n  roles: [Bot]\n  bot_name: agent-bench\n  join_method: azure\n  azure:\n    allow: [{{subscription: {sub}, resource_groups: [group1]}}]\n"
        ),
        false,
    );
    let vm = stack.info["azure"]["vms"]
        .as_array()
        .and_then(|v| v.iter().find(|v| v["name"] == "vm-1"))
        .cloned()
        .unwrap_or_default();
    let dir = tempfile::tempdir().expect("tempdir");
    let config = |oneshot: bool| {
        format!(
            "version: v2\nauth_server: {}\nonboarding:\n  join_method: azure\n  token: agent-bench\n  ca_pins: [\"{}\"]\nstorage:\n  type: memory\noutputs:\n  - type: identity\n    destination: {{type: directory, path: {}}}\noneshot: {oneshot}\n",
            stack.info["teleport"]["addr"].as_str().unwrap_or_default(),
            stack.info["teleport"]["ca_pin"].as_str().unwrap_or_default(),
            dir.path().join("out").display()
        )
    };
    let cfg = dir.path().join("tbot.yaml");
    std::fs::write(&cfg, config(true)).expect("config");
    let env: Vec<(String, String)> = vm["agent_env"]
        .as_object()
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string())).collect())
        .unwrap_or_default();
    let mut walls = Vec::new();
    let mut rss = Vec::new();
    let rss_file = dir.path().join("rss");
    for _ in 0..15 {
        let start = Instant::now();
        let status = Command::new("/usr/bin/time")
            .args(["-o"])
            .arg(&rss_file)
            .args(["-f", "%M"])
            .arg(&agent)
            .args(["start", "-c"])
            .arg(&cfg)
            .envs(env.clone())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("agent");
        walls.push(start.elapsed());
        assert!(status.success(), "agent one-shot failed");
        rss.push(std::fs::read_to_string(&rss_file).unwrap_or_default().trim().parse::<u64>().unwrap_or(0));
    }
    let peak = rss.iter().max().copied().unwrap_or(0);
    println!(
        "agent     one-shot azure join, process start to files (median of 15) {:>6.1} ms",
        median(walls).as_secs_f64() * 1e3
    );
    println!("agent     one-shot peak RSS (max of 15)            {:>8.1} MB", peak as f64 / 1024.0);
    println!("agent     release binary size                       {:>8.1} MB", size as f64 / 1048576.0);

    let daemon_cfg = dir.path().join("daemon.yaml");
    std::fs::write(&daemon_cfg, config(false)).expect("config");
    let mut child = Command::new(&agent)
        .args(["start", "-c"])
        .arg(&daemon_cfg)
        .envs(env)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("daemon");
    joinery_testkit::poll("daemon output", Duration::from_secs(30), || {
        dir.path().join("out/tlscert").exists().then_some(())
    });
    let ticks = |pid: u32| -> u64 {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        let fields: Vec<&str> = stat.rsplit(')').next().unwrap_or_default().split_whitespace().collect();
        fields.get(11).and_then(|u| u.parse::<u64>().ok()).unwrap_or(0)
            + fields.get(12).and_then(|s| s.parse::<u64>().ok()).unwrap_or(0)
    };
    let before = ticks(child.id());
    let window = Duration::from_secs(10);
    std::thread::sleep(window);
    let used = ticks(child.id()) - before;
    let status = std::fs::read_to_string(format!("/proc/{}/status", child.id())).unwrap_or_default();
    let rss_kb = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(0);
    let _ = child.kill();
    let _ = child.wait();
    println!(
        "agent     daemon idle CPU over {}s / RSS              {:>6.2}% / {:.1} MB",
        window.as_secs(),
        used as f64 / 100.0 / window.as_secs_f64() * 100.0,
        rss_kb as f64 / 1024.0
    );
}

fn bench_handshake() {
    let provider = binary("terraform-provider-teleport");
    let mut samples = Vec::new();
    for _ in 0..20 {
        let start = Instant::now();
        let mut child = Command::new(&provider)
            .env("TF_PLUGIN_MAGIC_COOKIE", "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2")
            .env("PLUGIN_PROTOCOL_VERSIONS", "5,6")
            .env_remove("PLUGIN_CLIENT_CERT")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start provider");
        let mut line = String::new();
        let mut out = std::io::BufReader::new(child.stdout.take().expect("stdout"));
        std::io::BufRead::read_line(&mut out, &mut line).expect("handshake line");
        samples.push(start.elapsed());
        let _ = child.kill();
        let _ = child.wait();
    }
    println!("provider  start to handshake line (median of 20)  {:>8.1} ms", median(samples).as_secs_f64() * 1e3);
}

fn timed_plan(ws: &Workspace) -> Duration {
    let mut samples = Vec::new();
    for _ in 0..3 {
        let start = Instant::now();
        let r = ws.plan(&[]);
        assert_eq!(r.code, 0, "bench plan must be empty: {}", r.all());
        samples.push(start.elapsed());
    }
    median(samples)
}

fn bench_terraform() {
    const N: usize = 500;
    let (label, tf) = terraforms().remove(0);
    let stack = Devstack::start();

    // Measure the provider's peak RSS through a wrapper that records it.
    let rss_dir = tempfile::tempdir().expect("tempdir");
    let wrapper_dir = rss_dir.path().join("bin");
    std::fs::create_dir_all(&wrapper_dir).expect("dir");
    let wrapper = wrapper_dir.join("terraform-provider-teleport");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\nexec /usr/bin/time -a -o {} -f %M {} \"$@\"\n",
            rss_dir.path().join("rss").display(),
            binary("terraform-provider-teleport").display()
        ),
    )
    .expect("wrapper");
    let _ = Command::new("chmod").arg("+x").arg(&wrapper).status();

    let ws = Workspace::with_provider(
        &label,
        &tf,
        stack.provider_env(),
        joinery_testkit::terraform::TELEPORT_SOURCE,
        &wrapper_dir,
    );
    ws.write(&format!(
        r#"provider "teleport" {{}}
resource "teleport_bot" "b" {{
  count    = {N}
  metadata = {{ name = "bench-${{count.index}}" }}
  spec     = {{ roles = ["access"] }}
}}
resource "teleport_provision_token" "t" {{
  count    = {N}
  version  = "v2"
  metadata = {{ name = "bench-token-${{count.index}}" }}
  spec     = {{ roles = ["Bot"], bot_name = teleport_bot.b[count.index].metadata.name, join_method = "token" }}
}}
"#
    ));
    let start = Instant::now();
    ws.apply();
    let apply = start.elapsed();
    let _ = std::fs::remove_file(rss_dir.path().join("rss"));
    let teleport_plan = timed_plan(&ws);
    let rss_kb: u64 = std::fs::read_to_string(rss_dir.path().join("rss"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .max()
        .unwrap_or(0);

    let floor = Workspace::new(&label, &tf, vec![]);
    std::fs::write(
        floor.work().join("main.tf"),
        format!("resource \"terraform_data\" \"d\" {{\n  count = {}\n  input = \"x-${{count.index}}\"\n}}\n", 2 * N),
    )
    .expect("floor config");
    floor.ok(&["init", "-no-color", "-input=false"]);
    floor.apply();
    let floor_plan = timed_plan(&floor);
    println!("terraform apply {N} tokens + {N} bots ({label})     {:>8.1} s", apply.as_secs_f64());
    println!("terraform plan  {N} tokens + {N} bots (median of 3) {:>8.2} s", teleport_plan.as_secs_f64());
    println!("terraform plan  {} terraform_data (median of 3)  {:>8.2} s", 2 * N, floor_plan.as_secs_f64());
    println!(
        "terraform plan  ratio teleport / terraform_data     {:>8.2}",
        teleport_plan.as_secs_f64() / floor_plan.as_secs_f64()
    );
    println!("provider  peak RSS during the plans               {:>8.1} MB", rss_kb as f64 / 1024.0);
}

fn main() {
    let which: Vec<String> = std::env::args().skip(1).collect();
    let all = which.is_empty();
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    println!(
        "# joinery-bench on {} cores, {:?}",
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        SystemTime::now()
    );
    if all || which.iter().any(|w| w == "devstack") {
        runtime.block_on(bench_devstack());
    }
    if all || which.iter().any(|w| w == "azure") {
        runtime.block_on(bench_azure("0"));
        runtime.block_on(bench_azure("0,1"));
    }
    if all || which.iter().any(|w| w == "agent") {
        bench_agent();
    }
    if all || which.iter().any(|w| w == "fleet") {
        runtime.block_on(bench_fleet());
    }
    if all || which.iter().any(|w| w == "provider") {
        bench_handshake();
        bench_terraform();
    }
}
