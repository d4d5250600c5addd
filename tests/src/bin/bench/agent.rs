//! The agent binary: one-shot join time and memory, size, idle daemon cost.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use joinery_testkit::{Devstack, binary};

use crate::median;
use crate::report::Report;

/// What a join's key costs, by the key types Teleport accepts for a bot (its `balanced-v1`
/// suite uses ECDSA P-256, what the agent generates; `legacy` used RSA 2048): generation and
/// every public encoding a join sends, mean of 50.
fn bench_keys(report: &mut Report) {
    let time = |f: &dyn Fn()| {
        let start = Instant::now();
        for _ in 0..50 {
            f();
        }
        start.elapsed() / 50
    };
    let p256 = time(&|| {
        let k = joinery_teleport::keys::KeyPair::generate();
        std::hint::black_box((k.public_key_pkix_der(), k.ssh_wire(), k.private_key_pem()));
    });
    let rsa = time(&|| {
        std::hint::black_box(rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256).map(|k| k.public_key_pem()).ok());
    });
    report.add(
        "agent",
        "join key: ECDSA P-256 generate + encodings (mean of 50)",
        p256.as_secs_f64() * 1e3,
        "ms",
        Some(format!("RSA 2048 generate: {:.1} ms", rsa.as_secs_f64() * 1e3)),
    );
}

/// The agent: one-shot Azure join wall time and peak RSS, binary size, and
/// idle CPU / RSS of the daemon between renewals.
pub(crate) fn bench_agent(report: &mut Report) {
    bench_keys(report);
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
    let (agent_cpu, stack_cpu) = (crate::cpu::of_waited_children(), crate::cpu::of(stack.pid()));
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
    let agent_cpu = (crate::cpu::of_waited_children() - agent_cpu) / 15;
    let stack_cpu = (crate::cpu::of(stack.pid()) - stack_cpu) / 15;
    let peak = rss.iter().max().copied().unwrap_or(0);
    report.add(
        "agent",
        "one-shot azure join, process start to files (median of 15)",
        median(walls).as_secs_f64() * 1e3,
        "ms",
        Some("target 40".into()),
    );
    report.add(
        "agent",
        "one-shot: agent CPU per join (user+sys, mean of 15)",
        agent_cpu.as_secs_f64() * 1e3,
        "ms",
        Some(format!("devstack CPU per join {:.1} ms", stack_cpu.as_secs_f64() * 1e3)),
    );
    report.add("agent", "one-shot peak RSS (max of 15)", peak as f64 / 1024.0, "MiB", Some("limit 20".into()));
    report.add("agent", "release binary size", size as f64 / 1048576.0, "MiB", Some("limit 15".into()));

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
    let before = crate::cpu::of(child.id());
    let window = Duration::from_secs(10);
    std::thread::sleep(window);
    let used = crate::cpu::of(child.id()) - before;
    let status = std::fs::read_to_string(format!("/proc/{}/status", child.id())).unwrap_or_default();
    let rss_kb = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(0);
    let _ = child.kill();
    let _ = child.wait();
    report.add(
        "agent",
        format!("daemon idle CPU over {} s", window.as_secs()),
        used.as_secs_f64() / window.as_secs_f64() * 100.0,
        "%",
        None,
    );
    report.add("agent", "daemon idle RSS", rss_kb as f64 / 1024.0, "MiB", None);
}
