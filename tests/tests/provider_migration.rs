//! README's migration promise: a state written by the official provider
//! (`registry.terraform.io/gravitational/teleport`) is kept by switching the
//! provider source, `terraform state replace-provider`, and the next plan is
//! empty against a cluster holding the same objects.
//!
//! The state file is what the official provider writes, attribute by
//! attribute:
//!
//! - `teleport_provision_token` (generated `resource_teleport_provision_token.go`
//!   and `tfschema.GenSchemaProvisionTokenV2`, v18): every attribute of the
//!   schema, `id` set to the token's revision at create (`plan.Attrs["id"] =
//!   Metadata.Revision`); the generated copy functions keep an attribute
//!   null when the plan had it null (`metadata.revision`, `sub_kind`), fill
//!   the computed ones (`namespace`, `kind`) and always write `aws_iid_ttl`
//!   (a Go zero duration prints `0s`);
//! - `teleport_bot` in the layout most states hold, the one the official
//!   provider wrote before v18.4 (`resource_teleport_bot.go`: `id` = the
//!   name, `user_name` / `role_name` from the bot's status, `token_ttl = ""`,
//!   `token_id` null and sensitive), which v18.4 still reads;
//! - `teleport_bot` in the v18.4 layout (`metadata`, `spec`, `status`; PR
//!   #61201): `id` = the name, `spec.max_session_ttl` as Teleport's
//!   `GetBot` fills it (12h) printed as a Go duration, the deprecated
//!   top-level attributes null but the computed `user_name` / `role_name`.
//!   Computed attributes whose exact value the official code leaves open
//!   (`sub_kind`, `namespace`, `token_ttl`) are given the empty value it
//!   would copy from Teleport's answer; computed attributes never enter a
//!   plan, so a different guess cannot hide a diff.
//!
//! Both at schema version 0, as the official provider declares neither a
//! version.

// A test binary links every dependency and dev-dependency of its package;
// unused ones are caught on the library target.
#![allow(unused_crate_dependencies)]

use joinery_testkit::Devstack;
use joinery_testkit::terraform::{TELEPORT_SOURCE, Workspace, terraforms};
use serde_json::json;

const OFFICIAL: &str = "registry.terraform.io/gravitational/teleport";

const CONFIG: &str = r#"provider "teleport" {}

resource "teleport_provision_token" "vms" {
  version = "v2"
  metadata = {
    name        = "vm-token"
    description = "VMs of group1"
    expires     = "2099-01-01T00:00:00Z"
    labels = {
      env = "dev"
    }
  }
  spec = {
    roles       = ["Bot"]
    bot_name    = "robot"
    join_method = "azure"
    azure = {
      allow = [{
        subscription    = "0c2a6e58-9b1f-4d3e-a7c4-5e8f1b2d3a90"
        resource_groups = ["group1"]
      }]
    }
  }
}

resource "teleport_bot" "hybrid" {
  metadata = {
    name = "hybrid"
  }
  spec = {
    roles = ["access"]
  }
}

resource "teleport_bot" "robot" {
  name   = "robot"
  roles  = ["access"]
  traits = {
    logins = ["root"]
  }
}
"#;

/// The same objects, as the official provider left them in Teleport.
const OBJECTS: &str = "kind: token
version: v2
metadata:
  name: vm-token
  description: VMs of group1
  expires: 2099-01-01T00:00:00Z
  labels:
    env: dev
spec:
  roles: [Bot]
  bot_name: robot
  join_method: azure
  azure:
    allow:
    - subscription: 0c2a6e58-9b1f-4d3e-a7c4-5e8f1b2d3a90
      resource_groups: [group1]
---
kind: bot
version: v1
metadata:
  name: hybrid
spec:
  roles: [access]
---
kind: bot
version: v1
metadata:
  name: robot
spec:
  roles: [access]
  traits:
  - name: logins
    values: [root]
";

/// Every `spec` attribute of the official `teleport_provision_token`, null unless set.
const TOKEN_SPEC_ATTRIBUTES: &[&str] = &[
    "allow",
    "aws_iid_ttl",
    "azure",
    "azure_devops",
    "bitbucket",
    "bot_name",
    "bound_keypair",
    "circleci",
    "gcp",
    "github",
    "gitlab",
    "join_method",
    "kubernetes",
    "oracle",
    "roles",
    "spacelift",
    "suggested_agent_matcher_labels",
    "suggested_labels",
    "terraform_cloud",
    "tpm",
];

fn official_state() -> serde_json::Value {
    let mut spec = serde_json::Map::new();
    for attr in TOKEN_SPEC_ATTRIBUTES {
        spec.insert(attr.to_string(), serde_json::Value::Null);
    }
    spec.insert("aws_iid_ttl".into(), json!("0s"));
    spec.insert("roles".into(), json!(["Bot"]));
    spec.insert("bot_name".into(), json!("robot"));
    spec.insert("join_method".into(), json!("azure"));
    spec.insert(
        "azure".into(),
        json!({"allow": [{"resource_groups": ["group1"], "subscription": "0c2a6e58-9b1f-4d3e-a7c4-5e8f1b2d3a90"}]}),
    );
    // A revision of the cluster the official provider talked to: not the devstack's.
    let revision = "8a4f3c2e-5b1d-4e6f-9a7b-0c1d2e3f4a5b";
    let token = json!({
        "id": revision,
        "kind": "token",
        "metadata": {
            "description": "VMs of group1",
            "expires": "2099-01-01T00:00:00Z",
            "labels": {"env": "dev"},
            "name": "vm-token",
            "namespace": "default",
            "revision": null,
        },
        "spec": spec,
        "status": null,
        "sub_kind": null,
        "version": "v2",
    });
    let bot = json!({
        "id": "robot",
        "name": "robot",
        "role_name": "bot-robot",
        "roles": ["access"],
        "token_id": null,
        "token_ttl": "",
        "traits": {"logins": ["root"]},
        "user_name": "bot-robot",
    });
    let hybrid = json!({
        "id": "hybrid",
        "kind": "bot",
        "metadata": {
            "description": null,
            "expires": null,
            "labels": null,
            "name": "hybrid",
            "namespace": "",
            "revision": null,
        },
        "name": null,
        "role_name": "bot-hybrid",
        "roles": null,
        "spec": {"max_session_ttl": "12h0m0s", "roles": ["access"], "traits": null},
        "status": {"role_name": "bot-hybrid", "user_name": "bot-hybrid"},
        "sub_kind": "",
        "token_id": null,
        "token_ttl": "",
        "traits": null,
        "user_name": "bot-hybrid",
        "version": "v1",
    });
    let provider = format!("provider[\"{OFFICIAL}\"]");
    let resource = |ty: &str, name: &str, attributes: serde_json::Value| {
        json!({
            "mode": "managed",
            "type": ty,
            "name": name,
            "provider": provider,
            "instances": [{"schema_version": 0, "attributes": attributes, "sensitive_attributes": []}],
        })
    };
    json!({
        "version": 4,
        "terraform_version": "1.9.8",
        "serial": 3,
        "lineage": "0b7c1f0e-2d6a-4c3b-9e8f-1a2b3c4d5e6f",
        "outputs": {},
        "resources": [
            resource("teleport_provision_token", "vms", token),
            resource("teleport_bot", "robot", bot),
            resource("teleport_bot", "hybrid", hybrid),
        ],
        "check_results": null,
    })
}

#[test]
fn official_provider_state_is_kept_by_replace_provider_with_an_empty_plan() {
    for (label, tf) in terraforms() {
        let stack = Devstack::start();
        for object in OBJECTS.split("---\n") {
            stack.create(object, false);
        }
        let ws = Workspace::new(&label, &tf, stack.provider_env());
        ws.write(CONFIG);
        std::fs::write(
            ws.work().join("terraform.tfstate"),
            serde_json::to_string_pretty(&official_state()).expect("state JSON"),
        )
        .expect("write the official state");

        let joinery = format!("registry.terraform.io/{TELEPORT_SOURCE}");
        let r = ws.ok(&["state", "replace-provider", "-auto-approve", "-no-color", OFFICIAL, &joinery]);
        assert!(r.all().contains("Successfully replaced provider for 3 resources"), "[{label}] {}", r.all());

        let plan = ws.plan(&[]);
        assert_eq!(plan.code, 0, "[{label}] the migrated state plans empty:\n{}", plan.all());
        // The first refresh fills what the official state never held (the bot's
        // `metadata`-era computed attributes): an apply with nothing to do records
        // it, and from then on even a refresh-only plan is empty.
        let applied = ws.apply();
        assert!(applied.all().contains("0 added, 0 changed, 0 destroyed"), "[{label}] {}", applied.all());
        ws.assert_no_changes();
        // The state is Joinery's now, and reads what Teleport holds.
        let token = ws.resource("teleport_provision_token.vms");
        assert_eq!(token["spec"]["azure"]["allow"][0]["resource_groups"][0], "group1", "[{label}] {token}");
        let bot = ws.resource("teleport_bot.robot");
        assert_eq!(bot["user_name"], "bot-robot", "[{label}] {bot}");
        let hybrid = ws.resource("teleport_bot.hybrid");
        assert_eq!(hybrid["spec"]["roles"][0], "access", "[{label}] {hybrid}");
        let state = std::fs::read_to_string(ws.work().join("terraform.tfstate")).expect("state");
        assert!(!state.contains(OFFICIAL), "[{label}] no resource is left with the official provider");
    }
}
