//! The release installs the normal way: `terraform init` (and `tofu init`)
//! fetch the provider from a registry over HTTPS, check its signature and
//! record its hashes, with no dev overrides and no local mirror — then plan
//! the quick start against the devstack with it. The same release served as
//! a network mirror installs too.
//!
//! The release is `make release`'s, for this machine's platform
//! ([`release::native`]); the registry is [`Registry`], trusted through
//! `SSL_CERT_FILE`.

// A test binary links every dependency and dev-dependency of its package;
// unused ones are caught on the library target.
#![allow(unused_crate_dependencies)]

use joinery_testkit::registry::Registry;
use joinery_testkit::release::{self, GpgKey, NATIVE_PLATFORM};
use joinery_testkit::terraform::{Run, Workspace, is_opentofu, terraforms};
use joinery_testkit::{Devstack, workspace_root};

/// The namespace the registry serves the provider under.
const NAMESPACE: &str = "joinery";

fn registry(key: &GpgKey) -> Registry {
    Registry::serve(&release::native().dir, NAMESPACE, key.signing_key())
}

/// A workspace for `engine` installing `source` as `cli_config` says,
/// trusting the registry's CA, with the devstack's provider settings and the
/// quick start's variables.
fn workspace(
    (label, engine): &(String, std::path::PathBuf),
    registry: &Registry,
    source: &str,
    cli_config: &str,
    stack: Option<&Devstack>,
) -> Workspace {
    let mut env = vec![("SSL_CERT_FILE".to_string(), registry.ca_file().display().to_string())];
    if let Some(stack) = stack {
        env.extend(quickstart_env(stack));
    }
    Workspace::with_cli_config(label, engine, env, source, cli_config)
}

/// The quick start's variables for the devstack, as `make demo` sets them.
fn quickstart_env(stack: &Devstack) -> Vec<(String, String)> {
    let named = |list: &str, name: &str| {
        stack.info["azure"][list].as_array().unwrap().iter().find(|x| x["name"] == name).unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let mut env = stack.provider_env();
    env.extend([
        ("TF_VAR_teleport_addr".to_string(), stack.addr()),
        ("TF_VAR_ca_pin".to_string(), stack.pin()),
        ("TF_VAR_identity_id".to_string(), named("identities", "tbot-identity")),
        ("TF_VAR_vm_id".to_string(), named("vms", "vm-3")),
    ]);
    env
}

/// Writes `examples/quickstart/main.tf` with the provider's `source` replaced.
fn write_quickstart(ws: &Workspace, source: &str) {
    let main = std::fs::read_to_string(workspace_root().join("examples/quickstart/main.tf")).unwrap();
    assert!(main.contains(r#"source = "joinery/teleport""#), "the quick start names its provider");
    let main = main.replace(r#"source = "joinery/teleport""#, &format!(r#"source = "{source}""#));
    std::fs::write(ws.work().join("main.tf"), main).unwrap();
}

fn init(ws: &Workspace) -> Run {
    ws.ok(&["init", "-no-color", "-input=false"])
}

/// The lock file's entry for `address` (`HOST/NS/TYPE`): its version and hashes.
fn locked(ws: &Workspace, address: &str) -> (String, Vec<String>) {
    let lock = std::fs::read_to_string(ws.work().join(".terraform.lock.hcl"))
        .unwrap_or_else(|e| panic!("[{}] no .terraform.lock.hcl after init: {e}", ws.label));
    let block = lock
        .split("provider \"")
        .find(|b| b.starts_with(&format!("{address}\"")))
        .unwrap_or_else(|| panic!("[{}] {address} is not in the lock file:\n{lock}", ws.label));
    let version = block
        .lines()
        .find_map(|l| {
            l.trim().strip_prefix("version")?.trim().strip_prefix('=')?.trim().strip_prefix('"')?.split('"').next()
        })
        .unwrap_or_default();
    let hashes = block.split('"').filter(|s| s.starts_with("h1:") || s.starts_with("zh:")).map(str::to_string);
    (version.to_string(), hashes.collect())
}

/// How the provider was installed, which decides the hashes locked.
#[derive(Clone, Copy, PartialEq)]
enum Installed {
    /// From the registry, whose `SHA256SUMS` is signed: the installed
    /// package's `h1:`, and a `zh:` for every line of the signed file (the
    /// manifest's too: Terraform and OpenTofu keep every line whose name
    /// starts `terraform-provider-`).
    Signed,
    /// From a network mirror, which signs nothing: Terraform locks only the
    /// `h1:` of the package it checked and unpacked; OpenTofu also locks
    /// the `zh:` the mirror lists for it.
    Mirror,
}

/// Asserts the lock file pins the release's version with exactly the
/// hashes `how` records: the native zip's true `h1:` (computed here from
/// the zip) and the `zh:` hashes (SHA-256) the release lists.
fn assert_locked(ws: &Workspace, registry: &Registry, address: &str, how: Installed) {
    let release = release::native();
    let (version, mut hashes) = locked(ws, address);
    assert_eq!(version, registry.version(), "[{}] locked version", ws.label);
    let provider = format!("terraform-provider-teleport_{}", release.version);
    let mut expected = vec![release.h1(&format!("{provider}_{NATIVE_PLATFORM}.zip"))];
    match how {
        Installed::Signed => {
            let sums = std::fs::read_to_string(release.file(&format!("{provider}_SHA256SUMS"))).unwrap();
            expected.extend(sums.lines().filter_map(|l| Some(format!("zh:{}", l.split_once("  ")?.0))));
        }
        Installed::Mirror if is_opentofu(&ws.label) => expected.push(registry.zip_hashes()[NATIVE_PLATFORM].clone()),
        Installed::Mirror => {}
    }
    hashes.sort();
    expected.sort();
    assert_eq!(hashes, expected, "[{}] the hashes locked for {address}", ws.label);
}

/// Plans the quick start with the installed provider, and checks the
/// provider's log names the release's version and commit.
fn plan_quickstart(ws: &Workspace, registry: &Registry) {
    let log = ws.scratch().join("provider.log");
    let log_path = log.display().to_string();
    let plan = ws.run_with(
        &["plan", "-detailed-exitcode", "-no-color", "-input=false"],
        &[("TF_LOG_PROVIDER", "info"), ("TF_LOG_PATH", &log_path)],
    );
    assert_eq!(plan.code, 2, "[{}] planning the quick start:\n{}", ws.label, plan.all());
    assert!(plan.stdout.contains("Plan: 3 to add, 0 to change, 0 to destroy."), "[{}] {}", ws.label, plan.all());
    let log = std::fs::read_to_string(&log).unwrap_or_default();
    let banner = format!("terraform-provider-teleport {} (commit {}", registry.version(), git_head());
    assert!(log.contains(&banner), "[{}] the provider's log does not start with {banner:?}", ws.label);
}

fn git_head() -> String {
    let out = std::process::Command::new("git").current_dir(workspace_root()).args(["rev-parse", "HEAD"]).output();
    String::from_utf8_lossy(&out.expect("git rev-parse HEAD").stdout).trim().to_string()
}

#[test]
fn init_installs_the_signed_release_from_a_registry_and_plans_the_quickstart() {
    let release = release::native();
    let registry = registry(&release.key);
    let stack = Devstack::start();
    for engine in terraforms() {
        let ws = workspace(&engine, &registry, &registry.source(), "", Some(&stack));
        write_quickstart(&ws, &registry.source());
        let out = init(&ws);
        let installed = format!("Installed {} v{}", registry.source(), registry.version());
        assert!(out.stdout.contains(&installed), "[{}] {}", ws.label, out.all());
        // Terraform names the key it verified the signature with; OpenTofu
        // says "signed, key ID" where Terraform says "self-signed, key ID".
        let signed = if is_opentofu(&ws.label) { "(signed, key ID " } else { "(self-signed, key ID " };
        let signed = format!("{signed}{})", release.key.key_id);
        assert!(out.stdout.contains(&signed), "[{}] no {signed:?} in:\n{}", ws.label, out.all());
        let sig = format!("/files/terraform-provider-teleport_{}_SHA256SUMS.sig", registry.version());
        assert!(registry.requests().contains(&sig), "[{}] the signature was never fetched", ws.label);
        assert_locked(&ws, &registry, &registry.source(), Installed::Signed);
        plan_quickstart(&ws, &registry);
    }
}

#[test]
fn a_release_whose_signature_the_registry_key_does_not_verify_is_refused() {
    let release = release::native();
    let stranger = GpgKey::generate("Someone else <someone@joinery.invalid>");
    let registry = registry(&stranger);
    for engine in terraforms() {
        let ws = workspace(&engine, &registry, &registry.source(), "", None);
        ws.write("");
        let out = ws.run(&["init", "-no-color", "-input=false"]);
        assert_ne!(out.code, 0, "[{}] init accepted a signature by {}:\n{}", ws.label, release.key.key_id, out.all());
        assert!(out.all().contains("authentication signature from unknown issuer"), "[{}] {}", ws.label, out.all());
        assert!(!ws.work().join(".terraform.lock.hcl").exists(), "[{}] a refused package was locked", ws.label);
    }
}

#[test]
fn init_installs_the_release_from_a_network_mirror() {
    let release = release::native();
    let registry = registry(&release.key);
    let stack = Devstack::start();
    let cli_config =
        format!("provider_installation {{\n  network_mirror {{\n    url = \"{}\"\n  }}\n}}\n", registry.mirror_url());
    for engine in terraforms() {
        let ws = workspace(&engine, &registry, "joinery/teleport", &cli_config, Some(&stack));
        write_quickstart(&ws, "joinery/teleport");
        let out = init(&ws);
        assert!(out.stdout.contains(&format!("v{}", registry.version())), "[{}] {}", ws.label, out.all());
        // The source's registry host is Terraform's or OpenTofu's own: the
        // mirror is asked for it by name.
        let host = if is_opentofu(&ws.label) { "registry.opentofu.org" } else { "registry.terraform.io" };
        let index = format!("/mirror/{host}/{NAMESPACE}/teleport/index.json");
        assert!(registry.requests().contains(&index), "[{}] {index} was never asked for", ws.label);
        assert_locked(&ws, &registry, &format!("{host}/{NAMESPACE}/teleport"), Installed::Mirror);
        plan_quickstart(&ws, &registry);
    }
}
