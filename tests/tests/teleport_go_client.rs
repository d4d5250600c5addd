//! The devstack as Teleport's own Go API client sees it
//! (`tests/teleport-go-client`, built by `scripts/install-teleport-go-client.sh`):
//! values, error classes and messages of every call Joinery relies on.

// A test binary links every dependency and dev-dependency of its package;
// unused ones are caught on the library target.
#![allow(unused_crate_dependencies)]

use joinery_testkit::{Devstack, workspace_root};

#[test]
fn teleports_go_client_agrees_with_the_devstack() {
    let bin = workspace_root().join(".tools/bin/teleport-go-client");
    assert!(bin.exists(), "{} is missing: run scripts/install-teleport-go-client.sh (make test does)", bin.display());
    let stack = Devstack::start();
    let out = std::process::Command::new(&bin)
        .args(["-addr", &stack.addr(), "-cluster", &stack.cluster()])
        .arg("-identity")
        .arg(stack.admin_identity_path())
        .output()
        .expect("run teleport-go-client");
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "Teleport's Go client disagrees:\n{report}{}", String::from_utf8_lossy(&out.stderr));
    assert!(report.contains("ok bots"), "{report}");
}
