//! The harness every Joinery test crate shares.
//!
//! Tests talk to real peers: the real `joinery-devstack` process
//! ([`Devstack`]), the real Terraform CLI ([`terraform::Workspace`]), the
//! real binaries of this workspace ([`binary`]), the release `make release`
//! builds ([`release::native`]) served by a provider registry on local HTTPS
//! ([`registry::Registry`]). Nothing here sleeps for
//! readiness: [`poll`] retries a check until it holds or its deadline
//! passes, and says what it was waiting for when it fails.
//!
//! Helpers panic on failure, with a message naming what failed: they only
//! run inside tests, where a panic is the failure report.

mod devstack;
pub mod registry;
pub mod release;
pub mod terraform;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

pub use devstack::Devstack;

/// The workspace root (the parent of every crate directory).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().map(Path::to_path_buf).unwrap_or_default()
}

/// A binary built by this workspace (`joinery-devstack`, `joinery-agent`,
/// `terraform-provider-teleport`, or an example under `examples/`), found
/// next to the running test executable: tests live in `target/<profile>/deps`,
/// binaries in `target/<profile>`. `make test` builds them all first.
pub fn binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("the test executable has a path");
    let file = format!("{name}{}", std::env::consts::EXE_SUFFIX);
    let dirs = [exe.parent().map(Path::to_path_buf), exe.parent().and_then(Path::parent).map(Path::to_path_buf)];
    for dir in dirs.into_iter().flatten() {
        for candidate in [dir.join(&file), dir.join("examples").join(&file)] {
            if candidate.is_file() {
                return candidate;
            }
        }
    }
    panic!(
        "{name} is missing next to {}: run `cargo build --workspace --bins --examples` (make test does)",
        exe.display()
    );
}

/// Calls `f` until it returns `Some`, failing the test with `what` once
/// `timeout` has passed.
pub fn poll<T>(what: &str, timeout: Duration, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out after {timeout:?} waiting for {what}");
        std::thread::sleep(Duration::from_millis(25));
    }
}

/// A TCP port on 127.0.0.1 that was free a moment ago (bound, then released).
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port");
    listener.local_addr().expect("bound socket has an address").port()
}

/// Sends the signal `name` (`TERM`, `HUP`, `KILL`, …) to a process the test started.
pub fn signal(pid: u32, name: &str) {
    let _ = Command::new("kill").arg(format!("-{name}")).arg(pid.to_string()).status();
}

/// Stops a child process: SIGTERM, then SIGKILL if it is still running after
/// `grace`. Returns how it ended.
pub fn stop_child(child: &mut std::process::Child, grace: Duration) -> Option<std::process::ExitStatus> {
    signal(child.id(), "TERM");
    let deadline = Instant::now() + grace;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Some(status),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(10)),
            _ => {
                let _ = child.kill();
                return child.wait().ok();
            }
        }
    }
}

/// The mode bits (`0o777` part) of a file.
pub fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap_or_else(|e| panic!("stat {}: {e}", path.display())).permissions().mode() & 0o777
}
