//! The Azure side of the provider (`teleport_azure_identity_binding`, `teleport_azure_vm`)
//! driven by the real Terraform CLI against the devstack's Azure emulator, checked through
//! ARM itself.

// A test binary links every dependency and dev-dependency of its package;
// unused ones are caught on the library target.
#![allow(unused_crate_dependencies)]

use joinery_azure::arm::{ArmClient, ArmOptions, IdentityType, VirtualMachine, VmIdentityPatch};
use joinery_azure::credential;
use joinery_azure::imds::{IdentitySelector, ImdsClient};
use joinery_testkit::Devstack;
use joinery_testkit::terraform::{VM1_LOOKUP, Workspace, terraforms};
use serde_json::Value;

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime")
}

struct Azure {
    info: Value,
    ca: Vec<u8>,
}

impl Azure {
    fn new(stack: &Devstack) -> Azure {
        let info = stack.info["azure"].clone();
        let ca = std::fs::read(info["ca_file"].as_str().expect("ca_file")).expect("read CA");
        Azure { info, ca }
    }

    fn s(&self, k: &str) -> String {
        self.info[k].as_str().unwrap_or_else(|| panic!("azure.{k}")).to_string()
    }

    fn find(&self, list: &str, name: &str) -> Value {
        self.info[list]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["name"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("{name}"))
    }

    /// An ARM client authenticated as the provider's service principal.
    fn arm(&self) -> ArmClient {
        let token = rt()
            .block_on(credential::client_secret_token(
                &self.s("authority_host"),
                &self.s("tenant_id"),
                &self.s("client_id"),
                &self.s("client_secret"),
                "https://management.azure.com/",
                Some(&self.ca),
            ))
            .expect("service principal token");
        ArmClient::new(
            token.token,
            ArmOptions { base_url: Some(self.s("arm_endpoint")), extra_ca_pem: Some(self.ca.clone()) },
        )
        .expect("arm client")
    }

    fn vm(&self, name: &str) -> VirtualMachine {
        let id = self.find("vms", name)["id"].as_str().unwrap().to_string();
        rt().block_on(self.arm().get_vm(&id)).expect("get vm")
    }

    fn vm_identity_ids(&self, name: &str) -> Vec<String> {
        let mut v: Vec<String> = self
            .vm(name)
            .identity
            .map(|i| i.user_assigned_identities.keys().map(|k| k.to_ascii_lowercase()).collect())
            .unwrap_or_default();
        v.sort();
        v
    }

    fn assignments(&self, principal: &str) -> Vec<String> {
        let sub = format!("/subscriptions/{}", self.s("subscription_id"));
        let mut v: Vec<String> = rt()
            .block_on(self.arm().list_role_assignments(&sub, principal))
            .expect("list assignments")
            .into_iter()
            .map(|a| a.id)
            .collect();
        v.sort();
        v
    }

    fn custom_roles(&self) -> usize {
        let sub = self.s("subscription_id");
        rt().block_on(
            self.arm().find_role_definitions(&format!("/subscriptions/{sub}"), &format!("Joinery VM Reader ({sub})")),
        )
        .expect("list roles")
        .len()
    }
}

fn config(az: &Azure, extra: &str) -> String {
    let tbot = az.find("identities", "tbot-identity");
    let vm1 = az.find("vms", "vm-1");
    format!(
        r#"
provider "teleport" {{}}

resource "teleport_bot" "azure" {{
  metadata = {{ name = "azure-bot" }}
  spec     = {{ roles = ["access"] }}
}}

resource "teleport_azure_identity_binding" "x" {{
  identity_id         = "{tbot}"
  virtual_machine_ids = ["{vm1}"]
}}

resource "teleport_provision_token" "azure" {{
  version  = "v2"
  metadata = {{ name = "azure-bot-token" }}
  spec = {{
    roles       = ["Bot"]
    bot_name    = teleport_bot.azure.metadata.name
    join_method = "azure"
    azure       = {{ allow = teleport_azure_identity_binding.x.azure_allow }}
  }}
}}

data "teleport_azure_vm" "by_id" {{
  id         = "{vm1}"
  depends_on = [teleport_azure_identity_binding.x]
}}

data "teleport_azure_vm" "by_name" {{
  resource_group_name = "group1"
  name                = "vm-1"
  depends_on          = [teleport_azure_identity_binding.x]
}}

output "vm_id"        {{ value = data.teleport_azure_vm.by_id.vm_id }}
output "by_name_id"   {{ value = data.teleport_azure_vm.by_name.id }}
output "identity_ids" {{ value = data.teleport_azure_vm.by_name.identity_ids }}
output "client_id"    {{ value = teleport_azure_identity_binding.x.client_id }}
{extra}
"#,
        tbot = tbot["id"].as_str().unwrap(),
        vm1 = vm1["id"].as_str().unwrap(),
    )
}

#[test]
fn identity_binding_lifecycle_drift_and_destroy() {
    for (label, tf) in terraforms() {
        let stack = Devstack::start();
        let az = Azure::new(&stack);
        let tbot = az.find("identities", "tbot-identity");
        let tbot_id = tbot["id"].as_str().unwrap().to_string();
        let principal = tbot["principal_id"].as_str().unwrap().to_string();
        let vm1 = az.find("vms", "vm-1");
        let vm2 = az.find("vms", "vm-2");

        // The emulator before: what destroy must restore.
        let before_vm1 = az.vm_identity_ids("vm-1");
        let before_assignments = az.assignments(&principal);
        assert!(before_assignments.is_empty(), "tbot-identity starts without roles");
        assert_eq!(az.custom_roles(), 0);
        assert!(!before_vm1.contains(&tbot_id.to_ascii_lowercase()));

        let ws = Workspace::new(&label, &tf, stack.provider_env());
        ws.write(&config(&az, ""));
        ws.ok(&["validate", "-no-color"]);
        let plan = ws.plan(&[]);
        assert_eq!(plan.code, 2, "[{label}] {}", plan.all());
        ws.apply();
        ws.assert_no_changes();

        // ARM holds the attachment, the assignment and the custom role.
        let after = az.vm_identity_ids("vm-1");
        assert!(after.contains(&tbot_id.to_ascii_lowercase()), "[{label}] attached: {after:?}");
        for other in &before_vm1 {
            assert!(after.contains(other), "[{label}] other identities kept: {after:?}");
        }
        let assignments = az.assignments(&principal);
        assert_eq!(assignments.len(), 1, "[{label}] {assignments:?}");
        assert_eq!(az.custom_roles(), 1);
        let state = ws.resource("teleport_azure_identity_binding.x");
        assert_eq!(
            state["role_assignment_id"].as_str().unwrap().to_ascii_lowercase(),
            assignments[0].to_ascii_lowercase()
        );
        assert_eq!(state["client_id"], tbot["client_id"]);
        assert_eq!(state["scope"], vm1["id"], "[{label}] narrowest scope of one VM is the VM");
        assert_eq!(state["managed"]["role_definition"], true);
        assert_eq!(state["azure_allow"][0]["subscription"], az.info["subscription_id"]);
        assert_eq!(state["azure_allow"][0]["resource_groups"][0], "group1");

        // The token's rules come from the binding.
        let token = stack.get_json("token/azure-bot-token").expect("token");
        assert_eq!(token["spec"]["azure"]["allow"][0]["subscription"], az.info["subscription_id"]);
        assert_eq!(token["spec"]["azure"]["allow"][0]["resource_groups"][0], "group1");

        // Data sources, by id and by resource group + name.
        let out: Value = serde_json::from_str(&ws.ok(&["output", "-json"]).stdout).unwrap();
        assert_eq!(out["vm_id"]["value"], vm1["vm_id"]);
        assert_eq!(out["by_name_id"]["value"], vm1["id"]);
        let ids: Vec<String> = out["identity_ids"]["value"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_ascii_lowercase())
            .collect();
        assert!(ids.contains(&tbot_id.to_ascii_lowercase()), "[{label}] {ids:?}");

        // Least privilege: the identity reads its VM and nothing else.
        let imds = ImdsClient::new(vm1["imds_endpoint"].as_str().unwrap()).unwrap();
        let mi = rt()
            .block_on(imds.access_token(
                "https://management.azure.com/",
                Some(&IdentitySelector::ClientId(tbot["client_id"].as_str().unwrap().to_string())),
            ))
            .expect("managed identity token");
        let as_vm = ArmClient::new(
            mi.access_token,
            ArmOptions { base_url: Some(az.s("arm_endpoint")), extra_ca_pem: Some(az.ca.clone()) },
        )
        .unwrap();
        rt().block_on(as_vm.get_vm(vm1["id"].as_str().unwrap())).expect("reads its own VM");
        for other in [vm2["id"].as_str().unwrap(), az.find("vms", "vm-3")["id"].as_str().unwrap()] {
            let err = rt().block_on(as_vm.get_vm(other)).expect_err("outside the scope");
            assert_eq!(err.code(), "AuthorizationFailed", "[{label}] {err}");
        }

        // Plan-time check: a token that does not admit the VM fails, naming it.
        let deny = format!(
            r#"
resource "teleport_azure_identity_binding" "denied" {{
  identity_id         = "{tbot_id}"
  virtual_machine_ids = ["{vm2}"]
  token               = teleport_provision_token.azure.metadata.name
}}
"#,
            vm2 = vm2["id"].as_str().unwrap()
        );
        ws.write(&config(&az, &deny));
        let plan = ws.plan(&[]);
        assert_eq!(plan.code, 1, "[{label}] {}", plan.all());
        assert!(plan.all().contains("does not admit"), "[{label}] {}", plan.all());
        assert!(plan.all().contains("VM vm-2"), "[{label}] {}", plan.all());
        ws.write(&config(&az, ""));
        ws.assert_no_changes();

        // Drift: the role assignment deleted out of band.
        rt().block_on(az.arm().delete_role_assignment(&assignments[0])).unwrap();
        let plan = ws.plan(&[]);
        assert_eq!(plan.code, 2, "[{label}] {}", plan.all());
        assert!(plan.stdout.contains("role_assignment_id"), "[{label}] {}", plan.stdout);
        assert!(
            plan.stdout.contains("0 to add, 1 to change, 0 to destroy"),
            "[{label}] repaired in place: {}",
            plan.stdout
        );
        ws.apply();
        assert_eq!(az.assignments(&principal).len(), 1, "[{label}] repaired");
        ws.assert_no_changes();

        // Drift: the identity detached from the VM.
        let vm1_id = vm1["id"].as_str().unwrap();
        // What someone detaching it by hand sends: {"type": "UserAssigned", "userAssignedIdentities": {id: null}}.
        let detach = VmIdentityPatch {
            kind: IdentityType::UserAssigned,
            user_assigned_identities: Some([(tbot_id.clone(), None)].into()),
        };
        rt().block_on(az.arm().patch_vm_identity(vm1_id, detach)).unwrap();
        assert!(!az.vm_identity_ids("vm-1").contains(&tbot_id.to_ascii_lowercase()));
        let plan = ws.plan(&[]);
        assert_eq!(plan.code, 2, "[{label}] {}", plan.all());
        assert!(plan.stdout.contains("virtual_machine_ids"), "[{label}] {}", plan.stdout);
        assert!(
            plan.stdout.contains("0 to add, 1 to change, 0 to destroy"),
            "[{label}] repaired in place: {}",
            plan.stdout
        );
        ws.apply();
        assert!(az.vm_identity_ids("vm-1").contains(&tbot_id.to_ascii_lowercase()), "[{label}] re-attached");
        ws.assert_no_changes();

        // Drift: the custom role (and so its assignment) deleted.
        let state = ws.resource("teleport_azure_identity_binding.x");
        let arm = az.arm();
        rt().block_on(arm.delete_role_assignment(state["role_assignment_id"].as_str().unwrap())).unwrap();
        rt().block_on(arm.delete_role_definition(state["role_definition_id"].as_str().unwrap())).unwrap();
        assert_eq!(az.custom_roles(), 0);
        let plan = ws.plan(&[]);
        assert_eq!(plan.code, 2, "[{label}] {}", plan.all());
        assert!(plan.stdout.contains("role_definition_id"), "[{label}] {}", plan.stdout);
        assert!(
            plan.stdout.contains("0 to add, 1 to change, 0 to destroy"),
            "[{label}] repaired in place: {}",
            plan.stdout
        );
        ws.apply();
        assert_eq!(az.custom_roles(), 1);
        assert_eq!(az.assignments(&principal).len(), 1);
        ws.assert_no_changes();

        // Import by the documented id adopts what exists; the plan stays empty.
        ws.ok(&["state", "rm", "teleport_azure_identity_binding.x"]);
        ws.ok(&[
            "import",
            "-no-color",
            "-input=false",
            "teleport_azure_identity_binding.x",
            &format!("{tbot_id}|{vm1_id}"),
        ]);
        ws.assert_no_changes();

        // Destroy: the emulator is as it was.
        ws.ok(&["destroy", "-auto-approve", "-no-color", "-input=false"]);
        assert_eq!(az.vm_identity_ids("vm-1"), before_vm1, "[{label}] detached, others kept");
        assert_eq!(az.assignments(&principal), before_assignments, "[{label}] assignment removed");
        assert_eq!(az.custom_roles(), 0, "[{label}] custom role removed");
    }
}

#[test]
fn teleport_only_config_needs_no_azure_credentials() {
    let Some((label, tf)) = terraforms().into_iter().next() else { return };
    let stack = Devstack::start();
    let env: Vec<(String, String)> = stack
        .provider_env()
        .into_iter()
        .filter(|(k, _)| !k.starts_with("ARM_") && !k.starts_with("JOINERY_A"))
        .collect();
    let ws = Workspace::new(&label, &tf, env);
    ws.write(
        r#"
provider "teleport" {}
resource "teleport_bot" "plain" {
  metadata = { name = "plain" }
  spec     = { roles = ["access"] }
}
"#,
    );
    ws.apply();
    ws.assert_no_changes();
}

/// azurerm's client certificate settings: a PKCS#12 bundle by path (`ARM_CLIENT_CERTIFICATE_PATH`)
/// or inline (`client_certificate = filebase64(…)`), used before a secret; a certificate the
/// application does not have is refused by Entra with its reason, a wrong password on the
/// attribute at fault before Entra is asked.
#[test]
fn a_service_principal_signs_in_with_its_client_certificate() {
    let Some((label, tf)) = terraforms().into_iter().next() else { return };
    let stack = Devstack::start();
    let az = Azure::new(&stack);
    let (pfx, password) = (az.s("client_certificate_path"), az.s("client_certificate_password"));
    let vm_id = az.find("vms", "vm-1")["vm_id"].as_str().unwrap().to_string();
    let base: Vec<(String, String)> = stack
        .provider_env()
        .into_iter()
        .map(|(k, v)| if k == "ARM_CLIENT_SECRET" { (k, "not-the-secret".to_string()) } else { (k, v) })
        .collect();
    let with = |extra: &[(&str, &str)]| {
        let mut env = base.clone();
        env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        env
    };

    // By path, from the environment; the wrong ARM_CLIENT_SECRET proves the certificate is used.
    let ws = Workspace::new(
        &label,
        &tf,
        with(&[("ARM_CLIENT_CERTIFICATE_PATH", &pfx), ("ARM_CLIENT_CERTIFICATE_PASSWORD", &password)]),
    );
    ws.write(&format!("provider \"teleport\" {{}}\n{VM1_LOOKUP}"));
    ws.apply();
    assert_eq!(ws.ok(&["output", "-raw", "vm_id"]).stdout, vm_id);

    // Inline, base64, from the configuration.
    let ws = Workspace::new(&label, &tf, base.clone());
    ws.write(&format!(
        "provider \"teleport\" {{\n  azure = {{\n    client_certificate = filebase64({pfx:?})\n    \
         client_certificate_password = {password:?}\n  }}\n}}\n{VM1_LOOKUP}"
    ));
    ws.apply();
    assert_eq!(ws.ok(&["output", "-raw", "vm_id"]).stdout, vm_id);

    // A certificate the application does not have.
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256).unwrap();
    let stranger = rcgen::CertificateParams::new(vec![]).unwrap().self_signed(&key).unwrap();
    let bundle = credential::pkcs12_bundle(stranger.der(), &key.serialize_der(), "pw").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let stranger_pfx = dir.path().join("stranger.pfx");
    std::fs::write(&stranger_pfx, bundle).unwrap();
    let stranger_pfx = stranger_pfx.display().to_string();
    let ws = Workspace::new(
        &label,
        &tf,
        with(&[("ARM_CLIENT_CERTIFICATE_PATH", &stranger_pfx), ("ARM_CLIENT_CERTIFICATE_PASSWORD", "pw")]),
    );
    ws.write(&format!("provider \"teleport\" {{}}\n{VM1_LOOKUP}"));
    let out = ws.run(&["plan", "-no-color"]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(out.all().contains("Cannot authenticate to Azure"), "{}", out.all());
    assert!(out.all().contains("AADSTS700027"), "{}", out.all());
    assert!(out.all().contains("not registered on application"), "{}", out.all());
    assert!(out.all().contains(&credential::thumbprint(stranger.der())), "names the certificate: {}", out.all());

    // The right bundle with a wrong password: refused on the attribute, Entra never asked.
    let ws = Workspace::new(
        &label,
        &tf,
        with(&[("ARM_CLIENT_CERTIFICATE_PATH", &pfx), ("ARM_CLIENT_CERTIFICATE_PASSWORD", "hunter2-xyz")]),
    );
    ws.write(&format!("provider \"teleport\" {{}}\n{VM1_LOOKUP}"));
    let out = ws.run(&["plan", "-no-color"]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(out.all().contains("Cannot open the Azure client certificate"), "{}", out.all());
    assert!(out.all().contains("client_certificate_password"), "{}", out.all());
    assert!(!out.all().contains("hunter2-xyz"), "the password is not echoed: {}", out.all());
}

/// Two bindings attaching their identities to one VM in the same apply: Terraform runs them
/// in parallel, the second VM update meets the first one still running (Compute's 409, or a
/// stale `If-Match`), reads the VM again and keeps the other identity.
#[test]
fn two_bindings_on_one_vm_applied_in_parallel_keep_both_identities() {
    let Some((label, tf)) = terraforms().into_iter().next() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("stack");
    let stack = Devstack::start_in(&dir, &["--azure-operation-duration", "1s"]);
    let az = Azure::new(&stack);
    let vm3 = az.find("vms", "vm-3")["id"].as_str().unwrap().to_string();
    let ids: Vec<String> = ["vm1-identity", "tbot-identity"]
        .iter()
        .map(|n| az.find("identities", n)["id"].as_str().unwrap().to_string())
        .collect();
    assert!(az.vm_identity_ids("vm-3").is_empty());
    let ws = Workspace::new(&label, &tf, stack.provider_env());
    ws.write(&format!(
        r#"
provider "teleport" {{}}

resource "teleport_azure_identity_binding" "a" {{
  identity_id         = "{a}"
  virtual_machine_ids = ["{vm3}"]
  role                = "reader"
}}

resource "teleport_azure_identity_binding" "b" {{
  identity_id         = "{b}"
  virtual_machine_ids = ["{vm3}"]
  role                = "reader"
}}
"#,
        a = ids[0],
        b = ids[1],
    ));
    ws.apply();
    ws.assert_no_changes();
    let mut want: Vec<String> = ids.iter().map(|i| i.to_ascii_lowercase()).collect();
    want.sort();
    assert_eq!(az.vm_identity_ids("vm-3"), want, "[{label}] both identities attached");
    let log = std::fs::read_to_string(dir.with_extension("log")).unwrap();
    assert!(
        log.contains("VM write refused: an operation on it is running") || log.contains("If-Match does not match"),
        "[{label}] the two updates raced:\n{log}"
    );
    // vm1-identity stays on vm-1, which the bindings never touched.
    assert!(az.vm_identity_ids("vm-1").contains(&ids[0].to_ascii_lowercase()));

    ws.ok(&["destroy", "-auto-approve", "-no-color", "-input=false"]);
    assert!(az.vm_identity_ids("vm-3").is_empty(), "[{label}] both detached");
    assert!(az.vm_identity_ids("vm-1").contains(&ids[0].to_ascii_lowercase()));
}
