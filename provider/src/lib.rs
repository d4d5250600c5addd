//! Joinery's Terraform provider for Teleport (`joinery/teleport`), built on
//! [`joinery_tfplugin`] (the plugin protocol and the resource framework).
//!
//! - [`provider`]: the provider itself (configuration schema);
//! - [`connect`]: from the configuration to a connected Teleport client;
//! - [`resources`]: the resources and data sources.

pub mod azure;
pub mod connect;
pub mod provider;
pub mod resources;
