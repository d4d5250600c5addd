//! A real `joinery-devstack up` process for one test.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use joinery_teleport::identity::pem_certs_to_der;
use joinery_teleport::tls::{ALPN_PROXY_GRPC, API_DOMAIN, TlsSettings, Trust};
use joinery_teleport::{CertInfo, Client, ClientConfig, Credentials, RetryPolicy};

use crate::{binary, poll, stop_child};

/// How long `up` may take to write `devstack.json` (it generates CAs on first start).
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// A running `joinery-devstack up`, stopped (SIGTERM) when dropped.
///
/// Its stderr goes to `<dir>.log`, quoted when the process dies early.
pub struct Devstack {
    /// Its state directory (`--dir`).
    pub dir: PathBuf,
    /// `devstack.json`: addresses, files, environment for each client.
    pub info: serde_json::Value,
    child: Option<Child>,
    _tmp: Option<tempfile::TempDir>,
}

impl Devstack {
    /// Starts one in a fresh temporary directory.
    pub fn start() -> Devstack {
        let tmp = tempfile::tempdir().expect("tempdir");
        let mut stack = Devstack::start_in(&tmp.path().join("stack"), &[]);
        stack._tmp = Some(tmp);
        stack
    }

    /// Starts one on `dir` (kept after the test: the caller owns it) with
    /// extra `up` arguments, and waits until it is ready.
    pub fn start_in(dir: &Path, extra: &[&str]) -> Devstack {
        let log_path = dir.with_extension("log");
        let log = std::fs::File::create(&log_path)
            .or_else(|_| {
                std::fs::create_dir_all(dir.parent().unwrap_or(dir))?;
                std::fs::File::create(&log_path)
            })
            .unwrap_or_else(|e| panic!("create {}: {e}", log_path.display()));
        let mut child = Command::new(binary("joinery-devstack"))
            .args(["up", "--dir"])
            .arg(dir)
            .args(extra)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start joinery-devstack");
        let info_path = dir.join("devstack.json");
        let pid = u64::from(child.id());
        let info = poll("devstack.json", START_TIMEOUT, || {
            if let Ok(Some(status)) = child.try_wait() {
                let log = std::fs::read_to_string(&log_path).unwrap_or_default();
                panic!("joinery-devstack up exited early ({status}):\n{log}");
            }
            let bytes = std::fs::read(&info_path).ok()?;
            let info: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
            (info["pid"].as_u64() == Some(pid)).then_some(info)
        });
        Devstack { dir: dir.to_path_buf(), info, child: Some(child), _tmp: None }
    }

    fn teleport(&self, key: &str) -> String {
        self.info["teleport"][key].as_str().unwrap_or_else(|| panic!("devstack.json has no teleport.{key}")).to_string()
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().map(Child::id).unwrap_or(0)
    }

    /// The Teleport listener, `host:port`.
    pub fn addr(&self) -> String {
        self.teleport("addr")
    }

    /// The cluster CA pin, `sha256:<hex>`.
    pub fn pin(&self) -> String {
        self.teleport("ca_pin")
    }

    /// The cluster name.
    pub fn cluster(&self) -> String {
        self.teleport("cluster_name")
    }

    /// The PEM file of the cluster's TLS CA.
    pub fn ca_file(&self) -> PathBuf {
        PathBuf::from(self.teleport("ca_file"))
    }

    /// The cluster's TLS CA, PEM.
    pub fn ca_pem(&self) -> String {
        std::fs::read_to_string(self.ca_file()).expect("read the devstack CA file")
    }

    /// The identity file of the built-in `editor` admin.
    pub fn admin_identity_path(&self) -> PathBuf {
        PathBuf::from(self.teleport("admin_identity_file"))
    }

    /// The environment that points the provider at this stack.
    pub fn provider_env(&self) -> Vec<(String, String)> {
        self.info["provider_env"]
            .as_object()
            .map(|m| m.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string())).collect())
            .unwrap_or_default()
    }

    /// A client authenticated as the admin.
    pub async fn admin(&self) -> Client {
        let creds = Credentials::from_identity_file(&self.admin_identity_path()).expect("admin identity");
        self.client(creds).await
    }

    /// A client with `creds`.
    pub async fn client(&self, creds: Credentials) -> Client {
        self.connect(creds.tls_settings()).await
    }

    /// An unauthenticated client that verifies the cluster CA, as a joining bot uses.
    pub async fn anonymous(&self) -> Client {
        let ca = joinery_teleport::identity::pem_certs_to_der(&self.ca_pem());
        self.connect(TlsSettings {
            trust: Trust::Roots(ca),
            client_auth: None,
            server_name: API_DOMAIN.into(),
            alpn: vec![ALPN_PROXY_GRPC.into(), "h2".into()],
        })
        .await
    }

    async fn connect(&self, tls: TlsSettings) -> Client {
        Client::connect(ClientConfig {
            addr: self.addr(),
            tls,
            retry: RetryPolicy::none(),
            dial_timeout: Duration::from_secs(5),
        })
        .await
        .expect("connect to the devstack")
    }

    /// Checks that a TLS client certificate chains to the cluster's user CA,
    /// the way the server checks client certificates, and returns what it says.
    pub fn verify_user_cert(&self, cert_pem: &str) -> CertInfo {
        // The user CA lives next to the state; devstack.json publishes the host CA.
        let user_ca = std::fs::read_to_string(self.dir.join("ca/tls-user.crt")).expect("read the user CA");
        let mut roots = rustls::RootCertStore::empty();
        for der in pem_certs_to_der(&user_ca) {
            roots.add(der.into()).expect("the user CA is a certificate");
        }
        let provider = std::sync::Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(roots.into(), provider)
            .build()
            .expect("a client verifier");
        let der = pem_certs_to_der(cert_pem).into_iter().next().expect("a PEM certificate");
        verifier
            .verify_client_cert(&der.clone().into(), &[], rustls::pki_types::UnixTime::now())
            .expect("the certificate chains to the cluster's user CA");
        CertInfo::from_der(&der).expect("a Teleport certificate")
    }

    /// Makes the next `count` calls of the Teleport gRPC method `method`
    /// (e.g. `CreateBot`) fail with `fault`: `unavailable` (refused before
    /// doing anything) or `lose_answer` (done, then answered `Unavailable`).
    pub fn inject_teleport_fault(&self, method: &str, fault: &str, count: u32) {
        let file = self.dir.join("teleport-faults.json");
        let mut faults: serde_json::Value =
            std::fs::read(&file).ok().and_then(|b| serde_json::from_slice(&b).ok()).unwrap_or_default();
        faults[method] = serde_json::json!({"fault": fault, "count": count});
        std::fs::write(&file, serde_json::to_vec(&faults).expect("JSON")).expect("write the faults file");
    }

    /// Runs `joinery-devstack tctl --dir DIR args…`.
    pub fn tctl(&self, args: &[&str]) -> Output {
        Command::new(binary("joinery-devstack"))
            .arg("tctl")
            .arg("--dir")
            .arg(&self.dir)
            .args(args)
            .output()
            .expect("run joinery-devstack tctl")
    }

    /// Runs `tctl args…`, asserting success; returns its stdout.
    pub fn tctl_ok(&self, args: &[&str]) -> String {
        let out = self.tctl(args);
        assert!(out.status.success(), "tctl {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Adds a bot with `roles` (comma separated) and returns its join token.
    pub fn add_bot(&self, name: &str, roles: &str) -> String {
        let out = self.tctl_ok(&["bots", "add", name, "--roles", roles]);
        let marker = "join with the token:";
        let at = out.find(marker).unwrap_or_else(|| panic!("tctl bots add printed no token:\n{out}"));
        out[at + marker.len()..].split_whitespace().next().unwrap_or_default().to_string()
    }

    /// `tctl get … --format json`, parsed; `None` when the object does not exist.
    pub fn get_json(&self, what: &str) -> Option<serde_json::Value> {
        let out = self.tctl(&["get", what, "--format", "json"]);
        if !out.status.success() {
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(err.contains("not found"), "tctl get {what} failed: {err}");
            return None;
        }
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("tctl prints JSON");
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
        self.tctl_ok(&args);
    }

    /// Stops the process (SIGTERM, SIGKILL after 10 s) and waits for it.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            stop_child(&mut child, Duration::from_secs(10));
        }
    }
}

impl Drop for Devstack {
    fn drop(&mut self) {
        self.stop();
    }
}
