//! `type: identity`: role-impersonated credentials for other programs
//! (`tsh`, `ssh`, `tctl`), written as tbot's identity files.
//!
//! ```yaml
//! outputs:
//!   - type: identity
//!     destination:
//!       type: directory
//!       path: /opt/machine-id
//!     roles: [access]      # empty: every role the bot may impersonate
//!     cluster: leaf        # a leaf cluster to route to; the bot's own when unset
//!     ssh_config: on       # also write ssh_config
//! ```

use serde::{Deserialize, Serialize};

use crate::destination::{Destination, DestinationConfig};
use crate::error::{ConfigError, Source};
use crate::values::Switch;

/// The block's `type: identity`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdentityType {
    /// `identity`.
    #[default]
    Identity,
}

/// An `identity` output, as written.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdentityOutputConfig {
    /// `type: identity`.
    #[serde(rename = "type")]
    pub kind: IdentityType,
    /// `destination`: required.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub destination: Option<DestinationConfig>,
    /// `roles` to impersonate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub roles: Option<Vec<String>>,
    /// `cluster` to route to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cluster: Option<String>,
    /// `ssh_config`: `on` (default) or `off`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ssh_config: Option<Switch>,
}

/// An `identity` output (validated).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityOutput {
    /// Where to write.
    pub destination: Destination,
    /// Roles to impersonate; empty means every role the bot may impersonate.
    pub roles: Vec<String>,
    /// Cluster to route to (leaf clusters); `None` for the bot's own cluster.
    pub cluster: Option<String>,
    /// Whether to write `ssh_config`.
    pub ssh_config: bool,
}

impl IdentityOutputConfig {
    /// Validates the block found at `key` (`outputs[0]`).
    pub(crate) fn validate(self, src: &Source, key: &str) -> Result<IdentityOutput, ConfigError> {
        let destination = match self.destination {
            None => return Err(src.invalid(&format!("{key}.destination"), "is required")),
            Some(d) => d.validate(src, &format!("{key}.destination"))?,
        };
        let roles = self.roles.unwrap_or_default();
        if roles.iter().any(|r| r.trim().is_empty()) {
            return Err(src.invalid(&format!("{key}.roles"), "role names must not be empty"));
        }
        Ok(IdentityOutput {
            destination,
            roles,
            cluster: self.cluster.filter(|c| !c.is_empty()),
            ssh_config: self.ssh_config.unwrap_or(Switch::On) == Switch::On,
        })
    }
}
