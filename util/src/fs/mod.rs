//! Atomic, permission-safe file writes.
//!
//! Credentials are read by other programs while we renew them, and a crash
//! mid-write must never leave a half-written key behind. Every write therefore
//! goes to a temporary file in the same directory, is fsynced, and is renamed
//! over the destination; the directory is fsynced afterwards so the rename
//! itself survives a power loss.
//!
//! [`SecureDir`] does the same inside a destination directory that symbolic
//! links cannot redirect, and publishes sets of files that switch together.

mod secure_dir;

pub use secure_dir::{SecureDir, Symlinks};

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Mode for files holding secrets or credentials.
pub const SECRET_FILE_MODE: u32 = 0o600;
/// Mode for directories holding secrets or credentials.
pub const SECRET_DIR_MODE: u32 = 0o700;

/// A file-system failure, with the path it happened on.
#[derive(Debug, thiserror::Error)]
pub enum FsError {
    /// An I/O operation failed.
    #[error("{action} {}: {source}", path.display())]
    Io {
        /// What was being done (`create`, `write`, `rename into`, …).
        action: &'static str,
        /// On what.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// A path component is a symbolic link and the policy refuses to follow it.
    #[error(
        "{} is a symbolic link: refusing to follow it (symlinks: secure); point the path at the real directory, or set symlinks: insecure",
        path.display()
    )]
    Symlink {
        /// The link.
        path: PathBuf,
    },
}

impl FsError {
    fn io(action: &'static str, path: &Path, source: io::Error) -> Self {
        FsError::Io { action, path: path.to_path_buf(), source }
    }

    /// The path the failed operation was about.
    pub fn path(&self) -> &Path {
        match self {
            FsError::Io { path, .. } | FsError::Symlink { path } => path,
        }
    }
}

/// Writes `contents` to `path` atomically with the given file mode. The new
/// file is owned by this process's user, like any file it creates.
pub fn write_atomic(path: &Path, contents: &[u8], mode: u32) -> Result<(), FsError> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let file_name =
        path.file_name().ok_or_else(|| FsError::io("write", path, io::Error::other("path has no file name")))?;

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
            .map_err(|e| FsError::io("create", &tmp, e))?;
        // The umask may have narrowed the mode; set it exactly.
        f.set_permissions(fs::Permissions::from_mode(mode)).map_err(|e| FsError::io("chmod", &tmp, e))?;
        f.write_all(contents).map_err(|e| FsError::io("write", &tmp, e))?;
        f.sync_all().map_err(|e| FsError::io("fsync", &tmp, e))?;
        fs::rename(&tmp, path).map_err(|e| FsError::io("rename into", path, e))?;
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
            .map_err(|e| FsError::io("create directory", dir, e))?;
    }
    fs::set_permissions(dir, fs::Permissions::from_mode(SECRET_DIR_MODE)).map_err(|e| FsError::io("chmod", dir, e))
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
