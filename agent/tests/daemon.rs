//! Daemon mode against a real devstack: periodic renewal with atomic file
//! replacement, SIGHUP reloads, an outage and recovery, clean stops.

// A test binary links every dependency and dev-dependency of its package;
// unused ones are caught on the library target.
#![allow(unused_crate_dependencies)]

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use common::*;

fn daemon_config(stack: &Devstack, token: &str, dest: &Path, interval: &str, ttl: &str, diag_port: u16) -> String {
    format!(
        "version: v2\nauth_server: {}\nonboarding:\n  join_method: token\n  token: {token}\n  ca_pins: [\"{}\"]\nstorage:\n  type: memory\nrenewal_interval: {interval}\ncertificate_ttl: {ttl}\ndiag_addr: 127.0.0.1:{diag_port}\noutputs:\n  - type: identity\n    destination:\n      type: directory\n      path: {}\n    roles: [access]\n",
        stack.addr(),
        stack.pin(),
        dest.display()
    )
}

fn spawn_agent(tmp: &Path, cfg: &Path) -> Agent {
    let mut cmd = agent_cmd();
    cmd.args(["start", "-c", cfg.to_str().unwrap(), "--log-format", "json"]);
    Agent::spawn(cmd, tmp.join("agent.log"))
}

fn renewals(port: u16) -> Option<f64> {
    let (code, body) = http_get(port, "/metrics")?;
    (code == 200).then(|| metric(&body, "joinery_agent_renewals_total")).flatten()
}

/// Reads `path` in a loop until told to stop, counting reads and failing
/// on any content that is not a complete PEM/identity file.
fn reader(
    path: PathBuf,
    stop: Arc<AtomicBool>,
    reads: Arc<AtomicUsize>,
) -> std::thread::JoinHandle<Result<(), String>> {
    std::thread::spawn(move || {
        while !stop.load(Ordering::Relaxed) {
            let Ok(text) = std::fs::read_to_string(&path) else { continue };
            let complete = text.starts_with("-----BEGIN ")
                && text.trim_end().ends_with("-----")
                && text.matches("-----BEGIN ").count() == text.matches("-----END ").count();
            if !complete {
                return Err(format!("torn read of {}: {text:?}", path.display()));
            }
            reads.fetch_add(1, Ordering::Relaxed);
        }
        Ok(())
    })
}

#[test]
fn renews_periodically_with_atomic_files_and_stops_cleanly() {
    let tmp = tempfile::tempdir().unwrap();
    let stack = Devstack::start_in(&tmp.path().join("stack"), &[]);
    let token = stack.add_bot("daemon", "access");
    let dest = tmp.path().join("out");
    let port = free_port();
    let cfg = write_config(tmp.path(), "tbot.yaml", &daemon_config(&stack, &token, &dest, "2s", "1m", port));
    let mut agent = spawn_agent(tmp.path(), &cfg);

    poll("first output", Duration::from_secs(30), || {
        agent.assert_running();
        dest.join("identity").is_file().then_some(())
    });
    assert_eq!(http_get(port, "/healthz").map(|r| r.0), Some(200));
    poll("readyz 200", Duration::from_secs(10), || (http_get(port, "/readyz")?.0 == 200).then_some(()));

    let stop = Arc::new(AtomicBool::new(false));
    let reads = Arc::new(AtomicUsize::new(0));
    let readers: Vec<_> =
        ["tlscert", "key", "identity"].iter().map(|f| reader(dest.join(f), stop.clone(), reads.clone())).collect();

    // Several renewals, each replacing the certificate.
    let mut seen = std::collections::HashSet::new();
    let start = renewals(port).unwrap_or(0.0);
    poll("4 more renewals with new certificates", Duration::from_secs(40), || {
        agent.assert_running();
        if let Ok(c) = std::fs::read_to_string(dest.join("tlscert")) {
            seen.insert(c);
        }
        (renewals(port)? >= start + 4.0 && seen.len() >= 4).then_some(())
    });
    stop.store(true, Ordering::Relaxed);
    for r in readers {
        r.join().unwrap().unwrap();
    }
    assert!(reads.load(Ordering::Relaxed) > 100, "the readers actually raced the writer");

    let (_, metrics) = http_get(port, "/metrics").unwrap();
    assert_eq!(metric(&metrics, "joinery_agent_ready"), Some(1.0), "{metrics}");
    let expiry = metric(&metrics, "joinery_agent_credentials_expiry_seconds").unwrap();
    assert!(expiry > 0.0 && expiry <= 60.0, "{metrics}");
    let (cn, roles) = verify_user_cert(&stack, &std::fs::read_to_string(dest.join("tlscert")).unwrap());
    assert_eq!((cn.as_str(), roles), ("bot-daemon", vec!["access".to_string()]));

    let status = agent.stop();
    assert!(status.success(), "SIGTERM stops cleanly: {status}\n{}", agent.log());
    let log = agent.log();
    assert!(!log.contains(&token), "token never logged");
    assert!(!log.contains("PRIVATE KEY"), "keys never logged");
    for line in log.lines() {
        serde_json::from_str::<serde_json::Value>(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
    }
}

#[test]
fn sighup_reloads_config_and_renews_now() {
    let tmp = tempfile::tempdir().unwrap();
    let stack = Devstack::start_in(&tmp.path().join("stack"), &[]);
    let token = stack.add_bot("reload", "access");
    let first = tmp.path().join("first");
    let second = tmp.path().join("second");
    let port = free_port();
    // A long interval: only the reload can explain a quick renewal.
    let cfg = write_config(tmp.path(), "tbot.yaml", &daemon_config(&stack, &token, &first, "10m", "1h", port));
    let mut agent = spawn_agent(tmp.path(), &cfg);
    poll("first output", Duration::from_secs(30), || {
        agent.assert_running();
        first.join("identity").is_file().then_some(())
    });
    poll("one renewal counted", Duration::from_secs(10), || (renewals(port)? >= 1.0).then_some(()));

    write_config(tmp.path(), "tbot.yaml", &daemon_config(&stack, &token, &second, "10m", "1h", port));
    signal(agent.pid(), "HUP");
    poll("output at the new path after SIGHUP", Duration::from_secs(15), || {
        agent.assert_running();
        second.join("identity").is_file().then_some(())
    });
    poll("a second renewal", Duration::from_secs(5), || (renewals(port)? >= 2.0).then_some(()));

    // SIGUSR1 renews too; a broken config on reload keeps the old one.
    std::fs::write(&cfg, "version: v2\nnot_a_key: 1\n").unwrap();
    signal(agent.pid(), "USR1");
    poll("a renewal after SIGUSR1", Duration::from_secs(15), || (renewals(port)? >= 3.0).then_some(()));
    agent.assert_running();
    assert!(agent.log().contains("not_a_key"), "the reload error is logged:\n{}", agent.log());
    assert!(agent.stop().success());
}

#[test]
fn outage_keeps_credentials_flips_readiness_and_recovers() {
    let tmp = tempfile::tempdir().unwrap();
    let stack_dir = tmp.path().join("stack");
    let teleport_port = free_port();
    let teleport_addr = format!("127.0.0.1:{teleport_port}");
    let mut stack = Devstack::start_in(&stack_dir, &["--teleport-addr", &teleport_addr]);
    let token = stack.add_bot("outage", "access");
    let dest = tmp.path().join("out");
    let port = free_port();
    let cfg = write_config(tmp.path(), "tbot.yaml", &daemon_config(&stack, &token, &dest, "2s", "1m", port));
    let mut agent = spawn_agent(tmp.path(), &cfg);
    poll("ready", Duration::from_secs(30), || {
        agent.assert_running();
        (http_get(port, "/readyz")?.0 == 200).then_some(())
    });

    stack.stop();
    poll("readyz 503 during the outage", Duration::from_secs(20), || {
        (http_get(port, "/readyz")?.0 == 503).then_some(())
    });
    agent.assert_running();
    let during = std::fs::read_to_string(dest.join("tlscert")).unwrap();
    assert!(!pem_certs(&during).is_empty(), "old credentials stay in place");
    let (_, metrics) = http_get(port, "/metrics").unwrap();
    assert!(metrics.contains("joinery_agent_renewal_failures_total{reason="), "{metrics}");
    assert_eq!(metric(&metrics, "joinery_agent_ready"), Some(0.0));
    assert!(http_get(port, "/healthz").unwrap().0 == 200, "still alive");

    let stack = Devstack::start_in(&stack_dir, &["--teleport-addr", &teleport_addr]);
    poll("recovery after the devstack restarts", Duration::from_secs(40), || {
        agent.assert_running();
        (http_get(port, "/readyz")?.0 == 200).then_some(())
    });
    let after = poll("a new certificate", Duration::from_secs(10), || {
        let c = std::fs::read_to_string(dest.join("tlscert")).ok()?;
        (c != during).then_some(c)
    });
    verify_user_cert(&stack, &after);
    let log = agent.log();
    assert!(log.contains("renewal failed"), "the failure is logged:\n{log}");
    assert!(log.contains("renewal recovered"), "the recovery is logged:\n{log}");
    assert!(agent.stop().success());
}
