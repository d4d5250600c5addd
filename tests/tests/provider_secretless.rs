//! The provider in a pipeline that holds no secret: the environment set as GitHub Actions sets
//! it (`ACTIONS_ID_TOKEN_REQUEST_URL` / `_TOKEN`), no `ARM_CLIENT_SECRET`, and Azure signed in
//! by workload identity federation against the devstack's Entra (a federated identity
//! credential of the provider's application trusts the devstack's pipeline).

// A test binary links every dependency and dev-dependency of its package;
// unused ones are caught on the library target.
#![allow(unused_crate_dependencies)]

use joinery_testkit::Devstack;
use joinery_testkit::terraform::{Workspace, terraforms};
use serde_json::{Value, json};

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime")
}

/// The environment of a job of `run` (the devstack's default run when `None`): the stack's
/// provider environment without the Azure secret, plus what GitHub Actions sets.
fn pipeline_env(stack: &Devstack, run: Option<Value>) -> Vec<(String, String)> {
    let actions: Value = match run {
        None => stack.info["github"]["actions_env"].clone(),
        Some(run) => {
            let gh = &stack.info["github"];
            let ca = std::fs::read(gh["ca_file"].as_str().unwrap()).unwrap();
            let mut b = reqwest::Client::builder().no_proxy();
            for c in reqwest::Certificate::from_pem_bundle(&ca).unwrap() {
                b = b.add_root_certificate(c);
            }
            let started: Value = rt().block_on(async {
                let resp = b.build().unwrap().post(gh["runs_endpoint"].as_str().unwrap()).json(&run).send().await;
                resp.unwrap().json().await.unwrap()
            });
            started["env"].clone()
        }
    };
    let mut env: Vec<(String, String)> =
        stack.provider_env().into_iter().filter(|(k, _)| k != "ARM_CLIENT_SECRET").collect();
    env.extend(actions.as_object().unwrap().iter().map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string())));
    env
}

const VM_LOOKUP: &str = r#"
provider "teleport" {
  azure = { use_oidc = true }
}

data "teleport_azure_vm" "vm1" {
  resource_group_name = "group1"
  name                = "vm-1"
}

output "vm_id" { value = data.teleport_azure_vm.vm1.vm_id }
"#;

#[test]
fn azure_signs_in_with_the_pipelines_oidc_token() {
    let stack = Devstack::start();
    let (label, tf) = terraforms().remove(0);
    let env = pipeline_env(&stack, None);
    assert!(!env.iter().any(|(k, _)| k == "ARM_CLIENT_SECRET"));
    let ws = Workspace::new(&label, &tf, env);
    ws.write(VM_LOOKUP);
    ws.apply();
    let vm1 = stack.info["azure"]["vms"].as_array().unwrap().iter().find(|v| v["name"] == "vm-1").unwrap();
    assert_eq!(ws.ok(&["output", "-raw", "vm_id"]).stdout, vm1["vm_id"].as_str().unwrap());
}

#[test]
fn entra_refuses_an_expired_pipeline_token_or_another_repository() {
    let stack = Devstack::start();
    let (label, tf) = terraforms().remove(0);
    for (run, reason) in [
        (json!({"repository": "joinery-demo/infrastructure", "issued_secs_ago": 3600}), "AADSTS700024"),
        (json!({"repository": "someone-else/infrastructure"}), "AADSTS700213"),
    ] {
        let ws = Workspace::new(&label, &tf, pipeline_env(&stack, Some(run)));
        ws.write(VM_LOOKUP);
        let out = ws.run(&["plan", "-no-color"]);
        assert_eq!(out.code, 1, "{}", out.all());
        assert!(out.all().contains("Cannot authenticate to Azure"), "{}", out.all());
        assert!(out.all().contains(reason), "{}", out.all());
    }
    // use_oidc outside a pipeline says what it needs.
    let env: Vec<(String, String)> =
        stack.provider_env().into_iter().filter(|(k, _)| k != "ARM_CLIENT_SECRET").collect();
    let ws = Workspace::new(&label, &tf, env);
    ws.write(VM_LOOKUP);
    let out = ws.run(&["plan", "-no-color"]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(out.all().contains("No OIDC token for use_oidc"), "{}", out.all());
}

#[test]
fn a_runner_on_an_azure_vm_signs_in_with_its_managed_identity() {
    // The emulated vm-1's IMDS stands in for 169.254.169.254 (ARM_MSI_ENDPOINT); its
    // user-assigned vm1-identity reads group1.
    let stack = Devstack::start();
    let (label, tf) = terraforms().remove(0);
    let vm1 = stack.info["azure"]["vms"].as_array().unwrap().iter().find(|v| v["name"] == "vm-1").unwrap().clone();
    let mut env: Vec<(String, String)> =
        stack.provider_env().into_iter().filter(|(k, _)| k != "ARM_CLIENT_SECRET" && k != "ARM_CLIENT_ID").collect();
    env.extend([
        ("ARM_USE_MSI".to_string(), "true".to_string()),
        ("ARM_MSI_ENDPOINT".to_string(), vm1["imds_endpoint"].as_str().unwrap().to_string()),
        ("ARM_CLIENT_ID".to_string(), vm1["identities"][0]["client_id"].as_str().unwrap().to_string()),
    ]);
    let ws = Workspace::new(&label, &tf, env);
    ws.write(&VM_LOOKUP.replace("azure = { use_oidc = true }", ""));
    ws.apply();
    assert_eq!(ws.ok(&["output", "-raw", "vm_id"]).stdout, vm1["vm_id"].as_str().unwrap());
}
