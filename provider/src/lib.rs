//! Joinery's Terraform provider for Teleport (`joinery/teleport`), built on
//! [`joinery_tfplugin`] (the plugin protocol and the resource framework).
//!
//! - [`provider`]: the provider itself (what it serves);
//! - [`config`]: the provider configuration, with its environment fallbacks;
//! - [`connect`]: from the configuration to a connected Teleport client;
//! - [`join`]: native Machine ID join (`join_method`, `join_token`), certificates in memory;
//! - [`azure`]: the ARM client the Azure resources use;
//! - [`resources`]: the resources and data sources.

pub mod azure;
pub mod config;
pub mod connect;
pub mod join;
pub mod provider;
pub mod resources;

/// This build's version and commit, `x.y.z (commit …)` (`joinery-version`):
/// what `--version` prints and the first line of the provider's log.
pub const VERSION: &str = joinery_version::LONG;
