//! `join_method: github` end to end: the agent runs as a GitHub Actions job would (the
//! environment the devstack's emulated Actions gives a job), fetches the job's ID token and
//! joins; a join token whose rules do not allow the workflow is refused with Teleport's reason.

// A test binary links every dependency and dev-dependency of its package;
// unused ones are caught on the library target.
#![allow(unused_crate_dependencies)]

mod common;

use common::*;

fn github_token(stack: &Devstack, rule: &str) {
    stack.create(
        &format!(
            "kind: token\nversion: v2\nmetadata:\n  name: gh-token\nspec:\n  roles: [Bot]\n  join_method: github\n  bot_name: pipeline\n  github:\n    allow:\n      - {rule}\n"
        ),
        true,
    );
}

/// A one-shot agent in the default run's job, writing an identity to `dest`.
fn run_in_job(stack: &Devstack, dir: &std::path::Path, dest: &std::path::Path) -> std::process::Output {
    let yaml = format!(
        "version: v2\nauth_server: {}\nonboarding:\n  join_method: github\n  token: gh-token\n  ca_pins: [\"{}\"]\nstorage:\n  type: memory\noutputs:\n  - type: identity\n    destination:\n      type: directory\n      path: {}\n    roles: [access]\n",
        stack.addr(),
        stack.pin(),
        dest.display()
    );
    let cfg = write_config(dir, "tbot.yaml", &yaml);
    let mut cmd = agent_cmd();
    cmd.args(["start", "-c", cfg.to_str().unwrap(), "--oneshot"]);
    for (k, v) in stack.info["github"]["actions_env"].as_object().unwrap() {
        cmd.env(k, v.as_str().unwrap());
    }
    cmd.output().unwrap()
}

#[test]
fn a_github_actions_job_joins_with_its_id_token() {
    let tmp = tempfile::tempdir().unwrap();
    let stack = Devstack::start_in(&tmp.path().join("stack"), &[]);
    stack.add_bot("pipeline", "access");
    github_token(&stack, "{repository: joinery-demo/infrastructure, ref: refs/heads/main}");
    let dest = tmp.path().join("out");
    let out = run_in_job(&stack, tmp.path(), &dest);
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "one-shot failed: {log}");
    let identity = std::fs::read_to_string(dest.join("identity")).unwrap();
    let info = stack.verify_user_cert(&identity[identity.find("-----BEGIN CERTIFICATE-----").unwrap()..]);
    assert_eq!(info.bot_name.as_deref(), Some("pipeline"));
    // The request token is a secret.
    let request_token = stack.info["github"]["actions_env"]["ACTIONS_ID_TOKEN_REQUEST_TOKEN"].as_str().unwrap();
    assert!(!log.contains(request_token), "{log}");
}

#[test]
fn a_workflow_the_token_does_not_allow_is_refused_with_the_reason() {
    let tmp = tempfile::tempdir().unwrap();
    let stack = Devstack::start_in(&tmp.path().join("stack"), &[]);
    stack.add_bot("pipeline", "access");
    github_token(&stack, "{repository: joinery-demo/infrastructure, workflow: deploy}");
    let out = run_in_job(&stack, tmp.path(), &tmp.path().join("out"));
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{log}");
    assert!(log.contains("id token claims did not match any allow rules"), "{log}");
    assert!(!tmp.path().join("out/identity").exists());
}

#[test]
fn outside_a_job_the_agent_says_what_is_missing() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = write_config(
        tmp.path(),
        "tbot.yaml",
        "version: v2\nauth_server: 127.0.0.1:9\nonboarding:\n  join_method: github\n  token: gh-token\n",
    );
    let out = agent_cmd()
        .args(["start", "-c", cfg.to_str().unwrap(), "--oneshot"])
        .env_remove("ACTIONS_ID_TOKEN_REQUEST_URL")
        .env_remove("ACTIONS_ID_TOKEN_REQUEST_TOKEN")
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(log.contains("ACTIONS_ID_TOKEN_REQUEST_URL"), "{log}");
}
