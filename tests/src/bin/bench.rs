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
    if all || which.iter().any(|w| w == "provider") {
        bench_handshake();
        bench_terraform();
    }
}
