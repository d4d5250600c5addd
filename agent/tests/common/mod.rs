//! Shared helpers: a real `joinery-devstack up` process, the agent binary
//! as a process, and polling with deadlines.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub const AGENT: &str = env!("CARGO_BIN_EXE_joinery-agent");

/// `joinery-devstack`, next to the agent binary in the target directory.
pub fn devstack_bin() -> PathBuf {
    let dir = Path::new(AGENT).parent().expect("agent binary has a directory");
    let bin = dir.join("joinery-devstack");
    assert!(
        bin.is_file(),
        "{} is missing: build it first (`cargo build -p joinery-devstack`, or `make build`) in the same target directory",
        bin.display()
    );
    bin
}

/// Polls `f` every 50ms until it returns `Some`, or panics after `secs` with `what`.
pub fn wait_for<T>(secs: u64, what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out after {secs}s waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A free TCP port on 127.0.0.1 (bound then released).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A running devstack.
pub struct Devstack {
    pub dir: PathBuf,
    child: Option<Child>,
    pub info: serde_json::Value,
}

impl Devstack {
    /// Starts a devstack on `dir` with extra arguments, waiting for devstack.json.
    pub fn start_in(dir: &Path, extra: &[&str]) -> Self {
        let mut child = Command::new(devstack_bin())
            .arg("up")
            .arg("--dir")
            .arg(dir)
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let info_path = dir.join("devstack.json");
        let pid = child.id() as u64;
        let info = wait_for(60, "devstack.json", || {
            if let Some(status) = child.try_wait().unwrap() {
                panic!("devstack exited early: {status}");
            }
            let bytes = std::fs::read(&info_path).ok()?;
            let info: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
            (info["pid"].as_u64() == Some(pid)).then_some(info)
        });
        Devstack { dir: dir.to_path_buf(), child: Some(child), info }
    }

    pub fn addr(&self) -> String {
        self.info["teleport"]["addr"].as_str().unwrap().to_string()
    }

    pub fn pin(&self) -> String {
        self.info["teleport"]["ca_pin"].as_str().unwrap().to_string()
    }

    pub fn ca_file(&self) -> PathBuf {
        PathBuf::from(self.info["teleport"]["ca_file"].as_str().unwrap())
    }

    pub fn cluster(&self) -> String {
        self.info["teleport"]["cluster_name"].as_str().unwrap().to_string()
    }

    /// Runs `joinery-devstack tctl --dir DIR args...`, asserting success.
    pub fn tctl(&self, args: &[&str]) -> String {
        let out = Command::new(devstack_bin()).arg("tctl").arg("--dir").arg(&self.dir).args(args).output().unwrap();
        assert!(out.status.success(), "tctl {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    }

    /// Adds a bot with `roles` and returns its join token.
    pub fn add_bot(&self, name: &str, roles: &str) -> String {
        let out = self.tctl(&["bots", "add", name, "--roles", roles]);
        let marker = "join with the token:";
        let rest = &out[out.find(marker).expect("tctl prints the token") + marker.len()..];
        rest.split_whitespace().next().unwrap().to_string()
    }

    /// Stops the process (SIGTERM) and waits for it.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            signal(child.id(), "TERM");
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

/// Sends a signal by name to a process we started.
pub fn signal(pid: u32, name: &str) {
    let _ = Command::new("kill").arg(format!("-{name}")).arg(pid.to_string()).status();
}

/// A clean environment for the agent: no inherited Teleport/tbot variables.
pub fn agent_cmd() -> Command {
    let mut cmd = Command::new(AGENT);
    for var in [
        "TELEPORT_AUTH_SERVER",
        "TELEPORT_PROXY",
        "TELEPORT_BOT_TOKEN",
        "TBOT_DEBUG",
        "TBOT_CONFIG_PATH",
        "TBOT_CONFIG",
        "JOINERY_LOG",
        "JOINERY_RETRY_LIMIT",
        "SSL_CERT_FILE",
        "SSL_CERT_DIR",
    ] {
        cmd.env_remove(var);
    }
    cmd
}

/// Runs the agent to completion.
pub fn run_agent(args: &[&str]) -> Output {
    agent_cmd().args(args).output().unwrap()
}

/// A daemon agent whose stderr goes to a file (read with [`Agent::log`]).
pub struct Agent {
    child: Option<Child>,
    log: PathBuf,
}

impl Agent {
    pub fn spawn(mut cmd: Command, log: PathBuf) -> Self {
        let file = std::fs::File::create(&log).unwrap();
        let child = cmd.stdout(Stdio::null()).stderr(file).spawn().unwrap();
        Agent { child: Some(child), log }
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().unwrap().id()
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Panics with the log if the agent exited.
    pub fn assert_running(&mut self) {
        if let Some(status) = self.child.as_mut().unwrap().try_wait().unwrap() {
            panic!("agent exited early ({status}):\n{}", self.log());
        }
    }

    /// Sends SIGTERM and returns the exit status.
    pub fn stop(&mut self) -> std::process::ExitStatus {
        let mut child = self.child.take().unwrap();
        signal(child.id(), "TERM");
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(s) = child.try_wait().unwrap() {
                return s;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("agent did not stop on SIGTERM:\n{}", self.log());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// `GET path` on the diag server: (status, body), or `None` if unreachable.
pub fn http_get(port: u16, path: &str) -> Option<(u16, String)> {
    let mut conn = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    conn.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(conn, "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").ok()?;
    let mut resp = String::new();
    conn.read_to_string(&mut resp).ok()?;
    let code = resp.split_whitespace().nth(1)?.parse().ok()?;
    let body = resp.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
    Some((code, body))
}

/// A metric's value from Prometheus text.
pub fn metric(body: &str, name: &str) -> Option<f64> {
    body.lines().find_map(|l| l.strip_prefix(name).and_then(|rest| rest.trim().parse().ok()))
}

/// Verifies a TLS client certificate against the devstack's user CA and
/// returns (CN, O values = roles).
pub fn verify_user_cert(stack: &Devstack, cert_pem: &str) -> (String, Vec<String>) {
    let user_ca = std::fs::read_to_string(stack.dir.join("ca/tls-user.crt")).unwrap();
    let mut roots = rustls::RootCertStore::empty();
    for der in pem_certs(&user_ca) {
        roots.add(der.into()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let verifier =
        rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider).build().unwrap();
    let der = pem_certs(cert_pem).remove(0);
    verifier
        .verify_client_cert(&der.clone().into(), &[], rustls::pki_types::UnixTime::now())
        .expect("certificate chains to the cluster's user CA");
    let (_, cert) = x509_parser::parse_x509_certificate(&der).unwrap();
    let cn = cert.subject().iter_common_name().next().unwrap().as_str().unwrap().to_string();
    let roles = cert.subject().iter_organization().map(|o| o.as_str().unwrap().to_string()).collect();
    (cn, roles)
}

/// DER of every CERTIFICATE block.
pub fn pem_certs(pem: &str) -> Vec<Vec<u8>> {
    use base64::Engine;
    let mut out = Vec::new();
    let mut cur: Option<String> = None;
    for line in pem.lines() {
        let line = line.trim();
        if line == "-----BEGIN CERTIFICATE-----" {
            cur = Some(String::new());
        } else if line == "-----END CERTIFICATE-----" {
            if let Some(b) = cur.take() {
                out.push(base64::engine::general_purpose::STANDARD.decode(b).unwrap());
            }
        } else if let Some(b) = cur.as_mut() {
            b.push_str(line);
        }
    }
    out
}

/// The file's mode bits.
pub fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// Writes a config file and returns its path.
pub fn write_config(dir: &Path, name: &str, yaml: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, yaml).unwrap();
    p
}
