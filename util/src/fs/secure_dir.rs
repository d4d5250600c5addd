//! Destination directories that a symbolic link cannot redirect, and
//! multi-file updates a reader sees switch at one instant.
//!
//! An agent running as root writes private keys into directories other
//! users may be able to influence. Following a symlink there would let a
//! local user point the agent's writes (and its `chmod`) at a directory or
//! file of their choosing, so [`SecureDir`] opens every component of the
//! destination path itself, refusing symbolic links (tbot's
//! `symlinks: secure`, which it implements with `openat2(RESOLVE_NO_SYMLINKS)`
//! and, as `try-secure`, gives up on kernels without it; walking the path with
//! `O_NOFOLLOW` one component at a time gives the same guarantee on every
//! Unix, so here there is nothing to give up). Every later
//! operation is relative to the directory's file descriptor, so swapping a
//! path component for a symlink afterwards changes nothing.
//!
//! A set of files that belong together (a key and its certificates) is
//! written by [`SecureDir::publish`] into a fresh generation directory that
//! then replaces the previous one with one atomic `rename` of a symlink, the
//! scheme Kubernetes uses for secret volumes:
//!
//! ```text
//! out/.joinery-live -> .joinery-gen-42      (swapped atomically)
//! out/.joinery-gen-42/{key,tlscert,…}       (0600, written and fsynced first)
//! out/key -> .joinery-live/key              (tbot's names keep working)
//! ```
//!
//! A reader that resolves `.joinery-live` once (opens the directory, then the
//! files in it) always gets files of one generation. A reader that opens
//! `key` and `tlscert` by their plain names separately sees both switch at
//! the same instant, instead of over the milliseconds it takes to write and
//! fsync each file; only a rename landing exactly between its two opens can
//! still split a pair, which is why tbot's single-file `identity` exists.

use std::ffi::OsStr;
use std::io::{self, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::fs::DirBuilderExt;
use std::path::{Component, Path, PathBuf};

use rustix::fs::{AtFlags, Mode, OFlags};

use super::{FsError, SECRET_DIR_MODE, unique_suffix};

/// The symlink that names the live generation.
const LIVE: &str = ".joinery-live";
/// Prefix of generation directories.
const GENERATION_PREFIX: &str = ".joinery-gen-";

/// Whether [`SecureDir::open`] may follow symbolic links in the path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Symlinks {
    /// Refuse any symbolic link in the path ([`FsError::Symlink`]).
    #[default]
    Refuse,
    /// Follow them (tbot's `symlinks: insecure`).
    Follow,
}

/// A directory opened without following symbolic links (unless asked),
/// created with mode 0700 when missing.
#[derive(Debug)]
pub struct SecureDir {
    fd: OwnedFd,
    path: PathBuf,
    mode: u32,
}

impl SecureDir {
    /// Opens `path`, creating it and missing parents (mode 0700). With
    /// [`Symlinks::Refuse`], a symbolic link anywhere in the path is an error
    /// ([`FsError::Symlink`]). An existing directory's mode is kept: see
    /// [`SecureDir::too_open`].
    pub fn open(path: &Path, symlinks: Symlinks) -> Result<SecureDir, FsError> {
        let fd = match symlinks {
            Symlinks::Refuse => walk(path)?,
            Symlinks::Follow => {
                std::fs::DirBuilder::new()
                    .recursive(true)
                    .mode(SECRET_DIR_MODE)
                    .create(path)
                    .map_err(|e| FsError::io("create directory", path, e))?;
                rustix::fs::open(path, OFlags::DIRECTORY | OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty())
                    .map_err(|e| FsError::io("open directory", path, e.into()))?
            }
        };
        let stat = rustix::fs::fstat(&fd).map_err(|e| FsError::io("stat", path, e.into()))?;
        Ok(SecureDir { fd, path: path.to_path_buf(), mode: stat.st_mode as u32 & 0o7777 })
    }

    /// The path it was opened by.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The directory's mode when group or others have any access to it (the
    /// caller warns: it is respected, not tightened behind the user's back).
    pub fn too_open(&self) -> Option<u32> {
        (self.mode & 0o077 != 0).then_some(self.mode)
    }

    /// Replaces `name` atomically with `contents` and `mode`: a temporary file
    /// created exclusively (never through a symlink), fsynced, renamed over
    /// `name` (a symlink there is replaced, not followed). The new file is
    /// owned by this process's user.
    pub fn write(&self, name: &str, contents: &[u8], mode: u32) -> Result<(), FsError> {
        self.check_name(name)?;
        let tmp = temp_name(name);
        let result = (|| {
            create_file(&self.fd, &tmp, contents, mode).map_err(|e| FsError::io("write", &self.path.join(&tmp), e))?;
            rustix::fs::renameat(&self.fd, &tmp, &self.fd, name)
                .map_err(|e| FsError::io("rename into", &self.path.join(name), e.into()))?;
            self.sync()
        })();
        if result.is_err() {
            let _ = rustix::fs::unlinkat(&self.fd, &tmp, AtFlags::empty());
        }
        result
    }

    /// Reads `name`: from the live generation when [`SecureDir::publish`]
    /// wrote it, else the plain file, never through any other symlink.
    /// `Ok(None)` when it does not exist.
    pub fn read(&self, name: &str) -> Result<Option<Vec<u8>>, FsError> {
        self.check_name(name)?;
        let (dir, shown) = match self.live_generation()? {
            Some(generation) => {
                let fd = open_dir(&self.fd, &generation).map_err(|e| FsError::io("open", &self.path.join(LIVE), e))?;
                (Some(fd), self.path.join(LIVE).join(name))
            }
            None => (None, self.path.join(name)),
        };
        let parent = dir.as_ref().map(|d| d.as_fd()).unwrap_or(self.fd.as_fd());
        match rustix::fs::openat(parent, name, OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC, Mode::empty()) {
            Ok(fd) => {
                let mut out = Vec::new();
                io::Read::read_to_end(&mut std::fs::File::from(fd), &mut out)
                    .map_err(|e| FsError::io("read", &shown, e))?;
                Ok(Some(out))
            }
            Err(rustix::io::Errno::NOENT) => Ok(None),
            Err(rustix::io::Errno::LOOP) => Err(FsError::Symlink { path: shown }),
            Err(e) => Err(FsError::io("open", &shown, e.into())),
        }
    }

    /// Writes `files` (name, contents) with `mode` as one generation and
    /// makes it live at once; each plain name becomes a symlink into the live
    /// generation. Keeps the previous generation (a reader may be in it) and
    /// removes older ones and leftovers of interrupted runs.
    pub fn publish(&self, files: &[(&str, &[u8])], mode: u32) -> Result<(), FsError> {
        for (name, _) in files {
            self.check_name(name)?;
        }
        let previous = self.live_generation()?;
        let number = previous.as_deref().and_then(generation_number).unwrap_or(0) + 1;
        let generation = format!("{GENERATION_PREFIX}{number}");
        let gen_path = self.path.join(&generation);
        // A crash between creating and publishing this number leaves it behind.
        self.remove_generation(&generation)?;
        rustix::fs::mkdirat(&self.fd, generation.as_str(), Mode::from_raw_mode(SECRET_DIR_MODE as _))
            .map_err(|e| FsError::io("create directory", &gen_path, e.into()))?;
        let gen_fd = open_dir(&self.fd, &generation).map_err(|e| FsError::io("open", &gen_path, e))?;
        for (name, contents) in files {
            create_file(&gen_fd, name, contents, mode).map_err(|e| FsError::io("write", &gen_path.join(name), e))?;
        }
        rustix::fs::fsync(&gen_fd).map_err(|e| FsError::io("fsync", &gen_path, e.into()))?;

        self.replace_symlink(LIVE, &generation)?;
        for (name, _) in files {
            let target = format!("{LIVE}/{name}");
            if self.link_target(name).as_deref() != Some(target.as_str()) {
                self.replace_symlink(name, &target)?;
            }
        }
        self.remove_stale_links(files)?;
        self.sync()?;
        self.prune(&generation, previous.as_deref())
    }

    fn check_name(&self, name: &str) -> Result<(), FsError> {
        let plain = !name.is_empty() && name != "." && name != ".." && !name.contains('/');
        if plain && !name.starts_with(LIVE) && !name.starts_with(GENERATION_PREFIX) {
            Ok(())
        } else {
            Err(FsError::io("write", &self.path.join(name), io::Error::other("not a plain file name")))
        }
    }

    fn sync(&self) -> Result<(), FsError> {
        rustix::fs::fsync(&self.fd).map_err(|e| FsError::io("fsync", &self.path, e.into()))
    }

    fn link_target(&self, name: &str) -> Option<String> {
        let target = rustix::fs::readlinkat(&self.fd, name, Vec::new()).ok()?;
        target.into_string().ok()
    }

    /// The live generation's directory name, if there is one of ours.
    fn live_generation(&self) -> Result<Option<String>, FsError> {
        match self.link_target(LIVE) {
            Some(target) if generation_number(&target).is_some() => Ok(Some(target)),
            Some(target) => Err(FsError::io(
                "read",
                &self.path.join(LIVE),
                io::Error::other(format!("points at {target:?}, not a generation directory")),
            )),
            None => Ok(None),
        }
    }

    /// Points `name` at `target` atomically (a temporary symlink renamed over it).
    fn replace_symlink(&self, name: &str, target: &str) -> Result<(), FsError> {
        let tmp = temp_name(name);
        let path = self.path.join(name);
        rustix::fs::symlinkat(target, &self.fd, tmp.as_str())
            .map_err(|e| FsError::io("create link", &path, e.into()))?;
        rustix::fs::renameat(&self.fd, tmp.as_str(), &self.fd, name).map_err(|e| {
            let _ = rustix::fs::unlinkat(&self.fd, tmp.as_str(), AtFlags::empty());
            FsError::io("rename into", &path, e.into())
        })
    }

    /// Removes plain-name links into the live generation that no longer have a file there.
    fn remove_stale_links(&self, files: &[(&str, &[u8])]) -> Result<(), FsError> {
        for name in self.entries()? {
            let Some(target) = self.link_target(&name) else { continue };
            let Some(linked) = target.strip_prefix(&format!("{LIVE}/")) else { continue };
            if linked == name && !files.iter().any(|(f, _)| *f == name) {
                rustix::fs::unlinkat(&self.fd, name.as_str(), AtFlags::empty())
                    .map_err(|e| FsError::io("remove", &self.path.join(&name), e.into()))?;
            }
        }
        Ok(())
    }

    /// Removes every generation but `current` and `previous`, and temporary leftovers.
    fn prune(&self, current: &str, previous: Option<&str>) -> Result<(), FsError> {
        for name in self.entries()? {
            if name.starts_with(GENERATION_PREFIX) && name != current && Some(name.as_str()) != previous {
                self.remove_generation(&name)?;
            } else if is_temp_name(&name) {
                let _ = rustix::fs::unlinkat(&self.fd, name.as_str(), AtFlags::empty());
            }
        }
        Ok(())
    }

    /// Removes a generation directory of ours (flat: files only), if present.
    fn remove_generation(&self, name: &str) -> Result<(), FsError> {
        let path = self.path.join(name);
        let fd = match open_dir(&self.fd, name) {
            Ok(fd) => fd,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(FsError::io("open", &path, e)),
        };
        for file in list(&fd).map_err(|e| FsError::io("list", &path, e))? {
            rustix::fs::unlinkat(&fd, file.as_str(), AtFlags::empty())
                .map_err(|e| FsError::io("remove", &path.join(&file), e.into()))?;
        }
        rustix::fs::unlinkat(&self.fd, name, AtFlags::REMOVEDIR).map_err(|e| FsError::io("remove", &path, e.into()))
    }

    fn entries(&self) -> Result<Vec<String>, FsError> {
        list(&self.fd).map_err(|e| FsError::io("list", &self.path, e))
    }
}

/// Opens `path` one component at a time with `O_NOFOLLOW`, creating missing
/// directories with mode 0700.
fn walk(path: &Path) -> Result<OwnedFd, FsError> {
    let dir_flags = OFlags::DIRECTORY | OFlags::RDONLY | OFlags::CLOEXEC;
    let start = if path.is_absolute() { "/" } else { "." };
    let mut fd = rustix::fs::open(start, dir_flags, Mode::empty()).map_err(|e| FsError::io("open", path, e.into()))?;
    let mut walked = PathBuf::from(start);
    for component in path.components() {
        let name: &OsStr = match component {
            Component::RootDir | Component::CurDir | Component::Prefix(_) => continue,
            Component::ParentDir => OsStr::new(".."),
            Component::Normal(n) => n,
        };
        walked.push(name);
        let next = match open_dir(&fd, name) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                match rustix::fs::mkdirat(&fd, name, Mode::from_raw_mode(SECRET_DIR_MODE as _)) {
                    Ok(()) | Err(rustix::io::Errno::EXIST) => {}
                    Err(e) => return Err(FsError::io("create directory", &walked, e.into())),
                }
                open_dir(&fd, name)
            }
            other => other,
        };
        fd = next.map_err(|e| match is_symlink(&fd, name) {
            true => FsError::Symlink { path: walked.clone() },
            false => FsError::io("open directory", &walked, e),
        })?;
    }
    Ok(fd)
}

fn open_dir<P: rustix::path::Arg>(parent: impl AsFd, name: P) -> io::Result<OwnedFd> {
    let flags = OFlags::DIRECTORY | OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    Ok(rustix::fs::openat(parent, name, flags, Mode::empty())?)
}

fn is_symlink(parent: impl AsFd, name: &OsStr) -> bool {
    rustix::fs::statat(parent, name, AtFlags::SYMLINK_NOFOLLOW)
        .is_ok_and(|s| rustix::fs::FileType::from_raw_mode(s.st_mode) == rustix::fs::FileType::Symlink)
}

/// Creates `name` exclusively in `dir` (never through a symlink) with exactly `mode`, and fsyncs it.
fn create_file(dir: impl AsFd, name: &str, contents: &[u8], mode: u32) -> io::Result<()> {
    let flags = OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    let fd = rustix::fs::openat(dir, name, flags, Mode::from_raw_mode(mode as _))?;
    // The umask may have narrowed the mode; set it exactly.
    rustix::fs::fchmod(&fd, Mode::from_raw_mode(mode as _))?;
    let mut file = std::fs::File::from(fd);
    file.write_all(contents)?;
    file.sync_all()
}

fn list(dir: impl AsFd) -> io::Result<Vec<String>> {
    let mut names = Vec::new();
    for entry in rustix::fs::Dir::read_from(dir)? {
        let entry = entry?;
        let name = entry.file_name().to_bytes();
        if name != b"." && name != b".." {
            names.push(String::from_utf8_lossy(name).into_owned());
        }
    }
    Ok(names)
}

fn temp_name(name: &str) -> String {
    format!(".{name}.tmp-{}-{}", std::process::id(), unique_suffix())
}

fn is_temp_name(name: &str) -> bool {
    name.starts_with('.') && name.contains(".tmp-")
}

fn generation_number(name: &str) -> Option<u64> {
    name.strip_prefix(GENERATION_PREFIX)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::{PermissionsExt, symlink};

    use super::*;

    fn mode(p: &Path) -> u32 {
        std::fs::metadata(p).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn creates_missing_directories_private_and_keeps_existing_modes() {
        let tmp = tempfile::tempdir().unwrap();
        let new = tmp.path().join("a/b");
        let dir = SecureDir::open(&new, Symlinks::Refuse).unwrap();
        assert_eq!(mode(&new), 0o700);
        assert_eq!(dir.too_open(), None);
        let shared = tmp.path().join("shared");
        std::fs::create_dir(&shared).unwrap();
        std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o750)).unwrap();
        let dir = SecureDir::open(&shared, Symlinks::Refuse).unwrap();
        assert_eq!(dir.too_open(), Some(0o750));
        assert_eq!(mode(&shared), 0o750, "an existing directory's mode is respected");
    }

    #[test]
    fn symlinks_in_the_path_are_refused_unless_insecure() {
        let tmp = tempfile::tempdir().unwrap();
        let victim = tmp.path().join("victim");
        std::fs::create_dir(&victim).unwrap();
        std::fs::set_permissions(&victim, std::fs::Permissions::from_mode(0o755)).unwrap();
        symlink(&victim, tmp.path().join("out")).unwrap();
        for path in [tmp.path().join("out"), tmp.path().join("out/sub")] {
            let err = SecureDir::open(&path, Symlinks::Refuse).unwrap_err();
            assert!(matches!(&err, FsError::Symlink { path: p } if p.ends_with("out")), "{err}");
            assert!(err.to_string().contains("symlinks: secure"), "{err}");
        }
        assert_eq!(mode(&victim), 0o755, "nothing was done to the link's target");
        assert!(!victim.join("sub").exists());
        let dir = SecureDir::open(&tmp.path().join("out"), Symlinks::Follow).unwrap();
        dir.write("x", b"1", 0o600).unwrap();
        assert!(victim.join("x").exists());
    }

    #[test]
    fn write_replaces_a_symlinked_file_instead_of_following_it() {
        let tmp = tempfile::tempdir().unwrap();
        let elsewhere = tmp.path().join("elsewhere");
        std::fs::write(&elsewhere, b"someone else's").unwrap();
        let dir = SecureDir::open(&tmp.path().join("out"), Symlinks::Refuse).unwrap();
        symlink(&elsewhere, tmp.path().join("out/key")).unwrap();
        dir.write("key", b"secret", 0o600).unwrap();
        assert_eq!(std::fs::read(&elsewhere).unwrap(), b"someone else's");
        let key = tmp.path().join("out/key");
        assert!(!std::fs::symlink_metadata(&key).unwrap().file_type().is_symlink());
        assert_eq!(std::fs::read(&key).unwrap(), b"secret");
        assert_eq!(mode(&key), 0o600);
        assert!(dir.write("../escape", b"x", 0o600).is_err());
        assert!(dir.write(".joinery-live", b"x", 0o600).is_err());
    }

    #[test]
    fn publish_switches_a_set_of_files_at_once() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("out");
        let dir = SecureDir::open(&out, Symlinks::Refuse).unwrap();
        // An earlier layout: plain files.
        std::fs::write(out.join("key"), b"old").unwrap();
        assert_eq!(dir.read("key").unwrap().as_deref(), Some(&b"old"[..]));
        for round in 1..=4u8 {
            let ssh = if round < 3 { vec![("ssh_config", &b"cfg"[..])] } else { vec![] };
            let value = [round];
            let mut files = vec![("key", &value[..]), ("tlscert", &value[..])];
            files.extend(ssh);
            dir.publish(&files, 0o600).unwrap();
            assert_eq!(std::fs::read(out.join("key")).unwrap(), [round]);
            assert_eq!(std::fs::read(out.join("tlscert")).unwrap(), [round]);
            assert_eq!(dir.read("tlscert").unwrap(), Some(vec![round]));
            assert_eq!(mode(&out.join("key")), 0o600);
        }
        assert!(!out.join("ssh_config").exists(), "a file no longer published is unlinked");
        let mut names: Vec<_> = list(&dir.fd).unwrap();
        names.sort();
        assert_eq!(names, [".joinery-gen-3", ".joinery-gen-4", ".joinery-live", "key", "tlscert"]);
    }

    #[test]
    fn a_reader_of_the_live_generation_never_sees_a_mixed_pair() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("out");
        let dir = SecureDir::open(&out, Symlinks::Refuse).unwrap();
        dir.publish(&[("key", b"0"), ("tlscert", b"0")], 0o600).unwrap();
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let reader = {
            let (out, stop) = (out.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut pairs = 0;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    // Resolve the generation once, then read both files in it.
                    let Ok(generation) = std::fs::read_link(out.join(LIVE)) else { continue };
                    let (Ok(key), Ok(cert)) = (
                        std::fs::read(out.join(&generation).join("key")),
                        std::fs::read(out.join(&generation).join("tlscert")),
                    ) else {
                        continue; // pruned under us: two generations behind
                    };
                    assert_eq!(key, cert, "mixed pair in {generation:?}");
                    pairs += 1;
                }
                pairs
            })
        };
        for round in 1..200u32 {
            let v = round.to_string();
            dir.publish(&[("key", v.as_bytes()), ("tlscert", v.as_bytes())], 0o600).unwrap();
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        assert!(reader.join().unwrap() > 0);
    }
}
