//! The devstack as Teleport's own Go API client sees it
//! (`tests/teleport-go-client`, built by `scripts/install-teleport-go-client.sh`):
//! values, error classes and messages of every call Joinery relies on, as
//! the admin and as a bot with its own identity; and Joinery's compiled
//! protos against the descriptors of Teleport's API module.

// A test binary links every dependency and dev-dependency of its package;
// unused ones are caught on the library target.
#![allow(unused_crate_dependencies)]

use std::path::PathBuf;
use std::process::{Command, Output};

use joinery_testkit::{Devstack, binary, workspace_root};

fn go_client() -> PathBuf {
    let bin = workspace_root().join(".tools/bin/teleport-go-client");
    assert!(bin.exists(), "{} is missing: run scripts/install-teleport-go-client.sh (make test does)", bin.display());
    bin
}

fn report(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

#[test]
fn teleports_go_client_agrees_with_the_devstack() {
    let tmp = tempfile::tempdir().unwrap();
    let stack = Devstack::start_in(&tmp.path().join("stack"), &[]);
    // A bot's own identity, as the agent keeps it in its storage.
    let token = stack.add_bot("go-client", "access");
    let data = tmp.path().join("data");
    let joined = Command::new(binary("joinery-agent"))
        .args(["start", "--oneshot", "--ca-pin", &stack.pin(), "--auth-server", &stack.addr(), "--token", &token])
        .arg("--data-dir")
        .arg(&data)
        .env_remove("TELEPORT_PROXY")
        .output()
        .expect("run joinery-agent");
    assert!(joined.status.success(), "the bot could not join: {}", report(&joined));

    let out = Command::new(go_client())
        .args(["-addr", &stack.addr(), "-cluster", &stack.cluster()])
        .arg("-identity")
        .arg(stack.admin_identity_path())
        .arg("-bot-identity")
        .arg(data.join("identity"))
        .output()
        .expect("run teleport-go-client");
    let text = report(&out);
    assert!(out.status.success(), "Teleport's Go client disagrees:\n{text}");
    for check in
        ["ok ping", "ok tokens", "ok bots", "ok bot defaults", "ok users", "ok bot user", "ok bot cert authorities"]
    {
        assert!(text.lines().any(|l| l == check), "{check:?} missing:\n{text}");
    }
}

#[test]
fn joinery_protos_number_fields_as_teleports_module() {
    let tmp = tempfile::tempdir().unwrap();
    let fds = tmp.path().join("joinery.fds");
    std::fs::write(&fds, joinery_teleport::proto::descriptors::FILE_DESCRIPTOR_SET).unwrap();
    let out = Command::new(go_client()).arg("-descriptors").arg(&fds).output().expect("run teleport-go-client");
    let text = report(&out);
    assert!(out.status.success(), "Joinery's protos differ from Teleport's module:\n{text}");
    assert!(text.lines().any(|l| l == "ok protos"), "{text}");
}
