//! The provider in a pipeline that holds no secret: the environment set as GitHub Actions sets
//! it (`ACTIONS_ID_TOKEN_REQUEST_URL` / `_TOKEN`), no `ARM_CLIENT_SECRET`, and Azure signed in
//! by workload identity federation against the devstack's Entra (a federated identity
//! credential of the provider's application trusts the devstack's pipeline).

// A test binary links every dependency and dev-dependency of its package;
// unused ones are caught on the library target.
#![allow(unused_crate_dependencies)]

use joinery_testkit::Devstack;
use joinery_testkit::terraform::{VM1_LOOKUP, Workspace, terraforms};
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

/// The VM lookup, signing in to Azure with the pipeline's OIDC token.
fn vm_lookup_with_oidc() -> String {
    format!("provider \"teleport\" {{\n  azure = {{ use_oidc = true }}\n}}\n{VM1_LOOKUP}")
}

#[test]
fn azure_signs_in_with_the_pipelines_oidc_token() {
    let stack = Devstack::start();
    let (label, tf) = terraforms().remove(0);
    let env = pipeline_env(&stack, None);
    assert!(!env.iter().any(|(k, _)| k == "ARM_CLIENT_SECRET"));
    let ws = Workspace::new(&label, &tf, env);
    ws.write(&vm_lookup_with_oidc());
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
        ws.write(&vm_lookup_with_oidc());
        let out = ws.run(&["plan", "-no-color"]);
        assert_eq!(out.code, 1, "{}", out.all());
        assert!(out.all().contains("Cannot authenticate to Azure"), "{}", out.all());
        assert!(out.all().contains(reason), "{}", out.all());
    }
    // use_oidc outside a pipeline says what it needs.
    let env: Vec<(String, String)> =
        stack.provider_env().into_iter().filter(|(k, _)| k != "ARM_CLIENT_SECRET").collect();
    let ws = Workspace::new(&label, &tf, env);
    ws.write(&vm_lookup_with_oidc());
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
    ws.write(&format!("provider \"teleport\" {{}}\n{VM1_LOOKUP}"));
    ws.apply();
    assert_eq!(ws.ok(&["output", "-raw", "vm_id"]).stdout, vm1["vm_id"].as_str().unwrap());
}

/// What an administrator does once: the pipeline's bot (editor, to manage bots and tokens)
/// and the `github` join token its workflow may use.
fn pipeline_bot(stack: &Devstack, rule: &str) {
    stack.create("kind: bot\nversion: v1\nmetadata:\n  name: terraform\nspec:\n  roles: [editor]\n", true);
    stack.create(
        &format!(
            "kind: token\nversion: v2\nmetadata:\n  name: terraform-ci\nspec:\n  roles: [Bot]\n  join_method: github\n  bot_name: terraform\n  github:\n    allow:\n      - {rule}\n"
        ),
        true,
    );
}

/// The `env` of examples/pipelines/github-actions.yml's job, with the repository variables
/// (`${{ vars.… }}`) the devstack's values and the address the devstack's.
fn workflow_env(stack: &Devstack) -> Vec<(String, String)> {
    let az = &stack.info["azure"];
    let vars = [
        ("${{ vars.AZURE_TENANT_ID }}", az["tenant_id"].as_str().unwrap()),
        ("${{ vars.AZURE_CLIENT_ID }}", az["client_id"].as_str().unwrap()),
        ("${{ vars.AZURE_SUBSCRIPTION_ID }}", az["subscription_id"].as_str().unwrap()),
    ];
    let workflow: Value = serde_yaml_ng::from_str(&example("github-actions.yml")).unwrap();
    let env = workflow["jobs"]["terraform"]["env"].as_object().unwrap();
    env.iter()
        .map(|(k, v)| {
            let mut v = v.as_str().unwrap().to_string();
            for (var, value) in vars {
                v = v.replace(var, value);
            }
            if k == "TF_TELEPORT_ADDR" {
                v = stack.addr();
            }
            (k.clone(), v)
        })
        .collect()
}

fn example(name: &str) -> String {
    std::fs::read_to_string(joinery_testkit::workspace_root().join("examples/pipelines").join(name)).unwrap()
}

/// The pipeline's environment for the quickstart: the job's as GitHub Actions sets it and the
/// example workflow's, no identity file, no Azure secret; the devstack's Teleport CA.
fn quickstart_env(stack: &Devstack, out_dir: &std::path::Path) -> Vec<(String, String)> {
    let az = &stack.info["azure"];
    let find = |list: &str, name: &str| {
        az[list].as_array().unwrap().iter().find(|v| v["name"] == name).unwrap()["id"].as_str().unwrap().to_string()
    };
    let mut env: Vec<(String, String)> =
        pipeline_env(stack, None).into_iter().filter(|(k, _)| k != "TF_TELEPORT_IDENTITY_FILE_PATH").collect();
    env.extend(workflow_env(stack));
    env.extend([
        ("TF_TELEPORT_ROOT_CA".to_string(), stack.ca_file().display().to_string()),
        ("TF_VAR_teleport_addr".to_string(), stack.addr()),
        ("TF_VAR_ca_pin".to_string(), stack.pin()),
        ("TF_VAR_identity_id".to_string(), find("identities", "tbot-identity")),
        ("TF_VAR_vm_id".to_string(), find("vms", "vm-3")),
        ("TF_VAR_output_dir".to_string(), out_dir.display().to_string()),
    ]);
    env
}

fn quickstart_workspace(stack: &Devstack, out_dir: &std::path::Path) -> Workspace {
    let (label, tf) = terraforms().remove(0);
    let ws = Workspace::new(&label, &tf, quickstart_env(stack, out_dir));
    let main = std::fs::read_to_string(joinery_testkit::workspace_root().join("examples/quickstart/main.tf")).unwrap();
    // Workspace::write prepends the provider requirements, which main.tf already has.
    std::fs::write(ws.work().join("main.tf"), main).unwrap();
    ws
}

#[test]
fn the_quickstart_applies_from_a_pipeline_with_no_secret() {
    let stack = Devstack::start();
    // Once, as an administrator: examples/pipelines/bootstrap.tf.
    let (label, tf) = terraforms().remove(0);
    let admin = Workspace::new(&label, &tf, stack.provider_env());
    admin.write(&example("bootstrap.tf"));
    admin.apply();
    let out = tempfile::tempdir().unwrap();
    let ws = quickstart_workspace(&stack, out.path());
    let env = quickstart_env(&stack, out.path());
    assert!(!env.iter().any(|(k, _)| k.contains("IDENTITY_FILE") || k == "ARM_CLIENT_SECRET"));
    ws.apply();
    ws.assert_no_changes();
    // Terraform made what the quickstart says, as the pipeline's bot.
    assert!(stack.get_json("token/demo-vm-azure").is_some());
    assert!(stack.get_json("bot/demo-vm").is_some());
    // Nothing of the bot's credentials is in the state.
    let state = std::fs::read_to_string(ws.work().join("terraform.tfstate")).unwrap();
    assert!(!state.contains("BEGIN CERTIFICATE") && !state.contains("PRIVATE KEY"));
    ws.ok(&["destroy", "-auto-approve", "-no-color"]);
    assert!(stack.get_json("token/demo-vm-azure").is_none());
}

#[test]
fn a_workflow_the_join_token_does_not_allow_is_refused_at_configure_time() {
    let stack = Devstack::start();
    pipeline_bot(&stack, "{repository: joinery-demo/infrastructure, workflow: release}");
    let out = tempfile::tempdir().unwrap();
    let ws = quickstart_workspace(&stack, out.path());
    let plan = ws.run(&["plan", "-no-color"]);
    assert_eq!(plan.code, 1, "{}", plan.all());
    let text = plan.all();
    assert!(text.contains("Cannot join the Teleport cluster"), "{text}");
    assert!(text.contains("github join with token"), "{text}");
    assert!(text.contains("id token claims did not match any allow rules"), "{text}");
    assert!(stack.get_json("token/demo-vm-azure").is_none());
}

/// How many times the pipeline's bot joined while the quickstart applied, its certificates
/// living `ttl_secs` (the bot's default when `None`).
fn joins_during_apply(ttl_secs: Option<u32>) -> usize {
    let stack = Devstack::start();
    pipeline_bot(&stack, "{repository: joinery-demo/infrastructure}");
    if let Some(ttl) = ttl_secs {
        stack.create(
            &format!(
                "kind: bot\nversion: v1\nmetadata:\n  name: terraform\nspec:\n  roles: [editor]\n  max_session_ttl:\n    seconds: {ttl}\n"
            ),
            true,
        );
    }
    let out = tempfile::tempdir().unwrap();
    let ws = quickstart_workspace(&stack, out.path());
    ws.apply();
    assert!(stack.get_json("token/demo-vm-azure").is_some());
    let state: Value = serde_json::from_slice(&std::fs::read(stack.dir.join("state.json")).unwrap()).unwrap();
    state["bot_instances"].as_object().unwrap().values().filter(|i| i["bot_name"] == "terraform").count()
}

#[test]
fn an_apply_that_outlives_the_bots_certificates_joins_again() {
    // Terraform configures the provider once per graph walk: that many joins with long-lived
    // certificates. With one-minute certificates — less than the renewal margin, so every
    // call finds them about to expire, as a long apply would — the provider joins again
    // before its calls, and the apply still succeeds.
    let per_configure = joins_during_apply(None);
    let short_lived = joins_during_apply(Some(60));
    assert!(short_lived > per_configure, "{short_lived} joins with short certificates, {per_configure} without");
}

#[test]
fn the_pipeline_examples_are_valid_and_use_only_documented_variables() {
    let docs = std::fs::read_to_string(joinery_testkit::workspace_root().join("docs/index.md")).unwrap();
    let github: Value = serde_yaml_ng::from_str(&example("github-actions.yml")).unwrap();
    assert_eq!(github["permissions"]["id-token"], "write", "the job must be allowed its OIDC token");
    // The join token's rule in bootstrap.tf names this workflow.
    assert!(example("bootstrap.tf").contains(&format!("workflow   = {}", github["name"])));
    let ado: Value = serde_yaml_ng::from_str(&example("azure-pipelines.yml")).unwrap();
    let ado_env = ado["steps"].as_array().unwrap().iter().find_map(|s| s.get("env")).unwrap();
    for env in [&github["jobs"]["terraform"]["env"], ado_env] {
        for key in env.as_object().unwrap().keys() {
            assert!(docs.contains(&format!("`{key}`")), "{key} is not a documented provider variable");
        }
    }
}
