//! The provider when Teleport misbehaves the way real clusters do: a create
//! whose answer is lost after it succeeded, a call refused while Auth
//! restarts, and an object that exists outside the state after an
//! interrupted apply. Each ends in a converged state or in instructions that
//! lead there, never in a stuck apply.

// A test binary links every dependency and dev-dependency of its package;
// unused ones are caught on the library target.
#![allow(unused_crate_dependencies)]

use joinery_testkit::Devstack;
use joinery_testkit::terraform::{Workspace, terraforms};

const BOT: &str = r#"
provider "teleport" {}

resource "teleport_bot" "robot" {
  metadata = { name = "robot" }
  spec     = { roles = ["access"] }
}
"#;

#[test]
fn a_create_whose_answer_was_lost_is_adopted() {
    for (label, tf) in terraforms() {
        let stack = Devstack::start();
        let ws = Workspace::new(&label, &tf, stack.provider_env());
        ws.write(BOT);
        // CreateBot succeeds, but the provider sees Unavailable and retries.
        stack.inject_teleport_fault("CreateBot", "lose_answer", 1);
        ws.apply();
        ws.assert_no_changes();
        assert_eq!(stack.get_json("bot/robot").unwrap()["spec"]["roles"][0], "access");
    }
}

#[test]
fn calls_refused_while_auth_restarts_are_retried() {
    for (label, tf) in terraforms() {
        let stack = Devstack::start();
        let ws = Workspace::new(&label, &tf, stack.provider_env());
        ws.write(BOT);
        stack.inject_teleport_fault("CreateBot", "unavailable", 2);
        stack.inject_teleport_fault("GetBot", "unavailable", 1);
        ws.apply();
        ws.assert_no_changes();
    }
}

#[test]
fn an_object_left_by_an_interrupted_apply_comes_with_its_import() {
    for (label, tf) in terraforms() {
        let stack = Devstack::start();
        // What an apply killed after CreateBot leaves: the bot, and no state.
        stack.tctl_ok(&["bots", "add", "robot", "--roles", "access"]);
        let ws = Workspace::new(&label, &tf, stack.provider_env());
        ws.write(BOT);
        let r = ws.run(&["apply", "-auto-approve", "-no-color", "-input=false"]);
        assert_ne!(r.code, 0, "[{label}] {}", r.all());
        let all = r.all();
        assert!(all.contains("Bot exists in Teleport"), "[{label}] {all}");
        assert!(all.contains("terraform import ADDRESS robot"), "[{label}] {all}");
        assert!(all.contains("to = ADDRESS id = \"robot\""), "[{label}] {all}");
        // Following the instructions converges.
        ws.write(&format!("{BOT}\nimport {{\n  to = teleport_bot.robot\n  id = \"robot\"\n}}\n"));
        ws.apply();
        ws.assert_no_changes();
    }
}
