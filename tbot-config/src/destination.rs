//! Destinations: where the bot keeps its own identity (`storage`) and where
//! an output writes (`outputs[i].destination`).
//!
//! tbot writes `type: directory` with a `path`, or `type: memory`; older
//! files say `memory: true` instead, which is still read. A directory takes
//! tbot's `symlinks` setting: `secure` (the default) refuses a symbolic link
//! anywhere in the path, `insecure` follows them; tbot's `try-secure` (secure
//! where the kernel allows) is always secure here.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::error::{ConfigError, Source};

/// A destination's `type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DestinationKind {
    /// Files in a directory.
    Directory,
    /// Kept in memory only.
    Memory,
}

/// tbot's `symlinks` setting of a directory destination.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SymlinkPolicy {
    /// Refuse symbolic links in the path (the default).
    #[default]
    Secure,
    /// tbot: secure if the kernel supports it. Joinery is always secure.
    TrySecure,
    /// Follow symbolic links.
    Insecure,
}

impl SymlinkPolicy {
    /// Whether symbolic links in the path are followed.
    pub fn follows(self) -> bool {
        self == SymlinkPolicy::Insecure
    }
}

/// A destination block, as written.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
// `expecting`: the words of "invalid type: ..., expected struct RawDestination", kept as they were.
#[serde(deny_unknown_fields, expecting = "struct RawDestination")]
pub struct DestinationConfig {
    /// `type`.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<DestinationKind>,
    /// `path` of a directory destination.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Legacy form: `memory: true`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory: Option<bool>,
    /// `symlinks` of a directory destination.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub symlinks: Option<SymlinkPolicy>,
}

impl DestinationConfig {
    /// `type: directory` at `path`.
    pub fn directory(path: impl Into<String>) -> Self {
        DestinationConfig {
            kind: Some(DestinationKind::Directory),
            path: Some(path.into()),
            memory: None,
            symlinks: None,
        }
    }

    /// `type: memory`.
    pub fn memory() -> Self {
        DestinationConfig { kind: Some(DestinationKind::Memory), path: None, memory: None, symlinks: None }
    }

    /// Validates the block found at `key` (`storage`, `outputs[0].destination`).
    pub(crate) fn validate(self, src: &Source, key: &str) -> Result<Destination, ConfigError> {
        let kind = match (self.kind, self.memory) {
            (Some(k), None) => k,
            (None, Some(true)) => DestinationKind::Memory,
            (Some(DestinationKind::Memory), Some(true)) => DestinationKind::Memory,
            (None, Some(false)) | (None, None) => {
                if self.path.is_some() {
                    DestinationKind::Directory
                } else {
                    return Err(src.invalid(&format!("{key}.type"), "is required: directory or memory"));
                }
            }
            (Some(_), Some(_)) => return Err(src.invalid(&format!("{key}.memory"), "conflicts with type")),
        };
        match kind {
            DestinationKind::Memory => {
                if self.path.is_some() {
                    return Err(src.invalid(&format!("{key}.path"), "is not used by a memory destination"));
                }
                if self.symlinks.is_some() {
                    return Err(src.invalid(&format!("{key}.symlinks"), "is not used by a memory destination"));
                }
                Ok(Destination::Memory)
            }
            DestinationKind::Directory => match self.path.filter(|p| !p.trim().is_empty()) {
                Some(p) => {
                    Ok(Destination::Directory { path: PathBuf::from(p), symlinks: self.symlinks.unwrap_or_default() })
                }
                None => Err(src.invalid(&format!("{key}.path"), "is required for a directory destination")),
            },
        }
    }
}

/// Where credentials go (validated).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    /// Files in a directory (created 0700, files 0600).
    Directory {
        /// The directory.
        path: PathBuf,
        /// Whether symbolic links in `path` are followed.
        symlinks: SymlinkPolicy,
    },
    /// Kept in memory only.
    Memory,
}

impl Destination {
    /// A short name for logs: the directory, or `memory`.
    pub fn describe(&self) -> String {
        match self {
            Destination::Directory { path, .. } => path.display().to_string(),
            Destination::Memory => "memory".into(),
        }
    }
}
