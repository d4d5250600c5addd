//! Health, readiness and metrics over HTTP (`diag_addr`), like tbot's diag
//! service, so systemd, a load balancer or Prometheus can see whether the
//! VM's credentials are fresh.
//!
//! * `/healthz`: 200 while the process runs.
//! * `/readyz`: 200 only while the last renewal succeeded and the
//!   credentials have not expired; 503 otherwise.
//! * `/metrics`: Prometheus text format.
//!
//! The server is a deliberately small HTTP/1.1 responder (one request per
//! connection, `Connection: close`, bounded request size and time): three
//! GET endpoints do not justify an HTTP server stack, and it keeps the
//! binary small.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// Largest request head accepted.
const MAX_REQUEST: usize = 8 * 1024;
/// Requests served at once.
const MAX_CONNECTIONS: usize = 64;
/// First and longest pause after a failed accept.
const ACCEPT_PAUSE_MIN: Duration = Duration::from_millis(5);
const ACCEPT_PAUSE_MAX: Duration = Duration::from_secs(1);
/// How long a client may take to send its request.
const READ_TIMEOUT: Duration = Duration::from_secs(5);

/// What the agent reports about itself, shared between the renewal loop and the diag server.
#[derive(Debug, Default)]
pub struct Status {
    inner: Mutex<StatusInner>,
}

#[derive(Debug, Default)]
struct StatusInner {
    last_ok: bool,
    expires: Option<SystemTime>,
    renewals: u64,
    failures: BTreeMap<&'static str, u64>,
}

impl Status {
    fn lock(&self) -> std::sync::MutexGuard<'_, StatusInner> {
        // A panic while holding this lock cannot leave the counters invalid.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Records a successful renewal with credentials valid until `expires`.
    pub fn succeeded(&self, expires: SystemTime) {
        let mut s = self.lock();
        s.last_ok = true;
        s.expires = Some(expires);
        s.renewals += 1;
    }

    /// Records a failed attempt, by reason (a short label).
    pub fn failed(&self, reason: &'static str) {
        let mut s = self.lock();
        s.last_ok = false;
        *s.failures.entry(reason).or_default() += 1;
    }

    /// Attempts so far, successful or not.
    pub fn attempts(&self) -> u64 {
        let s = self.lock();
        s.renewals + s.failures.values().sum::<u64>()
    }

    /// When the credentials of the last success expire.
    pub fn expires(&self) -> Option<SystemTime> {
        self.lock().expires
    }

    /// Successful attempts so far.
    pub fn renewals(&self) -> u64 {
        self.lock().renewals
    }

    /// Whether the last renewal succeeded and its credentials are still valid.
    pub fn ready(&self) -> bool {
        let s = self.lock();
        s.last_ok && s.expires.is_some_and(|e| SystemTime::now() < e)
    }

    /// Prometheus text exposition.
    pub fn metrics(&self) -> String {
        let ready = self.ready();
        let s = self.lock();
        let mut out = String::new();
        out.push_str(
            "# HELP joinery_agent_renewals_total Successful joins and renewals of the bot identity and outputs.\n",
        );
        out.push_str("# TYPE joinery_agent_renewals_total counter\n");
        out.push_str(&format!("joinery_agent_renewals_total {}\n", s.renewals));
        out.push_str("# HELP joinery_agent_renewal_failures_total Failed join or renewal attempts, by reason.\n");
        out.push_str("# TYPE joinery_agent_renewal_failures_total counter\n");
        for (reason, n) in &s.failures {
            out.push_str(&format!("joinery_agent_renewal_failures_total{{reason=\"{reason}\"}} {n}\n"));
        }
        out.push_str(
            "# HELP joinery_agent_credentials_expiry_seconds Seconds until the current credentials expire (negative once expired).\n",
        );
        out.push_str("# TYPE joinery_agent_credentials_expiry_seconds gauge\n");
        if let Some(e) = s.expires {
            let secs = match e.duration_since(SystemTime::now()) {
                Ok(d) => d.as_secs_f64(),
                Err(past) => -past.duration().as_secs_f64(),
            };
            out.push_str(&format!("joinery_agent_credentials_expiry_seconds {secs:.0}\n"));
        }
        out.push_str("# HELP joinery_agent_ready 1 when the credentials are valid and the last renewal succeeded.\n");
        out.push_str("# TYPE joinery_agent_ready gauge\n");
        out.push_str(&format!("joinery_agent_ready {}\n", u8::from(ready)));
        out
    }
}

/// Binds `addr` (so a taken port fails at start) and returns the serving future.
pub async fn bind(addr: &str) -> std::io::Result<TcpListener> {
    TcpListener::bind(addr).await
}

/// Serves the diag endpoints on `listener` forever.
///
/// At most [`MAX_CONNECTIONS`] requests are served at once. A failed accept
/// (out of file descriptors, typically) is retried after a pause that
/// doubles from 5 ms to 1 s, as Go's `net/http` does, instead of spinning.
pub async fn serve(listener: TcpListener, status: Arc<Status>) {
    let slots = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
    let mut pause = ACCEPT_PAUSE_MIN;
    loop {
        // The semaphore is never closed, so acquiring cannot fail.
        let Ok(slot) = slots.clone().acquire_owned().await else { return };
        let mut conn = match listener.accept().await {
            Ok((conn, _)) => {
                pause = ACCEPT_PAUSE_MIN;
                conn
            }
            Err(e) => {
                if pause == ACCEPT_PAUSE_MIN {
                    tracing::warn!(error = %e, "diagnostics server cannot accept connections; retrying");
                }
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(ACCEPT_PAUSE_MAX);
                continue;
            }
        };
        let status = status.clone();
        tokio::spawn(async move {
            let _slot = slot;
            let Ok(Some(path)) =
                tokio::time::timeout(READ_TIMEOUT, read_request(&mut conn)).await.map(|r| r.ok().flatten())
            else {
                let _ = respond(&mut conn, 400, "text/plain", "bad request\n").await;
                return;
            };
            let (code, body, ctype) = match path.as_str() {
                "/healthz" => (200, "ok\n".to_string(), "text/plain"),
                "/readyz" if status.ready() => (200, "ready\n".to_string(), "text/plain"),
                "/readyz" => (503, "not ready: no valid credentials\n".to_string(), "text/plain"),
                "/metrics" => (200, status.metrics(), "text/plain; version=0.0.4"),
                _ => (404, "not found\n".to_string(), "text/plain"),
            };
            let _ = respond(&mut conn, code, ctype, &body).await;
        });
    }
}

/// Reads a request head and returns the path of a GET request, or
/// `None` for anything else.
async fn read_request(conn: &mut tokio::net::TcpStream) -> std::io::Result<Option<String>> {
    let mut buf = Vec::with_capacity(512);
    let mut chunk = [0u8; 1024];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") && !buf.windows(2).any(|w| w == b"\n\n") {
        if buf.len() > MAX_REQUEST {
            return Ok(None);
        }
        let n = conn.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let head = String::from_utf8_lossy(&buf);
    let mut parts = head.lines().next().unwrap_or_default().split_whitespace();
    let (Some(method), Some(target)) = (parts.next(), parts.next()) else { return Ok(None) };
    if method != "GET" {
        return Ok(None);
    }
    Ok(Some(target.split('?').next().unwrap_or(target).to_string()))
}

async fn respond(conn: &mut tokio::net::TcpStream, code: u16, ctype: &str, body: &str) -> std::io::Result<()> {
    let reason = match code {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        _ => "Service Unavailable",
    };
    let head = format!(
        "HTTP/1.1 {code} {reason}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    conn.write_all(head.as_bytes()).await?;
    conn.write_all(body.as_bytes()).await?;
    conn.shutdown().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readiness_follows_last_result_and_expiry() {
        let s = Status::default();
        assert!(!s.ready());
        s.succeeded(SystemTime::now() + Duration::from_secs(60));
        assert!(s.ready());
        s.failed("connect");
        assert!(!s.ready());
        s.succeeded(SystemTime::now() - Duration::from_secs(1));
        assert!(!s.ready());
        let m = s.metrics();
        assert!(m.contains("joinery_agent_renewals_total 2"), "{m}");
        assert!(m.contains("joinery_agent_renewal_failures_total{reason=\"connect\"} 1"), "{m}");
        assert!(m.contains("joinery_agent_ready 0"), "{m}");
    }
}
