//! The emulator as slow and strict as Azure (the `up` realism flags), and the clients that
//! survive it: the ARM client's retries, long-running-operation polling, bounded waits and
//! concurrency-safe VM identity updates; the agent's "role assignment not effective yet".

use std::time::{Duration, Instant};

use joinery_azure::arm::{ArmClient, VmIdentityPatch, WaitLimits};
use joinery_azure::credential;
use joinery_azure::imds::{ARM_RESOURCE, IdentitySelector};
use joinery_azure::resource_id::same_resource;
use joinery_testkit::Devstack;

use crate::common::{azure_token, bot};
use crate::support::{TTL, aia, arm_client, az, https_ca, imds, join_with_azure, subscription, text, vm};

/// A devstack with `args` in a temporary directory (kept alive with it).
fn stack(args: &[&str]) -> (Devstack, tempfile::TempDir) {
    let tmp = tempfile::tempdir().unwrap();
    let stack = Devstack::start_in(&tmp.path().join("stack"), args);
    (stack, tmp)
}

/// An ARM client as the provider's service principal.
async fn provider(stack: &Devstack) -> ArmClient {
    let a = az(stack);
    let token = credential::client_secret_token(
        &text(a, "authority_host"),
        &text(a, "tenant_id"),
        &text(a, "client_id"),
        &text(a, "client_secret"),
        ARM_RESOURCE,
        Some(&https_ca(stack)),
    )
    .await
    .unwrap();
    arm_client(stack, &token.token)
}

fn identity(stack: &Devstack, name: &str) -> serde_json::Value {
    az(stack)["identities"].as_array().unwrap().iter().find(|i| i["name"] == name).unwrap().clone()
}

fn attached(vm: &joinery_azure::arm::VirtualMachine, id: &str) -> bool {
    vm.identity.as_ref().is_some_and(|i| i.user_assigned_identities.keys().any(|k| same_resource(k, id)))
}

#[tokio::test]
async fn concurrent_identity_updates_of_one_vm_keep_each_other() {
    let (stack, _tmp) = stack(&["--azure-operation-duration", "500ms"]);
    let arm = provider(&stack).await;
    let vm3 = text(vm(&stack, "vm-3"), "id");
    let [a, b] = ["vm1-identity", "tbot-identity"].map(|n| text(&identity(&stack, n), "id"));
    let attach = |id: String| {
        let (arm, vm3) = (&arm, vm3.clone());
        async move {
            arm.update_vm_identity(&vm3, |vm| (!attached(vm, &id)).then(|| VmIdentityPatch::attach(vm, &id))).await
        }
    };
    let (ra, rb) = tokio::join!(attach(a.clone()), attach(b.clone()));
    assert!(ra.unwrap().patched && rb.unwrap().patched);
    let now = arm.get_vm(&vm3).await.unwrap();
    assert!(attached(&now, &a) && attached(&now, &b), "{:?}", now.identity);
    assert_eq!(now.properties.provisioning_state.as_deref(), Some("Succeeded"));

    // Detaching one while attaching nothing else keeps the other; a plain PATCH computed from
    // a stale read would have set the type to None.
    let stale = arm.get_vm(&vm3).await.unwrap();
    let (da, db) = tokio::join!(
        arm.update_vm_identity(&vm3, |vm| attached(vm, &a).then(|| VmIdentityPatch::detach(vm, &a))),
        arm.update_vm_identity(&vm3, |vm| attached(vm, &b).then(|| VmIdentityPatch::detach(vm, &b))),
    );
    da.unwrap();
    db.unwrap();
    assert!(arm.get_vm(&vm3).await.unwrap().identity.is_none());
    assert!(stale.etag.is_some(), "api-version {} has etags", joinery_azure::arm::COMPUTE_API_VERSION);
}

#[tokio::test]
async fn a_wait_that_runs_out_names_the_operation_and_what_is_pending() {
    let (stack, _tmp) = stack(&["--azure-operation-duration", "30s"]);
    let arm =
        provider(&stack).await.with_limits(WaitLimits { max_wait: Duration::from_secs(2), ..WaitLimits::default() });
    let vm3 = text(vm(&stack, "vm-3"), "id");
    let id = text(&identity(&stack, "tbot-identity"), "id");
    let err = arm
        .update_vm_identity(&vm3, |vm| Some(VmIdentityPatch::attach(vm, &id)))
        .await
        .expect_err("the update runs for 30 s");
    let text = err.to_string();
    assert!(text.starts_with(&format!("updating the identities of VM {vm3}: gave up after")), "{text}");
    assert!(text.contains("/operations/") && text.ends_with("still InProgress"), "{text}");
}

#[tokio::test]
async fn throttled_calls_wait_for_retry_after_and_succeed() {
    let (stack, _tmp) = stack(&["--azure-arm-reads", "2/1"]);
    let arm = provider(&stack).await;
    let vm1 = text(vm(&stack, "vm-1"), "id");
    let start = Instant::now();
    for _ in 0..5 {
        arm.get_vm(&vm1).await.expect("throttled reads are retried");
    }
    // Two from the bucket, then one per second after Retry-After: 1 s.
    assert!(start.elapsed() >= Duration::from_secs(2), "{:?}", start.elapsed());
    let log = std::fs::read_to_string(stack.dir.with_extension("log")).unwrap();
    assert!(log.contains("ARM request throttled"), "{log}");
}

#[tokio::test]
async fn a_join_before_the_role_assignment_takes_effect_is_pending_then_succeeds() {
    let (stack, _tmp) = stack(&["--azure-rbac-delay", "3s", "--azure-verifier-arm-lookup", "always"]);
    let admin = stack.admin().await;
    admin.create_bot(bot("robot", &["access"])).await.unwrap();
    admin.create_token(azure_token("az-token", "robot", &subscription(&stack), &["group1"])).await.unwrap();
    // The binding's work: tbot-identity on vm-3, allowed to read group1's VMs.
    let arm = provider(&stack).await;
    let tbot = identity(&stack, "tbot-identity");
    let (vm3, id) = (text(vm(&stack, "vm-3"), "id"), text(&tbot, "id"));
    arm.update_vm_identity(&vm3, |vm| Some(VmIdentityPatch::attach(vm, &id))).await.unwrap();
    let rg = format!("/subscriptions/{}/resourceGroups/group1", subscription(&stack));
    arm.put_role_assignment(
        &rg,
        "9e1f2a3b-aaaa-4bbb-8ccc-dddddddddddd",
        "/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7",
        tbot["principal_id"].as_str().unwrap(),
        None,
    )
    .await
    .unwrap();
    let granted = Instant::now();

    let selector = || Some(IdentitySelector::ClientId(text(&tbot, "client_id")));
    let join = || async {
        join_with_azure(&stack.anonymous().await, "az-token", TTL, &imds(&stack, "vm-3"), selector(), &aia(&stack))
            .await
    };
    // IMDS serves the identity once the VM update has reached the host.
    let deadline = Instant::now() + Duration::from_secs(10);
    while imds(&stack, "vm-3").access_token(ARM_RESOURCE, selector().as_ref()).await.is_err() {
        assert!(Instant::now() < deadline, "IMDS never served the new identity");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let err = join().await.expect_err("the role assignment is not in effect yet");
    let pending = err.role_assignment_pending().unwrap_or_else(|| panic!("not recognised as pending: {err}"));
    assert!(pending.contains("does not have authorization to perform action 'Microsoft.Compute/virtualMachines/read'"));
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        match join().await {
            Ok(_) => break,
            Err(e) => {
                assert!(e.role_assignment_pending().is_some(), "{e}");
                assert!(Instant::now() < deadline, "never joined: {e}");
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        }
    }
    assert!(granted.elapsed() >= Duration::from_millis(2500), "joined only once the assignment took effect");
}
