//! Azure joins by the agent binary against a devstack, as a person meets
//! them: a server whose `join.v1` lacks Azure (or is absent) and the
//! fallback to the legacy stream, a refusal with the VM's context and the
//! fix, and `check`'s verdicts with the `azure.allow` rule that admits the VM.

// A test binary links every dependency and dev-dependency of its package;
// unused ones are caught on the library target.
#![allow(unused_crate_dependencies)]

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::*;

const FALLBACK_LOG: &str = "falling back to the legacy proto.JoinService/RegisterUsingAzureMethod stream";

fn text(out: &Output) -> (String, String) {
    (String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

/// A devstack (with extra `up` arguments) holding the bot `robot` and the Azure token `az`,
/// which allows the default subscription, only `groups` in it if any.
fn stack(dir: &Path, extra: &[&str], groups: &[&str]) -> Devstack {
    let stack = Devstack::start_in(&dir.join("stack"), extra);
    stack.add_bot("robot", "access");
    let sub = subscription(&stack);
    let groups =
        if groups.is_empty() { String::new() } else { format!("      resource_groups: [{}]\n", groups.join(", ")) };
    stack.create(
        &format!(
            "kind: token\nversion: v2\nmetadata:\n  name: az\nspec:\n  roles: [Bot]\n  bot_name: robot\n  join_method: azure\n  azure:\n    allow:\n    - subscription: {sub}\n{groups}"
        ),
        false,
    );
    stack
}

fn subscription(stack: &Devstack) -> String {
    stack.info["azure"]["subscription_id"].as_str().unwrap().to_string()
}

fn vm<'a>(stack: &'a Devstack, name: &str) -> &'a serde_json::Value {
    stack.info["azure"]["vms"].as_array().unwrap().iter().find(|v| v["name"] == name).unwrap()
}

/// The agent on `vm_name`: its IMDS, and a configuration joining `stack` with `token`
/// (and `client_id`, if given), `storage: memory`, no outputs.
fn agent_on(stack: &Devstack, dir: &Path, vm_name: &str, token: &str, client_id: Option<&str>) -> Command {
    let client_id = client_id.map(|c| format!("  azure:\n    client_id: {c}\n")).unwrap_or_default();
    let yaml = format!(
        "version: v2\nauth_server: {}\nonboarding:\n  join_method: azure\n  token: {token}\n  ca_pins: [\"{}\"]\n{client_id}storage:\n  type: memory\n",
        stack.addr(),
        stack.pin()
    );
    let cfg = write_config(dir, &format!("{vm_name}-{token}.yaml"), &yaml);
    let mut cmd = agent_cmd();
    cmd.arg("-c").arg(cfg);
    for (k, v) in vm(stack, vm_name)["agent_env"].as_object().unwrap() {
        cmd.env(k, v.as_str().unwrap());
    }
    cmd
}

#[test]
fn a_server_without_azure_on_join_v1_is_joined_over_the_legacy_stream() {
    for mode in ["without-azure", "absent"] {
        let tmp = tempfile::tempdir().unwrap();
        let stack = stack(tmp.path(), &["--join-v1", mode], &[]);
        let out = agent_on(&stack, tmp.path(), "vm-1", "az", None).args(["start", "--oneshot"]).output().unwrap();
        let (_, log) = text(&out);
        assert!(out.status.success(), "{mode}: {log}");
        assert_eq!(log.matches(FALLBACK_LOG).count(), 1, "{mode}: the fallback is logged once, with why: {log}");
        let why = if mode == "absent" {
            "unknown service teleport.join.v1.JoinService"
        } else {
            "join method azure is not yet implemented by the new join service"
        };
        assert!(log.contains(why), "{mode}: the v1 answer is the logged reason: {log}");
    }
    // Today's Teleport: no fallback.
    let tmp = tempfile::tempdir().unwrap();
    let stack = stack(tmp.path(), &[], &[]);
    let out = agent_on(&stack, tmp.path(), "vm-1", "az", None).args(["start", "--oneshot"]).output().unwrap();
    let (_, log) = text(&out);
    assert!(out.status.success() && !log.contains(FALLBACK_LOG), "{log}");
}

#[test]
fn a_daemon_logs_the_fallback_once_however_often_it_joins() {
    let tmp = tempfile::tempdir().unwrap();
    let stack = stack(tmp.path(), &["--join-v1", "without-azure"], &[]);
    let dir = tmp.path().join("daemon");
    std::fs::create_dir_all(&dir).unwrap();
    let yaml = format!(
        "version: v2\nauth_server: {}\nonboarding:\n  join_method: azure\n  token: az\n  ca_pins: [\"{}\"]\nstorage:\n  type: memory\nrenewal_interval: 1s\ncertificate_ttl: 1m\n",
        stack.addr(),
        stack.pin()
    );
    let cfg = write_config(&dir, "tbot.yaml", &yaml);
    let mut cmd = agent_cmd();
    cmd.args(["start", "-c"]).arg(cfg);
    for (k, v) in vm(&stack, "vm-1")["agent_env"].as_object().unwrap() {
        cmd.env(k, v.as_str().unwrap());
    }
    let mut agent = Agent::spawn(cmd, dir.join("agent.log"));
    // Azure bots join again on every renewal: three joins, three fallbacks.
    poll("three Azure joins", std::time::Duration::from_secs(30), || {
        agent.assert_running();
        (agent.log().matches("joining method=azure").count() >= 3).then_some(())
    });
    agent.stop();
    let log = agent.log();
    assert_eq!(log.matches(FALLBACK_LOG).count(), 1, "{log}");
    assert!(!log.contains("ERROR"), "every join succeeded over the legacy stream: {log}");
}

#[test]
fn a_refused_vm_is_named_with_its_identity_and_the_fix() {
    let tmp = tempfile::tempdir().unwrap();
    let stack = stack(tmp.path(), &[], &["group1"]);
    let vm2 = vm(&stack, "vm-2");
    let vm_id = vm2["vm_id"].as_str().unwrap();
    let out = agent_on(&stack, tmp.path(), "vm-2", "az", None).args(["start", "--oneshot"]).output().unwrap();
    let (_, log) = text(&out);
    assert_eq!(out.status.code(), Some(3), "{log}");
    // The server's reason, unchanged, then what the agent adds.
    let reason = format!("access denied: instance {vm_id} did not match any allow rules in token az [");
    assert!(log.contains(&reason), "{log}");
    let context = format!(
        "[VM vm-2, vmId {vm_id}, subscription {}, resource group group2, identity /subscriptions/{}/resourceGroups/group2/providers/Microsoft.Compute/virtualMachines/vm-2 (system-assigned, client_id ",
        subscription(&stack),
        subscription(&stack)
    );
    assert!(log.contains(&context), "{log}");
    assert!(log.contains("fix: Teleport's token \"*z\" must be an azure token whose spec.azure.allow admits"), "{log}");
    assert!(log.contains("docs/troubleshooting.md#a-refused-azure-join"), "{log}");
    assert!(log.contains("reason=access_denied") || log.contains("access_denied"), "the label is unchanged: {log}");
}

#[test]
fn check_says_why_a_vm_cannot_join_and_which_rule_admits_it() {
    let tmp = tempfile::tempdir().unwrap();
    let stack = stack(tmp.path(), &[], &["group1"]);
    let check = |vm_name: &str, token: &str, client_id: Option<&str>, join: bool| {
        let mut cmd = agent_on(&stack, tmp.path(), vm_name, token, client_id);
        cmd.arg("check");
        if join {
            cmd.arg("--join");
        }
        let out = cmd.output().unwrap();
        let (stdout, stderr) = text(&out);
        (out.status.code(), format!("{stdout}{stderr}"))
    };

    // No identity at all.
    let (code, out) = check("vm-3", "az", None, false);
    assert_eq!(code, Some(3), "{out}");
    assert!(out.contains("verdict: cannot join: this VM has no managed identity (instance metadata"), "{out}");
    assert!(out.contains("fix: assign the VM a system-assigned identity"), "{out}");

    // An identity the VM does not have: no token for it.
    let unattached = stack.info["azure"]["identities"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == "tbot-identity")
        .map(|i| i["client_id"].as_str().unwrap().to_string())
        .unwrap();
    let (code, out) = check("vm-1", "az", Some(&unattached), false);
    assert_eq!(code, Some(3), "{out}");
    assert!(
        out.contains(&format!("the managed identity with client_id {unattached} gets no token on this VM")),
        "{out}"
    );

    // Local checks pass; Teleport is not asked without --join.
    let (code, out) = check("vm-2", "az", None, false);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("verdict: ready: this VM can prove who it is"), "{out}");

    // A token Teleport does not know.
    let (code, out) = check("vm-1", "nope", None, true);
    assert_eq!(code, Some(3), "{out}");
    assert!(out.contains("verdict: cannot join: Teleport does not take the token"), "{out}");
    assert!(out.contains("token expired or not found"), "{out}");

    // A VM the token does not admit: the verdict, and the rule that would.
    let (code, out) = check("vm-2", "az", None, true);
    assert_eq!(code, Some(3), "{out}");
    assert!(out.contains("verdict: cannot join: Teleport did not admit this VM (VM vm-2"), "{out}");
    assert!(out.contains("did not match any allow rules in token az"), "{out}");
    let sub = subscription(&stack);
    assert!(out.contains("resource_groups = [\"group2\"]\n"), "HCL rule: {out}");
    assert!(out.contains("fix: add to the token *z a spec.azure.allow rule for subscription"), "{out}");
    let yaml_rule = out
        .split("azure.allow rule admitting this VM (YAML, tctl create):\n")
        .nth(1)
        .and_then(|rest| rest.split("azure.allow rule admitting this VM (HCL").next())
        .expect("the YAML rule is printed");
    assert!(yaml_rule.contains(&format!("- subscription: {sub}")), "{yaml_rule}");

    // The printed rule admits the VM: a token made of it, and check --join joins.
    let spec: String = yaml_rule.lines().map(|l| format!("{}\n", l.strip_prefix("    ").unwrap_or(l))).collect();
    stack.create(
        &format!("kind: token\nversion: v2\nmetadata:\n  name: az2\n{spec}  roles: [Bot]\n  bot_name: robot\n"),
        false,
    );
    let (code, out) = check("vm-2", "az2", None, true);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("verdict: joined: Teleport admitted this VM as bot robot"), "{out}");
}
