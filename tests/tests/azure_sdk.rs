//! The devstack's Azure emulator driven by Microsoft's own Python SDKs (azure-identity,
//! azure-mgmt-compute, azure-mgmt-msi, azure-mgmt-authorization, MSAL), installed by
//! `scripts/install-azure-sdk.sh` (`make test` does). The driver, `tests/azure_sdk/drive.py`,
//! runs one step per SDK call; a failure names the call and what the emulator answered.

// A test binary links every dependency and dev-dependency of its package;
// unused ones are caught on the library target.
#![allow(unused_crate_dependencies)]

use std::path::PathBuf;
use std::process::Command;

use joinery_testkit::{Devstack, workspace_root};

/// The SDK venv's Python: under `$JOINERY_TOOLS` (set by `make test`) or `.tools/`.
fn python() -> PathBuf {
    let tools = std::env::var_os("JOINERY_TOOLS").map(PathBuf::from).unwrap_or_else(|| workspace_root().join(".tools"));
    let python = tools.join("azure-sdk/bin/python");
    assert!(
        python.exists(),
        "no Azure SDK venv at {}: run ./scripts/install-azure-sdk.sh (make test does)",
        python.display()
    );
    python
}

#[test]
fn azures_python_sdks_accept_the_emulator() {
    let python = python();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("stack");
    // A fresh identity's principal stays unreplicated for the whole run (so the SDK meets
    // PrincipalNotFound), and a small read bucket lets the driver reach the throttle.
    let stack = Devstack::start_in(&dir, &["--azure-principal-delay", "60s", "--azure-arm-reads", "30/5"]);
    let out = Command::new(&python)
        .arg(workspace_root().join("tests/azure_sdk/drive.py"))
        .arg(&stack.dir)
        // The SDKs read these; the caller's shell must not redirect them.
        .env_remove("AZURE_CLIENT_ID")
        .env_remove("AZURE_TENANT_ID")
        .env_remove("AZURE_CLIENT_SECRET")
        .env_remove("IDENTITY_ENDPOINT")
        .env_remove("MSI_ENDPOINT")
        .env("NO_PROXY", "127.0.0.1,localhost")
        .output()
        .expect("run the Azure SDK driver");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "the Azure SDKs refused the emulator:\n{stdout}\n{stderr}");
    assert!(stdout.contains("all steps passed"), "{stdout}\n{stderr}");
    for step in [
        "ManagedIdentityCredential(client_id).get_token via IMDS",
        "IMDS attested document verified by openssl",
        "ClientSecretCredential.get_token (MSAL, v2.0 endpoint)",
        "VirtualMachinesOperations.begin_update (identity) as a long-running operation",
        "RoleAssignmentsOperations.create without principalType: 400 PrincipalNotFound",
        "ARM throttling: 429 SubscriptionRequestsThrottled",
    ] {
        assert!(stdout.contains(&format!("ok {step}")), "step {step:?} did not run:\n{stdout}");
    }
}
