//! Issue 16's findings, each reproduced against the real agent and devstack:
//! hostile output directories, pairs of files read during a renewal,
//! certificates shorter than asked, outages longer than the certificates,
//! and IMDS failures inside the attempt deadline.

// A test binary links every dependency and dev-dependency of its package;
// unused ones are caught on the library target.
#![allow(unused_crate_dependencies)]

mod common;

use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use common::*;

/// A token-joined one-shot configuration writing one identity output to `dest`.
fn oneshot_config(stack: &Devstack, token: &str, dest: &Path, extra_destination: &str) -> String {
    format!(
        "version: v2\nauth_server: {}\noneshot: true\nonboarding:\n  join_method: token\n  token: {token}\n  ca_pins: [\"{}\"]\nstorage:\n  type: memory\noutputs:\n  - type: identity\n    destination:\n      type: directory\n      path: {}\n{extra_destination}    roles: [access]\n",
        stack.addr(),
        stack.pin(),
        dest.display()
    )
}

fn run_oneshot(dir: &Path, yaml: &str) -> (Option<i32>, String) {
    let cfg = write_config(dir, &format!("tbot-{}.yaml", rand_suffix()), yaml);
    let out = run_agent(&["start", "-c", cfg.to_str().unwrap()]);
    (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
}

fn rand_suffix() -> u64 {
    static N: AtomicUsize = AtomicUsize::new(0);
    N.fetch_add(1, Ordering::Relaxed) as u64
}

fn set_mode(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[test]
fn an_output_directory_that_is_a_symlink_is_refused_unless_insecure() {
    let tmp = tempfile::tempdir().unwrap();
    let stack = Devstack::start_in(&tmp.path().join("stack"), &[]);
    let victim = tmp.path().join("victim");
    std::fs::create_dir(&victim).unwrap();
    set_mode(&victim, 0o755);
    std::fs::write(victim.join("key"), "theirs").unwrap();
    let dest = tmp.path().join("out");
    symlink(&victim, &dest).unwrap();

    let token = stack.add_bot("robot", "access");
    let (code, err) = run_oneshot(tmp.path(), &oneshot_config(&stack, &token, &dest, ""));
    assert_eq!(code, Some(3), "{err}");
    assert!(err.contains("is a symbolic link") && err.contains(&dest.display().to_string()), "{err}");
    assert_eq!(std::fs::read_to_string(victim.join("key")).unwrap(), "theirs", "nothing written through the link");
    assert_eq!(mode(&victim), 0o755, "the link's target keeps its mode");
    assert_eq!(std::fs::read_dir(&victim).unwrap().count(), 1);

    // Asked for, the link is followed.
    let token = stack.add_bot("robot2", "access");
    let (code, err) = run_oneshot(tmp.path(), &oneshot_config(&stack, &token, &dest, "      symlinks: insecure\n"));
    assert_eq!(code, Some(0), "{err}");
    assert!(std::fs::read_to_string(victim.join("key")).unwrap().starts_with("-----BEGIN"));
}

#[test]
fn a_key_linked_elsewhere_is_replaced_not_written_through() {
    let tmp = tempfile::tempdir().unwrap();
    let stack = Devstack::start_in(&tmp.path().join("stack"), &[]);
    let dest = tmp.path().join("out");
    std::fs::create_dir(&dest).unwrap();
    set_mode(&dest, 0o700);
    let elsewhere = tmp.path().join("someone-elses-file");
    std::fs::write(&elsewhere, "theirs").unwrap();
    symlink(&elsewhere, dest.join("key")).unwrap();

    let token = stack.add_bot("robot", "access");
    let (code, err) = run_oneshot(tmp.path(), &oneshot_config(&stack, &token, &dest, ""));
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(std::fs::read_to_string(&elsewhere).unwrap(), "theirs");
    assert_eq!(std::fs::read_link(dest.join("key")).unwrap(), PathBuf::from(".joinery-live/key"));
    assert!(std::fs::read_to_string(dest.join("key")).unwrap().starts_with("-----BEGIN"));
    assert_eq!(mode(&dest.join("key")), 0o600);
}

#[test]
fn an_open_directory_keeps_its_mode_and_is_reported() {
    let tmp = tempfile::tempdir().unwrap();
    let stack = Devstack::start_in(&tmp.path().join("stack"), &[]);
    let dest = tmp.path().join("shared");
    std::fs::create_dir(&dest).unwrap();
    set_mode(&dest, 0o750);
    let token = stack.add_bot("robot", "access");
    let (code, err) = run_oneshot(tmp.path(), &oneshot_config(&stack, &token, &dest, ""));
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(mode(&dest), 0o750, "not tightened behind the user's back");
    assert!(err.contains("accessible to group or others"), "{err}");
    assert_eq!(mode(&dest.join("tlscert")), 0o600);
}

/// The public key (SPKI DER) of a PEM private key and of a PEM certificate.
fn key_spki(pem: &str) -> Vec<u8> {
    joinery_teleport::keys::KeyPair::from_pem(pem).unwrap().public_key_pkix_der()
}

fn cert_spki(pem: &str) -> Vec<u8> {
    let der = pem_certs(pem).remove(0);
    let (_, cert) = x509_parser::parse_x509_certificate(&der).unwrap();
    cert.public_key().raw.to_vec()
}

#[test]
fn readers_of_the_live_generation_never_see_a_mismatched_pair() {
    let tmp = tempfile::tempdir().unwrap();
    let stack = Devstack::start_in(&tmp.path().join("stack"), &[]);
    let token = stack.add_bot("robot", "access");
    let dest = tmp.path().join("out");
    let port = free_port();
    let yaml = oneshot_config(&stack, &token, &dest, "").replace(
        "oneshot: true\n",
        &format!("renewal_interval: 1s\ncertificate_ttl: 1m\ndiag_addr: 127.0.0.1:{port}\n"),
    );
    let cfg = write_config(tmp.path(), "tbot.yaml", &yaml);
    let mut cmd = agent_cmd();
    cmd.args(["start", "-c", cfg.to_str().unwrap()]);
    let mut agent = Agent::spawn(cmd, tmp.path().join("agent.log"));
    poll("the first output", Duration::from_secs(30), || dest.join(".joinery-live").exists().then_some(()));

    let stop = Arc::new(AtomicBool::new(false));
    let pairs = Arc::new(AtomicUsize::new(0));
    let reader = {
        let (dest, stop, pairs) = (dest.clone(), stop.clone(), pairs.clone());
        std::thread::spawn(move || -> Result<(), String> {
            while !stop.load(Ordering::Relaxed) {
                // Resolve the generation once, then read the pair from it.
                let Ok(generation) = std::fs::read_link(dest.join(".joinery-live")) else { continue };
                let dir = dest.join(generation);
                let (Ok(key), Ok(cert)) =
                    (std::fs::read_to_string(dir.join("key")), std::fs::read_to_string(dir.join("tlscert")))
                else {
                    continue; // pruned two renewals later: resolve again
                };
                if key_spki(&key) != cert_spki(&cert) {
                    return Err(format!("mismatched key and tlscert in {}", dir.display()));
                }
                pairs.fetch_add(1, Ordering::Relaxed);
            }
            Ok(())
        })
    };
    let renewals = |port| {
        let (code, body) = http_get(port, "/metrics")?;
        (code == 200).then(|| metric(&body, "joinery_agent_renewals_total")).flatten()
    };
    poll("five renewals", Duration::from_secs(60), || (renewals(port)? >= 5.0).then_some(()));
    agent.assert_running();
    stop.store(true, Ordering::Relaxed);
    reader.join().unwrap().unwrap();
    assert!(pairs.load(Ordering::Relaxed) > 0, "the reader read");
    agent.stop();
}

#[test]
fn certificates_shorter_than_asked_are_renewed_on_their_lifetime() {
    let tmp = tempfile::tempdir().unwrap();
    let stack = Devstack::start_in(&tmp.path().join("stack"), &[]);
    // The server caps this bot at a minute; the config asks for an hour, renewed every 50 minutes.
    stack.create("kind: bot\nversion: v1\nmetadata:\n  name: brief\nspec:\n  roles: [access]\n  max_session_ttl: {seconds: 60}\n", false);
    stack.create("kind: token\nversion: v2\nmetadata:\n  name: brief-token\nspec:\n  roles: [Bot]\n  bot_name: brief\n  join_method: token\n", false);
    let dest = tmp.path().join("out");
    let port = free_port();
    let yaml = oneshot_config(&stack, "brief-token", &dest, "").replace(
        "oneshot: true\n",
        &format!("renewal_interval: 50m\ncertificate_ttl: 1h\ndiag_addr: 127.0.0.1:{port}\n"),
    );
    let cfg = write_config(tmp.path(), "tbot.yaml", &yaml);
    let mut cmd = agent_cmd();
    cmd.args(["start", "-c", cfg.to_str().unwrap()]);
    let mut agent = Agent::spawn(cmd, tmp.path().join("agent.log"));
    // A third of the issued minute: the second renewal comes within seconds, not 50 minutes.
    poll("a renewal on the issued lifetime", Duration::from_secs(60), || {
        let (code, body) = http_get(port, "/metrics")?;
        (code == 200 && metric(&body, "joinery_agent_renewals_total")? >= 2.0).then_some(())
    });
    agent.assert_running();
    let log = agent.log();
    assert!(
        log.contains("the server issued certificates valid for 1m0s although credential_ttl asks for 1h0m0s"),
        "the cap is reported, naming both values:\n{log}"
    );
    assert_eq!(log.matches("although credential_ttl asks for").count(), 1, "once:\n{log}");
    agent.stop();
}

/// Failed attempts so far, whatever their reason, from the diag server.
fn failures(port: u16) -> Option<f64> {
    let (code, body) = http_get(port, "/metrics")?;
    let total = body
        .lines()
        .filter(|l| l.starts_with("joinery_agent_renewal_failures_total{"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum();
    (code == 200).then_some(total)
}

/// A daemon joined with a one-hour certificate, then its cluster gone.
fn outage_daemon(tmp: &Path, stack: &mut Devstack, port: u16, extra: &[&str]) -> Agent {
    let token = stack.add_bot("robot", "access");
    let yaml = oneshot_config(stack, &token, &tmp.join("out"), "").replace(
        "oneshot: true\n",
        &format!("renewal_interval: 1s\ncertificate_ttl: 1h\ndiag_addr: 127.0.0.1:{port}\n"),
    );
    let cfg = write_config(tmp, "tbot.yaml", &yaml);
    let mut cmd = agent_cmd();
    cmd.args(["start", "-c", cfg.to_str().unwrap()]).args(extra);
    let agent = Agent::spawn(cmd, tmp.join("agent.log"));
    poll("the first output", Duration::from_secs(30), || tmp.join("out/tlscert").exists().then_some(()));
    stack.stop();
    agent
}

#[test]
fn failures_while_the_credentials_are_valid_never_end_the_daemon() {
    let tmp = tempfile::tempdir().unwrap();
    let mut stack = Devstack::start_in(&tmp.path().join("stack"), &[]);
    let port = free_port();
    let mut agent = outage_daemon(tmp.path(), &mut stack, port, &["--give-up-after", "1s"]);
    poll("four failed renewals", Duration::from_secs(30), || (failures(port)? >= 4.0).then_some(()));
    agent.assert_running();
    assert!(!agent.log().contains("giving up"), "{}", agent.log());
    agent.stop();
}

#[test]
fn expired_credentials_end_the_daemon_only_by_the_time_rule() {
    let tmp = tempfile::tempdir().unwrap();
    // Nothing listens here: the agent never gets credentials.
    let port = free_port();
    let yaml = format!(
        "version: v2\nauth_server: 127.0.0.1:{}\nonboarding:\n  token: never\nstorage:\n  type: memory\nrenewal_interval: 1s\ncertificate_ttl: 1m\ndiag_addr: 127.0.0.1:{port}\n",
        free_port()
    );
    let cfg = write_config(tmp.path(), "tbot.yaml", &yaml);
    let start = |extra: &[&str], log: &str| {
        let mut cmd = agent_cmd();
        cmd.args(["start", "-c", cfg.to_str().unwrap(), "--insecure"]).args(extra);
        Agent::spawn(cmd, tmp.path().join(log))
    };
    // By default it keeps trying.
    let mut patient = start(&[], "patient.log");
    poll("three failed attempts", Duration::from_secs(30), || (failures(port)? >= 3.0).then_some(()));
    patient.assert_running();
    patient.stop();
    // With --give-up-after, it exits 3 once that long has passed with no valid credentials.
    let mut bounded =
        start(&["--give-up-after", "2s", "--diag-addr", &format!("127.0.0.1:{}", free_port())], "bounded.log");
    let status = poll("the daemon to give up", Duration::from_secs(30), || bounded.try_exit());
    assert_eq!(status.code(), Some(3), "{}", bounded.log());
    assert!(bounded.log().contains("(--give-up-after)"), "{}", bounded.log());
}

#[test]
fn imds_faults_are_reported_as_what_imds_answered() {
    let tmp = tempfile::tempdir().unwrap();
    let stack = Devstack::start_in(&tmp.path().join("stack"), &[]);
    let vm = stack.info["azure"]["vms"].as_array().unwrap().iter().find(|v| v["name"] == "vm-1").unwrap().clone();
    stack.add_bot("robot", "access");
    let sub = stack.info["azure"]["subscription_id"].as_str().unwrap();
    stack.create(&format!("kind: token\nversion: v2\nmetadata:\n  name: az\nspec:\n  roles: [Bot]\n  bot_name: robot\n  join_method: azure\n  azure:\n    allow:\n    - subscription: {sub}\n"), false);
    // IMDS answers 500 to everything, for longer than any retry budget.
    let faults = vm["faults_endpoint"].as_str().unwrap();
    assert_eq!(http_post_json(faults, r#"{"status": 500, "count": 1000}"#), 204);
    let mut cmd = agent_cmd();
    cmd.args(["start", "--oneshot", "--auth-server", &stack.addr(), "--ca-pin", &stack.pin()]).args([
        "--join-method",
        "azure",
        "--token",
        "az",
    ]);
    for (k, v) in vm["agent_env"].as_object().unwrap() {
        cmd.env(k, v.as_str().unwrap());
    }
    let out = cmd.output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(err.contains("HTTP 500") && err.contains("imds_http_500"), "IMDS's answer and its label: {err}");
    assert!(!err.contains("timed out"), "not reported as the attempt's timeout: {err}");
}
