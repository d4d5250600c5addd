//! The `joinery-devstack` command line: `tctl` and bad input to `up`.

// A test binary links every dependency and dev-dependency of its package;
// unused ones are caught on the library target.
#![allow(unused_crate_dependencies)]

use std::process::Command;

use joinery_testkit::{Devstack, binary};

mod common;
use common::up_with_fixture;

fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}
fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The token resource from Teleport's Azure guide, as a user would write it.
const AZURE_TOKEN: &str = r#"kind: token
version: v2
metadata:
  name: example-bot
spec:
  roles: [Bot]
  bot_name: example
  join_method: azure
  azure:
    allow:
      - subscription: 11111111-1111-1111-1111-111111111111
        resource_groups: ["group1"]
"#;

#[test]
fn tctl_creates_and_lists_the_docs_token() {
    let stack = Devstack::start();
    let out = stack.tctl(&["bots", "add", "example", "--roles", "access"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("Bot \"example\" has been created"), "{}", stdout(&out));

    let file = stack.dir.join("token.yaml");
    std::fs::write(&file, AZURE_TOKEN).unwrap();
    let out = stack.tctl(&["create", "-f", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));

    let out = stack.tctl(&["get", "token/example-bot"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let yaml: serde_yaml_ng::Value = serde_yaml_ng::from_str(&stdout(&out)).unwrap();
    assert_eq!(yaml["kind"], "token");
    assert_eq!(yaml["version"], "v2");
    assert_eq!(yaml["spec"]["join_method"], "azure");
    assert_eq!(yaml["spec"]["azure"]["allow"][0]["resource_groups"][0], "group1");

    // Creating it again is refused; --force replaces it.
    let out = stack.tctl(&["create", "-f", file.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("already exists"), "{}", stderr(&out));
    let out = stack.tctl(&["create", "--force", "-f", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));

    let out = stack.tctl(&["get", "tokens", "--format", "json"]);
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    // `bots add` made a join token too.
    assert_eq!(json.as_array().unwrap().len(), 2);

    let out = stack.tctl(&["bots", "ls"]);
    assert!(stdout(&out).contains("example") && stdout(&out).contains("bot-example"), "{}", stdout(&out));
    let out = stack.tctl(&["get", "bot/example"]);
    assert!(stdout(&out).contains("user_name: bot-example"), "{}", stdout(&out));

    let out = stack.tctl(&["rm", "token/example-bot"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = stack.tctl(&["get", "token/example-bot"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("not found"), "{}", stderr(&out));
    let out = stack.tctl(&["bots", "rm", "example"]);
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn tctl_rejects_bad_files_with_their_name() {
    let stack = Devstack::start();
    let file = stack.dir.join("bad.yaml");
    std::fs::write(
        &file,
        "kind: token\nversion: v2\nmetadata: {name: x}\nspec: {roles: [Bot], bot_name: b, bogus: 1}\n",
    )
    .unwrap();
    let out = stack.tctl(&["create", "-f", file.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("bad.yaml") && stderr(&out).contains("bogus"), "{}", stderr(&out));
    std::fs::write(&file, "kind: role\n").unwrap();
    let out = stack.tctl(&["create", "-f", file.to_str().unwrap()]);
    assert!(stderr(&out).contains("unsupported resource kind"), "{}", stderr(&out));
}

#[test]
fn corrupt_state_is_reported_and_kept() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("stack");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("state.json"), "{ not json").unwrap();
    let out = Command::new(binary("joinery-devstack")).args(["up", "--dir"]).arg(&dir).output().unwrap();
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("state.json"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "one-line error: {err}");
    assert_eq!(std::fs::read_to_string(dir.join("state.json")).unwrap(), "{ not json");
}

#[test]
fn port_in_use_names_the_flag() {
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = busy.local_addr().unwrap().to_string();
    let tmp = tempfile::tempdir().unwrap();
    let out = Command::new(binary("joinery-devstack"))
        .args(["up", "--dir"])
        .arg(tmp.path())
        .args(["--teleport-addr", &addr])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(stderr(&out).contains("--teleport-addr") && stderr(&out).contains(&addr), "{}", stderr(&out));
}

#[test]
fn malformed_fixture_names_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    let fixture = tmp.path().join("fixture.yaml");
    std::fs::write(&fixture, "cluster_name: [oops\n").unwrap();
    let out = up_with_fixture(&tmp.path().join("d"), &fixture);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("fixture.yaml"), "{}", stderr(&out));
}
