//! Harness for Joinery's end-to-end tests: start the real `joinery-devstack`,
//! run the real Terraform CLI against the real provider binary, run the real
//! agent. Binaries are found next to the test executable
//! (`target/<profile>/`); `make test` builds them first.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().map(Path::to_path_buf).unwrap_or_default()
}

/// A binary built by this workspace (`joinery-devstack`, `joinery-agent`,
/// `terraform-provider-teleport`).
pub fn binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("current exe");
    // Tests live in target/<profile>/deps, binaries (and the bench) in target/<profile>.
    let dirs = [exe.parent().map(Path::to_path_buf), exe.parent().and_then(Path::parent).map(Path::to_path_buf)];
    for dir in dirs.into_iter().flatten() {
        let path = dir.join(name);
        if path.is_file() {
            return path;
        }
    }
    panic!("{name} is missing next to {}: run `cargo build --workspace --bins` (make test does)", exe.display());
}

/// Every Terraform CLI to test with (`.tools/bin/terraform-1.15`, and a
/// system Terraform ≥ 1.11 when one is installed), with a label.
pub fn terraforms() -> Vec<(String, PathBuf)> {
    let bin = workspace_root().join(".tools/bin");
    let found: Vec<_> = ["terraform-1.15", "terraform-system"]
        .iter()
        .map(|n| (n.to_string(), bin.join(n)))
        .filter(|(_, p)| p.exists())
        .collect();
    assert!(
        !found.is_empty(),
        "no Terraform in {}: run ./scripts/install-terraform.sh (make test does)",
        bin.display()
    );
    found
}

/// Polls `f` until it returns `Some`, failing the test after `timeout`.
pub fn poll<T>(what: &str, timeout: Duration, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(25));
    }
}

/// A running `joinery-devstack up`.
pub struct Devstack {
    /// Its state directory.
    pub dir: PathBuf,
    /// `devstack.json`.
    pub info: serde_json::Value,
    child: Option<Child>,
    _tmp: tempfile::TempDir,
}

impl Devstack {
    /// Starts one in a temporary directory and waits for `devstack.json`.
    pub fn start() -> Devstack {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().join("stack");
        Self::start_with(&dir, &[], tmp)
    }

    /// Starts one on `dir` with extra `up` arguments.
    pub fn start_with(dir: &Path, extra: &[&str], tmp: tempfile::TempDir) -> Devstack {
        let dir = dir.to_path_buf();
        let mut child = Command::new(binary("joinery-devstack"))
            .args(["up", "--dir"])
            .arg(&dir)
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start devstack");
        let info_path = dir.join("devstack.json");
        let info = poll("devstack.json", Duration::from_secs(60), || {
            if let Ok(Some(status)) = child.try_wait() {
                panic!("devstack exited early: {status}");
            }
            let bytes = std::fs::read(&info_path).ok()?;
            let info: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
            (info["pid"].as_u64() == Some(u64::from(child.id()))).then_some(info)
        });
        Devstack { dir, info, child: Some(child), _tmp: tmp }
    }

    /// The devstack's process id.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().map(|c| c.id()).unwrap_or(0)
    }

    /// The environment that points the provider at this stack.
    pub fn provider_env(&self) -> Vec<(String, String)> {
        self.info["provider_env"]
            .as_object()
            .map(|m| m.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string())).collect())
            .unwrap_or_default()
    }

    /// Runs `joinery-devstack tctl --dir DIR args…`.
    pub fn tctl(&self, args: &[&str]) -> Output {
        Command::new(binary("joinery-devstack"))
            .arg("tctl")
            .arg("--dir")
            .arg(&self.dir)
            .args(args)
            .output()
            .expect("tctl")
    }

    /// `tctl get … --format json`, parsed; `None` when the object does not exist.
    pub fn get_json(&self, what: &str) -> Option<serde_json::Value> {
        let out = self.tctl(&["get", what, "--format", "json"]);
        if !out.status.success() {
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(err.contains("not found"), "tctl get {what} failed: {err}");
            return None;
        }
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("tctl json");
        v.as_array().and_then(|a| a.first().cloned())
    }

    /// `tctl create [--force] -f` with the given YAML.
    pub fn create(&self, yaml: &str, force: bool) {
        let file = self.dir.join(format!("res-{}.yaml", std::process::id()));
        std::fs::write(&file, yaml).expect("write resource");
        let mut args = vec!["create"];
        if force {
            args.push("--force");
        }
        args.extend(["-f", file.to_str().expect("utf-8 path")]);
        let out = self.tctl(&args);
        assert!(out.status.success(), "tctl create failed: {}", String::from_utf8_lossy(&out.stderr));
    }

    /// Stops the process.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status();
            let deadline = Instant::now() + Duration::from_secs(10);
            while matches!(child.try_wait(), Ok(None)) {
                if Instant::now() > deadline {
                    let _ = child.kill();
                    break;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            let _ = child.wait();
        }
    }
}

impl Drop for Devstack {
    fn drop(&mut self) {
        self.stop();
    }
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

/// A Terraform working directory using the locally built provider.
pub struct Workspace {
    dir: tempfile::TempDir,
    terraform: PathBuf,
    env: Vec<(String, String)>,
    /// Label of the Terraform version, for messages.
    pub label: String,
}

/// The `terraform { required_providers }` block for `joinery/teleport`.
pub const PROVIDER_REQUIREMENTS: &str = r#"terraform {
  required_providers {
    teleport = { source = "joinery/teleport" }
  }
}
"#;

impl Workspace {
    /// A workspace for `terraform`, with `env` set for every command.
    pub fn new(label: &str, terraform: &Path, env: Vec<(String, String)>) -> Workspace {
        let provider_dir = binary("terraform-provider-teleport").parent().map(Path::to_path_buf).unwrap_or_default();
        Self::with_provider_dir(label, terraform, env, &provider_dir)
    }

    /// A workspace whose `joinery/teleport` provider is the
    /// `terraform-provider-teleport` in `provider_dir`.
    pub fn with_provider_dir(
        label: &str,
        terraform: &Path,
        env: Vec<(String, String)>,
        provider_dir: &Path,
    ) -> Workspace {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(
            dir.path().join("cli.tfrc"),
            format!(
                "provider_installation {{\n  dev_overrides {{\n    \"joinery/teleport\" = \"{}\"\n  }}\n  direct {{}}\n}}\n",
                provider_dir.display()
            ),
        )
        .expect("cli config");
        std::fs::create_dir_all(dir.path().join("work")).expect("work dir");
        Workspace { dir, terraform: terraform.to_path_buf(), env, label: label.to_string() }
    }

    /// The directory Terraform runs in.
    pub fn work(&self) -> PathBuf {
        self.dir.path().join("work")
    }

    /// Writes `main.tf` (the provider requirements are prepended).
    pub fn write(&self, hcl: &str) {
        std::fs::write(self.work().join("main.tf"), format!("{PROVIDER_REQUIREMENTS}\n{hcl}")).expect("main.tf");
    }

    /// Runs `terraform args…` (with `-no-color` where it applies).
    pub fn run(&self, args: &[&str]) -> Run {
        let mut cmd = Command::new(&self.terraform);
        cmd.current_dir(self.work())
            .args(args)
            .env("TF_CLI_CONFIG_FILE", self.dir.path().join("cli.tfrc"))
            .env("CHECKPOINT_DISABLE", "1")
            .env("TF_IN_AUTOMATION", "1")
            .env_remove("TF_LOG")
            .env_remove("TF_REATTACH_PROVIDERS")
            .stdin(Stdio::null());
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        let out = cmd.output().expect("run terraform");
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Runs and asserts success.
    pub fn ok(&self, args: &[&str]) -> Run {
        let r = self.run(args);
        assert_eq!(r.code, 0, "[{}] terraform {args:?} failed:\n{}", self.label, r.all());
        r
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
