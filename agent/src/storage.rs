//! Where the agent keeps its own bot identity between renewals and restarts.
//!
//! A token is single-use, so a daemon restarted with only its token could
//! not join again; tbot therefore keeps the bot identity in `storage` (a
//! directory by default) and renews it on start. `storage: memory` keeps it
//! in RAM only (fine for one-shot runs, and for Azure where joining again is
//! always possible). Next to the identity the agent stores the SHA-256 of
//! the token it joined with (tbot's `tokenhash`): if the configured token
//! changes, the stored identity is discarded and the agent joins afresh.

use std::path::PathBuf;
use std::time::SystemTime;

use joinery_teleport::Identity;
use joinery_util::fs::{SECRET_FILE_MODE, ensure_private_dir, write_atomic};
use sha2::Digest;

use joinery_tbot_config::{Destination, Token};

/// Name of the bot identity file in a storage directory.
const IDENTITY_FILE: &str = "identity";
/// Name of the token hash file.
const TOKEN_HASH_FILE: &str = "tokenhash";

/// The agent's storage.
#[derive(Debug, Clone)]
pub struct Storage {
    dir: Option<PathBuf>,
}

impl Storage {
    /// Storage for a configured destination.
    pub fn new(dest: &Destination) -> Self {
        match dest {
            Destination::Directory(d) => Storage { dir: Some(d.clone()) },
            Destination::Memory => Storage { dir: None },
        }
    }

    /// The stored identity, if it is for `token`, and valid now.
    pub fn load(&self, token: &Token) -> Option<Identity> {
        let dir = self.dir.as_ref()?;
        let text = std::fs::read_to_string(dir.join(IDENTITY_FILE)).ok()?;
        let stored_hash = std::fs::read_to_string(dir.join(TOKEN_HASH_FILE)).ok()?;
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
    pub fn save(&self, identity: &Identity, token: &Token) -> Result<(), joinery_util::fs::FsError> {
        let Some(dir) = &self.dir else { return Ok(()) };
        ensure_private_dir(dir)?;
        write_atomic(&dir.join(TOKEN_HASH_FILE), token_hash(token).as_bytes(), SECRET_FILE_MODE)?;
        write_atomic(&dir.join(IDENTITY_FILE), identity.encode().as_bytes(), SECRET_FILE_MODE)
    }
}

/// Hex SHA-256 of the token value (tbot's `tokenhash`).
fn token_hash(token: &Token) -> String {
    hex::encode(sha2::Sha256::digest(token.value().as_bytes()))
}
