//! Persistence of the emulated ARM state: `DIR/azure/arm.json`, rewritten atomically before
//! each change becomes visible (see [`super::state`]).

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::{Context, Result};
use joinery_util::fs::{SECRET_FILE_MODE, write_atomic};

use super::fixture::AzureFixture;
use super::state::{ArmState, fixture_digest};

/// How an error type represents a failure to persist the state.
pub trait PersistFailure {
    /// Wraps the persistence error.
    fn persist_failed(e: anyhow::Error) -> Self;
}

impl PersistFailure for anyhow::Error {
    fn persist_failed(e: anyhow::Error) -> Self {
        e
    }
}

impl PersistFailure for super::arm::Failure {
    fn persist_failed(e: anyhow::Error) -> Self {
        tracing::error!(error = %e, "cannot persist the emulated ARM state");
        super::arm::arm_error(
            hyper::StatusCode::INTERNAL_SERVER_ERROR,
            "InternalServerError",
            "The emulator could not persist its state.",
        )
    }
}

/// The persisted state behind a lock.
pub struct ArmStore {
    path: PathBuf,
    state: Mutex<ArmState>,
}

impl ArmStore {
    /// Opens `dir/arm.json`, (re)seeding it from `fixture` if absent or seeded from another
    /// fixture.
    pub fn open(dir: &Path, fixture: &AzureFixture) -> Result<Self> {
        let path = dir.join("arm.json");
        let digest = fixture_digest(fixture);
        let existing: Option<ArmState> = match std::fs::read(&path) {
            Ok(bytes) => Some(serde_json::from_slice(&bytes).with_context(|| format!("invalid {}", path.display()))?),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
        };
        let state = match existing {
            Some(s) if s.fixture_digest == digest => s,
            Some(_) => {
                tracing::warn!(path = %path.display(), "the Azure fixture changed: reseeding the emulated ARM state");
                ArmState::seed(fixture)
            }
            None => ArmState::seed(fixture),
        };
        let store = ArmStore { path, state: Mutex::new(state) };
        store.write(|_| Ok::<_, anyhow::Error>(()))?;
        Ok(store)
    }

    /// Reads the state.
    pub fn read<T>(&self, f: impl FnOnce(&ArmState) -> T) -> T {
        let guard = self.state.lock().unwrap_or_else(|p| p.into_inner());
        f(&guard)
    }

    /// Mutates a copy of the state, persists it, then publishes it. If `f` or the write
    /// fails, nothing changes.
    pub fn write<T, E: PersistFailure>(&self, f: impl FnOnce(&mut ArmState) -> Result<T, E>) -> Result<T, E> {
        let mut guard = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let mut next = guard.clone();
        let out = f(&mut next)?;
        let bytes = serde_json::to_vec_pretty(&next).map_err(|e| E::persist_failed(e.into()))?;
        write_atomic(&self.path, &bytes, SECRET_FILE_MODE).map_err(|e| E::persist_failed(e.into()))?;
        *guard = next;
        Ok(out)
    }
}
