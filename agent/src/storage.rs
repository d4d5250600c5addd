//! Where the agent keeps its own bot identity between renewals and restarts.
//!
//! A token is single-use, so a daemon restarted with only its token could
//! not join again; tbot therefore keeps the bot identity in `storage` (a
//! directory by default) and renews it on start. `storage: memory` keeps it
//! in RAM only (fine for one-shot runs, and for Azure where joining again is
//! always possible). Next to the identity the agent stores the SHA-256 of
//! the token it joined with (tbot's `tokenhash`): if the configured token
//! changes, the stored identity is discarded and the agent joins afresh.
//! Beside them, as tbot's storage holds them, `tlscacerts` and `sshcacerts`:
//! the CAs the identity trusts, joined with `$` (`lib/tbot/identity/artifact.go`),
//! for programs that read tbot's storage; the agent itself reads only
//! `identity`. The files are published together ([`joinery_util::fs::SecureDir::publish`]),
//! so a crash can never pair an identity with another token's hash.

use std::path::PathBuf;
use std::time::SystemTime;

use joinery_tbot_config::{Destination, SymlinkPolicy, Token};
use joinery_teleport::Identity;
use joinery_util::fs::{FsError, SECRET_FILE_MODE, SecureDir};
use sha2::Digest;

/// Name of the bot identity file in a storage directory.
const IDENTITY_FILE: &str = "identity";
/// Name of the token hash file.
const TOKEN_HASH_FILE: &str = "tokenhash";
/// tbot's file of the identity's TLS CAs.
const TLS_CA_FILE: &str = "tlscacerts";
/// tbot's file of the identity's SSH CAs.
const SSH_CA_FILE: &str = "sshcacerts";

/// The agent's storage.
#[derive(Debug, Clone)]
pub struct Storage {
    dir: Option<(PathBuf, SymlinkPolicy)>,
}

impl Storage {
    /// Storage for a configured destination.
    pub fn new(dest: &Destination) -> Self {
        match dest {
            Destination::Directory { path, symlinks } => Storage { dir: Some((path.clone(), *symlinks)) },
            Destination::Memory => Storage { dir: None },
        }
    }

    /// The stored identity, if it is for `token`, and valid now.
    pub fn load(&self, token: &Token) -> Option<Identity> {
        let dir = match self.open()? {
            Ok(d) => d,
            Err(e) => {
                tracing::warn!(error = %e, "cannot open the storage directory");
                return None;
            }
        };
        let read = |name| match dir.read(name) {
            Ok(bytes) => bytes.map(|b| String::from_utf8_lossy(&b).into_owned()),
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the stored identity");
                None
            }
        };
        let text = read(IDENTITY_FILE)?;
        let stored_hash = read(TOKEN_HASH_FILE)?;
        let dir = dir.path();
        if stored_hash.trim() != token_hash(token) {
            tracing::info!(storage = %dir.display(), "the token changed since the stored identity was issued: joining again");
            return None;
        }
        let identity = match Identity::parse(&text) {
            Ok(i) => i,
            Err(e) => {
                tracing::warn!(storage = %dir.display(), error = %e, "ignoring unreadable stored identity");
                return None;
            }
        };
        let info = identity.tls_info().ok()?;
        let now = SystemTime::now();
        if now < info.not_before || info.is_expired_at(now) {
            tracing::info!(storage = %dir.display(), "the stored identity is expired: joining again");
            return None;
        }
        Some(identity)
    }

    /// Keeps `identity` (joined with `token`).
    pub fn save(&self, identity: &Identity, token: &Token) -> Result<(), FsError> {
        let Some(dir) = self.open() else { return Ok(()) };
        let (hash, encoded) = (token_hash(token), identity.encode());
        let (tls_cas, ssh_cas) = (identity.tls_ca_pems.join("$"), identity.ssh_ca_lines.join("$"));
        dir?.publish(
            &[
                (TOKEN_HASH_FILE, hash.as_bytes()),
                (IDENTITY_FILE, encoded.as_bytes()),
                (TLS_CA_FILE, tls_cas.as_bytes()),
                (SSH_CA_FILE, ssh_cas.as_bytes()),
            ],
            SECRET_FILE_MODE,
        )
    }

    /// The storage directory, when storage is one.
    fn open(&self) -> Option<Result<SecureDir, FsError>> {
        self.dir.as_ref().map(|(path, symlinks)| crate::destination::open(path, *symlinks))
    }
}

/// Hex SHA-256 of the token value (tbot's `tokenhash`).
fn token_hash(token: &Token) -> String {
    hex::encode(sha2::Sha256::digest(token.value().as_bytes()))
}
