//! Atomic, permission-safe file writes.
//!
//! Credentials are read by other programs while we renew them, and a crash
//! mid-write must never leave a half-written key behind. Every write therefore
//! goes to a temporary file in the same directory, is fsynced, and is renamed
//! over the destination; the directory is fsynced afterwards so the rename
//! itself survives a power loss.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Mode for files holding secrets or credentials.
pub const SECRET_FILE_MODE: u32 = 0o600;
/// Mode for directories holding secrets or credentials.
pub const SECRET_DIR_MODE: u32 = 0o700;

/// An I/O failure, with the path it happened on.
#[derive(Debug, thiserror::Error)]
#[error("{action} {}: {source}", path.display())]
pub struct FsError {
    action: &'static str,
    path: PathBuf,
    #[source]
    source: io::Error,
}

impl FsError {
    fn new(action: &'static str, path: &Path, source: io::Error) -> Self {
        FsError { action, path: path.to_path_buf(), source }
    }

    /// The path the failed operation was about.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Writes `contents` to `path` atomically with the given file mode.
///
/// If the destination already exists its owner is kept (when we are allowed
/// to set it), so a root-run agent does not steal files a service user reads.
pub fn write_atomic(path: &Path, contents: &[u8], mode: u32) -> Result<(), FsError> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let file_name =
        path.file_name().ok_or_else(|| FsError::new("write", path, io::Error::other("path has no file name")))?;
    let previous_owner = fs::metadata(path).ok().map(|m| {
        use std::os::unix::fs::MetadataExt;
        (m.uid(), m.gid())
    });

    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(file_name);
    tmp_name.push(format!(".tmp-{}-{}", std::process::id(), unique_suffix()));
    let tmp = dir.join(tmp_name);

    let result = (|| {
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(&tmp)
            .map_err(|e| FsError::new("create", &tmp, e))?;
        // The umask may have narrowed the mode; set it exactly.
        f.set_permissions(fs::Permissions::from_mode(mode)).map_err(|e| FsError::new("chmod", &tmp, e))?;
        if let Some((uid, gid)) = previous_owner {
            // Best effort: only root can give a file away, and that is the
            // only case where the owner could differ.
            let _ = std::os::unix::fs::fchown(&f, Some(uid), Some(gid));
        }
        f.write_all(contents).map_err(|e| FsError::new("write", &tmp, e))?;
        f.sync_all().map_err(|e| FsError::new("fsync", &tmp, e))?;
        fs::rename(&tmp, path).map_err(|e| FsError::new("rename into", path, e))?;
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Creates `dir` (and parents) with mode 0700 if it does not exist, and
/// tightens an existing directory to 0700.
pub fn ensure_private_dir(dir: &Path) -> Result<(), FsError> {
    if !dir.exists() {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(SECRET_DIR_MODE)
            .create(dir)
            .map_err(|e| FsError::new("create directory", dir, e))?;
    }
    fs::set_permissions(dir, fs::Permissions::from_mode(SECRET_DIR_MODE)).map_err(|e| FsError::new("chmod", dir, e))
}

fn unique_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos() as u64)
        .unwrap_or(0);
    nanos ^ (COUNTER.fetch_add(1, Ordering::Relaxed) << 32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_with_mode_and_replaces() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("key");
        write_atomic(&p, b"one", 0o600).unwrap();
        write_atomic(&p, b"two", 0o600).unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"two");
        assert_eq!(fs::metadata(&p).unwrap().permissions().mode() & 0o777, 0o600);
        // No temporary files are left behind.
        assert_eq!(fs::read_dir(d.path()).unwrap().count(), 1);
    }

    #[test]
    fn missing_directory_is_an_error_naming_the_path() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("nope/key");
        let err = write_atomic(&p, b"x", 0o600).unwrap_err();
        assert!(err.to_string().contains("nope"), "{err}");
    }

    #[test]
    fn private_dir_is_0700() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("a/b");
        ensure_private_dir(&p).unwrap();
        assert_eq!(fs::metadata(&p).unwrap().permissions().mode() & 0o777, 0o700);
    }
}
