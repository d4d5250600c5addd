//! End-to-end tests of the plugin runtime and framework: the real Terraform
//! CLI drives the `demo_provider` example through `dev_overrides`.
//!
//! Needs:
//! - Terraform, installed by `./scripts/install-terraform.sh` under
//!   `.tools/bin/` (`terraform-1.15`, and `terraform-system` when present),
//!   and OpenTofu (`./scripts/install-opentofu.sh`); every one is tested;
//! - the example binary: `cargo build -p joinery-tfplugin --example demo_provider`.

// A test binary links every dependency and dev-dependency of its package;
// unused ones are caught on the library target.
#![allow(unused_crate_dependencies)]

use std::io::{BufRead as _, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use joinery_testkit::binary;
use joinery_testkit::terraform::{Run, Workspace, is_opentofu, terraforms};

/// The built `demo_provider` example.
fn demo_provider() -> PathBuf {
    binary("demo_provider")
}

/// How the provider process should listen.
#[derive(Debug, Clone, Copy)]
struct Variant {
    tls: bool,
    tcp: bool,
}

const DEFAULT: Variant = Variant { tls: true, tcp: false };

/// A Terraform workspace for `joinery/demo`, whose things live in a JSON store.
struct Demo {
    ws: Workspace,
    variant: Variant,
    /// The provider binary (as `terraform-provider-demo`) and the store.
    files: tempfile::TempDir,
}

impl std::ops::Deref for Demo {
    type Target = Workspace;
    fn deref(&self) -> &Workspace {
        &self.ws
    }
}

impl Demo {
    fn new(label: &str, terraform: &std::path::Path, variant: Variant) -> Demo {
        let files = tempfile::tempdir().expect("tempdir");
        // dev_overrides wants `terraform-provider-<type>` in a directory.
        let target = files.path().join(format!("terraform-provider-demo{}", std::env::consts::EXE_SUFFIX));
        std::fs::copy(demo_provider(), &target).expect("copy provider");
        let mut env = vec![("DEMO_THING_STORE".to_string(), files.path().join("store.json").display().to_string())];
        if !variant.tls {
            env.push(("TF_DISABLE_PLUGIN_TLS".to_string(), "1".to_string()));
        }
        if variant.tcp {
            env.push(("JOINERY_PLUGIN_TCP".to_string(), "1".to_string()));
        }
        let ws = Workspace::with_provider(label, terraform, env, "joinery/demo", files.path());
        Demo { ws, variant, files }
    }

    fn store_path(&self) -> PathBuf {
        self.files.path().join("store.json")
    }

    fn write_config(&self, resources: &str) {
        self.ws.write(&format!("provider \"demo\" {{}}\n{resources}"));
    }

    fn store(&self) -> serde_json::Value {
        match std::fs::read(self.store_path()) {
            Ok(b) => serde_json::from_slice(&b).expect("store is JSON"),
            Err(_) => serde_json::json!({}),
        }
    }

    fn write_store(&self, value: &serde_json::Value) {
        std::fs::write(self.store_path(), serde_json::to_vec_pretty(value).unwrap()).expect("store");
    }

    /// Runs and asserts the exit code, returning the output.
    fn expect(&self, args: &[&str], code: i32) -> Run {
        let r = self.ws.run(args);
        assert_eq!(
            r.code, code,
            "[{} {:?}] terraform {args:?} exited {} (wanted {code})\n--- stdout\n{}\n--- stderr\n{}",
            self.label, self.variant, r.code, r.stdout, r.stderr
        );
        r
    }

    /// `terraform init`. Terraform 1.15 skips dev-overridden providers and
    /// works offline; older versions try the registry for them (and say to
    /// skip init), so for those init is skipped, which dev_overrides allow.
    fn init(&self) {
        if self.label == "terraform-1.15" {
            let r = self.expect(&["init", "-no-color", "-input=false"], 0);
            assert_contains(&r, "Terraform has been successfully initialized!");
        }
    }

    fn plan(&self) -> Run {
        self.expect(&["plan", "-no-color", "-input=false"], 0)
    }

    /// `plan -detailed-exitcode`: 0 = no changes, 2 = changes.
    fn plan_exit(&self, code: i32) -> Run {
        self.expect(&["plan", "-detailed-exitcode", "-no-color", "-input=false"], code)
    }

    fn apply(&self) -> Run {
        self.expect(&["apply", "-auto-approve", "-no-color", "-input=false"], 0)
    }
}

/// Asserts on the raw output: plan lines are aligned with runs of spaces.
fn assert_contains(run: &Run, needle: &str) {
    let raw = format!("{}\n{}", run.stdout, run.stderr);
    assert!(raw.contains(needle), "expected {needle:?} in output:\n{raw}");
}

fn thing(name: &str, tags: &str) -> String {
    format!(
        r#"
resource "demo_thing" "a" {{
  name = "{name}"
  spec = {{
    tags   = {{ env = [{tags}] }}
    secret = "hunter22"
  }}
}}
"#
    )
}

/// Create, no-op plan, update, replace, drift, destroy.
fn lifecycle(ws: &Demo) {
    ws.write_config(&thing("alpha", r#""dev", "test""#));
    ws.init();

    let plan = ws.plan();
    assert_contains(&plan, "# demo_thing.a will be created");
    assert_contains(&plan, "id       = (known after apply)");
    assert_contains(&plan, r#"mode   = "standard""#); // schema default
    assert_contains(&plan, "secret = (sensitive value)");
    assert_contains(&plan, "Plan: 1 to add, 0 to change, 0 to destroy.");

    let apply = ws.apply();
    assert_contains(&apply, "Creation complete");
    assert_contains(&apply, "[id=id-alpha]");
    assert_contains(&apply, "Apply complete! Resources: 1 added, 0 changed, 0 destroyed.");
    assert_eq!(ws.store()["id-alpha"]["spec"]["tags"]["env"], serde_json::json!(["dev", "test"]));

    let again = ws.plan_exit(0);
    assert_contains(&again, "No changes.");

    // In-place update: id keeps its value (UseStateForUnknown), revision is recomputed.
    ws.write_config(&thing("alpha", r#""dev", "prod""#));
    let update = ws.plan_exit(2);
    assert_contains(&update, "# demo_thing.a will be updated in-place");
    assert_contains(&update, r#"id       = "id-alpha""#);
    assert_contains(&update, "revision = 1 -> (known after apply)");
    assert_contains(&update, "Plan: 0 to add, 1 to change, 0 to destroy.");
    ws.apply();
    assert_eq!(ws.store()["id-alpha"]["revision"], 2);
    ws.plan_exit(0);

    // Renaming forces replacement.
    ws.write_config(&thing("beta", r#""dev", "prod""#));
    let replace = ws.plan_exit(2);
    assert_contains(&replace, "# demo_thing.a must be replaced");
    assert_contains(&replace, "# forces replacement");
    assert_contains(&replace, "Plan: 1 to add, 0 to change, 1 to destroy.");
    ws.apply();
    let store = ws.store();
    assert!(store.get("id-alpha").is_none() && store.get("id-beta").is_some(), "{store}");
    ws.plan_exit(0);

    // Drift: the object disappears behind Terraform's back.
    ws.write_store(&serde_json::json!({}));
    let refresh = ws.expect(&["plan", "-refresh-only", "-no-color", "-input=false"], 0);
    // OpenTofu says the same with its own name.
    let engine = if is_opentofu(&ws.label) { "OpenTofu" } else { "Terraform" };
    assert_contains(&refresh, &format!("Objects have changed outside of {engine}"));
    assert_contains(&refresh, "# demo_thing.a has been deleted");
    let drift = ws.plan_exit(2);
    assert_contains(&drift, "# demo_thing.a will be created");
    assert_contains(&drift, "Plan: 1 to add, 0 to change, 0 to destroy.");
    ws.apply();
    ws.plan_exit(0);

    let destroy = ws.expect(&["destroy", "-auto-approve", "-no-color", "-input=false"], 0);
    assert_contains(&destroy, "Destroy complete! Resources: 1 destroyed.");
    assert_eq!(ws.store(), serde_json::json!({}));
}

#[test]
fn lifecycle_over_unix_socket_with_mtls() {
    for (label, tf) in terraforms() {
        lifecycle(&Demo::new(&label, &tf, DEFAULT));
    }
}

#[test]
fn lifecycle_over_tcp_with_mtls() {
    for (label, tf) in terraforms() {
        lifecycle(&Demo::new(&label, &tf, Variant { tls: true, tcp: true }));
    }
}

#[test]
fn lifecycle_without_tls() {
    for (label, tf) in terraforms() {
        for tcp in [false, true] {
            lifecycle(&Demo::new(&label, &tf, Variant { tls: false, tcp }));
        }
    }
}

#[test]
fn validate_points_at_the_attribute() {
    for (label, tf) in terraforms() {
        let ws = Demo::new(&label, &tf, DEFAULT);
        ws.write_config(
            r#"
resource "demo_thing" "a" {
  name = "Not OK"
  spec = {
    mode = "turbo"
  }
}
"#,
        );
        ws.init();
        let r = ws.expect(&["validate", "-no-color"], 1);
        // Top-level attribute validator, with the config line quoted.
        assert_contains(&r, "Error: Invalid Attribute Value");
        assert_contains(&r, r#""Not OK" must contain only lowercase letters, digits and dashes."#);
        assert_contains(&r, "with demo_thing.a,");
        assert_contains(&r, r#"name = "Not OK""#);
        // Nested attribute validator: path spec.mode.
        assert_contains(&r, "Error: Invalid Attribute Value Match");
        assert_contains(&r, r#"Attribute spec.mode value must be one of: "standard", "fast", got: "turbo""#);
        if label == "terraform-1.15" {
            assert_contains(&r, r#"mode = "turbo""#);
        } else {
            // Terraform 1.11 cannot locate nested attributes in the source and
            // quotes the resource block instead.
            assert_contains(&r, r#"resource "demo_thing" "a" {"#);
        }
    }
}

#[test]
fn import_with_cli_and_import_block() {
    for (label, tf) in terraforms() {
        let ws = Demo::new(&label, &tf, DEFAULT);
        ws.write_store(&serde_json::json!({
            "id-beta": {"name": "beta", "revision": 7, "spec": {"tags": {"k": ["v"]}, "secret": "s3cret", "mode": "fast"}},
            "id-gamma": {"name": "gamma", "revision": 1, "spec": null},
        }));
        ws.write_config(
            r#"
resource "demo_thing" "b" {
  name = "beta"
  spec = {
    tags   = { k = ["v"] }
    secret = "s3cret"
    mode   = "fast"
  }
}
"#,
        );
        ws.init();
        let imported = ws.expect(&["import", "-no-color", "-input=false", "demo_thing.b", "id-beta"], 0);
        assert_contains(&imported, "Import successful!");
        ws.plan_exit(0);

        // Plannable import through an import block.
        let config = std::fs::read_to_string(ws.work().join("main.tf")).unwrap();
        std::fs::write(
            ws.work().join("main.tf"),
            format!("{config}\nimport {{\n  to = demo_thing.c\n  id = \"id-gamma\"\n}}\nresource \"demo_thing\" \"c\" {{\n  name = \"gamma\"\n}}\n"),
        )
        .unwrap();
        let plan = ws.plan_exit(2);
        assert_contains(&plan, "# demo_thing.c will be imported");
        assert_contains(&plan, "Plan: 1 to import, 0 to add, 0 to change, 0 to destroy.");
        let apply = ws.apply();
        assert_contains(&apply, "Apply complete! Resources: 1 imported, 0 added, 0 changed, 0 destroyed.");
        ws.plan_exit(0);
    }
}

#[test]
fn run_by_hand_prints_the_go_plugin_message() {
    let out = Command::new(demo_provider()).env_remove("TF_PLUGIN_MAGIC_COOKIE").output().expect("run provider");
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("This binary is a plugin. These are not meant to be executed directly."), "{stderr}");
    assert!(out.stdout.is_empty());
}

#[test]
fn handshake_rejects_missing_protocol_6() {
    let out = Command::new(demo_provider())
        .env("TF_PLUGIN_MAGIC_COOKIE", "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2")
        .env("PLUGIN_PROTOCOL_VERSIONS", "4,5")
        .output()
        .expect("run provider");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("only speaks version 6"));
    assert!(out.stdout.is_empty(), "no handshake line on failure");
}

/// Kills the debug-mode provider when the test ends, however it ends.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn debug_mode_reattach() {
    for (label, tf) in terraforms() {
        let ws = Demo::new(&label, &tf, DEFAULT);
        let mut child = ws.command(&demo_provider());
        child.arg("--debug").stdout(Stdio::piped()).stderr(Stdio::null()).stdin(Stdio::null());
        let mut child = KillOnDrop(child.spawn().expect("start provider --debug"));
        let stdout = child.0.stdout.take().expect("piped stdout");

        // Read lines on a thread so the wait has a deadline.
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let deadline = Instant::now() + Duration::from_secs(30);
        let reattach = loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = rx.recv_timeout(left).expect("provider printed TF_REATTACH_PROVIDERS within 30 s");
            if let Some(rest) = line.trim().strip_prefix("TF_REATTACH_PROVIDERS='") {
                break rest.trim_end_matches('\'').to_string();
            }
        };
        let parsed: serde_json::Value = serde_json::from_str(&reattach).expect("reattach JSON");
        assert_eq!(parsed["registry.terraform.io/joinery/demo"]["ProtocolVersion"], 6);

        ws.write_config(&thing("delta", r#""x""#));
        // No init needed: the reattached provider is used as is. Two plans
        // against the same process show it survives between commands.
        for _ in 0..2 {
            let r = ws.run_with(&["plan", "-no-color", "-input=false"], &[("TF_REATTACH_PROVIDERS", &reattach)]);
            assert_eq!(r.code, 0, "[{label}] plan with reattach failed:\n{}", r.all());
            assert_contains(&r, "Plan: 1 to add, 0 to change, 0 to destroy.");
        }
        assert!(child.0.try_wait().expect("poll child").is_none(), "debug provider must keep running");
    }
}
