//! Opening a directory destination (`storage`, an output's `destination`)
//! the way its `symlinks` setting asks, for both of the agent's writers.
//!
//! The directory is opened without following symbolic links unless the
//! configuration says `symlinks: insecure` (see
//! [`joinery_util::fs::SecureDir`]): an agent running as root must not be
//! steered into writing keys, or changing modes, somewhere else. A missing
//! directory is created 0700; an existing one keeps its mode, and if group
//! or others can enter it the agent says so once per directory rather than
//! tightening it behind the user's back.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use joinery_tbot_config::SymlinkPolicy;
use joinery_util::fs::{FsError, SecureDir, Symlinks};

/// Opens (creating if missing) the directory destination at `path`.
pub fn open(path: &Path, policy: SymlinkPolicy) -> Result<SecureDir, FsError> {
    let symlinks = if policy.follows() { Symlinks::Follow } else { Symlinks::Refuse };
    let dir = SecureDir::open(path, symlinks)?;
    if let Some(mode) = dir.too_open()
        && first_warning_for(path)
    {
        tracing::warn!(
            path = %path.display(),
            mode = format!("{mode:04o}"),
            "the directory is accessible to group or others (its files are 0600, but names and counts are visible); \
             chmod 0700 it unless that is intended"
        );
    }
    Ok(dir)
}

/// Whether `path` has not been warned about yet in this process.
fn first_warning_for(path: &Path) -> bool {
    static WARNED: OnceLock<Mutex<HashSet<PathBuf>>> = OnceLock::new();
    let warned = WARNED.get_or_init(Default::default);
    // A panic while holding this lock cannot leave the set invalid.
    warned.lock().unwrap_or_else(|p| p.into_inner()).insert(path.to_path_buf())
}
