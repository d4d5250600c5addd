//! Fixes the version and commit at build time.
//!
//! A release build sets both (`scripts/release.sh`): `JOINERY_VERSION` (the
//! release's `x.y.z`) and `JOINERY_COMMIT`. Any other build reports the
//! workspace version and asks git for the commit, and watches the files git
//! moves on a commit or a checkout so the answer does not go stale; without
//! git (a source tarball) the commit is `unknown`.

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=JOINERY_VERSION");
    println!("cargo:rerun-if-env-changed=JOINERY_COMMIT");
    let version = set("JOINERY_VERSION").unwrap_or_else(|| env!("CARGO_PKG_VERSION").to_string());
    let commit = set("JOINERY_COMMIT").unwrap_or_else(commit_from_git);
    println!("cargo:rustc-env=JOINERY_BUILD_VERSION={version}");
    println!("cargo:rustc-env=JOINERY_BUILD_COMMIT={commit}");
}

/// A variable that is set and not empty.
fn set(name: &str) -> Option<String> {
    std::env::var(name).ok().map(|v| v.trim().to_string()).filter(|v| !v.is_empty())
}

/// `git rev-parse HEAD`, watching `HEAD`, the branch it names and `packed-refs`.
fn commit_from_git() -> String {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut watched = vec!["HEAD".to_string(), "packed-refs".to_string()];
    if let Some(branch) = git(&dir, &["symbolic-ref", "-q", "HEAD"]) {
        watched.push(branch);
    }
    for name in watched {
        if let Some(path) = git(&dir, &["rev-parse", "--git-path", &name]) {
            let path = dir.join(path);
            // A path that does not exist would rerun this script on every build.
            if path.exists() {
                println!("cargo:rerun-if-changed={}", path.display());
            }
        }
    }
    git(&dir, &["rev-parse", "HEAD"]).unwrap_or_else(|| "unknown".to_string())
}

/// The trimmed output of a successful `git args…` in `dir`.
fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git").current_dir(dir).args(args).output().ok()?;
    let text = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (out.status.success() && !text.is_empty()).then_some(text)
}
