//! The quick start, end to end: real Terraform applies examples/quickstart
//! against the devstack (bot, identity binding of `tbot-identity` to `vm-3`,
//! token), and the real agent joins as Azure VM vm-3 with the configuration
//! Terraform rendered — the same path `make demo` takes.

// A test binary links every dependency and dev-dependency of its package;
// unused ones are caught on the library target.
#![allow(unused_crate_dependencies)]

use std::process::Command;

use joinery_testkit::terraform::{Workspace, terraforms};
use joinery_testkit::{Devstack, binary};

fn vm<'a>(stack: &'a Devstack, name: &str) -> &'a serde_json::Value {
    stack.info["azure"]["vms"].as_array().unwrap().iter().find(|v| v["name"] == name).unwrap()
}

fn run_agent(stack: &Devstack, vm_name: &str, config: &std::path::Path) -> std::process::Output {
    let mut cmd = Command::new(binary("joinery-agent"));
    cmd.args(["start", "-c"]).arg(config).arg("--oneshot");
    for (k, v) in vm(stack, vm_name)["agent_env"].as_object().unwrap() {
        cmd.env(k, v.as_str().unwrap());
    }
    cmd.output().unwrap()
}

fn apply_quickstart(stack: &Devstack, out_dir: &std::path::Path) -> (Workspace, std::path::PathBuf) {
    let (label, tf) = terraforms().remove(0);
    let identity = stack.info["azure"]["identities"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == "tbot-identity")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let mut env = stack.provider_env();
    env.extend([
        ("TF_VAR_teleport_addr".to_string(), stack.info["teleport"]["addr"].as_str().unwrap().to_string()),
        ("TF_VAR_ca_pin".to_string(), stack.info["teleport"]["ca_pin"].as_str().unwrap().to_string()),
        ("TF_VAR_identity_id".to_string(), identity),
        ("TF_VAR_vm_id".to_string(), vm(stack, "vm-3")["id"].as_str().unwrap().to_string()),
        ("TF_VAR_output_dir".to_string(), out_dir.display().to_string()),
    ]);
    let ws = Workspace::new(&label, &tf, env);
    let main = std::fs::read_to_string(joinery_testkit::workspace_root().join("examples/quickstart/main.tf")).unwrap();
    // Workspace::write prepends the provider requirements, which main.tf already has.
    std::fs::write(ws.work().join("main.tf"), main).unwrap();
    ws.apply();
    ws.assert_no_changes();
    let yaml = ws.ok(&["output", "-raw", "tbot_yaml"]).stdout;
    let config = ws.work().join("tbot.yaml");
    std::fs::write(&config, yaml).unwrap();
    (ws, config)
}

#[test]
fn vm_joins_with_its_managed_identity_using_the_rendered_config() {
    let stack = Devstack::start();
    let tmp = tempfile::tempdir().unwrap();
    let out_dir = tmp.path().join("machine-id");
    let (ws, config) = apply_quickstart(&stack, &out_dir);

    let out = run_agent(&stack, "vm-3", &config);
    assert!(out.status.success(), "agent failed: {}", String::from_utf8_lossy(&out.stderr));
    let cert = std::fs::read_to_string(out_dir.join("tlscert")).unwrap();
    let info = joinery_teleport::CertInfo::from_pem(&cert).unwrap();
    assert_eq!(info.username, "bot-demo-vm");
    assert_eq!(info.roles, vec!["access"]);
    assert!(!info.renewable, "azure joins are not renewable");
    for f in ["identity", "key", "key.pub", "tlscert", "key-cert.pub", "teleport-host-ca.crt"] {
        assert!(out_dir.join(f).is_file(), "{f} missing");
    }
    // The join token is not single-use for delegated methods: a second VM run works too.
    let again = run_agent(&stack, "vm-3", &config);
    assert!(again.status.success(), "{}", String::from_utf8_lossy(&again.stderr));

    ws.ok(&["destroy", "-auto-approve", "-no-color", "-input=false"]);
    assert!(stack.get_json("bot/demo-vm").is_none());
}

#[test]
fn vm_outside_the_allowed_resource_group_is_refused_with_the_reason() {
    let stack = Devstack::start();
    let tmp = tempfile::tempdir().unwrap();
    let out_dir = tmp.path().join("machine-id");
    let (_ws, config) = apply_quickstart(&stack, &out_dir);
    // Someone narrows the token by hand to group2; vm-3 lives in group1.
    let sub = stack.info["azure"]["subscription_id"].as_str().unwrap();
    stack.create(
        &format!(
            "kind: token\nversion: v2\nmetadata: {{name: demo-vm-azure}}\nspec:\n  roles: [Bot]\n  bot_name: demo-vm\n  join_method: azure\n  azure:\n    allow: [{{subscription: {sub}, resource_groups: [group2]}}]\n"
        ),
        true,
    );
    let out = run_agent(&stack, "vm-3", &config);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("did not match any allow rules"), "{err}");
    assert!(!out_dir.join("tlscert").exists(), "no credentials on refusal");
}

/// The quick start against an Azure as slow and strict as the real one: RBAC propagation,
/// long-running VM updates, ARM throttling, and a Teleport that looks the VM up in ARM (as
/// before v16). One apply converges; an agent daemon started right after it meets the role
/// assignment not yet in effect, says so once, and joins when it is.
#[test]
fn quickstart_converges_through_azure_delays_and_the_daemon_joins_once_the_role_takes_effect() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("stack");
    let stack = Devstack::start_in(
        &dir,
        &[
            "--azure-rbac-delay",
            "20s",
            "--azure-operation-duration",
            "1s",
            "--azure-imds-identity-delay",
            "500ms",
            "--azure-arm-reads",
            "6/3",
            "--azure-arm-writes",
            "2/1",
            "--azure-verifier-arm-lookup",
            "always",
        ],
    );
    let out_dir = tmp.path().join("machine-id");
    let started = std::time::Instant::now();
    let (_ws, config) = apply_quickstart(&stack, &out_dir);
    let applied = started.elapsed();
    let log = std::fs::read_to_string(dir.with_extension("log")).unwrap();
    assert!(log.contains("ARM request throttled"), "the apply met ARM's throttling:\n{log}");
    assert!(log.contains("VM update started"), "{log}");
    assert!(applied < std::time::Duration::from_secs(20), "apply took {applied:?}: the role must not be in effect yet");

    // The daemon (the cloud-init path), started right away.
    let daemon = tmp.path().join("daemon.yaml");
    std::fs::write(&daemon, std::fs::read_to_string(&config).unwrap().replace("oneshot: true", "oneshot: false"))
        .unwrap();
    let agent_log = tmp.path().join("agent.log");
    let mut cmd = Command::new(binary("joinery-agent"));
    cmd.args(["start", "-c"]).arg(&daemon).stderr(std::fs::File::create(&agent_log).unwrap());
    for (k, v) in vm(&stack, "vm-3")["agent_env"].as_object().unwrap() {
        cmd.env(k, v.as_str().unwrap());
    }
    let mut agent = cmd.spawn().unwrap();
    joinery_testkit::poll("the agent's credentials", std::time::Duration::from_secs(60), || {
        out_dir.join("tlscert").is_file().then_some(())
    });
    joinery_testkit::stop_child(&mut agent, std::time::Duration::from_secs(10));
    let text = std::fs::read_to_string(&agent_log).unwrap();
    assert_eq!(text.matches("role assignment not effective yet").count(), 1, "said once:\n{text}");
    assert!(text.contains("azure_role_assignment_pending"), "not reported as access denied:\n{text}");
    let info =
        joinery_teleport::CertInfo::from_pem(&std::fs::read_to_string(out_dir.join("tlscert")).unwrap()).unwrap();
    assert_eq!(info.username, "bot-demo-vm");
}
