//! Agent-specific helpers: the agent binary as a process, its diag server,
//! and checking the certificates it writes. The devstack process, polling
//! and file modes come from `joinery_testkit`.
// Each test binary uses a different subset of these helpers.
#![allow(dead_code, unused_imports)]

pub(crate) use joinery_teleport::identity::pem_certs_to_der as pem_certs;
pub(crate) use joinery_testkit::{Devstack, free_port, mode, poll, signal};

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub(crate) const AGENT: &str = env!("CARGO_BIN_EXE_joinery-agent");

/// A clean environment for the agent: no inherited Teleport/tbot variables.
pub(crate) fn agent_cmd() -> Command {
    let mut cmd = Command::new(AGENT);
    for var in [
        "TELEPORT_AUTH_SERVER",
        "TELEPORT_PROXY",
        "TELEPORT_BOT_TOKEN",
        "TBOT_DEBUG",
        "TBOT_CONFIG_PATH",
        "TBOT_CONFIG",
        "JOINERY_LOG",
        "JOINERY_GIVE_UP_AFTER",
        "SSL_CERT_FILE",
        "SSL_CERT_DIR",
    ] {
        cmd.env_remove(var);
    }
    cmd
}

/// Runs the agent to completion.
pub(crate) fn run_agent(args: &[&str]) -> Output {
    agent_cmd().args(args).output().unwrap()
}

/// A daemon agent whose stderr goes to a file (read with [`Agent::log`]).
pub(crate) struct Agent {
    child: Option<Child>,
    log: PathBuf,
}

impl Agent {
    pub(crate) fn spawn(mut cmd: Command, log: PathBuf) -> Self {
        let file = std::fs::File::create(&log).unwrap();
        let child = cmd.stdout(Stdio::null()).stderr(file).spawn().unwrap();
        Agent { child: Some(child), log }
    }

    pub(crate) fn pid(&self) -> u32 {
        self.child.as_ref().unwrap().id()
    }

    pub(crate) fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Panics with the log if the agent exited.
    pub(crate) fn assert_running(&mut self) {
        if let Some(status) = self.child.as_mut().unwrap().try_wait().unwrap() {
            panic!("agent exited early ({status}):\n{}", self.log());
        }
    }

    /// The exit status, once the agent has exited.
    pub(crate) fn try_exit(&mut self) -> Option<std::process::ExitStatus> {
        self.child.as_mut().unwrap().try_wait().unwrap()
    }

    /// Sends SIGTERM and returns the exit status.
    pub(crate) fn stop(&mut self) -> std::process::ExitStatus {
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
pub(crate) fn http_get(port: u16, path: &str) -> Option<(u16, String)> {
    let mut conn = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    conn.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(conn, "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").ok()?;
    let mut resp = String::new();
    conn.read_to_string(&mut resp).ok()?;
    let code = resp.split_whitespace().nth(1)?.parse().ok()?;
    let body = resp.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
    Some((code, body))
}

/// `POST url` with a JSON body over plain HTTP (the devstack's IMDS control
/// endpoints); returns the status code.
pub(crate) fn http_post_json(url: &str, body: &str) -> u16 {
    let rest = url.strip_prefix("http://").expect("an http:// URL");
    let (host, path) = rest.split_once('/').map(|(h, p)| (h, format!("/{p}"))).unwrap_or((rest, "/".into()));
    let mut conn = std::net::TcpStream::connect(host).unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    write!(
        conn,
        "POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut resp = String::new();
    conn.read_to_string(&mut resp).unwrap();
    resp.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0)
}

/// A metric's value from Prometheus text.
pub(crate) fn metric(body: &str, name: &str) -> Option<f64> {
    body.lines().find_map(|l| l.strip_prefix(name).and_then(|rest| rest.trim().parse().ok()))
}

/// Verifies a TLS client certificate against the devstack's user CA and
/// returns (CN, O values = roles).
pub(crate) fn verify_user_cert(stack: &Devstack, cert_pem: &str) -> (String, Vec<String>) {
    let info = stack.verify_user_cert(cert_pem);
    (info.username, info.roles)
}

/// Writes a config file and returns its path.
pub(crate) fn write_config(dir: &Path, name: &str, yaml: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, yaml).unwrap();
    p
}
