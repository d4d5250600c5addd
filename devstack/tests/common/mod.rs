//! Starts a real `joinery-devstack up` process for a test and stops it after.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use joinery_teleport::{Client, ClientConfig, Credentials, RetryPolicy};

pub const BIN: &str = env!("CARGO_BIN_EXE_joinery-devstack");

/// A running devstack.
pub struct Devstack {
    pub dir: PathBuf,
    _tmp: Option<tempfile::TempDir>,
    child: Option<Child>,
    pub info: serde_json::Value,
}

impl Devstack {
    /// Starts a devstack in a fresh temporary directory.
    pub fn start() -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("stack");
        let mut d = Self::start_in(&dir, &[]);
        d._tmp = Some(tmp);
        d
    }

    /// Starts a devstack on `dir` with extra arguments, waiting for devstack.json.
    pub fn start_in(dir: &Path, extra: &[&str]) -> Self {
        let mut child = Command::new(BIN)
            .arg("up")
            .arg("--dir")
            .arg(dir)
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let info_path = dir.join("devstack.json");
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(bytes) = std::fs::read(&info_path) {
                let info: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
                if info["pid"].as_u64() == Some(child.id() as u64) {
                    return Devstack { dir: dir.to_path_buf(), _tmp: None, child: Some(child), info };
                }
            }
            if let Some(status) = child.try_wait().unwrap() {
                panic!("devstack exited early: {status}");
            }
            assert!(Instant::now() < deadline, "devstack did not write devstack.json in time");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn addr(&self) -> String {
        self.info["teleport"]["addr"].as_str().unwrap().to_string()
    }

    pub fn admin_identity_path(&self) -> PathBuf {
        PathBuf::from(self.info["teleport"]["admin_identity_file"].as_str().unwrap())
    }

    pub fn ca_pem(&self) -> String {
        std::fs::read_to_string(self.info["teleport"]["ca_file"].as_str().unwrap()).unwrap()
    }

    /// An admin client.
    pub async fn admin(&self) -> Client {
        let creds = Credentials::from_identity_file(&self.admin_identity_path()).unwrap();
        self.client(creds).await
    }

    /// A client with the given credentials.
    pub async fn client(&self, creds: Credentials) -> Client {
        Client::connect(ClientConfig {
            addr: self.addr(),
            tls: creds.tls_settings(),
            retry: RetryPolicy::none(),
            dial_timeout: Duration::from_secs(5),
        })
        .await
        .unwrap()
    }

    /// An unauthenticated client, as a joining bot uses (CA-verified).
    pub async fn anonymous(&self) -> Client {
        let ca = joinery_teleport::identity::pem_certs_to_der(&self.ca_pem());
        Client::connect(ClientConfig {
            addr: self.addr(),
            tls: joinery_teleport::tls::TlsSettings {
                trust: joinery_teleport::tls::Trust::Roots(ca),
                client_auth: None,
                server_name: joinery_teleport::tls::API_DOMAIN.into(),
                alpn: vec![joinery_teleport::tls::ALPN_PROXY_GRPC.into(), "h2".into()],
            },
            retry: RetryPolicy::none(),
            dial_timeout: Duration::from_secs(5),
        })
        .await
        .unwrap()
    }

    /// Runs `joinery-devstack tctl --dir DIR args...`.
    pub fn tctl(&self, args: &[&str]) -> std::process::Output {
        Command::new(BIN).arg("tctl").arg("--dir").arg(&self.dir).args(args).output().unwrap()
    }

    /// Stops the process (SIGTERM) and waits for it.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            unsafe_kill(child.id(), 15);
            let deadline = Instant::now() + Duration::from_secs(10);
            while child.try_wait().unwrap().is_none() {
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

fn unsafe_kill(pid: u32, sig: i32) {
    let _ = Command::new("kill").arg(format!("-{sig}")).arg(pid.to_string()).status();
}
