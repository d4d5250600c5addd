//! The docs are generated from the provider's own schema and must not go
//! stale; every example must pass `terraform validate`.

// A test binary links every dependency and dev-dependency of its package;
// unused ones are caught on the library target.
#![allow(unused_crate_dependencies)]

use std::process::Command;

use joinery_testkit::terraform::{Workspace, terraforms};
use joinery_testkit::workspace_root;

/// Writes `terraform providers schema -json` for the built provider to `out`.
fn provider_schema(out: &std::path::Path) {
    let (label, tf) = terraforms().remove(0);
    let ws = Workspace::new(&label, &tf, vec![]);
    ws.write("provider \"teleport\" {}\n");
    let r = ws.ok(&["providers", "schema", "-json"]);
    std::fs::write(out, r.stdout).expect("schema file");
}

#[test]
fn docs_are_generated_from_the_current_schema() {
    let tmp = tempfile::tempdir().unwrap();
    let schema = tmp.path().join("schema.json");
    provider_schema(&schema);
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&schema).unwrap()).unwrap();
    let provider = &json["provider_schemas"]["registry.terraform.io/joinery/teleport"];
    // Every attribute of every resource and data source has a description.
    for kind in ["resource_schemas", "data_source_schemas"] {
        for (name, s) in provider[kind].as_object().unwrap() {
            fn walk(prefix: &str, attrs: &serde_json::Value) {
                for (a, v) in attrs.as_object().unwrap() {
                    let d = v["description"].as_str().unwrap_or_default();
                    assert!(!d.is_empty(), "{prefix}.{a} has no description");
                    if let Some(n) = v.get("nested_type") {
                        walk(&format!("{prefix}.{a}"), &n["attributes"]);
                    }
                }
            }
            walk(name, &s["block"]["attributes"]);
        }
    }
    let root = workspace_root();
    let out = Command::new("python3")
        .arg(root.join("scripts/gendocs.py"))
        .arg(&schema)
        .arg(root.join("docs"))
        .arg("--check")
        .output()
        .expect("run gendocs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn every_example_validates() {
    let root = workspace_root();
    for (label, tf) in terraforms() {
        // The per-resource snippets in examples/{provider,resources,data-sources} form one configuration.
        let ws = Workspace::new(&label, &tf, vec![]);
        let mut hcl = String::new();
        for dir in ["provider", "resources", "data-sources"] {
            let mut files: Vec<_> = walk_tf(&root.join("examples").join(dir));
            files.sort();
            for f in files {
                hcl.push_str(&std::fs::read_to_string(&f).unwrap());
                hcl.push('\n');
            }
        }
        ws.write(&hcl);
        let r = ws.run(&["validate", "-no-color"]);
        assert_eq!(r.code, 0, "[{label}] snippets: {}", r.all());

        // Each complete example directory validates on its own.
        for entry in std::fs::read_dir(root.join("examples")).unwrap() {
            let dir = entry.unwrap().path();
            let name = dir.file_name().unwrap().to_string_lossy().to_string();
            if ["provider", "resources", "data-sources"].contains(&name.as_str()) || !dir.join("main.tf").exists() {
                continue;
            }
            // An example that needs a registry provider (azurerm) says so in
            // .validate-skip; it must still parse as HCL for Terraform.
            if dir.join(".validate-skip").exists() {
                let ws = Workspace::new(&label, &tf, vec![]);
                for f in walk_tf(&dir) {
                    std::fs::copy(&f, ws.work().join(f.file_name().unwrap())).unwrap();
                }
                let r = ws.run(&["fmt", "-check", "-no-color"]);
                assert_eq!(r.code, 0, "[{label}] examples/{name} is not canonical HCL: {}", r.all());
                continue;
            }
            let ws = Workspace::new(&label, &tf, vec![]);
            for f in walk_tf(&dir) {
                std::fs::copy(&f, ws.work().join(f.file_name().unwrap())).unwrap();
            }
            let r = ws.run(&["validate", "-no-color"]);
            assert_eq!(r.code, 0, "[{label}] examples/{name}: {}", r.all());
        }
    }
}

fn walk_tf(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() {
            out.extend(walk_tf(&p));
        } else if p.extension().is_some_and(|e| e == "tf") {
            out.push(p);
        }
    }
    out
}
