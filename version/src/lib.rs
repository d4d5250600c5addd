//! The version and commit of this build, for `--version` and logs.
//!
//! Fixed at build time by `build.rs`: a release (`scripts/release.sh`) sets
//! them from `JOINERY_VERSION` and `JOINERY_COMMIT`; any other build reports
//! the workspace version and the commit git names (`unknown` without git).
//! Only the binaries' crates depend on this one, so a new commit rebuilds
//! them and nothing below.

/// The version, `x.y.z` (no leading `v`).
pub const VERSION: &str = env!("JOINERY_BUILD_VERSION");

/// The full commit hash the binary was built from (`-dirty` when the tree
/// had uncommitted changes at release time), or `unknown`.
pub const COMMIT: &str = env!("JOINERY_BUILD_COMMIT");

/// `VERSION (commit COMMIT)`: what `--version` prints after the program's name.
pub const LONG: &str = concat!(env!("JOINERY_BUILD_VERSION"), " (commit ", env!("JOINERY_BUILD_COMMIT"), ")");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_names_version_and_commit() {
        assert_eq!(LONG, format!("{VERSION} (commit {COMMIT})"));
        assert!(!VERSION.is_empty() && !VERSION.starts_with('v'), "{VERSION}");
        assert!(!COMMIT.is_empty());
    }
}
