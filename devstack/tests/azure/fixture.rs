//! The Azure fixture and the `azure` section of `devstack.json`: keys, environment, custom
//! fixtures and how a malformed one is reported.

use joinery_azure::imds::{ARM_RESOURCE, IdentitySelector};
use joinery_testkit::Devstack;
use time::OffsetDateTime;

use crate::common::up_with_fixture;
use crate::support::{az, https_ca, imds, vm};

#[test]
fn devstack_json_has_the_azure_keys() {
    let stack = Devstack::start();
    let a = az(&stack);
    for k in ["tenant_id", "subscription_id", "arm_endpoint", "authority_host", "client_id", "client_secret"] {
        assert!(a[k].as_str().is_some_and(|s| !s.is_empty()), "{k}");
    }
    assert!(std::fs::read_to_string(a["ca_file"].as_str().unwrap()).unwrap().contains("BEGIN CERTIFICATE"));
    assert_eq!(a["identities"].as_array().unwrap().len(), 2);
    let names: Vec<&str> = a["vms"].as_array().unwrap().iter().map(|v| v["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["vm-1", "vm-2", "vm-3"]);
    assert!(vm(&stack, "vm-1")["agent_env"]["JOINERY_IMDS_ENDPOINT"].as_str().unwrap().ends_with("/vms/vm-1"));
    assert_eq!(vm(&stack, "vm-2")["identities"][0]["kind"], "SystemAssigned");
    assert!(vm(&stack, "vm-3")["identities"].as_array().unwrap().is_empty());
    let env = &stack.info["provider_env"];
    for k in [
        "ARM_TENANT_ID",
        "ARM_SUBSCRIPTION_ID",
        "ARM_CLIENT_ID",
        "ARM_CLIENT_SECRET",
        "JOINERY_ARM_ENDPOINT",
        "JOINERY_AZURE_AUTHORITY_HOST",
        "JOINERY_AZURE_CA_FILE",
        "TF_TELEPORT_ADDR",
    ] {
        assert!(env[k].is_string(), "{k}");
        if k.starts_with("JOINERY") || k.starts_with("ARM") {
            assert!(a["env_vars"][k].is_string(), "{k} is documented");
        }
    }
}

#[test]
fn malformed_fixture_fails_with_one_line_naming_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("bad.yaml");
    std::fs::write(
        &path,
        "azure:\n  tenant_id: not-a-guid\n  subscriptions: [{id: 0c2a6e58-9b1f-4d3e-a7c4-5e8f1b2d3a90}]\n",
    )
    .unwrap();
    let up = || {
        let out = up_with_fixture(&tmp.path().join("stack"), &path);
        assert!(!out.status.success());
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let err = up();
    let line = err.lines().find(|l| l.contains("joinery-devstack:")).unwrap();
    assert!(line.contains("bad.yaml") && line.contains("tenant_id"), "{err}");
    std::fs::write(&path, "azure: [1, 2\n").unwrap();
    let err = up();
    assert_eq!(err.lines().filter(|l| l.contains("bad.yaml")).count(), 1, "{err}");
}

#[tokio::test]
async fn custom_fixture_with_two_identities_needs_a_selector() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("fixture.yaml");
    std::fs::write(
        &path,
        r#"
cluster_name: custom.example
azure:
  tenant_id: 0a0a0a0a-1b1b-4c2c-8d3d-4e4e4e4e4e4e
  subscriptions: [{id: 1a1a1a1a-2b2b-4c3c-8d4d-5e5e5e5e5e5e}]
  resource_groups: [{name: rg}]
  identities:
    - {name: one, resource_group: rg, client_id: 2a2a2a2a-0001-4c3c-8d4d-5e5e5e5e5e5e, principal_id: 3a3a3a3a-0001-4c3c-8d4d-5e5e5e5e5e5e}
    - {name: two, resource_group: rg, client_id: 2a2a2a2a-0002-4c3c-8d4d-5e5e5e5e5e5e, principal_id: 3a3a3a3a-0002-4c3c-8d4d-5e5e5e5e5e5e}
  vms:
    - {name: box, resource_group: rg, vm_id: 4a4a4a4a-0001-4c3c-8d4d-5e5e5e5e5e5e, user_assigned: [one, two]}
"#,
    )
    .unwrap();
    let stack = Devstack::start_in(&tmp.path().join("stack"), &["--fixture", path.to_str().unwrap()]);
    assert_eq!(az(&stack)["tenant_id"], "0a0a0a0a-1b1b-4c2c-8d3d-4e4e4e4e4e4e");
    let client = imds(&stack, "box");
    let err = client.access_token(ARM_RESOURCE, None).await.unwrap_err();
    assert!(err.to_string().contains("Multiple user assigned identities"), "{err}");
    let t = client
        .access_token(ARM_RESOURCE, Some(&IdentitySelector::ClientId("2a2a2a2a-0002-4c3c-8d4d-5e5e5e5e5e5e".into())))
        .await
        .unwrap();
    let claims = joinery_azure::jwt::AccessTokenVerifier::new(joinery_azure::jwt::VerifierOptions {
        discovery_base: Some(format!("{}/", az(&stack)["authority_host"].as_str().unwrap())),
        extra_ca_pem: Some(https_ca(&stack)),
        ..Default::default()
    })
    .unwrap()
    .verify(&t.access_token, OffsetDateTime::now_utc())
    .await
    .unwrap();
    assert_eq!(claims.oid.as_deref(), Some("3a3a3a3a-0002-4c3c-8d4d-5e5e5e5e5e5e"));
    assert!(claims.xms_mirid.unwrap().ends_with("/userAssignedIdentities/two"));
    assert!(claims.xms_az_rid.unwrap().ends_with("/virtualMachines/box"));
}
