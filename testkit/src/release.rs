//! A release of this tree for the machine's own platform, built by
//! `scripts/release.sh` as `make release` builds one, and signed with a
//! throwaway GPG key made for the test.
//!
//! `make test` builds the native release binaries before the tests
//! (`release.sh --build-only`), so here cargo only finds them up to date and
//! the script packages and signs them; run alone, the first test builds them.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use crate::registry::SigningKey;
use crate::workspace_root;

/// The platform the tests build and install: the machine's own.
pub const NATIVE_PLATFORM: &str = "linux_amd64";

/// A GPG key in a keyring of its own, removed with it.
pub struct GpgKey {
    home: tempfile::TempDir,
    /// Its fingerprint.
    pub fingerprint: String,
    /// Its long key ID (the fingerprint's last 16 hex digits), as Terraform prints it.
    pub key_id: String,
}

impl GpgKey {
    /// A new RSA signing key named `uid`, without a passphrase.
    pub fn generate(uid: &str) -> GpgKey {
        let home = tempfile::tempdir().expect("GNUPGHOME");
        let key = GpgKey { home, fingerprint: String::new(), key_id: String::new() };
        key.gpg(&["--passphrase", "", "--quick-gen-key", uid, "rsa3072", "sign", "1d"]);
        let listing = key.gpg(&["--with-colons", "--list-keys"]);
        let fingerprint = listing
            .lines()
            .find_map(|l| l.strip_prefix("fpr:").map(|rest| rest.trim_matches(':').to_string()))
            .expect("the new key's fingerprint");
        let key_id = fingerprint[fingerprint.len() - 16..].to_string();
        GpgKey { fingerprint, key_id, ..key }
    }

    /// `gpg --batch args…` in this key's keyring; its standard output.
    pub fn gpg(&self, args: &[&str]) -> String {
        let out = Command::new("gpg")
            .env("GNUPGHOME", self.home.path())
            .arg("--batch")
            .args(args)
            .output()
            .expect("run gpg (Debian package gnupg)");
        assert!(out.status.success(), "gpg {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The ASCII-armored secret key, as `JOINERY_SIGNING_KEY` takes it.
    pub fn secret_armor(&self) -> String {
        self.gpg(&["--armor", "--export-secret-keys", &self.fingerprint])
    }

    /// The public key as a registry hands it to Terraform.
    pub fn signing_key(&self) -> SigningKey {
        SigningKey { key_id: self.key_id.clone(), ascii_armor: self.gpg(&["--armor", "--export", &self.fingerprint]) }
    }

    /// Whether `signature` is this key's valid detached signature of `file`.
    pub fn verifies(&self, file: &Path, signature: &Path) -> bool {
        Command::new("gpg")
            .env("GNUPGHOME", self.home.path())
            .args(["--batch", "--verify"])
            .arg(signature)
            .arg(file)
            .output()
            .is_ok_and(|o| o.status.success())
    }
}

/// `dirhash.Hash1` of a zip's files (golang.org/x/mod/sumdb/dirhash).
const HASH1: &str = "import base64, hashlib, sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
names = sorted(n for n in z.namelist() if not n.endswith('/'))
summary = ''.join(f'{hashlib.sha256(z.read(n)).hexdigest()}  {n}\\n' for n in names)
print('h1:' + base64.b64encode(hashlib.sha256(summary.encode()).digest()).decode())";

/// The native release and the key that signed it.
pub struct Release {
    /// The folder `release.sh` wrote.
    pub dir: PathBuf,
    /// The version it carries (the workspace's).
    pub version: String,
    /// The key that signed it.
    pub key: GpgKey,
}

impl Release {
    /// A file of the release.
    pub fn file(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// Terraform's `h1:` hash of the provider zip `name` (what
    /// `.terraform.lock.hcl` records for an installed package): Go's
    /// `dirhash.Hash1` of its contents, the base64 SHA-256 of the sorted
    /// lines `SHA256(file)  NAME`.
    pub fn h1(&self, name: &str) -> String {
        let out = Command::new("python3").args(["-c", HASH1]).arg(self.file(name)).output().expect("run python3");
        assert!(out.status.success(), "hashing {name}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }
}

/// The release for [`NATIVE_PLATFORM`], built once per test process into
/// `target/tmp/release-<test binary>/`.
pub fn native() -> &'static Release {
    static RELEASE: OnceLock<Release> = OnceLock::new();
    RELEASE.get_or_init(|| {
        let key = GpgKey::generate("Joinery test release key <test@joinery.invalid>");
        let exe = std::env::current_exe().expect("test executable");
        let stem = exe.file_stem().and_then(|s| s.to_str()).unwrap_or("test").to_string();
        let dir = workspace_root().join("target/tmp").join(format!("release-{stem}"));
        let out = Command::new(workspace_root().join("scripts/release.sh"))
            .args(["--platforms", NATIVE_PLATFORM, "--out"])
            .arg(&dir)
            .env("JOINERY_SIGNING_KEY", key.secret_armor())
            .env_remove("JOINERY_SIGNING_PASSPHRASE")
            .output()
            .expect("run scripts/release.sh");
        assert!(
            out.status.success(),
            "scripts/release.sh --platforms {NATIVE_PLATFORM} failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let version = std::fs::read_dir(&dir)
            .expect("the release folder")
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .find_map(|n| {
                n.strip_prefix("terraform-provider-teleport_")?.strip_suffix("_SHA256SUMS").map(str::to_string)
            })
            .expect("terraform-provider-teleport_VERSION_SHA256SUMS in the release");
        Release { dir, version, key }
    })
}
