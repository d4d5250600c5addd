//! Real Terraform CLIs in throwaway working directories.
//!
//! Every test runs against every installed engine ([`terraforms`]):
//! `.tools/bin/terraform-1.15` (installed by `scripts/install-terraform.sh`),
//! a system Terraform ≥ 1.11 when the machine has one, and OpenTofu
//! (`.tools/bin/tofu-1.10`, built by `scripts/install-opentofu.sh`). The
//! provider under test is wired in with `dev_overrides`, as a provider author
//! does; OpenTofu reads the same CLI configuration (`TF_CLI_CONFIG_FILE`).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::{binary, workspace_root};

/// Variables that would change how Terraform or a provider behaves, removed
/// from every run so the caller's shell cannot leak into a test.
const SCRUBBED_ENV: &[&str] = &[
    "TF_LOG",
    "TF_LOG_PATH",
    "TF_LOG_PROVIDER",
    "TF_REATTACH_PROVIDERS",
    "TF_DISABLE_PLUGIN_TLS",
    "JOINERY_PLUGIN_TCP",
];

/// The OpenTofu CLI every test also runs with.
pub const OPENTOFU: &str = "tofu-1.10";

/// Every engine to test with, with a label (`terraform-1.15`,
/// `terraform-system`, [`OPENTOFU`]): the Terraform CLIs installed, then
/// OpenTofu, which must be there too.
pub fn terraforms() -> Vec<(String, PathBuf)> {
    let bin = workspace_root().join(".tools/bin");
    let mut found: Vec<_> = ["terraform-1.15", "terraform-system"]
        .iter()
        .map(|n| (n.to_string(), bin.join(n)))
        .filter(|(_, p)| p.exists())
        .collect();
    assert!(
        !found.is_empty(),
        "no Terraform in {}: run ./scripts/install-terraform.sh (make test does)",
        bin.display()
    );
    let tofu = bin.join(OPENTOFU);
    assert!(tofu.exists(), "no OpenTofu at {}: run ./scripts/install-opentofu.sh (make test does)", tofu.display());
    found.push((OPENTOFU.to_string(), tofu));
    found
}

/// Whether the engine labelled `label` is OpenTofu (whose messages are
/// sometimes worded differently from Terraform's).
pub fn is_opentofu(label: &str) -> bool {
    label.starts_with("tofu")
}

/// The result of one Terraform command.
#[derive(Debug)]
pub struct Run {
    /// Exit code.
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl Run {
    /// Both streams with runs of whitespace collapsed to one space, so
    /// assertions do not depend on how Terraform wraps diagnostics.
    pub fn all(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr).split_whitespace().collect::<Vec<_>>().join(" ")
    }

    /// Whether Terraform said there is nothing to change.
    pub fn no_changes(&self) -> bool {
        self.stdout.contains("No changes.")
    }
}

/// A Terraform working directory whose provider `source` is a local binary.
pub struct Workspace {
    dir: tempfile::TempDir,
    terraform: PathBuf,
    env: Vec<(String, String)>,
    source: String,
    /// Label of the Terraform version, for messages.
    pub label: String,
}

/// A `teleport_azure_vm` lookup of the devstack's `vm-1` (resource group `group1`) with its
/// `vm_id` as the output `vm_id`: the smallest configuration that needs an Azure sign-in.
/// Prepend a `provider "teleport"` block.
pub const VM1_LOOKUP: &str = r#"
data "teleport_azure_vm" "vm1" {
  resource_group_name = "group1"
  name                = "vm-1"
}
output "vm_id" { value = data.teleport_azure_vm.vm1.vm_id }
"#;

/// The provider under test's source address.
pub const TELEPORT_SOURCE: &str = "joinery/teleport";

impl Workspace {
    /// A workspace for `terraform` using the `terraform-provider-teleport`
    /// this workspace built, with `env` set for every command.
    pub fn new(label: &str, terraform: &Path, env: Vec<(String, String)>) -> Workspace {
        let provider = binary("terraform-provider-teleport");
        let provider_dir = provider.parent().map(Path::to_path_buf).unwrap_or_default();
        Self::with_provider(label, terraform, env, TELEPORT_SOURCE, &provider_dir)
    }

    /// A workspace whose provider `source` (`namespace/type`) is the
    /// `terraform-provider-<type>` binary in `provider_dir`.
    pub fn with_provider(
        label: &str,
        terraform: &Path,
        env: Vec<(String, String)>,
        source: &str,
        provider_dir: &Path,
    ) -> Workspace {
        let cli_config = format!(
            "provider_installation {{\n  dev_overrides {{\n    \"{source}\" = \"{}\"\n  }}\n  direct {{}}\n}}\n",
            provider_dir.display()
        );
        Self::with_cli_config(label, terraform, env, source, &cli_config)
    }

    /// A workspace whose provider `source` is installed the way the CLI
    /// configuration `cli_config` says: empty for the default (the registry
    /// the source names, with its signature checked), or a
    /// `provider_installation` block (a network mirror, say).
    pub fn with_cli_config(
        label: &str,
        terraform: &Path,
        env: Vec<(String, String)>,
        source: &str,
        cli_config: &str,
    ) -> Workspace {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("cli.tfrc"), cli_config).expect("cli config");
        std::fs::create_dir_all(dir.path().join("work")).expect("work dir");
        Workspace { dir, terraform: terraform.to_path_buf(), env, source: source.to_string(), label: label.to_string() }
    }

    /// A scratch directory next to the working directory, removed with it.
    pub fn scratch(&self) -> PathBuf {
        self.dir.path().to_path_buf()
    }

    /// The directory Terraform runs in.
    pub fn work(&self) -> PathBuf {
        self.dir.path().join("work")
    }

    /// The `terraform { required_providers }` block for this workspace's provider.
    pub fn requirements(&self) -> String {
        let name = self.source.rsplit('/').next().unwrap_or(&self.source);
        format!("terraform {{\n  required_providers {{\n    {name} = {{ source = \"{}\" }}\n  }}\n}}\n", self.source)
    }

    /// Writes `main.tf`, with the provider requirements prepended.
    pub fn write(&self, hcl: &str) {
        std::fs::write(self.work().join("main.tf"), format!("{}\n{hcl}", self.requirements())).expect("main.tf");
    }

    /// A command for this workspace's Terraform, with its environment, in its
    /// working directory (for tests that start something other than Terraform
    /// with the same environment, pass another program).
    pub fn command(&self, program: &Path) -> Command {
        let mut cmd = Command::new(program);
        cmd.current_dir(self.work())
            .env("TF_CLI_CONFIG_FILE", self.dir.path().join("cli.tfrc"))
            .env("CHECKPOINT_DISABLE", "1")
            .env("TF_IN_AUTOMATION", "1")
            .stdin(Stdio::null());
        for var in SCRUBBED_ENV {
            cmd.env_remove(var);
        }
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd
    }

    /// Runs `terraform args…` with `extra_env` on top of the workspace's.
    pub fn run_with(&self, args: &[&str], extra_env: &[(&str, &str)]) -> Run {
        let mut cmd = self.command(&self.terraform);
        cmd.args(args);
        for (k, v) in extra_env {
            cmd.env(k, v);
        }
        let out = cmd.output().expect("run terraform");
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Runs `terraform args…`.
    pub fn run(&self, args: &[&str]) -> Run {
        self.run_with(args, &[])
    }

    /// Runs and asserts the exit code.
    pub fn expect(&self, args: &[&str], code: i32) -> Run {
        let r = self.run(args);
        assert_eq!(r.code, code, "[{}] terraform {args:?} exited {} (wanted {code}):\n{}", self.label, r.code, r.all());
        r
    }

    /// Runs and asserts success.
    pub fn ok(&self, args: &[&str]) -> Run {
        self.expect(args, 0)
    }

    /// `apply -auto-approve`, asserting success.
    pub fn apply(&self) -> Run {
        self.ok(&["apply", "-auto-approve", "-no-color", "-input=false"])
    }

    /// `plan -detailed-exitcode`: 0 = no changes, 2 = changes.
    pub fn plan(&self, extra: &[&str]) -> Run {
        let mut args = vec!["plan", "-detailed-exitcode", "-no-color", "-input=false"];
        args.extend(extra);
        self.run(&args)
    }

    /// Asserts the plan is empty (the invariant after every apply/import).
    pub fn assert_no_changes(&self) {
        let r = self.plan(&[]);
        assert_eq!(r.code, 0, "[{}] expected an empty plan:\n{}", self.label, r.all());
        // A refresh-only plan exits 2 when data sources are re-read even if
        // nothing changed (Terraform counts the data source update), so the
        // message is what tells.
        let r = self.plan(&["-refresh-only"]);
        assert!(
            r.code == 0 || (r.code == 2 && r.no_changes()),
            "[{}] expected an empty refresh-only plan:\n{}",
            self.label,
            r.all()
        );
    }

    /// `terraform show -json` of the state.
    pub fn state(&self) -> serde_json::Value {
        let r = self.ok(&["show", "-json"]);
        serde_json::from_str(&r.stdout).expect("show -json")
    }

    /// The attributes of resource `address` in state.
    pub fn resource(&self, address: &str) -> serde_json::Value {
        let state = self.state();
        let resources = state["values"]["root_module"]["resources"].as_array().cloned().unwrap_or_default();
        resources
            .into_iter()
            .find(|r| r["address"] == address)
            .map(|r| r["values"].clone())
            .unwrap_or_else(|| panic!("[{}] {address} not in state", self.label))
    }
}
