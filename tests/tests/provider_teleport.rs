//! `teleport_provision_token` and `teleport_bot` driven by the real Terraform
//! CLI against a real devstack, for every installed Terraform version.

// A test binary links every dependency and dev-dependency of its package;
// unused ones are caught on the library target.
#![allow(unused_crate_dependencies)]

use joinery_testkit::Devstack;
use joinery_testkit::terraform::{Workspace, terraforms};

fn provider_block() -> &'static str {
    "provider \"teleport\" {}\n"
}

const BOT_AND_TOKEN: &str = r#"
resource "teleport_bot" "robot" {
  metadata = { name = "robot" }
  spec = {
    roles  = ["access"]
    traits = { logins = ["root", "ubuntu"] }
  }
}

resource "teleport_provision_token" "robot" {
  version = "v2"
  metadata = {
    name        = "robot-join-token"
    description = "joins the robot"
    labels      = { team = "platform" }
    expires     = "2099-01-01T00:00:00Z"
  }
  spec = {
    roles       = ["bot"]
    bot_name    = teleport_bot.robot.metadata.name
    join_method = "azure"
    azure = {
      allow = [{ subscription = "11111111-2222-3333-4444-555555555555", resource_groups = ["group1"] }]
    }
  }
}

data "teleport_provision_token" "read" {
  metadata   = { name = teleport_provision_token.robot.metadata.name }
  depends_on = [teleport_provision_token.robot]
}

data "teleport_bot" "read" {
  metadata   = { name = teleport_bot.robot.metadata.name }
  depends_on = [teleport_bot.robot]
}

output "token_bot" { value = data.teleport_provision_token.read.spec.bot_name }
output "bot_user"  { value = data.teleport_bot.read.status.user_name }
"#;

#[test]
fn token_and_bot_lifecycle_with_drift() {
    for (label, tf) in terraforms() {
        let stack = Devstack::start();
        let ws = Workspace::new(&label, &tf, stack.provider_env());
        ws.write(&format!("{}{BOT_AND_TOKEN}", provider_block()));
        // Terraform 1.11's `init` looks dev-overridden providers up in the
        // registry (offline: fails); 1.15 skips them. Neither needs init here.
        if label == "terraform-1.15" {
            ws.ok(&["init", "-no-color", "-input=false"]);
        }
        ws.ok(&["validate", "-no-color"]);
        let plan = ws.plan(&[]);
        assert_eq!(plan.code, 2, "[{label}] {}", plan.all());
        assert!(plan.stdout.contains("2 to add"), "[{label}] {}", plan.stdout);
        ws.apply();
        ws.assert_no_changes();

        // What Terraform created is what Teleport holds.
        let token = stack.get_json("token/robot-join-token").expect("token exists");
        assert_eq!(token["spec"]["roles"][0], "Bot");
        assert_eq!(token["spec"]["azure"]["allow"][0]["resource_groups"][0], "group1");
        let bot = stack.get_json("bot/robot").expect("bot exists");
        assert_eq!(bot["status"]["user_name"], "bot-robot");
        let out = ws.ok(&["output", "-json"]);
        let outputs: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
        assert_eq!(outputs["token_bot"]["value"], "robot");
        assert_eq!(outputs["bot_user"]["value"], "bot-robot");
        let state = ws.resource("teleport_provision_token.robot");
        assert_eq!(state["id"], token["metadata"]["revision"], "[{label}] id is the revision, not the secret name");
        assert_eq!(state["spec"]["roles"][0], "bot", "[{label}] the user's spelling is kept");

        // Drift: roles and labels changed by hand show up as an in-place update.
        stack.create(
            r#"kind: token
version: v2
metadata:
  name: robot-join-token
  description: joins the robot
  labels: {team: platform, owner: someone-else}
  expires: "2099-01-01T00:00:00Z"
spec:
  roles: [Bot, Node]
  bot_name: robot
  join_method: azure
  azure:
    allow: [{subscription: 11111111-2222-3333-4444-555555555555, resource_groups: [group1]}]
"#,
            true,
        );
        let plan = ws.plan(&[]);
        assert_eq!(plan.code, 2, "[{label}] drift must show: {}", plan.all());
        assert!(plan.stdout.contains("1 to change"), "[{label}] {}", plan.stdout);
        assert!(plan.stdout.contains("owner") && plan.stdout.contains("Node"), "[{label}] {}", plan.stdout);
        ws.apply();
        ws.assert_no_changes();
        let token = stack.get_json("token/robot-join-token").unwrap();
        assert_eq!(token["spec"]["roles"].as_array().unwrap().len(), 1, "[{label}] repaired");

        // Drift: a bot deleted by hand is planned for creation.
        let out = stack.tctl(&["bots", "rm", "robot"]);
        assert!(out.status.success());
        let plan = ws.plan(&[]);
        assert_eq!(plan.code, 2);
        assert!(
            plan.stdout.contains("has been deleted") || plan.stdout.contains("will be created"),
            "[{label}] {}",
            plan.stdout
        );
        ws.apply();
        assert!(stack.get_json("bot/robot").is_some());
        ws.assert_no_changes();

        // In-place update of the bot; then a new token name forces replacement.
        ws.write(&format!(
            "{}{}",
            provider_block(),
            BOT_AND_TOKEN
                .replace(r#"roles  = ["access"]"#, r#"roles  = ["access", "editor"]"#)
                .replace("\"robot-join-token\"", "\"robot-join-token-2\"")
        ));
        let plan = ws.plan(&[]);
        assert_eq!(plan.code, 2);
        assert!(plan.stdout.contains("must be replaced"), "[{label}] {}", plan.stdout);
        assert!(plan.stdout.contains("1 to add, 1 to change, 1 to destroy"), "[{label}] {}", plan.stdout);
        assert!(!plan.stdout.contains("robot-join-token-2"), "[{label}] the token name is sensitive: {}", plan.stdout);
        ws.apply();
        ws.assert_no_changes();
        assert!(stack.get_json("token/robot-join-token").is_none());
        assert!(stack.get_json("token/robot-join-token-2").is_some());
        assert_eq!(stack.get_json("bot/robot").unwrap()["spec"]["roles"][1], "editor");

        // Destroy removes everything.
        ws.ok(&["destroy", "-auto-approve", "-no-color", "-input=false"]);
        assert!(stack.get_json("token/robot-join-token-2").is_none());
        assert!(stack.get_json("bot/robot").is_none());
    }
}

#[test]
fn import_by_cli_and_block_plans_clean() {
    for (label, tf) in terraforms() {
        let stack = Devstack::start();
        let out = stack.tctl(&["bots", "add", "imported", "--roles", "access"]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        stack.create(
            "kind: token\nversion: v2\nmetadata: {name: imported-token}\nspec: {roles: [Bot], bot_name: imported}\n",
            false,
        );
        let ws = Workspace::new(&label, &tf, stack.provider_env());
        ws.write(&format!(
            r#"{}
resource "teleport_provision_token" "t" {{
  version  = "v2"
  metadata = {{ name = "imported-token" }}
  spec     = {{ roles = ["Bot"], bot_name = "imported" }}
}}

import {{
  to = teleport_bot.b
  id = "imported"
}}

resource "teleport_bot" "b" {{
  metadata = {{ name = "imported" }}
  spec     = {{ roles = ["access"] }}
}}
"#,
            provider_block()
        ));
        ws.ok(&["import", "-no-color", "-input=false", "teleport_provision_token.t", "imported-token"]);
        let plan = ws.plan(&[]);
        assert_eq!(plan.code, 2, "[{label}] {}", plan.all());
        assert!(plan.stdout.contains("1 to import, 0 to add, 0 to change, 0 to destroy"), "[{label}] {}", plan.stdout);
        ws.apply();
        ws.assert_no_changes();

        // Importing something that does not exist says so.
        ws.write(&format!(
            "{}\nresource \"teleport_bot\" \"ghost\" {{\n  metadata = {{ name = \"ghost\" }}\n  spec = {{}}\n}}\n",
            provider_block()
        ));
        let r = ws.run(&["import", "-no-color", "-input=false", "teleport_bot.ghost", "ghost"]);
        assert_ne!(r.code, 0);
        assert!(r.all().contains("No bot named \"ghost\""), "[{label}] {}", r.all());
    }
}

#[test]
fn generated_token_name_is_secret_and_stable() {
    let (label, tf) = terraforms().remove(0);
    let stack = Devstack::start();
    let ws = Workspace::new(&label, &tf, stack.provider_env());
    ws.write(&format!(
        "{}\nresource \"teleport_provision_token\" \"gen\" {{\n  version = \"v2\"\n  spec = {{ roles = [\"Node\"] }}\n}}\n",
        provider_block()
    ));
    let r = ws.apply();
    let state = ws.resource("teleport_provision_token.gen");
    let name = state["metadata"]["name"].as_str().unwrap().to_string();
    assert_eq!(name.len(), 64, "{name}");
    assert!(name.chars().all(|c| c.is_ascii_hexdigit()));
    assert!(!r.stdout.contains(&name), "the generated token value must not be printed");
    assert!(stack.get_json(&format!("token/{name}")).is_some());
    ws.assert_no_changes();
}

#[test]
fn plan_time_validation_errors_name_the_attribute() {
    let (label, tf) = terraforms().remove(0);
    let stack = Devstack::start();
    let ws = Workspace::new(&label, &tf, stack.provider_env());
    let cases = [
        (
            r#"metadata = { name = "x", expires = "2001-01-01T00:00:00Z" }
  spec = { roles = ["Node"] }"#,
            "in the past",
            "metadata",
        ),
        (
            r#"spec = {
    roles = ["Bot"]
    bot_name = "b"
    join_method = "azure"
    azure = { allow = [{ subscription = "not-a-guid" }] }
  }"#,
            "is not a subscription ID",
            "subscription",
        ),
        (
            r#"spec = {
    roles = ["Bot"]
    bot_name = "b"
    join_method = "azure"
  }"#,
            "Missing Azure allow rules",
            "spec",
        ),
        (
            r#"spec = {
    roles = ["Bot"]
    bot_name = "b"
    join_method = "gitlab"
  }"#,
            "Missing gitlab configuration",
            "spec",
        ),
        (r#"spec = { roles = ["Node"], bot_name = "b" }"#, "bot_name requires the Bot role", "bot_name"),
        (r#"spec = { roles = ["Bot"] }"#, "Missing bot_name", "spec"),
    ];
    for (body, message, pointed) in cases {
        ws.write(&format!(
            "{}\nresource \"teleport_provision_token\" \"bad\" {{\n  version = \"v2\"\n  {body}\n}}\n",
            provider_block()
        ));
        let r = ws.run(&["validate", "-no-color"]);
        assert_ne!(r.code, 0, "[{label}] expected a validation error for {body}");
        let all = r.all();
        assert!(all.contains(message), "[{label}] expected {message:?}:\n{all}");
        // Terraform shows the offending line of main.tf.
        assert!(all.contains("main.tf line") && all.contains(pointed), "[{label}] no source context:\n{all}");
    }
    ws.write(&format!(
        "{}\nresource \"teleport_provision_token\" \"bad\" {{\n  version = \"v3\"\n  spec = {{ roles = [\"Node\"] }}\n}}\n",
        provider_block()
    ));
    let r = ws.run(&["validate", "-no-color"]);
    assert!(r.all().contains("v2"), "{}", r.all());
}

#[test]
fn bad_credentials_get_a_clear_diagnostic() {
    let (label, tf) = terraforms().remove(0);
    let stack = Devstack::start();
    let addr = stack.info["teleport"]["addr"].as_str().unwrap().to_string();
    let garbage = stack.dir.join("garbage.identity");
    std::fs::write(&garbage, "this is not an identity file\n").unwrap();
    let body = "resource \"teleport_bot\" \"b\" {\n  metadata = { name = \"b\" }\n  spec = {}\n}\n";
    let cases: Vec<(Vec<(String, String)>, &str)> = vec![
        (
            vec![
                ("TF_TELEPORT_ADDR".into(), addr.clone()),
                ("TF_TELEPORT_IDENTITY_FILE_PATH".into(), "/nonexistent/identity".into()),
            ],
            "/nonexistent/identity",
        ),
        (
            vec![
                ("TF_TELEPORT_ADDR".into(), addr.clone()),
                ("TF_TELEPORT_IDENTITY_FILE_PATH".into(), garbage.display().to_string()),
            ],
            "no private key",
        ),
        (vec![("TF_TELEPORT_ADDR".into(), addr.clone())], "No Teleport credentials"),
        (
            stack.provider_env().into_iter().filter(|(k, _)| k != "TF_TELEPORT_ADDR").collect(),
            "Teleport address is empty",
        ),
    ];
    for (env, expected) in cases {
        let ws = Workspace::new(&label, &tf, env);
        ws.write(&format!("{}{body}", provider_block()));
        let r = ws.plan(&[]);
        assert_eq!(r.code, 1, "[{label}] expected failure:\n{}", r.all());
        assert!(r.all().contains(expected), "[{label}] expected {expected:?}:\n{}", r.all());
    }
}
