//! Joinery's Terraform provider for Teleport (`joinery/teleport`).
//!
//! - [`plugin`]: the Terraform plugin runtime and resource framework;
//! - [`provider`]: the provider itself (configuration schema);
//! - [`connect`]: from the configuration to a connected Teleport client;
//! - [`resources`]: the resources and data sources.

pub mod azure;
pub mod connect;
pub mod plugin;
pub mod provider;
pub mod resources;
